"""The AWS calls each operation makes, in order: the one source of truth for the test that asserts
them (tests/integration/test_aws_calls_per_operation.py), the benchmark's table (tests/bench/calls.py)
and the capacity model (tests/capacity), which turns them into per-second load on every quota.

Warm containers (clients created, keys and the refresh-derivation key loaded); the authorizer's own
read is listed under "authorizer" and left out of the functions behind it.
"""

from __future__ import annotations

AUTHORIZER = ("dynamodb.BatchGetItem",)
AUTHORIZER_COLD = ("kms.GetPublicKey", "dynamodb.BatchGetItem")  # one GetPublicKey per configured key
# The account and its attempt counters; the attempt reserved; the session committed; the token signed.
LOGIN = ("dynamodb.BatchGetItem", "dynamodb.TransactWriteItems", "dynamodb.TransactWriteItems", "kms.Sign")
# The attempt reserved on the account's two counters (one transaction, before the password is
# checked), then the source IP's distinct-accounts counter.
LOGIN_FAILURE = ("dynamodb.BatchGetItem", "dynamodb.TransactWriteItems", "dynamodb.UpdateItem")
REFRESH = ("dynamodb.BatchGetItem", "dynamodb.TransactWriteItems", "kms.Sign")
REFRESH_GRACE_RETRY = REFRESH
LOGOUT = ("dynamodb.GetItem", "dynamodb.TransactWriteItems")  # after the authorizer
ME: tuple[str, ...] = ()  # after the authorizer: answered from its context
JWKS_WARM: tuple[str, ...] = ()
SNAPSTART_PRIMING = ("kms.GetPublicKey", "dynamodb.BatchGetItem")  # once per published version

BY_OPERATION: dict[str, tuple[str, ...]] = {
    "authorizer": AUTHORIZER,
    "authorizer, cold container": AUTHORIZER_COLD,
    "login": LOGIN,
    "login failure": LOGIN_FAILURE,
    "refresh": REFRESH,
    "refresh, grace retry": REFRESH_GRACE_RETRY,
    "logout": LOGOUT,
    "me": ME,
    "jwks, warm": JWKS_WARM,
}

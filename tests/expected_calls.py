"""The AWS calls each operation makes, in order: the one source of truth for the test that asserts
them (tests/integration/test_aws_calls_per_operation.py), the benchmark's table (tests/bench/calls.py)
and the capacity model (tests/capacity), which turns them into per-second load on every quota.

Warm containers (clients created, keys and the refresh-derivation key loaded); the authorizer's own
read is listed under "authorizer" and left out of the functions behind it.
"""

from __future__ import annotations

AUTHORIZER = ("dynamodb.BatchGetItem",)
AUTHORIZER_COLD = ("kms.GetPublicKey", "dynamodb.BatchGetItem")  # one GetPublicKey per configured key
# The account and its attempt counters; the attempt counted on each counter (this address's, then the
# account's: one atomic add each, never a transaction, which concurrent logins would cancel); once the
# password is right, whether the account has a second factor (one GetItem, keyed by the user id the
# first read gave); the session committed; the token signed.
COUNTED = ("dynamodb.UpdateItem", "dynamodb.UpdateItem")
LOGIN = (
    "dynamodb.BatchGetItem",
    *COUNTED,
    "dynamodb.GetItem",
    "dynamodb.TransactWriteItems",
    "kms.Sign",
)
# With an active factor: the password step stops at the challenge (written with one PutItem) ...
LOGIN_MFA_CHALLENGE = (
    "dynamodb.BatchGetItem",
    *COUNTED,
    "dynamodb.GetItem",
    "dynamodb.PutItem",
)
# ... and the second step reads the challenge, the account and counters, counts the attempt and the
# code (the wrong-code count), reads and decrypts the factor, uses its time step, then commits the
# session with the challenge's deletion.
LOGIN_MFA_CODE = (
    "dynamodb.GetItem",
    "dynamodb.BatchGetItem",
    *COUNTED,
    "dynamodb.UpdateItem",
    "dynamodb.GetItem",
    "kms.Decrypt",
    "dynamodb.UpdateItem",
    "dynamodb.TransactWriteItems",
    "kms.Sign",
)
# A passkey sign-in (functions/passkey_login): its options store the challenge (one PutItem, no account
# read) ...
PASSKEY_LOGIN_OPTIONS = ("dynamodb.PutItem",)
# ... and the sign-in reads the challenge and the credential, the account and its counters (counting
# nothing: a passkey cannot be guessed), then commits the session with the challenge's deletion, the
# counters' reset and the sign counter's conditional update.
PASSKEY_LOGIN = (
    "dynamodb.GetItem",
    "dynamodb.GetItem",
    "dynamodb.BatchGetItem",
    "dynamodb.TransactWriteItems",
    "kms.Sign",
)
# The attempt counted on the account's two counters (before the password is checked), then the
# source IP's distinct-accounts counter.
LOGIN_FAILURE = ("dynamodb.BatchGetItem", *COUNTED, "dynamodb.UpdateItem")
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
    "login, password step with a factor": LOGIN_MFA_CHALLENGE,
    "login, second factor": LOGIN_MFA_CODE,
    "refresh": REFRESH,
    "refresh, grace retry": REFRESH_GRACE_RETRY,
    "logout": LOGOUT,
    "me": ME,
    "jwks, warm": JWKS_WARM,
}

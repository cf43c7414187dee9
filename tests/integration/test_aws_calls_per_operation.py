"""The exact AWS calls of each operation (the authorizer runs in front of every request). The expected
sequences live in tests/expected_calls.py, which the benchmark and the capacity model read too."""

from __future__ import annotations

from collections import Counter

from shared.runtime.services import Services
from tests import expected_calls
from tests.events import body_of
from tests.fixtures import Accounts, FakeClock
from tests.flows import (
    active_totp,
    admin_login,
    authorize,
    login,
    logout,
    me,
    refresh,
    second_step,
    staff_login,
    totp_code,
)

STAFF = "staff@dealership.example"


def _by_service(calls: list[str]) -> Counter[str]:
    return Counter(call.split(".")[0] for call in calls)


def test_warm_authorizer_makes_one_dynamodb_request_and_no_kms_call(
    services: Services, accounts: Accounts, aws_calls: list[str]
) -> None:
    tokens = staff_login()
    authorize(tokens["access_token"])  # warm: keys loaded
    aws_calls.clear()
    authorize(tokens["access_token"], "GET", "/cars")
    assert aws_calls == list(expected_calls.AUTHORIZER)


def test_cold_authorizer_loads_each_configured_key_once_then_reads_once(
    services: Services, accounts: Accounts, aws_calls: list[str]
) -> None:
    from shared.credentials import signing

    tokens = staff_login()
    signing.forget_keys()
    aws_calls.clear()
    authorize(tokens["access_token"])
    assert len(services.settings.signing_key_ids) == 1
    assert aws_calls == list(expected_calls.AUTHORIZER_COLD)


def test_refresh_makes_two_dynamodb_requests_and_one_kms_sign(
    services: Services, accounts: Accounts, aws_calls: list[str]
) -> None:
    tokens = staff_login()
    services.refresh_keys()  # warm container: the derivation keys are read once
    aws_calls.clear()
    assert refresh(tokens["refresh_token"])["statusCode"] == 200
    assert aws_calls == list(expected_calls.REFRESH)


def test_grace_window_retry_makes_the_same_two_dynamodb_requests_and_one_sign(
    services: Services, accounts: Accounts, aws_calls: list[str]
) -> None:
    tokens = staff_login()
    refresh(tokens["refresh_token"])
    aws_calls.clear()
    assert refresh(tokens["refresh_token"])["statusCode"] == 200
    assert aws_calls == list(expected_calls.REFRESH_GRACE_RETRY)


def test_login_success_makes_four_dynamodb_requests_and_one_kms_sign(
    services: Services, accounts: Accounts, aws_calls: list[str]
) -> None:
    services.keys  # noqa: B018 - warm container
    aws_calls.clear()
    staff_login()
    assert aws_calls == list(expected_calls.LOGIN)


def test_login_failure_makes_one_read_two_counter_writes_and_no_kms_call(
    services: Services, accounts: Accounts, aws_calls: list[str]
) -> None:
    """The attempt reserved on the account's two counters (one transaction, before the password is
    checked), then the source IP's distinct-accounts counter."""
    services.keys  # noqa: B018
    aws_calls.clear()
    assert login(STAFF, "not the password", "staff")["statusCode"] == 401
    assert aws_calls == list(expected_calls.LOGIN_FAILURE)


def test_logout_makes_two_dynamodb_requests_after_the_authorizer_and_no_kms_call(
    services: Services, accounts: Accounts, aws_calls: list[str]
) -> None:
    tokens = staff_login()
    authorize(tokens["access_token"])
    aws_calls.clear()
    assert logout(tokens["access_token"])["statusCode"] == 200
    # the authorizer's one read, then the logout function's read and one transaction
    assert aws_calls == [*expected_calls.AUTHORIZER, *expected_calls.LOGOUT]
    assert _by_service(aws_calls)["kms"] == 0


def test_me_makes_no_aws_call_after_the_authorizer(
    services: Services, accounts: Accounts, aws_calls: list[str]
) -> None:
    tokens = staff_login()
    authorize(tokens["access_token"])
    aws_calls.clear()
    assert me(tokens["access_token"])["statusCode"] == 200
    # only the authorizer's one read: the function answers from the authorizer's context
    assert aws_calls == [*expected_calls.AUTHORIZER, *expected_calls.ME]


def test_warm_jwks_makes_no_aws_call(services: Services, aws_calls: list[str]) -> None:
    from functions.jwks.handler import handler
    from tests.events import LambdaContext, api_event

    handler(api_event("GET", "/.well-known/jwks.json"), LambdaContext())  # cold: loads the keys
    aws_calls.clear()
    response = handler(api_event("GET", "/.well-known/jwks.json"), LambdaContext())
    assert response["statusCode"] == 200
    assert aws_calls == list(expected_calls.JWKS_WARM)


def test_login_with_a_second_factor_calls(
    services: Services, accounts: Accounts, clock: FakeClock, aws_calls: list[str]
) -> None:
    """The password step ends at the challenge (no KMS call); the second step decrypts the secret once
    and signs once. The authorizer's warm path is unchanged: one BatchGetItem, no KMS call."""
    secret, _ = active_totp(accounts, clock)
    aws_calls.clear()
    challenge = admin_login()
    assert aws_calls == list(expected_calls.LOGIN_MFA_CHALLENGE)
    aws_calls.clear()
    tokens = second_step(challenge["mfa_token"], totp_code(secret, clock))
    assert aws_calls == list(expected_calls.LOGIN_MFA_CODE)
    authorize(body_of(tokens)["access_token"])
    aws_calls.clear()
    authorize(body_of(tokens)["access_token"], "GET", "/cars")
    assert aws_calls == list(expected_calls.AUTHORIZER)

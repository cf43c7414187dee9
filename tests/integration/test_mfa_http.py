"""TOTP second factors over the handlers (issue 16): enrolment and its proof, login with a challenge
and a code (or a recovery code), the per-user-type policy, and removal with a fresh code. Every bad
input: a wrong, reused or expired code, a challenge unknown, expired or used twice, an enrolment not
proven, a removal without a fresh code."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jwt
import pytest

from functions.login.handler import handler as login_handler
from functions.mfa.handler import handler as mfa_handler
from shared.runtime import services as services_module
from shared.runtime.services import Services
from tests import expected_calls
from tests.events import api_event, body_of
from tests.fixtures import Accounts, FakeClock, around_aws_calls, audit_events
from tests.flows import (
    ADMIN,
    CONTEXT,
    active_totp,
    admin_login,
    enrol_totp,
    is_authorized,
    login,
    protected_call,
    second_step,
    staff_login,
    totp_code,
    verify_totp,
)


def _remove(access_token: str, code: str) -> dict[str, Any]:
    return protected_call(mfa_handler, access_token, "DELETE", "/auth/mfa/totp", body={"code": code})


def _challenge(accounts: Accounts) -> dict[str, Any]:
    body = admin_login()
    assert body["mfa_required"] is True and "access_token" not in body and "refresh_token" not in body
    return body


def _claims(access_token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(access_token, options={"verify_signature": False})
    return claims


# ------------------------------------------------------------------------------------ enrolment
def test_enrolment_returns_the_secret_its_uri_a_qr_code_and_ten_recovery_codes(
    services: Services, accounts: Accounts, clock: FakeClock
) -> None:
    tokens = admin_login()
    enrolment = enrol_totp(tokens["access_token"])
    assert (
        enrolment["otpauth_uri"].startswith("otpauth://totp/")
        and enrolment["secret"] in enrolment["otpauth_uri"]
    )
    assert enrolment["qr_svg"].startswith("<svg") and len(set(enrolment["recovery_codes"])) == 10
    # not proven yet: the next login still gives tokens at once
    assert "access_token" in admin_login()


def test_a_wrong_proof_leaves_the_factor_pending_and_names_the_field(
    services: Services, accounts: Accounts, clock: FakeClock
) -> None:
    tokens = admin_login()
    enrolment = enrol_totp(tokens["access_token"])
    wrong = f"{(int(totp_code(enrolment['secret'], clock)) + 1) % 1_000_000:06d}"
    answer = verify_totp(tokens["access_token"], wrong)
    assert answer["statusCode"] == 400 and body_of(answer)["field"] == "code"
    assert "access_token" in admin_login()


@pytest.mark.parametrize("code", [123456, "", "x" * 33, None])
def test_malformed_proofs_are_400_naming_code(services: Services, accounts: Accounts, code: object) -> None:
    tokens = admin_login()
    enrol_totp(tokens["access_token"])
    answer = verify_totp(tokens["access_token"], code)  # type: ignore[arg-type]
    assert answer["statusCode"] == 400 and body_of(answer)["field"] == "code"


def test_proofs_are_counted_per_session_and_lock(
    services: Services, accounts: Accounts, clock: FakeClock
) -> None:
    tokens = admin_login()
    enrol_totp(tokens["access_token"])
    statuses = [verify_totp(tokens["access_token"], "000000")["statusCode"] for _ in range(6)]
    assert statuses[-1] == 429 and 400 in statuses


def test_an_active_factor_is_not_replaced_by_enrolling_again(
    services: Services, accounts: Accounts, clock: FakeClock
) -> None:
    secret, _ = active_totp(accounts, clock)
    challenge = _challenge(accounts)
    tokens = body_of(second_step(challenge["mfa_token"], totp_code(secret, clock)))
    assert protected_call(mfa_handler, tokens["access_token"], "POST", "/auth/mfa/totp")["statusCode"] == 409


def test_the_secret_is_never_logged(
    services: Services, accounts: Accounts, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    secret, recovery = active_totp(accounts, clock)
    assert secret not in caplog.text and not any(code in caplog.text for code in recovery)


# ------------------------------------------------------------------------------ login with a code
def test_login_with_a_factor_answers_a_challenge_then_tokens_with_amr_otp(
    services: Services, accounts: Accounts, clock: FakeClock
) -> None:
    secret, _ = active_totp(accounts, clock)
    challenge = _challenge(accounts)
    assert challenge["challenge"] == "totp" and challenge["expires_in"] == services.settings.mfa_challenge_ttl
    answer = second_step(challenge["mfa_token"], totp_code(secret, clock))
    assert answer["statusCode"] == 200, answer
    body = body_of(answer)
    assert body["refresh_token"] and body["user"]["email"] == ADMIN
    claims = _claims(body["access_token"])
    assert claims["amr"] == ["pwd", "otp", "mfa"] and claims["auth_time"] == pytest.approx(
        clock.now_ms() // 1000, abs=2
    )
    assert is_authorized(body["access_token"])


def test_a_challenge_is_not_a_token(services: Services, accounts: Accounts, clock: FakeClock) -> None:
    active_totp(accounts, clock)
    challenge = _challenge(accounts)
    assert not is_authorized(challenge["mfa_token"])


def test_a_wrong_code_is_401_and_the_challenge_still_works_with_the_right_one(
    services: Services, accounts: Accounts, clock: FakeClock
) -> None:
    secret, _ = active_totp(accounts, clock)
    challenge = _challenge(accounts)
    wrong = f"{(int(totp_code(secret, clock)) + 1) % 1_000_000:06d}"
    refused = second_step(challenge["mfa_token"], wrong)
    assert refused["statusCode"] == 401 and body_of(refused) == {"message": "Invalid credentials"}
    assert second_step(challenge["mfa_token"], totp_code(secret, clock))["statusCode"] == 200


def test_a_stolen_challenge_used_twice_is_refused(
    services: Services, accounts: Accounts, clock: FakeClock
) -> None:
    secret, _ = active_totp(accounts, clock)
    challenge = _challenge(accounts)
    assert second_step(challenge["mfa_token"], totp_code(secret, clock))["statusCode"] == 200
    clock.advance(30)  # even with a fresh, valid code
    assert second_step(challenge["mfa_token"], totp_code(secret, clock))["statusCode"] == 401


def test_a_replayed_code_is_refused_within_its_window(
    services: Services, accounts: Accounts, clock: FakeClock
) -> None:
    secret, _ = active_totp(accounts, clock)
    code = totp_code(secret, clock)
    assert second_step(_challenge(accounts)["mfa_token"], code)["statusCode"] == 200
    clock.advance(5)
    assert second_step(_challenge(accounts)["mfa_token"], code)["statusCode"] == 401


def test_the_challenge_expires_in_minutes(services: Services, accounts: Accounts, clock: FakeClock) -> None:
    secret, _ = active_totp(accounts, clock)
    challenge = _challenge(accounts)
    clock.advance(services.settings.mfa_challenge_ttl + 1)
    assert second_step(challenge["mfa_token"], totp_code(secret, clock))["statusCode"] == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"code": "123456"}, "mfa_token"),
        ({"mfa_token": "short", "code": "123456"}, "mfa_token"),
        ({"mfa_token": "a" * 43}, "code"),
        ({"mfa_token": "a" * 43, "code": 123456}, "code"),
    ],
)
def test_malformed_second_steps_are_400_naming_the_field(
    services: Services, accounts: Accounts, body: dict[str, Any], field: str
) -> None:
    answer = login_handler(api_event("POST", "/auth/login/mfa", body=body), CONTEXT)
    assert answer["statusCode"] == 400 and body_of(answer)["field"] == field


def test_an_unknown_challenge_is_401(services: Services, accounts: Accounts) -> None:
    assert second_step("A" * 43, "123456")["statusCode"] == 401


def test_wrong_codes_count_towards_the_lockout(
    services: Services, accounts: Accounts, clock: FakeClock
) -> None:
    secret, _ = active_totp(accounts, clock)
    challenge = _challenge(accounts)  # the password step counts one attempt, kept until the login ends
    statuses = [second_step(challenge["mfa_token"], "000000")["statusCode"] for _ in range(5)]
    assert statuses[-1] == 429
    locked = second_step(challenge["mfa_token"], totp_code(secret, clock))
    assert locked["statusCode"] == 429 and "Retry-After" in locked["headers"]


def test_a_recovery_code_completes_the_login_once_and_is_audited_and_emailed(
    services: Services, accounts: Accounts, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    from local.outbox import messages

    _, recovery = active_totp(accounts, clock)
    assert not [mail for mail in messages() if "recovery code" in mail["subject"]]
    assert second_step(_challenge(accounts)["mfa_token"], recovery[0])["statusCode"] == 200
    assert any(event["event"] == "mfa_recovery_code_used" for event in audit_events(caplog))
    (mail,) = [mail for mail in messages() if "recovery code" in mail["subject"]]
    assert ADMIN in mail["to"] and recovery[0] not in mail["body"]
    assert second_step(_challenge(accounts)["mfa_token"], recovery[0])["statusCode"] == 401


def test_a_second_factor_login_from_a_new_device_is_emailed_like_a_password_login(
    services: Services, accounts: Accounts, clock: FakeClock
) -> None:
    from local.outbox import messages

    secret, _ = active_totp(accounts, clock)
    elsewhere = {"source_ip": "192.0.2.50", "user_agent": "curl/8"}
    challenge = admin_login(**elsewhere)
    assert second_step(challenge["mfa_token"], totp_code(secret, clock), **elsewhere)["statusCode"] == 200
    (mail,) = [mail for mail in messages() if mail["subject"] == "New sign-in to your account"]
    assert ADMIN in mail["to"] and "192.0.2.50" in mail["body"]


def test_an_account_changed_after_the_password_step_gets_no_tokens(
    services: Services, accounts: Accounts, clock: FakeClock
) -> None:
    secret, _ = active_totp(accounts, clock)
    challenge = _challenge(accounts)
    user = services.users.get("admin", ADMIN)
    assert user is not None
    from shared.store.dynamo import transact_write

    transact_write(services.users.dynamodb, [services.users.update_operation(user, role="manager")])
    assert second_step(challenge["mfa_token"], totp_code(secret, clock))["statusCode"] == 401


def test_accounts_without_a_factor_log_in_as_before(services: Services, accounts: Accounts) -> None:
    body = staff_login()
    assert body["access_token"] and _claims(body["access_token"])["amr"] == ["pwd"]


# ----------------------------------------------------------------------------------- removal
def test_removal_needs_a_fresh_code(services: Services, accounts: Accounts, clock: FakeClock) -> None:
    secret, _ = active_totp(accounts, clock)
    tokens = body_of(second_step(_challenge(accounts)["mfa_token"], totp_code(secret, clock)))
    used = totp_code(secret, clock)  # the code that logged in is used up
    refused = _remove(tokens["access_token"], used)
    assert refused["statusCode"] == 400 and body_of(refused)["field"] == "code"
    assert _challenge(accounts)["mfa_required"]  # still there
    clock.advance(30)
    assert _remove(tokens["access_token"], totp_code(secret, clock))["statusCode"] == 200
    assert "access_token" in admin_login()


def test_removal_without_a_factor_is_refused(services: Services, accounts: Accounts) -> None:
    tokens = admin_login()
    assert _remove(tokens["access_token"], "123456")["statusCode"] == 400


# ------------------------------------------------------------------------- per-user-type policy
@pytest.fixture
def admins_need_a_factor(aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Services:
    monkeypatch.setenv("MFA_REQUIRED_TYPES", "admin")
    services_module.reset()
    return services_module.get_services()


def test_a_required_type_without_a_factor_enrols_before_getting_tokens(
    admins_need_a_factor: Services, accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock()
    monkeypatch.setattr(admins_need_a_factor, "clock", clock)
    challenge = _challenge(accounts)
    assert challenge["challenge"] == "enrol_totp"
    # the challenge is no login: a code before enrolment fails, and it enrols nothing else
    assert second_step(challenge["mfa_token"], "123456")["statusCode"] == 401
    enrol = api_event("POST", "/auth/login/mfa/enrol", body={"mfa_token": challenge["mfa_token"]})
    enrolment = body_of(mfa_handler(enrol, CONTEXT))
    assert len(enrolment["recovery_codes"]) == 10
    answer = second_step(challenge["mfa_token"], totp_code(enrolment["secret"], clock))
    assert answer["statusCode"] == 200, answer
    assert _claims(body_of(answer)["access_token"])["amr"] == ["pwd", "otp", "mfa"]
    # from now on, the ordinary challenge
    assert _challenge(accounts)["challenge"] == "totp"
    # other types are not concerned
    assert "access_token" in staff_login()


def test_an_enrolment_challenge_cannot_enrol_twice_after_the_factor_is_active(
    admins_need_a_factor: Services, accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock()
    monkeypatch.setattr(admins_need_a_factor, "clock", clock)
    challenge = _challenge(accounts)["mfa_token"]
    enrol = api_event("POST", "/auth/login/mfa/enrol", body={"mfa_token": challenge})
    enrolment = body_of(mfa_handler(enrol, CONTEXT))
    assert second_step(challenge, totp_code(enrolment["secret"], clock))["statusCode"] == 200
    assert mfa_handler(enrol, CONTEXT)["statusCode"] == 401


def test_a_password_failure_still_gives_nothing(admins_need_a_factor: Services, accounts: Accounts) -> None:
    answer = login(ADMIN, "wrong password entirely", "admin")
    assert answer["statusCode"] == 401 and "mfa_token" not in body_of(answer)


# ----------------------------------------------------------------------------------- interleavings
def _completed_with_a_cut(token: str, code: str, cut: int, interrupt: Callable[[], int]) -> tuple[int, int]:
    """The status of completing `token` with `code`, with `interrupt` run to its end just before
    the completion's AWS call number `cut` (or after its last), and the interrupt's status."""
    own_calls: list[str] = []
    interrupted: list[int] = []

    def around(client: Any, operation: str, params: Any, call: Callable[[], Any]) -> Any:
        if len(own_calls) == cut and not interrupted:
            interrupted.append(-1)  # the interrupt's own calls pass through unobserved
            interrupted[0] = interrupt()
        elif interrupted and interrupted[0] == -1:
            return call()
        own_calls.append(operation)
        return call()

    with around_aws_calls(around):
        status = second_step(token, code)["statusCode"]
    if not interrupted:
        interrupted.append(interrupt())
    return status, interrupted[0]


def _status_of_second_step(token: str, code: str) -> int:
    status: int = second_step(token, code)["statusCode"]
    return status


def test_one_challenge_completed_twice_at_once_gives_one_session_whatever_the_interleaving(
    services: Services, accounts: Accounts, clock: FakeClock
) -> None:
    """The thief's completion (a recovery code) runs to its end at every AWS call boundary of the
    owner's (a TOTP code) on the same challenge: exactly one of them gets tokens, every time."""
    secret, recovery = active_totp(accounts, clock)
    for cut in range(len(expected_calls.LOGIN_MFA_CODE) + 1):
        clock.advance(30)  # a fresh time step for the owner's code each round
        token = _challenge(accounts)["mfa_token"]
        thief_completes = functools.partial(_status_of_second_step, token, recovery[cut % len(recovery)])
        owner, thief = _completed_with_a_cut(token, totp_code(secret, clock), cut, thief_completes)
        assert sorted([owner, thief]) == [200, 401], (cut, owner, thief)

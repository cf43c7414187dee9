"""The login's second step at its exact rules (the mutation group `second-step`): what a challenge
stores and reads back, the emailed code's digest and tries, the wrong-code count's limit and the
unlock link."""

from __future__ import annotations

import dataclasses
import time
from typing import Any
from urllib.parse import quote

import pytest

from functions.mfa.handler import handler as mfa_handler
from functions.recovery.handler import handler as recovery_handler
from shared.runtime import services as services_module
from shared.runtime.services import Services
from tests.clocks import pin_clock
from tests.events import api_event, body_of
from tests.fixtures import Accounts, FakeClock, around_aws_calls, audit_events
from tests.flows import ADMIN, CONTEXT, STAFF, active_totp, login, second_step, totp_code
from tests.integration.test_account_lifecycle import public
from tests.integration.test_links_and_factors import claims_of
from tests.integration.test_lockout_counts import (  # noqa: F401  # no_waiting, relying_party: autouse
    CODE,
    NEW,
    attacker_ip,
    closed_code_login,
    code_login,
    lower_ceiling,
    mails_with_subject,
    no_waiting,
    reach_the_ceiling,
    relying_party,
    wrong_codes,
)

CLOSED = "Sign-in with your authenticator app is closed"


def unlock(token: str) -> dict[str, Any]:
    return public(recovery_handler, "/auth/mfa/unlock", {"token": token})


def unlock_tokens() -> list[str]:
    """The unlock links' tokens emailed to the admin, newest first."""
    return [mail["links"][0].split("#unlock=", 1)[1] for mail in mails_with_subject(ADMIN, CLOSED)]


def enrol_with(token: str) -> dict[str, Any]:
    event = api_event("POST", "/auth/login/mfa/enrol", body={"mfa_token": token})
    answer: dict[str, Any] = mfa_handler(event, CONTEXT)
    return answer


@pytest.fixture
def admins_need_a_factor(aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Services:
    monkeypatch.setenv("MFA_REQUIRED_TYPES", "admin")
    services_module.reset()
    return services_module.get_services()


def test_closing_code_login_again_replaces_the_unused_link(
    services: Services, accounts: Accounts, clock: FakeClock
) -> None:
    """The limit reached, reopened by a recovery code, reached again: the new email's link works and
    the first one, never used, is dead (a newer link replaces it)."""
    secret, recovery_codes = closed_code_login(services, accounts, clock)
    assert code_login(accounts, recovery_codes[0])["statusCode"] == 200
    wrong_codes(accounts, services.settings.mfa_failure_limit, first_address=20)
    newest, oldest = unlock_tokens()
    assert unlock(oldest)["statusCode"] == 400
    assert unlock(newest)["statusCode"] == 200
    assert code_login(accounts, totp_code(secret, clock))["statusCode"] == 200


def test_the_closing_email_counts_the_codes_and_says_so_without_a_sign_in_page(
    services: Services, accounts: Accounts, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "settings", dataclasses.replace(services.settings, frontend_url=""))
    closed_code_login(services, accounts, clock)
    (mail,) = mails_with_subject(ADMIN, CLOSED)
    assert f"then {services.settings.mfa_failure_limit} codes in a row" in mail["body"]
    assert 'href="(ask your administrator: no sign-in page is configured)"' in mail["body"]


def test_an_unlock_link_used_twice_at_once_works_once_and_the_loser_is_audited(
    services: Services, accounts: Accounts, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """The second use runs whole at the first one's write: one 200, one 400, audited as an unknown
    link of the account."""
    closed_code_login(services, accounts, clock)
    (token,) = unlock_tokens()
    inner: list[int] = []

    def second_use_first(client: Any, operation: str, params: Any, call: Any) -> Any:
        if operation == "TransactWriteItems" and not inner:
            inner.append(0)
            inner[0] = unlock(token)["statusCode"]
        return call()

    with around_aws_calls(second_use_first):
        outer = unlock(token)["statusCode"]
    assert (inner, outer) == ([200], 400)
    (refused,) = [e for e in audit_events(caplog) if e["event"] == "unlock_link"]
    assert (refused["outcome"], refused["reason"]) == ("rejected", "unknown_link")
    assert refused["user_id"] == accounts.admin.user_id and refused["source_ip"]


@pytest.mark.usefixtures("lower_ceiling")
def test_an_emailed_code_challenge_cannot_enrol_a_factor(services: Services, accounts: Accounts) -> None:
    reach_the_ceiling(services)
    challenge = body_of(login(STAFF, accounts.password, "staff", source_ip=NEW))
    assert challenge["challenge"] == "email_code"
    assert enrol_with(challenge["mfa_token"])["statusCode"] == 401


def test_an_enrolment_challenge_ends_at_its_exact_millisecond(
    admins_need_a_factor: Services, accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = pin_clock(admins_need_a_factor, monkeypatch, time.time_ns() // 1_000_000)
    challenge = body_of(login(ADMIN, accounts.password, "admin"))
    assert challenge["challenge"] == "enrol_totp"
    clock.set(clock.now_ms() + challenge["expires_in"] * 1000)
    assert enrol_with(challenge["mfa_token"])["statusCode"] == 401


def test_an_enrolment_during_login_names_the_account_in_the_authenticator(
    admins_need_a_factor: Services, accounts: Accounts
) -> None:
    challenge = body_of(login(ADMIN, accounts.password, "admin"))
    enrolment = body_of(enrol_with(challenge["mfa_token"]))
    assert quote(ADMIN, safe="") in enrolment["otpauth_uri"] or ADMIN in enrolment["otpauth_uri"]


@pytest.mark.usefixtures("lower_ceiling")
def test_an_emailed_code_used_twice_at_once_signs_in_once_and_says_why_the_other_failed(
    services: Services, accounts: Accounts, caplog: pytest.LogCaptureFixture
) -> None:
    """The second completion runs whole at the first one's commit: one session, one 401 audited as a
    spent challenge; the session's login is audited with its method."""
    reach_the_ceiling(services)
    token = body_of(login(STAFF, accounts.password, "staff", source_ip=NEW))["mfa_token"]
    (code,) = CODE.findall(mails_with_subject(STAFF, "Your sign-in code")[0]["body"])
    inner: list[int] = []

    def second_completion_first(client: Any, operation: str, params: Any, call: Any) -> Any:
        if operation == "TransactWriteItems" and not inner:
            inner.append(0)
            inner[0] = second_step(token, code, source_ip=NEW)["statusCode"]
        return call()

    caplog.clear()
    with around_aws_calls(second_completion_first):
        outer = second_step(token, code, source_ip=NEW)["statusCode"]
    assert (inner, outer) == ([200], 401)
    logins = [(e["outcome"], e["reason"]) for e in audit_events(caplog) if e["event"] == "login"]
    assert logins == [("success", "email_code"), ("failure", "mfa_challenge")]


def _email_challenge(services: Services, accounts: Accounts) -> tuple[dict[str, Any], str]:
    """A challenge for the code emailed past the ceiling (the right password, a new address), and
    the code."""
    reach_the_ceiling(services)
    challenge = body_of(login(STAFF, accounts.password, "staff", source_ip=NEW))
    (mail,) = mails_with_subject(STAFF, "Your sign-in code")
    (code,) = CODE.findall(mail["body"])
    return challenge, code


@pytest.mark.usefixtures("lower_ceiling")
def test_an_emailed_code_lasts_the_challenge_ttl_to_the_millisecond_and_the_mail_says_how_long(
    services: Services, accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = pin_clock(services, monkeypatch, time.time_ns() // 1_000_000)
    issued = clock.now_ms()
    challenge, code = _email_challenge(services, accounts)
    ttl = services.settings.mfa_challenge_ttl
    assert challenge["expires_in"] == ttl
    (mail,) = mails_with_subject(STAFF, "Your sign-in code")
    assert f"for {ttl // 60} minutes" in mail["body"]
    clock.set(issued + ttl * 1000)
    assert second_step(challenge["mfa_token"], code, source_ip=NEW)["statusCode"] == 401
    clock.set(issued + ttl * 1000 - 1)
    assert second_step(challenge["mfa_token"], code, source_ip=NEW)["statusCode"] == 200


@pytest.mark.usefixtures("lower_ceiling")
def test_the_last_of_the_emailed_codes_tries_still_signs_in(services: Services, accounts: Accounts) -> None:
    from shared.login.step_up import CODE_TRIES

    challenge, code = _email_challenge(services, accounts)
    for index in range(CODE_TRIES - 1):  # from other addresses: no address's own lock in the way
        assert (
            second_step(challenge["mfa_token"], "12345678", source_ip=attacker_ip(40 + index))["statusCode"]
            == 401
        )
    assert second_step(challenge["mfa_token"], code, source_ip=NEW)["statusCode"] == 200


def test_an_emailed_code_is_drawn_from_all_eight_digit_numbers(
    services: Services, accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    import secrets

    from shared.login import step_up

    drawn: list[int] = []
    monkeypatch.setattr(secrets, "randbelow", lambda bound: drawn.append(bound) or 7)
    step_up.email_code_challenge(services, accounts.staff, services.clock.now_ms(), time.monotonic())
    assert drawn == [10**8]
    (mail,) = mails_with_subject(STAFF, "Your sign-in code")
    assert CODE.findall(mail["body"]) == ["00000007"]


def test_the_answer_past_the_ceiling_waits_out_the_floor_from_the_start_of_the_request(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared.login import step_up

    waits: list[float] = []
    monkeypatch.setattr(step_up, "sleep", waits.append)
    floor = services.settings.forgot_password_min_ms / 1000
    step_up.email_code_challenge(services, None, services.clock.now_ms(), time.monotonic() - floor + 0.5)
    step_up.email_code_challenge(services, None, services.clock.now_ms(), time.monotonic() - floor - 0.5)
    (wait,) = waits  # the second began longer ago than the floor: no wait
    assert 0.4995 < wait <= 0.5


def test_a_code_that_could_not_be_sent_is_logged_with_why(
    services: Services, accounts: Accounts, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from shared.login import step_up
    from shared.mail.sending import MailNotSent

    def refuse(*_: object) -> None:
        raise MailNotSent("refused by the test")

    monkeypatch.setattr(step_up, "send", refuse)
    step_up.email_code_challenge(services, accounts.staff, services.clock.now_ms(), time.monotonic())
    (record,) = [r for r in caplog.records if r.getMessage() == "sign-in code not sent"]
    assert record.levelname == "WARNING" and getattr(record, "reason", None) == "refused by the test"


def test_a_challenge_whose_account_was_deleted_is_refused_and_its_lockout_names_the_challenges_user(
    services: Services, accounts: Accounts, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    from shared.accounts.actions import delete_user

    secret, _codes = active_totp(accounts, clock)
    challenge = body_of(login(ADMIN, accounts.password, "admin"))["mfa_token"]
    user = services.users.get("admin", ADMIN)
    assert user is not None
    delete_user(services, user)
    assert second_step(challenge, totp_code(secret, clock))["statusCode"] == 401
    for _ in range(services.settings.lockout_threshold):
        login(ADMIN, "not the password", "admin")
    caplog.clear()
    assert second_step(challenge, totp_code(secret, clock))["statusCode"] == 429
    (lockout,) = [e for e in audit_events(caplog) if e["event"] == "login_lockout"]
    assert lockout["user_id"] == accounts.admin.user_id


def _audited(caplog: pytest.LogCaptureFixture, event: str) -> list[dict[str, Any]]:
    return [e for e in audit_events(caplog) if e["event"] == event]


def test_each_second_step_is_audited_with_what_it_proved_and_its_session(
    services: Services, accounts: Accounts, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """A TOTP code's login is audited `otp`, a recovery code's `recovery` with its own event naming
    the session; neither is an enrolment (no mfa_enrol event, no totp_added email)."""
    secret, recovery_codes = active_totp(accounts, clock)
    enrolled_mails = len(mails_with_subject(ADMIN, "An authenticator app was added to your account"))
    caplog.clear()
    code_login(accounts, totp_code(secret, clock))
    recovered = body_of(code_login(accounts, recovery_codes[0]))
    logins = [e["reason"] for e in _audited(caplog, "login") if e["outcome"] == "success"]
    assert logins == ["otp", "recovery"]
    (used,) = _audited(caplog, "mfa_recovery_code_used")
    assert used["session_id"] == claims_of(recovered["access_token"])["sid"]
    assert _audited(caplog, "mfa_enrol") == []
    assert len(mails_with_subject(ADMIN, "An authenticator app was added to your account")) == enrolled_mails


def test_an_enrolment_during_login_is_audited_and_emailed_once(
    admins_need_a_factor: Services,
    accounts: Accounts,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock()
    monkeypatch.setattr(admins_need_a_factor, "clock", clock)
    challenge = body_of(login(ADMIN, accounts.password, "admin"))
    enrolment = body_of(enrol_with(challenge["mfa_token"]))
    caplog.clear()
    tokens = body_of(second_step(challenge["mfa_token"], totp_code(enrolment["secret"], clock)))
    (enrolled,) = _audited(caplog, "mfa_enrol")
    assert enrolled["session_id"] == claims_of(tokens["access_token"])["sid"]
    assert [e["reason"] for e in _audited(caplog, "login") if e["outcome"] == "success"] == ["otp"]
    assert len(mails_with_subject(ADMIN, "An authenticator app was added to your account")) == 1


def test_a_factor_challenge_completed_twice_at_once_audits_the_loser_as_a_spent_challenge(
    services: Services, accounts: Accounts, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    secret, recovery_codes = active_totp(accounts, clock)
    token = body_of(login(ADMIN, accounts.password, "admin"))["mfa_token"]
    inner: list[int] = []

    def recovery_first(client: Any, operation: str, params: Any, call: Any) -> Any:
        if operation == "TransactWriteItems" and not inner:
            inner.append(0)
            inner[0] = second_step(token, recovery_codes[0])["statusCode"]
        return call()

    caplog.clear()
    with around_aws_calls(recovery_first):
        outer = second_step(token, totp_code(secret, clock))["statusCode"]
    assert (inner, outer) == ([200], 401)
    failures = [e["reason"] for e in _audited(caplog, "login") if e["outcome"] == "failure"]
    assert failures == ["mfa_challenge"]


def test_a_challenge_is_read_strongly_consistent(
    services: Services, accounts: Accounts, clock: FakeClock
) -> None:
    """A challenge written a moment ago by the password step must be found by the second step."""
    secret, _codes = active_totp(accounts, clock)
    token = body_of(login(ADMIN, accounts.password, "admin"))["mfa_token"]
    reads: list[Any] = []

    def record(client: Any, operation: str, params: Any, call: Any) -> Any:
        if operation == "GetItem" and "MFACHALLENGE#" in str(params):
            reads.append(params.get("ConsistentRead"))
        return call()

    with around_aws_calls(record):
        assert second_step(token, totp_code(secret, clock))["statusCode"] == 200
    assert reads == [True]


def test_a_factor_challenge_ends_at_its_exact_millisecond(
    services: Services, accounts: Accounts, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret, _codes = active_totp(accounts, clock)
    pinned = pin_clock(services, monkeypatch, clock.now_ms())
    issued = pinned.now_ms()
    token = body_of(login(ADMIN, accounts.password, "admin"))["mfa_token"]
    pinned.set(issued + services.settings.mfa_challenge_ttl * 1000)
    assert second_step(token, totp_code(secret, pinned))["statusCode"] == 401
    pinned.set(issued + services.settings.mfa_challenge_ttl * 1000 - 1)
    assert second_step(token, totp_code(secret, pinned))["statusCode"] == 200


def test_a_challenge_is_kept_until_a_second_past_its_expiry(
    services: Services, accounts: Accounts, clock: FakeClock
) -> None:
    """DynamoDB's clean-up (`ttl`, epoch seconds) never removes a challenge before it expires."""
    active_totp(accounts, clock)
    login(ADMIN, accounts.password, "admin")
    items = services.users.dynamodb.scan(TableName=services.users.table)["Items"]
    (challenge,) = [item for item in items if item["pk"]["S"].startswith("MFACHALLENGE#")]
    assert challenge["ttl"]["N"] == str(int(challenge["expires_ms"]["N"]) // 1000 + 1)

"""Issue 23, findings 4 to 6: counts, not only rates, and a ceiling that locks nobody out.

4. Wrong second-factor codes are counted per account, in a row, from any address and over any time:
   at MFA_FAILURE_LIMIT code login is closed until a recovery code, a passkey or the unlock link
   emailed to the owner, who is told the password was used.
5. Failed passwords never lock out a passkey; at the account-wide ceiling an address the account
   signed in from before still gets in, a new one is asked for an emailed code (the same answer
   whether the password is right or not), and the owner is emailed once; strangers cannot block the
   owner's own password reset.
6. Correct logins below the threshold are never refused for running at the same time: proven by a
   login that loses the race for its counters at every write (another login lands at each).
"""

from __future__ import annotations

import re
import threading
from typing import Any

import pytest

from functions.recovery.handler import handler as recovery_handler
from shared.runtime import services as services_module
from shared.runtime.services import Services
from tests.events import body_of
from tests.fixtures import Accounts, FakeClock, around_aws_calls
from tests.flows import ADMIN, STAFF, active_totp, login, login_ok, second_step, totp_code
from tests.integration.test_account_lifecycle import forgot, mails_to, public
from tests.integration.test_links_and_factors import (  # noqa: F401  # relying_party: autouse
    claims_of,
    passkey_sign_in,
    relying_party,
    with_passkey,
)

WRONG = "not the password at all"
HOME = "198.51.100.7"  # an address the account signed in from before
NEW = "192.0.2.200"  # one it never did
GHOST = "ghost@dealership.example"
CODE = re.compile(r"<strong>(\d{8})</strong>")


@pytest.fixture
def lower_ceiling(aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The ceiling at 12 failures instead of 50: the same rules, fewer logins to reach it."""
    monkeypatch.setenv("LOCKOUT_ACCOUNT_THRESHOLD", "12")
    services_module.reset()


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    from shared.accounts import password_reset
    from shared.login import step_up

    monkeypatch.setattr(password_reset, "sleep", lambda _seconds: None)
    monkeypatch.setattr(step_up, "sleep", lambda _seconds: None)


def attacker_ip(index: int) -> str:
    return f"203.0.113.{100 + index}"


def fail_from_many_addresses(services: Services, email: str, user_type: str, failures: int) -> None:
    """`failures` wrong passwords, spread so that no address reaches its own lock."""
    per_address = services.settings.lockout_threshold - 1
    for index in range(failures):
        answer = login(email, WRONG, user_type, source_ip=attacker_ip(index // per_address))
        assert answer["statusCode"] == 401, answer


def reach_the_ceiling(services: Services, email: str = STAFF, user_type: str = "staff") -> None:
    fail_from_many_addresses(services, email, user_type, services.settings.lockout_account_threshold)


def mails_with_subject(to: str, subject: str) -> list[dict[str, Any]]:
    return [mail for mail in mails_to(to) if mail["subject"] == subject]


# ---------------------------------------------------- finding 6: simultaneous logins are not refused


def _is_counter_write(operation: str, params: Any) -> bool:
    """A write that counts a login attempt (not the success's reset, a transaction of deletes)."""
    written = str(params)
    return "LOCK#" in written and (
        operation == "UpdateItem" or (operation == "TransactWriteItems" and "'Delete'" not in written)
    )


def test_23_6_a_a_login_that_loses_every_race_for_its_counters_still_gets_tokens(accounts: Accounts) -> None:
    """At each write of the login's attempt counters, another correct login of the same account from
    the same address counts its attempt first (and finishes only afterwards), as when they arrive at
    once: the login is never refused for it (before: 429 with Retry-After 1 after three lost races).
    Each competitor runs in a thread that the hook stops and starts, so the order is fixed."""
    under_test = threading.get_ident()
    finished = threading.Event()
    competitors: list[threading.Thread] = []
    outcomes: list[int] = []
    wrote = threading.local()

    def competitor(counted: threading.Event) -> None:
        wrote.counter, wrote.signal = False, counted
        outcomes.append(login(STAFF, accounts.password, "staff")["statusCode"])
        counted.set()

    def interleave(client: Any, operation: str, params: Any, call: Any) -> Any:
        if threading.get_ident() == under_test:
            if _is_counter_write(operation, params) and len(competitors) < 3:
                counted = threading.Event()
                competitors.append(threading.Thread(target=competitor, args=(counted,)))
                competitors[-1].start()
                assert counted.wait(30)
            return call()
        if _is_counter_write(operation, params):
            wrote.counter = True
        elif wrote.counter:  # its attempt is counted: it goes on once the login under test is done
            wrote.signal.set()
            assert finished.wait(30)
        return call()

    with around_aws_calls(interleave):
        answer = login(STAFF, accounts.password, "staff")
        finished.set()
        for thread in competitors:
            thread.join(30)
    assert answer["statusCode"] == 200, answer
    assert competitors and outcomes == [200] * len(competitors)


def test_23_6_b_as_many_logins_at_once_as_the_threshold_all_get_tokens(
    services: Services, accounts: Accounts
) -> None:
    """Each login reads the counters, and before it writes them the next one starts: every read
    happens before any write, as when they arrive at once."""
    outcomes: list[int] = []
    depth = [0]
    wanted = services.settings.lockout_threshold

    def next_login_first(client: Any, operation: str, params: Any, call: Any) -> Any:
        if operation == "BatchGetItem" and depth[0] < wanted - 1:
            result = call()
            depth[0] += 1
            outcomes.append(login(STAFF, accounts.password, "staff")["statusCode"])
            return result
        return call()

    with around_aws_calls(next_login_first):
        outcomes.append(login(STAFF, accounts.password, "staff")["statusCode"])
    assert outcomes == [200] * wanted


# ---------------------------------------------------- finding 5: a ceiling that locks nobody out


def test_23_5_a_failed_passwords_never_lock_out_a_passkey(
    lower_ceiling: None, services: Services, accounts: Accounts
) -> None:
    authenticator = with_passkey(login_ok(STAFF, accounts.password, "staff")["access_token"])
    reach_the_ceiling(services)
    for _ in range(services.settings.lockout_threshold):  # and this address's own lock
        login(STAFF, WRONG, "staff")
    assert login(STAFF, accounts.password, "staff")["statusCode"] == 429
    assert "mfa" in claims_of(passkey_sign_in(authenticator)["access_token"])["amr"]


def test_23_5_b_at_the_ceiling_an_address_the_account_used_before_still_signs_in(
    lower_ceiling: None, services: Services, accounts: Accounts
) -> None:
    login_ok(STAFF, accounts.password, "staff", source_ip=HOME)
    reach_the_ceiling(services)
    tokens = login_ok(STAFF, accounts.password, "staff", source_ip=HOME)
    assert claims_of(tokens["access_token"])["amr"] == ["pwd"]


def test_23_5_c_at_the_ceiling_a_new_address_is_asked_for_an_emailed_code_whatever_the_password(
    lower_ceiling: None, services: Services, accounts: Accounts
) -> None:
    login_ok(STAFF, accounts.password, "staff", source_ip=HOME)
    reach_the_ceiling(services)
    reach_the_ceiling(services, GHOST)
    right = login(STAFF, accounts.password, "staff", source_ip=NEW)
    wrong = login(STAFF, WRONG, "staff", source_ip=NEW)
    unknown = login(GHOST, WRONG, "staff", source_ip=NEW)
    for answer in (right, wrong, unknown):
        assert answer["statusCode"] == 200, answer
        body = body_of(answer)
        assert set(body) == {"mfa_required", "challenge", "mfa_token", "expires_in"}
        assert body["challenge"] == "email_code" and "access_token" not in body
    (mail,) = mails_with_subject(STAFF, "Your sign-in code")  # only the right password sent a code
    (code,) = CODE.findall(mail["body"])
    assert second_step(body_of(wrong)["mfa_token"], code, source_ip=NEW)["statusCode"] == 401
    assert second_step(body_of(right)["mfa_token"], "00000000", source_ip=NEW)["statusCode"] == 401
    tokens = body_of(second_step(body_of(right)["mfa_token"], code, source_ip=NEW))
    assert claims_of(tokens["access_token"])["amr"] == ["pwd"]  # a mailbox is no factor
    assert second_step(body_of(right)["mfa_token"], code, source_ip=NEW)["statusCode"] == 401  # once


def test_23_5_d_an_emailed_code_allows_a_few_tries_only(
    lower_ceiling: None, services: Services, accounts: Accounts
) -> None:
    from shared.login.step_up import CODE_TRIES

    reach_the_ceiling(services)
    token = body_of(login(STAFF, accounts.password, "staff", source_ip=NEW))["mfa_token"]
    (code,) = CODE.findall(mails_with_subject(STAFF, "Your sign-in code")[0]["body"])
    for index in range(CODE_TRIES):
        assert second_step(token, "12345678", source_ip=attacker_ip(50 + index))["statusCode"] == 401
    assert second_step(token, code, source_ip=NEW)["statusCode"] == 401


def test_23_5_e_after_the_emailed_code_a_factor_due_is_still_asked(
    lower_ceiling: None, services: Services, accounts: Accounts, clock: FakeClock
) -> None:
    secret, _codes = active_totp(accounts, clock)
    reach_the_ceiling(services, ADMIN, "admin")
    token = body_of(login(ADMIN, accounts.password, "admin", source_ip=NEW))["mfa_token"]
    (code,) = CODE.findall(mails_with_subject(ADMIN, "Your sign-in code")[0]["body"])
    following = body_of(second_step(token, code, source_ip=NEW))
    assert following["challenge"] == "totp" and "access_token" not in following
    tokens = body_of(second_step(following["mfa_token"], totp_code(secret, clock), source_ip=NEW))
    assert "mfa" in claims_of(tokens["access_token"])["amr"]


def test_23_5_f_the_owner_is_emailed_once_when_the_ceiling_is_reached(
    lower_ceiling: None, services: Services, accounts: Accounts
) -> None:
    reach_the_ceiling(services)
    assert len(mails_with_subject(STAFF, "Many failed sign-ins to your account")) == 1
    for index in range(8):
        assert (
            body_of(login(STAFF, WRONG, "staff", source_ip=attacker_ip(60 + index)))["challenge"]
            == "email_code"
        )
    assert len(mails_with_subject(STAFF, "Many failed sign-ins to your account")) == 1


def test_23_5_g_strangers_cannot_block_the_owners_reset(
    lower_ceiling: None, services: Services, accounts: Accounts
) -> None:
    login_ok(STAFF, accounts.password, "staff", source_ip=HOME)
    settings = services.settings
    per_address = settings.forgot_password_threshold
    asked = max(settings.forgot_password_account_threshold, settings.reset_emails_per_day) + 1
    answers = [
        forgot(STAFF, source_ip=attacker_ip(index // per_address))["statusCode"] for index in range(asked)
    ]
    assert answers[-1] == 429  # the account-wide limit holds for strangers
    before = len(mails_with_subject(STAFF, "Reset your password"))
    assert forgot(STAFF, source_ip=HOME)["statusCode"] == 202
    assert len(mails_with_subject(STAFF, "Reset your password")) == before + 1


# ---------------------------------------------------- finding 4: wrong codes counted, not rated


def wrong_codes(accounts: Accounts, count: int, first_address: int = 0) -> None:
    for index in range(count):
        address = attacker_ip(first_address + index)
        token = body_of(login(ADMIN, accounts.password, "admin", source_ip=address))["mfa_token"]
        assert second_step(token, "000000", source_ip=address)["statusCode"] == 401


def closed_code_login(services: Services, accounts: Accounts, clock: FakeClock) -> tuple[str, list[str]]:
    """The admin's TOTP factor (secret and recovery codes), after the limit of wrong codes."""
    secret, recovery_codes = active_totp(accounts, clock)
    wrong_codes(accounts, services.settings.mfa_failure_limit)
    return secret, recovery_codes


def code_login(accounts: Accounts, code: str) -> dict[str, Any]:
    token = body_of(login(ADMIN, accounts.password, "admin", source_ip=HOME))["mfa_token"]
    return second_step(token, code, source_ip=HOME)


def test_23_4_a_wrong_codes_close_code_login_by_count_and_time_never_reopens_it(
    services: Services, accounts: Accounts, clock: FakeClock
) -> None:
    secret, _codes = closed_code_login(services, accounts, clock)
    clock.advance(365 * 86_400)
    assert code_login(accounts, totp_code(secret, clock))["statusCode"] == 401
    (mail,) = mails_with_subject(ADMIN, "Sign-in with your authenticator app is closed")
    assert "#unlock=" in mail["links"][0]


def test_23_4_b_below_the_limit_the_right_code_still_signs_in_and_resets_the_count(
    services: Services, accounts: Accounts, clock: FakeClock
) -> None:
    secret, _codes = active_totp(accounts, clock)
    below = services.settings.mfa_failure_limit - 1
    wrong_codes(accounts, below)
    assert code_login(accounts, totp_code(secret, clock))["statusCode"] == 200
    clock.advance(30)
    wrong_codes(accounts, below, first_address=below)
    assert code_login(accounts, totp_code(secret, clock))["statusCode"] == 200


def test_23_4_c_a_recovery_code_reopens_code_login(
    services: Services, accounts: Accounts, clock: FakeClock
) -> None:
    secret, recovery_codes = closed_code_login(services, accounts, clock)
    assert code_login(accounts, recovery_codes[0])["statusCode"] == 200
    assert code_login(accounts, totp_code(secret, clock))["statusCode"] == 200


def test_23_4_d_the_emailed_link_reopens_code_login_once(
    services: Services, accounts: Accounts, clock: FakeClock
) -> None:
    secret, _codes = closed_code_login(services, accounts, clock)
    (mail,) = mails_with_subject(ADMIN, "Sign-in with your authenticator app is closed")
    token = mail["links"][0].split("#unlock=", 1)[1]

    def unlock() -> dict[str, Any]:
        return public(recovery_handler, "/auth/mfa/unlock", {"token": token})

    assert unlock()["statusCode"] == 200
    assert code_login(accounts, totp_code(secret, clock))["statusCode"] == 200
    assert unlock()["statusCode"] == 400


def test_23_4_e_a_passkey_sign_in_reopens_code_login(
    services: Services, accounts: Accounts, clock: FakeClock
) -> None:
    from tests.integration.test_passkeys_http import strong_token

    secret, _codes = active_totp(accounts, clock)
    proven = body_of(
        second_step(body_of(login(ADMIN, accounts.password, "admin"))["mfa_token"], totp_code(secret, clock))
    )
    clock.advance(30)
    authenticator = with_passkey(proven["access_token"])
    wrong_codes(accounts, services.settings.mfa_failure_limit)
    strong_token(authenticator)
    assert code_login(accounts, totp_code(secret, clock))["statusCode"] == 200

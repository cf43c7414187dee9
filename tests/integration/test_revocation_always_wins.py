"""Issue 11: each defect of "revocation always wins", as the test that failed before its fix.

The login / refresh races against every revocation are explored in test_interleavings.py; this
file holds the rest: lockout races and the lockout as a denial-of-service lever, password change
without enumeration, revocation entries that outlive their tokens, cookie and header parsing,
logout semantics.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from functions.authorizer.handler import handler as authorizer_handler
from functions.refresh.handler import handler as refresh_handler
from shared.credentials import passwords
from shared.runtime.services import Services
from tests.events import LambdaContext, api_event, authorizer_event, body_of
from tests.fixtures import Accounts, FakeClock, around_aws_calls
from tests.flows import (
    admin_login,
    change_password,
    is_authorized,
    login,
    logout,
    protected_call,
    refresh,
    staff_login,
)

STAFF = "staff@dealership.example"
NEW_PASSWORD = "quartz meadow lantern 77"
CONTEXT = LambdaContext()


@pytest.fixture
def verifications(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every password-hash verification (real or dummy) made while the test runs."""
    made: list[str] = []
    real_verify, real_dummy = passwords.verify_password, passwords.dummy_verify

    def verify(stored: str, password: str) -> bool:
        made.append("verify")
        return real_verify(stored, password)

    def dummy(password: str) -> None:
        made.append("dummy")
        real_dummy(password)

    monkeypatch.setattr(passwords, "verify_password", verify)
    monkeypatch.setattr(passwords, "dummy_verify", dummy)
    return made


@pytest.fixture
def reads_first(request: pytest.FixtureRequest) -> Iterator[threading.Barrier]:
    """The worst interleaving for read-then-write logic, by construction: every parallel request's
    first read (BatchGetItem) completes before any of them writes anything."""
    parties = request.param
    barrier = threading.Barrier(parties, timeout=30)
    lock = threading.Lock()
    waited = threading.local()

    def serialised(client: Any, operation: str, params: Any, call: Callable[[], Any]) -> Any:
        with lock:  # moto's in-process backend is not thread-safe
            result = call()
        if operation == "BatchGetItem" and not getattr(waited, "done", False):
            waited.done = True
            barrier.wait()
        return result

    with around_aws_calls(serialised):
        yield barrier


# --------------------------------------------------------------------------------- the lockout


@pytest.mark.parametrize("reads_first", [20], indirect=True)
def test_37_twenty_parallel_wrong_guesses_get_at_most_the_threshold_of_password_checks(
    services: Services, accounts: Accounts, verifications: list[str], reads_first: threading.Barrier
) -> None:
    statuses: list[int] = []

    def guess() -> None:
        statuses.append(login(STAFF, "a wrong password guess", "staff")["statusCode"])

    threads = [threading.Thread(target=guess) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(verifications) <= services.settings.lockout_threshold
    assert sorted(set(statuses)) == [401, 429]
    assert statuses.count(401) == len(verifications)


def test_38_a_strangers_failures_from_another_ip_do_not_lock_the_owner_out(
    services: Services, accounts: Accounts
) -> None:
    for _ in range(services.settings.lockout_threshold):
        assert login(STAFF, "a wrong password guess", "staff", source_ip="192.0.2.66")["statusCode"] == 401
    assert login(STAFF, accounts.password, "staff", source_ip="192.0.2.66")["statusCode"] == 429
    assert login(STAFF, accounts.password, "staff", source_ip="203.0.113.10")["statusCode"] == 200


def test_the_account_wide_ceiling_asks_every_new_ip_for_an_emailed_code_once_reached(
    services: Services, accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the ceiling no new address gets tokens for the password alone (issue 23, finding 5: an
    emailed code first, tests/integration/test_lockout_counts.py), and with no mail to send it by,
    the ceiling is a 429 as before."""
    monkeypatch.setattr(services, "settings", _with(services, lockout_account_threshold=8))
    for number in range(8):
        login(STAFF, "a wrong password guess", "staff", source_ip=f"192.0.2.{number}")
    answer = login(STAFF, accounts.password, "staff", source_ip="203.0.113.10")
    assert answer["statusCode"] == 200 and body_of(answer)["challenge"] == "email_code"
    monkeypatch.setattr(services, "settings", _with(services, lockout_account_threshold=8, mail_sender=""))
    answer = login(STAFF, accounts.password, "staff", source_ip="203.0.113.10")
    assert answer["statusCode"] == 429 and int(answer["headers"]["Retry-After"]) > 0


def test_an_unknown_account_is_locked_the_same_way_from_the_same_ip(services: Services) -> None:
    for email in (STAFF, "nobody@dealership.example"):
        answers = [login(email, "a wrong password guess", "staff")["statusCode"] for _ in range(6)]
        assert answers == [401] * 5 + [429]


def test_the_login_lock_never_blocks_an_authenticated_password_change(
    services: Services, accounts: Accounts
) -> None:
    tokens = staff_login()
    for _ in range(services.settings.lockout_threshold + 1):
        login(STAFF, "a wrong password guess", "staff")
    assert login(STAFF, accounts.password, "staff")["statusCode"] == 429
    changed = change_password(tokens["access_token"], accounts.password, NEW_PASSWORD)
    assert changed["statusCode"] == 200, changed


def test_password_change_guesses_have_their_own_per_session_counter(
    services: Services, accounts: Accounts, verifications: list[str]
) -> None:
    tokens = staff_login()
    verifications.clear()
    answers = [
        change_password(tokens["access_token"], "a wrong current one", NEW_PASSWORD)["statusCode"]
        for _ in range(services.settings.lockout_threshold + 2)
    ]
    assert answers[: services.settings.lockout_threshold] == [400] * services.settings.lockout_threshold
    assert answers[-1] == 429 and len(verifications) == services.settings.lockout_threshold
    assert login(STAFF, accounts.password, "staff")["statusCode"] == 200  # the login is not locked


# ------------------------------------------------------------------------- password change


def test_a_password_change_returns_a_fresh_session_and_ends_every_older_one(
    services: Services, accounts: Accounts
) -> None:
    first = staff_login()
    second = staff_login()
    changed = change_password(first["access_token"], accounts.password, NEW_PASSWORD)
    assert changed["statusCode"] == 200
    fresh = body_of(changed)
    assert is_authorized(fresh["access_token"])
    assert refresh(fresh["refresh_token"])["statusCode"] == 200
    for old in (first, second):
        assert not is_authorized(old["access_token"])
        assert refresh(old["refresh_token"])["statusCode"] == 401


def test_39_a_password_change_whose_clean_up_is_throttled_half_way_still_ends_every_older_session(
    services: Services, accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared.core.errors import ServiceUnavailable

    caller = staff_login()
    others = [staff_login() for _ in range(3)]
    real, revoked = services.sessions.revoke, []

    def throttled_after_one(*arguments: Any, **keywords: Any) -> None:
        if revoked:
            raise ServiceUnavailable("DynamoDB")
        revoked.append(real(*arguments, **keywords))

    monkeypatch.setattr(services.sessions, "revoke", throttled_after_one)
    changed = change_password(caller["access_token"], accounts.password, NEW_PASSWORD)
    assert changed["statusCode"] == 200 and revoked
    for old in (caller, *others):
        assert not is_authorized(old["access_token"])
        assert refresh(old["refresh_token"])["statusCode"] == 401


def test_39_a_session_the_index_has_not_seen_yet_still_ends_with_a_password_change(
    services: Services, accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    caller = staff_login()
    unseen = staff_login()
    monkeypatch.setattr(services.sessions, "sessions_of", lambda user_id: iter(()))  # the index lags
    assert change_password(caller["access_token"], accounts.password, NEW_PASSWORD)["statusCode"] == 200
    assert not is_authorized(unseen["access_token"])
    assert refresh(unseen["refresh_token"])["statusCode"] == 401


def test_39_every_clean_up_failing_still_ends_every_session_and_the_change_stands(
    services: Services, accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared.core.errors import ServiceUnavailable

    caller = staff_login()
    other = staff_login()

    def throttled(*arguments: Any, **keywords: Any) -> None:
        raise ServiceUnavailable("DynamoDB")

    monkeypatch.setattr(services.sessions, "revoke", throttled)
    assert change_password(caller["access_token"], accounts.password, NEW_PASSWORD)["statusCode"] == 200
    for old in (caller, other):
        assert not is_authorized(old["access_token"])
        assert refresh(old["refresh_token"])["statusCode"] == 401
    assert login(STAFF, NEW_PASSWORD, "staff")["statusCode"] == 200


# ------------------------------------------------------------------ revocations outlive tokens


def test_a_disabled_users_idle_session_never_comes_back(
    services: Services, accounts: Accounts, clock: FakeClock
) -> None:
    from shared.accounts import actions as account_actions

    tokens = staff_login()
    account_actions.disable_user(services, accounts.staff)
    clock.advance(39 * 86400)  # past the not-before row's old lifetime (30 days)
    assert refresh(tokens["refresh_token"])["statusCode"] == 401


def test_a_revoked_sessions_last_access_token_stays_denied_until_it_expires(
    services: Services, accounts: Accounts, clock: FakeClock
) -> None:
    settings = services.settings
    renewed = staff_login()
    remaining = settings.session_max_ttl - 60  # refreshed (often enough) until a minute before its end
    while remaining > 0:
        step = min(remaining, settings.refresh_idle_ttl // 2)
        clock.advance(step)
        remaining -= step
        renewed = body_of(refresh(renewed["refresh_token"]))
    assert logout(renewed["access_token"])["statusCode"] == 200
    clock.advance(120)  # the session is over; its last access token lives 13 more minutes
    assert not is_authorized(renewed["access_token"])


def test_a_not_before_never_moves_back(services: Services, accounts: Accounts) -> None:
    tokens = staff_login()
    later = services.clock.now_ms() + 60_000
    services.denylist.set_not_before(accounts.staff.user_id, later)
    services.denylist.set_not_before(accounts.staff.user_id, later - 3_600_000)  # a slow clock
    assert services.denylist.not_before(accounts.staff.user_id) == later
    assert not is_authorized(tokens["access_token"])


# ---------------------------------------------------------------- cookies and headers (item 7)


def _cookie_refresh(cookie: str) -> dict[str, Any]:
    headers = {"X-Token-Transport": "cookie", "Cookie": cookie}
    return refresh_handler(api_event("POST", "/auth/refresh", headers=headers), CONTEXT)


def test_41_a_foreign_cookie_the_parser_cannot_read_does_not_hide_the_refresh_cookie(
    services: Services, accounts: Accounts
) -> None:
    tokens = staff_login()
    name = services.settings.refresh_cookie_name
    answer = _cookie_refresh(f'prefs={{"a":1}}; theme="dark; {name}={tokens["refresh_token"]}')
    assert answer["statusCode"] == 200, answer


def test_42_two_refresh_cookies_are_refused_and_nothing_is_rotated_or_cleared(
    services: Services, accounts: Accounts
) -> None:
    tokens = staff_login()
    planted = admin_login()
    name = services.settings.refresh_cookie_name
    answer = _cookie_refresh(f"{name}={planted['refresh_token']}; {name}={tokens['refresh_token']}")
    assert answer["statusCode"] == 400 and json.loads(answer["body"])["field"] == "cookie"
    assert "multiValueHeaders" not in answer  # the real cookie is not cleared
    assert refresh(tokens["refresh_token"])["statusCode"] == 200  # and was not rotated
    assert refresh(planted["refresh_token"])["statusCode"] == 200


def test_the_refresh_cookie_is_host_prefixed_so_no_sibling_subdomain_can_plant_one(
    services: Services, accounts: Accounts
) -> None:
    answer = login(STAFF, accounts.password, "staff", headers={"X-Token-Transport": "cookie"})
    (cookie,) = answer["multiValueHeaders"]["Set-Cookie"]
    assert cookie.startswith("__Host-refresh_token=")
    assert "; Path=/;" in cookie and "Secure" in cookie and "HttpOnly" in cookie and "Domain" not in cookie


def test_43_two_authorization_headers_differing_in_case_are_refused_by_the_authorizer(
    services: Services, accounts: Accounts
) -> None:
    tokens = staff_login()
    other = admin_login()
    event = authorizer_event(f"Bearer {tokens['access_token']}")
    event["headers"]["authorization"] = f"Bearer {other['access_token']}"
    event["multiValueHeaders"] = {name: [value] for name, value in event["headers"].items()}
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorizer_handler(event, CONTEXT)
    event = authorizer_event(f"Bearer {tokens['access_token']}")
    event["multiValueHeaders"]["Authorization"] = [f"Bearer {tokens['access_token']}"] * 2
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorizer_handler(event, CONTEXT)


# ------------------------------------------------------------------------ logout (item 8)


def test_logout_naming_another_own_session_ends_both(services: Services, accounts: Accounts) -> None:
    current = staff_login()
    other = staff_login()
    assert logout(current["access_token"], other["refresh_token"])["statusCode"] == 200
    for ended in (current, other):
        assert refresh(ended["refresh_token"])["statusCode"] == 401
        assert not is_authorized(ended["access_token"])


def test_a_malformed_logout_body_still_ends_the_session(services: Services, accounts: Accounts) -> None:
    from functions.logout.handler import handler as logout_handler

    tokens = staff_login()
    answer = protected_call(
        logout_handler, tokens["access_token"], "POST", "/auth/logout", raw_body="{not json"
    )
    assert answer["statusCode"] == 200
    assert refresh(tokens["refresh_token"])["statusCode"] == 401
    assert not is_authorized(tokens["access_token"])


def _with(services: Services, **changes: Any) -> Any:
    import dataclasses

    return dataclasses.replace(services.settings, **changes)

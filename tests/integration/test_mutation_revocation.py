"""Revocation rules that other checks used to mask: a denied token id alone (its session left alive)
denies until the token's own expiry plus the leeway; a not-before in the same second as the token;
an unreadable denylist. The clock is the service's, moved or pinned, never slept on."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest

from shared.authorizer.decision import authorize
from shared.core.errors import InvalidAccessToken, Reason
from shared.runtime.services import Services
from shared.sessions.lifecycle import revocation_time
from shared.store.denylist import GLOBAL_SHARDS, GLOBAL_SUBJECT
from tests.clocks import pin_clock
from tests.events import body_of, method_arn
from tests.fixtures import Accounts, FakeClock, Faults, audit_events
from tests.flows import admin_login, change_password, is_authorized, logout, refresh, staff_login

ARN = method_arn("GET", "/auth/me")


def reason(services: Services, access_token: str) -> Reason | None:
    """Why the authorizer refuses the token now, or None when it allows it."""
    try:
        authorize(services, f"Bearer {access_token}", ARN)
    except InvalidAccessToken as refused:
        return refused.reason
    return None


def expiry(access_token: str) -> int:
    return int(jwt.decode(access_token, options={"verify_signature": False})["exp"])


@pytest.fixture
def denied_alone(services: Services, accounts: Accounts, clock: FakeClock) -> dict[str, Any]:
    """A token whose id logout denied, with its session brought back to life afterwards (its row
    active again, its SID# entry removed), so that only the JTI# entry logout wrote can deny it."""
    kept = staff_login()
    assert logout(kept["access_token"])["statusCode"] == 200
    sid = _sid(kept)
    dynamodb = services.denylist.dynamodb
    dynamodb.delete_item(TableName=services.denylist.table, Key={"pk": {"S": f"SID#{sid}"}})
    dynamodb.update_item(
        TableName=services.sessions.table,
        Key={"pk": {"S": f"SESSION#{sid}"}},
        UpdateExpression="SET #status = :active",
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues={":active": {"S": "active"}},
    )
    return kept


def test_a_denied_token_id_denies_until_its_own_expiry(
    services: Services, clock: FakeClock, denied_alone: dict[str, Any]
) -> None:
    access = denied_alone["access_token"]
    assert reason(services, access) == Reason.LOGGED_OUT
    clock.advance(60)  # well before the token's expiry: the entry must still count
    assert reason(services, access) == Reason.LOGGED_OUT
    # the session itself is alive: its next token is allowed
    renewed = body_of(refresh(denied_alone["refresh_token"]))
    assert reason(services, renewed["access_token"]) is None
    clock.advance(expiry(access) - services.clock.now() - 60)  # a minute before it expires
    assert reason(services, access) == Reason.LOGGED_OUT


def test_logout_entry_outlives_the_token_by_the_leeway(
    services: Services, clock: FakeClock, denied_alone: dict[str, Any]
) -> None:
    access = denied_alone["access_token"]
    leeway = services.settings.clock_leeway
    # past exp, but within the leeway the token still verifies: only the entry denies it
    clock.advance(expiry(access) + leeway - 2 - services.clock.now())
    assert reason(services, access) == Reason.LOGGED_OUT
    clock.advance(3)  # and past exp + leeway it has expired by itself
    assert reason(services, access) == Reason.EXPIRED


def test_not_before_in_the_same_second_denies_the_older_token(
    services: Services, accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a token issued 100 ms into a second
    second = time.time_ns() // 1_000_000_000 * 1000
    clock = pin_clock(services, monkeypatch, second + 100)
    tokens = staff_login()
    # When a not-before is written 500 ms later, in the same second (what every account revocation
    # writes; written alone here, so no session clean-up masks it)
    clock.advance(0.5)
    services.denylist.set_not_before(accounts.staff.user_id, clock.now_ms())
    # Then the older token is denied by the not-before (a whole-second comparison would allow it) ...
    assert reason(services, tokens["access_token"]) == Reason.NOT_BEFORE
    # ... and a token issued just after it, in that same second, is not
    clock.advance(0.001)
    fresh = staff_login()["access_token"]
    assert jwt.decode(fresh, options={"verify_signature": False})["iat"] * 1000 == second
    assert reason(services, fresh) is None
    assert is_authorized(fresh)


def test_an_unreadable_denylist_denies(services: Services, accounts: Accounts, faults: Faults) -> None:
    tokens = staff_login()
    faults.fail("dynamodb.BatchGetItem", "ProvisionedThroughputExceededException", times=20)
    assert reason(services, tokens["access_token"]) == Reason.UNDECIDABLE


def test_logout_after_the_session_row_is_gone_still_denies_the_token(
    services: Services, accounts: Accounts
) -> None:
    """DynamoDB deletes a session row at its absolute expiry, while its last access token may still be
    valid: logging out then still denies that token."""
    tokens = staff_login()
    sid = tokens["refresh_token"].split(".")[0]
    services.sessions.dynamodb.delete_item(
        TableName=services.sessions.table, Key={"pk": {"S": f"SESSION#{sid}"}}
    )
    assert logout(tokens["access_token"])["statusCode"] == 200
    assert reason(services, tokens["access_token"]) == Reason.LOGGED_OUT


# --- what logout revokes, and what it records ---------------------------------------------------


def _sid(tokens: dict[str, Any]) -> str:
    return str(tokens["refresh_token"].split(".")[0])


def test_logout_with_another_own_session_records_which_session_ended(
    accounts: Accounts, caplog: pytest.LogCaptureFixture
) -> None:
    kept = staff_login()
    other = staff_login()
    caplog.clear()
    assert logout(kept["access_token"], other["refresh_token"])["statusCode"] == 200
    events = [(e["event"], e["session_id"], e["reason"]) for e in audit_events(caplog)]
    assert ("session_revoked", _sid(other), "logout") in events  # the one named, as well ...
    assert ("session_revoked", _sid(kept), "logout") in events  # ... as the caller's, always
    assert ("logout", _sid(kept), "") in events


def test_logout_records_the_callers_session_when_it_ends_it(
    accounts: Accounts, caplog: pytest.LogCaptureFixture
) -> None:
    tokens = staff_login()
    caplog.clear()
    assert logout(tokens["access_token"], tokens["refresh_token"])["statusCode"] == 200
    events = [(e["event"], e["session_id"], e["reason"]) for e in audit_events(caplog)]
    assert ("session_revoked", _sid(tokens), "logout") in events
    assert ("logout", _sid(tokens), "") in events


@pytest.mark.parametrize(
    "named",
    [
        lambda other: other[:-1] + ("A" if other[-1] != "A" else "B"),  # a real session, a wrong secret
        lambda other: "not a refresh token ☕",
        lambda other: other.split(".")[0],
    ],
)
def test_logout_with_anything_but_a_real_own_refresh_token_ends_the_callers_session(
    services: Services, accounts: Accounts, named: Any
) -> None:
    caller = staff_login()
    other = staff_login()
    assert logout(caller["access_token"], named(other["refresh_token"]))["statusCode"] == 200
    assert refresh(caller["refresh_token"])["statusCode"] == 401
    assert refresh(other["refresh_token"])["statusCode"] == 200  # the named session lives on


# --- every revocation outlives what it denies ------------------------------------------------------


def test_every_denylist_entry_outlives_what_it_denies(services: Services, accounts: Accounts) -> None:
    settings = services.settings
    kept = staff_login()
    other = staff_login()
    assert logout(kept["access_token"], other["refresh_token"])["statusCode"] == 200
    before = services.clock.now_ms()
    fresh = staff_login()
    new_password = "violet harbour lantern 77"
    assert change_password(fresh["access_token"], accounts.password, new_password)["statusCode"] == 200
    items = services.denylist.dynamodb.scan(TableName=services.denylist.table)["Items"]
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        by_kind.setdefault(item["pk"]["S"].split("#")[0], []).append(item)
    assert set(by_kind) >= {"JTI", "SID", "NBF"}
    assert all("ttl" not in entry for entry in by_kind["NBF"]), "a not-before must outlive every session"
    (jti,) = by_kind["JTI"]
    assert int(jti["ttl"]["N"]) >= expiry(kept["access_token"]) + settings.clock_leeway
    # each revoked session's entry (kept's, other's, fresh's), against that session's own end: the
    # sessions began in different seconds when logins are slow
    ended = {entry["pk"]["S"].removeprefix("SID#"): int(entry["ttl"]["N"]) for entry in by_kind["SID"]}
    assert set(ended) == {_sid(kept), _sid(other), _sid(fresh)}
    for sid, denied_until in ended.items():
        session = services.sessions.get(sid)
        assert session is not None
        assert denied_until >= session.abs_expires + settings.access_token_ttl + settings.clock_leeway
    (not_before,) = by_kind["NBF"]
    assert int(not_before["not_before"]["N"]) >= before


def test_a_replayed_refresh_token_is_recorded_as_detected_reuse_and_its_denial_outlives_the_session(
    services: Services, accounts: Accounts, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    settings = services.settings
    first = staff_login()
    assert refresh(first["refresh_token"])["statusCode"] == 200
    clock.advance(settings.refresh_grace_seconds + 1)  # past the grace window: a replay is theft
    caplog.clear()
    assert refresh(first["refresh_token"])["statusCode"] == 401
    events = [(e["event"], e["outcome"], e["session_id"], e["reason"]) for e in audit_events(caplog)]
    assert ("refresh_reuse", "detected", _sid(first), "refresh_token_reuse") in events
    assert not any(event == "session_revoked" for event, *_ in events)
    session = services.sessions.get(_sid(first))
    assert session is not None and session.status != "active"
    entry = services.denylist.dynamodb.get_item(
        TableName=services.denylist.table, Key={"pk": {"S": f"SID#{_sid(first)}"}}
    )["Item"]
    assert int(entry["ttl"]["N"]) == session.abs_expires + settings.access_token_ttl + settings.clock_leeway


def test_a_session_ended_by_its_user_is_recorded_as_revoked_with_success(
    accounts: Accounts, caplog: pytest.LogCaptureFixture
) -> None:
    tokens = staff_login()
    caplog.clear()
    assert logout(tokens["access_token"])["statusCode"] == 200
    events = [(e["event"], e["outcome"], e["session_id"]) for e in audit_events(caplog)]
    assert ("session_revoked", "success", _sid(tokens)) in events


def test_a_new_not_before_is_now_or_one_millisecond_after_the_current_one(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A not-before never moves back: written by a clock ahead of this one, the next revocation
    lands one millisecond after it (so the tokens it denies stay denied, and nothing later is);
    otherwise it is now."""
    now_ms = 1_800_000_000_123
    pin_clock(services, monkeypatch, now_ms)
    assert revocation_time(services, "user-a") == now_ms  # no not-before yet
    services.denylist.set_not_before("user-a", now_ms + 5000)  # another writer's clock is ahead
    assert revocation_time(services, "user-a") == now_ms + 5001
    services.denylist.set_not_before("user-b", now_ms - 5000)
    assert revocation_time(services, "user-b") == now_ms
    services.denylist.set_not_before("user-c", now_ms - 1)
    assert revocation_time(services, "user-c") == now_ms


def test_the_emergency_switch_writes_every_shard_at_once_and_never_moves_one_back(
    services: Services, accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    now_ms = services.clock.now_ms() + 1000
    pin_clock(services, monkeypatch, now_ms)
    tokens = staff_login()
    denylist = services.denylist

    def shards() -> dict[str, str]:
        items = denylist.dynamodb.scan(TableName=denylist.table)["Items"]
        return {i["pk"]["S"]: i["not_before"]["N"] for i in items if i["pk"]["S"].startswith("NBF#*#")}

    denylist.set_not_before(GLOBAL_SUBJECT, now_ms)
    expected = {f"NBF#{GLOBAL_SUBJECT}#{shard}": str(now_ms) for shard in range(GLOBAL_SHARDS)}
    assert shards() == expected
    assert not is_authorized(tokens["access_token"])
    denylist.set_not_before(GLOBAL_SUBJECT, now_ms - 1000)  # an older switch (a slow clock): no effect
    assert shards() == expected


def test_logout_naming_another_users_refresh_token_ends_only_the_callers_session(
    accounts: Accounts,
) -> None:
    caller = staff_login()
    victim = admin_login()
    assert logout(caller["access_token"], victim["refresh_token"])["statusCode"] == 200
    assert refresh(caller["refresh_token"])["statusCode"] == 401
    assert refresh(victim["refresh_token"])["statusCode"] == 200  # not the caller's to end


def test_a_logout_records_when_and_why_its_session_ended(
    services: Services, accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = pin_clock(services, monkeypatch, services.clock.now_ms())
    tokens = staff_login()
    clock.advance(2)
    assert logout(tokens["access_token"])["statusCode"] == 200
    item = services.sessions.dynamodb.get_item(
        TableName=services.sessions.table, Key={"pk": {"S": f"SESSION#{_sid(tokens)}"}}, ConsistentRead=True
    )["Item"]
    assert (int(item["revoked_at"]["N"]), item["revoked_reason"]["S"]) == (clock.now_ms(), "logout")


def test_a_session_ended_from_another_denies_its_access_tokens_by_its_entry_alone(
    accounts: Accounts,
) -> None:
    """No token id of it was denied and no not-before moved: only its SID# entry denies it."""
    caller = staff_login()
    other = staff_login()
    assert is_authorized(other["access_token"])
    assert logout(caller["access_token"], other["refresh_token"])["statusCode"] == 200
    assert not is_authorized(other["access_token"])

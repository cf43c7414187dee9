"""docs/hostile-inputs.md entries 20-23: refresh-token rotation, the grace window and theft detection."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from shared.credentials.refresh_tokens import session_id_of, token_hash
from shared.runtime.services import Services
from tests.events import body_of
from tests.fixtures import Accounts, FakeClock, audit_events
from tests.flows import (
    admin_login,
    change_password,
    is_authorized,
    logout,
    logout_all,
    refresh,
    staff_login,
)


def _rotate(token: str) -> dict[str, str]:
    response = refresh(token)
    assert response["statusCode"] == 200, response
    body: dict[str, str] = body_of(response)
    return body


def _refresh_rows(services: Services, sid: str) -> dict[str, str]:
    """status by token hash, for every refresh-token row of one session."""
    table = services.sessions.table
    rows = services.sessions.dynamodb.scan(
        TableName=table,
        FilterExpression="sid = :sid AND begins_with(pk, :rt)",
        ExpressionAttributeValues={":sid": {"S": sid}, ":rt": {"S": "RT#"}},
    )["Items"]
    return {row["pk"]["S"][3:]: row["status"]["S"] for row in rows}


@pytest.fixture
def family(accounts: Accounts) -> dict[str, dict[str, str]]:
    """A session rotated twice: grandparent -> parent -> child."""
    grandparent = staff_login()
    parent = _rotate(grandparent["refresh_token"])
    child = _rotate(parent["refresh_token"])
    return {"grandparent": grandparent, "parent": parent, "child": child}


def test_20_grandparent_replay_revokes_the_family_and_records_a_security_event(
    family: dict[str, dict[str, str]], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.clear()
    assert refresh(family["grandparent"]["refresh_token"])["statusCode"] == 401
    assert refresh(family["child"]["refresh_token"])["statusCode"] == 401
    for generation in family.values():
        assert not is_authorized(generation["access_token"])
    events = audit_events(caplog)
    assert [e["event"] for e in events if e["event"] == "refresh_reuse"] == ["refresh_reuse"]
    assert not any(family["grandparent"]["refresh_token"] in str(e) for e in events)


def test_20_parent_replayed_after_the_grace_window_revokes_the_family(
    accounts: Accounts, clock: FakeClock
) -> None:
    parent = staff_login()
    child = _rotate(parent["refresh_token"])
    clock.advance(11)
    assert refresh(parent["refresh_token"])["statusCode"] == 401
    assert refresh(child["refresh_token"])["statusCode"] == 401
    assert not is_authorized(child["access_token"])


def test_grace_window_retry_of_the_parent_returns_the_very_same_child(
    accounts: Accounts, clock: FakeClock
) -> None:
    parent = staff_login()
    child = _rotate(parent["refresh_token"])
    clock.advance(5)
    retried = _rotate(parent["refresh_token"])
    assert retried["refresh_token"] == child["refresh_token"]
    assert retried["access_token"] != child["access_token"]
    assert is_authorized(retried["access_token"]) and is_authorized(child["access_token"])
    assert _rotate(child["refresh_token"])["refresh_token"] != child["refresh_token"]


def test_grace_window_does_not_apply_once_the_child_has_been_used(accounts: Accounts) -> None:
    parent = staff_login()
    child = _rotate(parent["refresh_token"])
    grandchild = _rotate(child["refresh_token"])
    assert refresh(parent["refresh_token"])["statusCode"] == 401
    assert refresh(grandchild["refresh_token"])["statusCode"] == 401


@pytest.mark.parametrize("clients", [2, 5, 10, 20])
def test_21_concurrent_refreshes_of_one_token_commit_one_successor_and_keep_the_user_logged_in(
    services: Services, accounts: Accounts, serialised_moto: None, clients: int
) -> None:
    start = staff_login()
    barrier = threading.Barrier(clients)

    def one_client(_: int) -> dict[str, object]:
        barrier.wait(timeout=10)
        return refresh(start["refresh_token"])

    with ThreadPoolExecutor(max_workers=clients) as pool:
        responses = list(pool.map(one_client, range(clients)))
    assert [r["statusCode"] for r in responses] == [200] * clients
    children = {body_of(r)["refresh_token"] for r in responses}
    assert len(children) == 1
    (child,) = children
    sid = session_id_of(start["refresh_token"])
    assert sid is not None
    rows = _refresh_rows(services, sid)
    assert rows == {token_hash(start["refresh_token"]): "used", token_hash(child): "active"}
    assert all(is_authorized(body_of(r)["access_token"]) for r in responses)
    next_token = _rotate(child)
    assert list(_refresh_rows(services, sid).values()).count("active") == 1
    assert is_authorized(next_token["access_token"])


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: "A" * len(t),
        lambda t: t[:-1],
        lambda t: t[: len(t) // 2],
        lambda t: t.swapcase(),
        lambda t: t.split(".")[0] + "." + "B" * 43,
        lambda t: t + "A",
        lambda t: "",
        lambda t: "not-a-token",
    ],
)
def test_22_random_truncated_case_flipped_or_wrong_secret_tokens_are_401_and_revoke_nothing(
    accounts: Accounts, aws_calls: list[str], mangle: object
) -> None:
    tokens = staff_login()
    aws_calls.clear()
    response = refresh(mangle(tokens["refresh_token"]))  # type: ignore[operator]
    assert response["statusCode"] == 401
    assert body_of(response) == {"message": "Invalid refresh token"}
    writes = [c for c in aws_calls if c.split(".")[1] in ("TransactWriteItems", "PutItem", "UpdateItem")]
    assert writes == []
    assert is_authorized(tokens["access_token"])
    assert _rotate(tokens["refresh_token"])


def test_23_refresh_after_logout_is_rejected(accounts: Accounts) -> None:
    tokens = staff_login()
    logout(tokens["access_token"])
    assert refresh(tokens["refresh_token"])["statusCode"] == 401


def test_23_refresh_after_logout_all_and_after_password_change_is_rejected(accounts: Accounts) -> None:
    first = staff_login()
    other = staff_login()
    logout_all(first["access_token"])
    assert refresh(first["refresh_token"])["statusCode"] == 401
    assert refresh(other["refresh_token"])["statusCode"] == 401
    mine = staff_login()
    elsewhere = staff_login()
    assert (
        change_password(mine["access_token"], accounts.password, "amber hollow 31 tides")["statusCode"] == 200
    )
    assert refresh(elsewhere["refresh_token"])["statusCode"] == 401


def test_23_refresh_past_the_idle_lifetime_is_rejected_though_the_row_is_still_there(
    services: Services, accounts: Accounts, clock: FakeClock
) -> None:
    tokens = staff_login()
    clock.advance(services.settings.refresh_idle_ttl + 1)
    assert services.sessions.refresh_token(token_hash(tokens["refresh_token"])) is not None
    assert refresh(tokens["refresh_token"])["statusCode"] == 401


def test_23_refresh_past_the_absolute_lifetime_is_rejected_even_when_used_daily(
    services: Services, accounts: Accounts, clock: FakeClock
) -> None:
    tokens = staff_login()
    current = tokens["refresh_token"]
    day = 24 * 3600
    for _ in range(services.settings.session_max_ttl // day - 1):
        clock.advance(day)
        current = _rotate(current)["refresh_token"]
    clock.advance(2 * day)
    assert refresh(current)["statusCode"] == 401


def test_refresh_issues_an_access_token_for_the_same_session_and_user(accounts: Accounts) -> None:
    import jwt

    tokens = admin_login()
    rotated = _rotate(tokens["refresh_token"])
    before = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    after = jwt.decode(rotated["access_token"], options={"verify_signature": False})
    assert (after["sid"], after["sub"], after["role"]) == (before["sid"], before["sub"], before["role"])
    assert after["jti"] != before["jti"]


def test_23_a_grace_retry_after_a_user_not_before_is_rejected_even_if_the_session_row_says_active(
    services: Services, accounts: Accounts
) -> None:
    """The grace path checks the user's not-before in its transaction, not only the session row
    (which logout-all updates through an eventually consistent index)."""

    parent = staff_login()
    child = _rotate(parent["refresh_token"])
    services.denylist.set_not_before(accounts.staff.user_id, services.clock.now_ms())
    assert refresh(parent["refresh_token"])["statusCode"] == 401
    assert refresh(child["refresh_token"])["statusCode"] == 401

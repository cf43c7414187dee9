"""The refresh grace rules under real network faults, over HTTP against the local API.

Each scenario ends by stating exactly which tokens still work, and asserting it: access tokens
through the authorizer (GET /auth/me), refresh tokens by their rows in the sessions table (read
from the local API's moto) and, for the one that should live on, by really using it.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.cookies import SimpleCookie
from typing import Any

import pytest

from tests.e2e.local_api import LocalApi
from tests.proof.support import (
    BROWSER_AGENT,
    Tables,
    audit_lines,
    dedicated_local_api,
    http_post,
    login,
    me_status,
    raw_request,
    refresh,
    send_and_drop,
    token_hash,
)

GRACE_SECONDS = 1  # the short-window instance; the default instance keeps the default 10 s


@pytest.fixture(scope="module")
def default_api() -> Iterator[tuple[LocalApi, Tables]]:
    with dedicated_local_api() as started:
        yield started


@pytest.fixture(scope="module")
def short_grace_api() -> Iterator[tuple[LocalApi, Tables]]:
    with dedicated_local_api(REFRESH_GRACE_SECONDS=str(GRACE_SECONDS)) as started:
        yield started


def sid_of(refresh_token: str) -> str:
    return refresh_token.split(".", 1)[0]


def active_refresh_hashes(tables: Tables, sid: str) -> set[str]:
    return {row["pk"].removeprefix("RT#") for row in tables.refresh_rows_of(sid) if row["status"] == "active"}


def wait_for_commit(tables: Tables, parent: str, timeout: float = 5.0) -> dict[str, str]:
    """The parent's row once the rotation is committed (status used, child recorded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = tables.refresh_row(parent)
        if row["status"] == "used":
            return row
        time.sleep(0.02)
    raise AssertionError("the dropped refresh was never committed")


def test_a_refresh_whose_response_is_lost_after_the_commit_is_retried_and_gets_the_same_child(
    default_api: tuple[LocalApi, Tables],
) -> None:
    api, tables = default_api
    grant = login(api)
    parent, first_access = grant["refresh_token"], grant["access_token"]
    sid = sid_of(parent)

    # Given a refresh whose whole request reaches the server, but whose answer never reaches us
    send_and_drop(api.port, raw_request(api.port, "POST", "/auth/refresh", {"refresh_token": parent}))
    committed = wait_for_commit(tables, parent)

    # When the client retries with the same (now rotated) token within the grace window
    retry = refresh(api, parent)

    # Then it gets exactly the child that was committed for the lost answer, not a second successor
    assert retry.status == 200, retry.body
    child = retry.json()["refresh_token"]
    assert token_hash(child) == committed["child_hash"]
    rows = tables.refresh_rows_of(sid)
    assert len(rows) == 2, "one parent and exactly one child: no second successor"
    assert active_refresh_hashes(tables, sid) == {token_hash(child)}

    # Still working: the login access token, the retry's access token, the child refresh token.
    # Not working as a fresh rotation: the parent (it only ever answers with this same child).
    assert me_status(api, first_access) == 200
    assert me_status(api, retry.json()["access_token"]) == 200
    again = refresh(api, parent)
    assert again.status == 200 and again.json()["refresh_token"] == child
    onward = refresh(api, child)
    assert onward.status == 200, "the child carries the session on"
    assert me_status(api, onward.json()["access_token"]) == 200
    # Once the child is used, the parent is a replay: theft, the family dies.
    assert refresh(api, parent).status == 401
    assert refresh(api, onward.json()["refresh_token"]).status == 401
    assert me_status(api, first_access) == 401


def _refresh_at_once(
    api: LocalApi, refresh_token: str, clients: int
) -> list[tuple[int, dict[str, str], bytes]]:
    """`clients` browser tabs, each on its own connection, refreshing with one cookie at the same instant."""
    barrier = threading.Barrier(clients)
    results: list[Any] = [None] * clients
    headers = {
        "User-Agent": BROWSER_AGENT,
        "Origin": api.frontend_url,
        "X-Token-Transport": "cookie",
        "Cookie": f"__Host-refresh_token={refresh_token}",
    }

    def tab(index: int) -> None:
        barrier.wait(timeout=10)
        results[index] = http_post(api.port, "/auth/refresh", None, headers)

    threads = [threading.Thread(target=tab, args=(index,)) for index in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert all(result is not None for result in results), "a tab never got an answer"
    return results


def _cookie_token(headers: dict[str, str]) -> str:
    jar: SimpleCookie = SimpleCookie()
    jar.load(headers["set-cookie"])
    return jar["__Host-refresh_token"].value


@pytest.mark.parametrize("clients", [2, 10])
def test_21_browser_tabs_refreshing_with_one_cookie_at_once_all_get_the_same_child(
    default_api: tuple[LocalApi, Tables], clients: int
) -> None:
    api, tables = default_api
    grant = login(api)
    parent = grant["refresh_token"]
    sid = sid_of(parent)

    answers = _refresh_at_once(api, parent, clients)

    statuses = [status for status, _, _ in answers]
    assert statuses == [200] * clients, [body for _, _, body in answers]
    children = {_cookie_token(headers) for _, headers, _ in answers}
    assert len(children) == 1, "every tab got the very same child"
    (child,) = children
    # One lineage: the parent used, exactly one active refresh token (the child), no other row.
    rows = {row["pk"].removeprefix("RT#"): row for row in tables.refresh_rows_of(sid)}
    assert set(rows) == {token_hash(parent), token_hash(child)}
    assert rows[token_hash(parent)]["status"] == "used"
    assert rows[token_hash(parent)]["child_hash"] == token_hash(child)
    assert rows[token_hash(child)]["status"] == "active"
    assert tables.session_row(sid)["status"] == "active"

    # Still working: every tab's access token and the login's; the child refresh token, once.
    accesses = [json.loads(body)["access_token"] for _, _, body in answers]
    assert len(set(accesses)) == clients, "each tab got its own access token"
    for access in [grant["access_token"], *accesses]:
        assert me_status(api, access) == 200
    onward = refresh(api, child)
    assert onward.status == 200
    assert active_refresh_hashes(tables, sid) == {token_hash(onward.json()["refresh_token"])}


def _assert_family_dead(
    api: LocalApi, tables: Tables, sid: str, accesses: list[str], refreshes: list[str]
) -> None:
    assert tables.session_row(sid)["status"] == "revoked"
    assert tables.get("denylist", f"SID#{sid}") is not None
    for access in accesses:
        assert me_status(api, access) == 401
    for token in refreshes:
        assert refresh(api, token).status == 401
    assert audit_lines(api, "refresh_reuse", sid), "a security event names the session"


def test_20_a_grandparent_presented_even_within_the_window_revokes_the_family_over_http(
    short_grace_api: tuple[LocalApi, Tables],
) -> None:
    api, tables = short_grace_api
    bystander = login(api)  # another session of the same user
    grant = login(api)
    r0, a0 = grant["refresh_token"], grant["access_token"]
    first = refresh(api, r0).json()
    r1, a1 = first["refresh_token"], first["access_token"]
    second = refresh(api, r1).json()
    r2, a2 = second["refresh_token"], second["access_token"]

    replay = refresh(api, r0)  # the grandparent, well within the 1 s window

    assert replay.status == 401
    assert replay.json() == {"message": "Invalid refresh token"}
    # Nothing of the family works: not the newest refresh token r2, not one of its access tokens.
    _assert_family_dead(api, tables, sid_of(r0), [a0, a1, a2], [r2, r1, r0])
    # Still working: the user's other session, both its access and its refresh token.
    assert me_status(api, bystander["access_token"]) == 200
    assert refresh(api, bystander["refresh_token"]).status == 200


def test_20_the_parent_presented_after_the_window_revokes_the_family_over_http(
    short_grace_api: tuple[LocalApi, Tables],
) -> None:
    api, tables = short_grace_api
    bystander = login(api)
    grant = login(api)
    r0, a0 = grant["refresh_token"], grant["access_token"]
    rotated = refresh(api, r0).json()
    r1, a1 = rotated["refresh_token"], rotated["access_token"]
    assert me_status(api, a1) == 200

    time.sleep(GRACE_SECONDS + 0.5)  # past the window; r1 still unused
    replay = refresh(api, r0)

    assert replay.status == 401
    _assert_family_dead(api, tables, sid_of(r0), [a0, a1], [r1, r0])
    assert me_status(api, bystander["access_token"]) == 200
    assert refresh(api, bystander["refresh_token"]).status == 200


def test_within_the_short_window_the_parent_still_gets_the_same_child_so_the_window_is_what_matters(
    short_grace_api: tuple[LocalApi, Tables],
) -> None:
    """The control for the test above: the same replay, inside the window, is a harmless retry."""
    api, tables = short_grace_api
    grant = login(api)
    r0 = grant["refresh_token"]
    r1 = refresh(api, r0).json()["refresh_token"]

    retry = refresh(api, r0)

    assert retry.status == 200 and retry.json()["refresh_token"] == r1
    assert tables.session_row(sid_of(r0))["status"] == "active"
    assert me_status(api, grant["access_token"]) == 200

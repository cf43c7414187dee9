"""A bounded load test against the local API (127.0.0.1 only; it stops by itself).

20 clients at once, each: log in, refresh 20 times (every 10th refresh sent three times at the same
instant, as tabs would), read /auth/me, and half of them log out. Then the tables are read straight
from the local API's moto: every refresh token a client received has exactly one row, each live
session has exactly one active refresh token (the client's newest), every other token is used
(and names its one child), logged-out sessions are revoked, and no session is lost or duplicated.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.e2e.local_api import LocalApi, Reply, call
from tests.proof.support import Tables, dedicated_local_api, me_status, refresh, token_hash

CLIENTS = 20
REFRESHES = 20
DUPLICATE_EVERY = 10  # every 10th refresh is sent this many times at once:
DUPLICATES = 3
DEADLINE_SECONDS = 60
LOGIN_ONE_AT_A_TIME = threading.Lock()


@dataclass
class Client:
    index: int
    who: str
    sid: str = ""
    refresh_tokens: list[str] = field(default_factory=list)  # in the order received
    access_token: str = ""
    logged_out: bool = False
    statuses: Counter[int] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def load_api() -> Iterator[tuple[LocalApi, Tables]]:
    with dedicated_local_api() as started:
        yield started


def _run_client(api: LocalApi, client: Client, start: threading.Barrier, deadline: float) -> None:
    try:
        _client_session(api, client, start, deadline)
    except Exception as error:  # a reset connection, a timeout: a problem to report, not a lost thread
        client.problems.append(f"{type(error).__name__}: {error}")


def _client_session(api: LocalApi, client: Client, start: threading.Barrier, deadline: float) -> None:
    email = f"{client.who}@dealership.example"
    # Logins one client at a time (a lock guards the login): at most LOCKOUT_THRESHOLD attempts on
    # one account from one IP reach a password check at once, by design, so 10 simultaneous logins
    # of one demo account from 127.0.0.1 would rightly see 429s. The refreshes are the load.
    with LOGIN_ONE_AT_A_TIME:
        reply = call(
            "POST",
            f"{api.base_url}/auth/login",
            body={"email": email, "password": api.password, "userType": client.who},
            headers={"User-Agent": f"load-client-{client.index}"},
        )
    client.statuses[reply.status] += 1
    if reply.status != 200:
        client.problems.append(f"login {reply.status} {reply.body[:100]!r}")
        return
    grant = reply.json()
    client.access_token = grant["access_token"]
    client.refresh_tokens.append(grant["refresh_token"])
    client.sid = grant["refresh_token"].split(".", 1)[0]
    start.wait(timeout=60)

    for step in range(1, REFRESHES + 1):
        if time.monotonic() > deadline:
            client.problems.append(f"deadline passed at refresh {step}")
            return
        current = client.refresh_tokens[-1]
        copies = DUPLICATES if step % DUPLICATE_EVERY == 0 else 1
        replies = _concurrently(lambda current=current: refresh(api, current), copies)
        for each in replies:
            client.statuses[each.status] += 1
        if any(each.status != 200 for each in replies):
            client.problems.append(f"refresh {step}: {[(r.status, r.body[:80]) for r in replies]}")
            return
        children = {each.json()["refresh_token"] for each in replies}
        if len(children) != 1:
            client.problems.append(f"refresh {step}: {len(children)} different children")
            return
        client.refresh_tokens.append(children.pop())
        client.access_token = replies[0].json()["access_token"]
        if step == REFRESHES // 2:
            status = me_status(api, client.access_token)
            client.statuses[status] += 1
            if status != 200:
                client.problems.append(f"me {status}")

    if client.index % 2 == 0:
        reply = call(
            "POST",
            f"{api.base_url}/auth/logout",
            token=client.access_token,
            body={"refresh_token": client.refresh_tokens[-1]},
        )
        client.statuses[reply.status] += 1
        client.logged_out = reply.status == 200
        if reply.status != 200:
            client.problems.append(f"logout {reply.status}")


def _concurrently(action: Callable[[], Reply], copies: int) -> list[Reply]:
    if copies == 1:
        return [action()]
    barrier = threading.Barrier(copies)
    results: list[Any] = [None] * copies

    def run(index: int) -> None:
        barrier.wait(timeout=10)
        results[index] = action()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.mark.slow
def test_20_clients_refreshing_20_times_with_duplicates_lose_nothing_and_never_see_a_5xx(
    load_api: tuple[LocalApi, Tables],
) -> None:
    api, tables = load_api
    clients = [Client(index, "admin" if index % 2 else "staff") for index in range(CLIENTS)]
    start = threading.Barrier(CLIENTS)
    began = time.monotonic()
    deadline = began + DEADLINE_SECONDS
    threads = [
        threading.Thread(target=_run_client, args=(api, client, start, deadline), daemon=True)
        for client in clients
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=DEADLINE_SECONDS + 30)
    elapsed = time.monotonic() - began
    statuses = sum((client.statuses for client in clients), Counter())
    print(
        f"\nload: {CLIENTS} clients, {sum(statuses.values())} requests in {elapsed:.1f} s: {dict(statuses)}"
    )

    # Zero 5xx, and every client did all of its work in time
    assert not any(status >= 500 for status in statuses), dict(statuses)
    assert [client.problems for client in clients] == [[] for _ in clients]
    assert all(not thread.is_alive() for thread in threads)
    expected_refreshes = CLIENTS * (REFRESHES + (DUPLICATES - 1) * (REFRESHES // DUPLICATE_EVERY))
    assert statuses[200] == CLIENTS + expected_refreshes + CLIENTS + CLIENTS // 2

    # No session lost or duplicated: exactly one session per login, and nothing else
    items = tables.scan("sessions")
    sessions = {item["sid"]["S"]: item for item in items if item["pk"]["S"].startswith("SESSION#")}
    assert sorted(sessions) == sorted(client.sid for client in clients)
    refresh_rows: dict[str, dict[str, dict[str, str]]] = {}
    for item in items:
        if item["pk"]["S"].startswith("RT#"):
            row = {name: next(iter(value.values())) for name, value in item.items()}
            refresh_rows.setdefault(row["sid"], {})[row["pk"].removeprefix("RT#")] = row

    for client in clients:
        tokens = client.refresh_tokens
        assert len(tokens) == REFRESHES + 1 and len(set(tokens)) == REFRESHES + 1
        rows = refresh_rows[client.sid]
        # Every refresh token the client received has exactly one row, and no row is unaccounted for
        assert set(rows) == {token_hash(token) for token in tokens}
        # One lineage: each token is used and names the next as its one child; only the newest is active
        for parent, child in itertools.pairwise(tokens):
            assert rows[token_hash(parent)]["status"] == "used"
            assert rows[token_hash(parent)]["child_hash"] == token_hash(child)
        assert rows[token_hash(tokens[-1])]["status"] == "active"
        session = sessions[client.sid]
        if client.logged_out:
            assert session["status"]["S"] == "revoked"
            assert tables.get("denylist", f"SID#{client.sid}") is not None
        else:
            assert session["status"]["S"] == "active"

    # And over HTTP: live sessions' newest tokens work, logged-out sessions' do not
    for client in clients:
        expected = 401 if client.logged_out else 200
        assert me_status(api, client.access_token) == expected
        assert refresh(api, client.refresh_tokens[-1]).status == expected
    assert elapsed < DEADLINE_SECONDS

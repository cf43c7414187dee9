"""Revocation always wins, proven by exploring every interleaving (docs/hostile-inputs.md entries 35,
36; issue 11).

Each issuing operation (login, refresh, a grace-window retry of the parent) is cut at every AWS
call boundary: before its first call, between any two, and after its last. At the cut, one
revoking operation runs to completion. Then the invariants are checked:

- a token or session issued from state read before a completed revocation that targets it is
  refused by the authorizer and cannot be refreshed;
- no role older than the latest role change is ever accepted after it;
- a session no revocation targeted is not lost (the issuing operation succeeds and its tokens work).

The clock ticks one millisecond per reading, so "before" and "after" are never ambiguous, and the
cuts are made below botocore, so they are exactly where another request could land in production.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import jwt
import pytest
from moto import mock_aws

from local.provision import provision
from shared.accounts import actions as account_actions
from shared.core.clock import Clock
from shared.core.observability import OPERATOR
from shared.credentials import passwords
from shared.credentials.identity import Identity
from shared.runtime import services as services_module
from shared.runtime.services import Services, get_services
from shared.sessions.lifecycle import start_session
from shared.store.user_items import User
from tests.events import body_of
from tests.fixtures import around_aws_calls
from tests.flows import change_password as change_password_call
from tests.flows import is_authorized, login, logout, logout_all, refresh, session_delete

PASSWORD = "plum orbit caravan 42"
NEW_PASSWORD = "quartz meadow lantern 77"


class TickingClock(Clock):
    """Real time at the start, then one millisecond more at every reading."""

    def __init__(self) -> None:
        self.current = super().now_ms()

    def now_ms(self) -> int:
        self.current += 1
        return self.current


@dataclass
class Case:
    """One user with three sessions: `target` (refreshed or logged out), `caller` (runs the
    self-service revocations), `other` (a bystander session of the same user)."""

    services: Services
    user: User
    target: dict[str, str]
    caller: dict[str, str]
    other: dict[str, str]
    bystander: dict[str, str]  # a session of another user


# The module's tests share one world (a module-scoped fixture): one worker runs them all.
pytestmark = pytest.mark.xdist_group("interleavings")


@pytest.fixture(scope="module")
def world() -> Iterator[Services]:
    with mock_aws(), pytest.MonkeyPatch.context() as patch:
        services_module.reset()
        env = provision(issuer="https://auth.test.example", audience="jwt-auth-tests")
        for name, value in env.items():
            patch.setenv(name, value)
        services_module.reset()
        services = get_services()
        services.clock = TickingClock()
        yield services
    services_module.reset()


_hash_cache: list[str] = []
_counter = iter(range(1_000_000))


def _new_user(services: Services, role: str = "sales") -> User:
    if not _hash_cache:
        _hash_cache.append(passwords.hash_password(PASSWORD))
    number = next(_counter)
    user = User(
        user_id=f"user-{os.getpid()}-{number}",
        email=f"person{number}@dealership.example",
        name=f"Person {number}",
        role=role,
        user_type="staff",
        password_hash=_hash_cache[0],
        disabled=False,
        created_at=services.clock.now_ms(),
    )
    assert services.users.create(user)
    return user


def _session(services: Services, user: User) -> dict[str, str]:
    identity = Identity(user.user_id, user.email, user.name, user.role, user.user_type)
    at, version = services.clock.now_ms(), user.version or 1
    grant = start_session(
        services,
        identity,
        OPERATOR,
        extra=[],
        at=at,
        user_version=version,
        amr=("pwd",),
        auth_time=at // 1000,
    )
    return {"access_token": grant.access_token, "refresh_token": grant.refresh_token, "sid": grant.claims.sid}


def _case(services: Services) -> Case:
    user = _new_user(services)
    other_user = _new_user(services)
    return Case(
        services,
        user,
        _session(services, user),
        _session(services, user),
        _session(services, user),
        _session(services, other_user),
    )


# ----------------------------------------------------------------------------------- operations


def _issue_login(case: Case) -> dict[str, Any]:
    return login(case.user.email, PASSWORD, case.user.user_type)


def _issue_refresh(case: Case) -> dict[str, Any]:
    return refresh(case.target["refresh_token"])


def _prepare_grace(case: Case) -> None:
    parent = case.target["refresh_token"]
    rotated = refresh(parent)
    assert rotated["statusCode"] == 200, rotated
    case.target["parent"] = parent
    case.target["child"] = body_of(rotated)["refresh_token"]


def _issue_grace_retry(case: Case) -> dict[str, Any]:
    return refresh(case.target["parent"])


@dataclass(frozen=True)
class Issuer:
    name: str
    run: Callable[[Case], dict[str, Any]]
    prepare: Callable[[Case], None] = lambda case: None


ISSUERS = (
    Issuer("login", _issue_login),
    Issuer("refresh", _issue_refresh),
    Issuer("grace_retry", _issue_grace_retry, _prepare_grace),
)


def _fresh_user(case: Case) -> User:
    user = case.services.users.get(case.user.user_type, case.user.email)
    assert user is not None
    return user


@dataclass(frozen=True)
class Revoker:
    name: str
    run: Callable[[Case], None]
    # which issuing operations it must defeat when it lands after their read
    targets: frozenset[str]


def _ok(response: dict[str, Any]) -> None:
    assert response["statusCode"] == 200, response


ALL = frozenset(issuer.name for issuer in ISSUERS)
SESSION_ONLY = frozenset({"refresh", "grace_retry"})

REVOKERS = (
    Revoker("logout", lambda c: _ok(logout(c.target["access_token"])), SESSION_ONLY),
    Revoker(
        "session_revoke",
        lambda c: _ok(session_delete(c.caller["access_token"], c.target["sid"])),
        SESSION_ONLY,
    ),
    Revoker("logout_all", lambda c: _ok(logout_all(c.caller["access_token"])), ALL),
    Revoker(
        "password_change",
        lambda c: _ok(change_password_call(c.caller["access_token"], PASSWORD, NEW_PASSWORD)),
        ALL,
    ),
    Revoker(
        "password_reset",
        lambda c: account_actions.reset_password(c.services, _fresh_user(c), NEW_PASSWORD),
        ALL,
    ),
    Revoker("role_change", lambda c: account_actions.change_role(c.services, _fresh_user(c), "trainee"), ALL),
    Revoker("disable", lambda c: account_actions.disable_user(c.services, _fresh_user(c)), ALL),
    Revoker("delete", lambda c: account_actions.delete_user(c.services, _fresh_user(c)), ALL),
    Revoker("emergency_switch", lambda c: account_actions.revoke_all_tokens_of_everyone(c.services), ALL),
    # Controls: revocations that target something else must leave the issued session alone.
    Revoker("logout_of_another_session", lambda c: _ok(logout(c.other["access_token"])), frozenset()),
    Revoker(
        "logout_all_of_another_user", lambda c: _ok(logout_all(c.bystander["access_token"])), frozenset()
    ),
)


# ------------------------------------------------------------------------------------- the cuts


@contextlib.contextmanager
def cut_before_call(number: int, interrupt: Callable[[], None]) -> Iterator[list[str]]:
    """Run `interrupt` (unobserved) just before the issuing operation's AWS call number `number`
    (0-based); yields the calls the issuing operation made."""
    calls: list[str] = []
    interrupting = []

    def observed(client: Any, operation: str, params: Any, call: Callable[[], Any]) -> Any:
        if interrupting:  # the revocation's own calls
            return call()
        if len(calls) == number:
            interrupting.append(True)
            try:
                interrupt()
            finally:
                interrupting.clear()
        calls.append(f"{client.meta.service_model.service_name}.{operation}")
        return call()

    with around_aws_calls(observed):
        yield calls


@dataclass
class Outcome:
    issuer: str
    revoker: str
    cut: int
    calls: int
    status: int
    violations: list[str]


def _explore_one(world: Services, issuer: Issuer, revoker: Revoker, cut: int) -> Outcome:
    case = _case(world)
    issuer.prepare(case)
    revoked = []

    def interrupt() -> None:
        revoker.run(case)
        revoked.append(True)

    with cut_before_call(cut, interrupt) as calls:
        result = issuer.run(case)
    if not revoked:  # the cut is after the last call
        interrupt()
    read_before_revocation = cut >= 1
    violations = _check(case, issuer, revoker, result, read_before_revocation)
    return Outcome(issuer.name, revoker.name, cut, len(calls), result["statusCode"], violations)


def _check(
    case: Case, issuer: Issuer, revoker: Revoker, result: dict[str, Any], read_before: bool
) -> list[str]:
    violations: list[str] = []
    status = result["statusCode"]
    targeted = issuer.name in revoker.targets
    if status >= 500:
        violations.append(f"answered {status}")
    if status != 200:
        if not targeted:
            violations.append(f"an untargeted {issuer.name} failed with {status}: a session was lost")
        return violations
    body = body_of(result)
    access, refresh_token = body["access_token"], body["refresh_token"]
    accepted = is_authorized(access)
    if targeted and read_before and accepted:
        violations.append("a token issued from state read before the revocation is accepted")
    if not targeted and not accepted:
        violations.append("a token no revocation targeted is refused")
    current = case.services.users.get(case.user.user_type, case.user.email)
    role = jwt.decode(access, options={"verify_signature": False})["role"]
    if accepted and current is not None and role != current.role:
        violations.append(f"a token with role {role} is accepted after a role change to {current.role}")
    refreshed = refresh(refresh_token)
    if targeted and read_before and refreshed["statusCode"] == 200:
        violations.append("a session issued from state read before the revocation can be refreshed")
    if not targeted and refreshed["statusCode"] != 200:
        violations.append("a session no revocation targeted cannot be refreshed")
    return violations


def _call_count(world: Services, issuer: Issuer) -> int:
    case = _case(world)
    issuer.prepare(case)
    with cut_before_call(-1, lambda: None) as calls:
        issuer.run(case)
    return len(calls)


@pytest.mark.parametrize("issuer", ISSUERS, ids=lambda issuer: issuer.name)
@pytest.mark.parametrize("revoker", REVOKERS, ids=lambda revoker: revoker.name)
def test_no_issued_token_or_session_outlives_a_revocation_at_any_cut(
    world: Services, issuer: Issuer, revoker: Revoker
) -> None:
    cuts = _call_count(world, issuer) + 1
    outcomes = [_explore_one(world, issuer, revoker, cut) for cut in range(cuts)]
    assert [o.cut for o in outcomes] == list(range(cuts))
    failures = [f"cut {o.cut} (status {o.status}): {v}" for o in outcomes for v in o.violations]
    assert not failures, "\n".join(failures)


def test_the_explorer_cuts_every_issuer_at_each_of_its_aws_calls(
    world: Services, capsys: pytest.CaptureFixture[str]
) -> None:
    """How many interleavings the test above explores (each issuer cut before each of its AWS calls
    and after the last, against every revoker), counted here so that any worker can report it."""
    cuts = {issuer.name: _call_count(world, issuer) + 1 for issuer in ISSUERS}
    assert all(count >= 2 for count in cuts.values()), cuts  # an issuer makes at least one AWS call
    explored = sum(cuts.values()) * len(REVOKERS)
    with capsys.disabled():
        print(f"\ninterleaving explorer: {explored} interleavings of {len(ISSUERS) * len(REVOKERS)} pairs")

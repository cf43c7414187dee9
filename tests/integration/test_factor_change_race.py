"""Issue 23: a factor change is decided on the factor state it read, and committed only while that
state still holds. Each factor change is cut at every AWS call boundary (before its first call,
between any two, after its last); at the cut, a competing factor change runs to completion. The
invariant: no factor is added or removed with a proof weaker than the rule in force at its write:

- enrolling TOTP (its start and its confirmation) or registering a passkey with a password alone is
  refused once the account has a factor, even one added after the operation read "no factor";
- removing TOTP with a code removes the factor that code proves, never one enrolled meanwhile.

A refused change answers 4xx (never 5xx) and writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from functions.mfa.handler import handler as mfa_handler
from functions.passkeys.handler import handler as passkeys_handler
from shared.runtime import services as services_module
from shared.runtime.services import Services
from tests.authenticator import Authenticator
from tests.events import body_of
from tests.fixtures import Accounts, FakeClock, cut_before_call
from tests.flows import enrol_totp, protected_call, staff_login, totp_code, verify_totp

RP_ID = "app.example.com"
ORIGIN = "https://app.example.com"


@pytest.fixture(autouse=True)
def relying_party(aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBAUTHN_RP_ID", RP_ID)
    services_module.reset()


@dataclass
class Race:
    """One account (the seeded staff user, no factor at first) and what the operation prepared."""

    services: Services
    user_id: str
    clock: FakeClock
    password_session: str  # a fresh password login: enough to change factors only while there is none
    competitor_session: str  # another one, of the competing request
    prepared: dict[str, Any] = field(default_factory=dict)


def _passkey_options(token: str) -> dict[str, Any]:
    return protected_call(passkeys_handler, token, "POST", "/auth/passkeys/register/options")


def _register_passkey(token: str, options: dict[str, Any], authenticator: Authenticator) -> dict[str, Any]:
    body = {"credential": authenticator.create(options), "name": "Laptop"}
    return protected_call(passkeys_handler, token, "POST", "/auth/passkeys/register", body=body)


def _remove_totp(token: str, code: str) -> dict[str, Any]:
    return protected_call(mfa_handler, token, "DELETE", "/auth/mfa/totp", body={"code": code})


def _active_totp(race: Race) -> str:
    """The account's TOTP factor, enrolled and proven by a fresh password login: its secret."""
    token = staff_login()["access_token"]
    enrolment = enrol_totp(token)
    assert verify_totp(token, totp_code(enrolment["secret"], race.clock))["statusCode"] == 200
    race.prepared["recovery_codes"] = enrolment["recovery_codes"]
    return str(enrolment["secret"])


def _race(services: Services, accounts: Accounts, clock: FakeClock) -> Race:
    sessions = [staff_login()["access_token"] for _ in range(2)]
    return Race(services, accounts.staff.user_id, clock, *sessions)


def _has_passkey(race: Race) -> bool:
    return race.services.passkeys.has_any(race.user_id)


def _totp_status(race: Race) -> str:
    factor = race.services.factors.totp(race.user_id)
    return factor.status if factor else "none"


# ------------------------------------------------------------------------------ competing changes
def _competitor_registers_a_passkey(race: Race) -> bool:
    """Another fresh password login of the account registers a passkey (allowed while it has no
    factor). Whether it did."""
    token = race.competitor_session
    options = _passkey_options(token)
    if options["statusCode"] != 200:
        return False
    authenticator = Authenticator(origin=ORIGIN, rp_id=RP_ID)
    return _register_passkey(token, body_of(options), authenticator)["statusCode"] == 201


def _competitor_activates_totp(race: Race) -> bool:
    """Another fresh password login enrols and proves TOTP (allowed while there is no factor)."""
    token = race.competitor_session
    started = protected_call(mfa_handler, token, "POST", "/auth/mfa/totp")
    if started["statusCode"] != 201:
        return False
    code = totp_code(body_of(started)["secret"], race.clock)
    return verify_totp(token, code)["statusCode"] == 200


def _competitor_replaces_totp(race: Race) -> bool:
    """The owner removes the TOTP factor with a recovery code, then enrols and proves a new one."""
    removed = _remove_totp(race.competitor_session, race.prepared["recovery_codes"][0])
    if removed["statusCode"] != 200:
        return False
    race.prepared["replaced"] = True
    return _competitor_activates_totp(race)


# ---------------------------------------------------------------------------- the factor changes
@dataclass(frozen=True)
class FactorChange:
    name: str
    prepare: Callable[[Race], None]
    run: Callable[[Race], dict[str, Any]]
    compete: Callable[[Race], bool]
    committed: Callable[[Race], bool]  # whether the operation's own write is in the table
    broken_rule: str  # what committing after the competitor would mean


def _prepare_nothing(race: Race) -> None:
    return None


def _start_totp(race: Race) -> dict[str, Any]:
    return protected_call(mfa_handler, race.password_session, "POST", "/auth/mfa/totp")


def _prepare_pending_totp(race: Race) -> None:
    race.prepared["secret"] = enrol_totp(race.password_session)["secret"]


def _confirm_totp(race: Race) -> dict[str, Any]:
    return verify_totp(race.password_session, totp_code(race.prepared["secret"], race.clock))


def _prepare_passkey_options(race: Race) -> None:
    options = _passkey_options(race.password_session)
    assert options["statusCode"] == 200, options
    race.prepared["options"] = body_of(options)


def _register_prepared_passkey(race: Race) -> dict[str, Any]:
    authenticator = Authenticator(origin=ORIGIN, rp_id=RP_ID)
    return _register_passkey(race.password_session, race.prepared["options"], authenticator)


def _prepare_active_totp(race: Race) -> None:
    race.prepared["secret"] = _active_totp(race)
    race.clock.advance(30)  # the proving code's step is used up


def _remove_prepared_totp(race: Race) -> dict[str, Any]:
    return _remove_totp(race.password_session, totp_code(race.prepared["secret"], race.clock))


def _the_proven_totp_is_gone(race: Race) -> bool:
    return "replaced" not in race.prepared and _totp_status(race) == "none"


CHANGES = (
    FactorChange(
        "totp_enrolment_start",
        _prepare_nothing,
        _start_totp,
        _competitor_registers_a_passkey,
        lambda race: _totp_status(race) == "pending",
        "TOTP enrolled with a password alone beside a passkey",
    ),
    FactorChange(
        "totp_enrolment_confirmation",
        _prepare_pending_totp,
        _confirm_totp,
        _competitor_registers_a_passkey,
        lambda race: _totp_status(race) == "active",
        "TOTP activated with a password alone beside a passkey",
    ),
    FactorChange(
        "passkey_registration",
        _prepare_passkey_options,
        _register_prepared_passkey,
        _competitor_activates_totp,
        _has_passkey,
        "a passkey registered with a password alone beside an active TOTP factor",
    ),
    FactorChange(
        "totp_removal",
        _prepare_active_totp,
        _remove_prepared_totp,
        _competitor_replaces_totp,
        _the_proven_totp_is_gone,
        "a TOTP factor removed with a code of the factor it replaced",
    ),
)


@dataclass
class Outcome:
    cut: int
    status: int
    competed_before_commit: bool
    violations: list[str]


def _race_at(
    services: Services, accounts: Accounts, clock: FakeClock, change: FactorChange, cut: int
) -> Outcome:
    race = _race(services, accounts, clock)
    change.prepare(race)
    competed: list[bool] = []  # whether the competitor changed the factors, and before the commit

    def compete() -> None:
        before_commit = not change.committed(race)
        if change.compete(race):
            competed.append(before_commit)

    with cut_before_call(cut, compete) as calls:
        answer = change.run(race)
    if cut >= len(calls):
        compete()
    status, violations = answer["statusCode"], []
    competed_before_commit = any(competed)
    if status >= 500:
        violations.append(f"answered {status}")
    succeeded = status < 300
    if succeeded and competed_before_commit:
        violations.append(f"committed after the competing change: {change.broken_rule}")
    if not succeeded and change.committed(race):
        violations.append(f"{change.name} was refused ({status}) but its change was written")
    if not competed and not succeeded:
        violations.append(f"{change.name} failed ({status}) with no competing change")
    return Outcome(cut, status, competed_before_commit, violations)


def _cleanup(services: Services, user_id: str) -> None:
    services.factors.remove_all(user_id)
    for passkey in services.passkeys.of_user(user_id):
        services.passkeys.remove(user_id, passkey.credential_id, only_while_no_factor=False)


@pytest.mark.parametrize("change", CHANGES, ids=lambda change: change.name)
def test_no_factor_change_commits_on_a_factor_state_that_changed_at_any_cut(
    services: Services, accounts: Accounts, clock: FakeClock, change: FactorChange
) -> None:
    """Every cut of the change, each against the competing change: the change commits only if the
    competitor did not change the factors before its write, and the cut between its read and its
    write (the race of issue 23) is among those explored."""
    cuts = _calls_of(services, accounts, clock, change) + 1
    outcomes = []
    for cut in range(cuts):
        _cleanup(services, accounts.staff.user_id)
        clock.advance(60)  # a new TOTP step for every run: codes are accepted once
        outcomes.append(_race_at(services, accounts, clock, change, cut))
    failures = [f"cut {o.cut} (status {o.status}): {v}" for o in outcomes for v in o.violations]
    assert not failures, "\n".join(failures)
    # the explored cuts include both a competitor that lands first and one that lands too late
    assert any(o.competed_before_commit for o in outcomes) and any(o.status < 300 for o in outcomes)


def _calls_of(services: Services, accounts: Accounts, clock: FakeClock, change: FactorChange) -> int:
    """How many AWS calls the change makes with no competitor."""
    _cleanup(services, accounts.staff.user_id)
    clock.advance(60)
    race = _race(services, accounts, clock)
    change.prepare(race)
    with cut_before_call(-1, lambda: None) as calls:
        answer = change.run(race)
    assert answer["statusCode"] < 300, answer
    return len(calls)


def test_a_passkey_removal_proven_by_a_password_alone_is_refused_by_its_own_write(
    services: Services, accounts: Accounts, clock: FakeClock
) -> None:
    """No interleaving lets a password session reach a passkey's removal (the passkey is a factor, so
    its read refuses first, unless the passkey is gone, and then there is nothing to remove), so the
    removal's own condition is shown here directly: whatever was read, the write refuses it, and
    nothing is removed."""
    from shared.store.factors import FactorAdded

    race = _race(services, accounts, clock)
    assert _competitor_registers_a_passkey(race)
    (passkey,) = services.passkeys.of_user(race.user_id)
    with pytest.raises(FactorAdded):
        services.passkeys.remove(race.user_id, passkey.credential_id, only_while_no_factor=True)
    assert services.passkeys.of_user(race.user_id) == [passkey]
    assert services.passkeys.remove(race.user_id, passkey.credential_id, only_while_no_factor=False)

"""Every way into a session proves exactly the `amr` it declares (shared/sessions/assurance.py,
WAYS_IN), never more: each one is driven end to end here and its access token's claims compared with
the declaration, with `auth_time` the moment of that proof. A way in added to the declaration without
a driver here fails the first test."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from shared.runtime import services as services_module
from shared.runtime.services import Services
from shared.sessions.assurance import WAYS_IN
from tests.authenticator import Authenticator
from tests.events import body_of
from tests.fixtures import Accounts, FakeClock
from tests.flows import ADMIN, STAFF, active_totp, admin_login, login, login_ok, second_step, totp_code
from tests.integration.test_account_lifecycle import accept, invite, last_mail, token_of
from tests.integration.test_account_lifecycle import reset as reset_with
from tests.integration.test_links_and_factors import (  # noqa: F401  # relying_party, no_waiting: autouse
    ORIGIN,
    RP_ID,
    claims_of,
    no_waiting,
    passkey_sign_in,
    register_passkey,
    relying_party,
    reset_link,
)
from tests.integration.test_lockout_counts import CODE, NEW, mails_with_subject, reach_the_ceiling

Driver = Callable[[Services, Accounts, FakeClock, pytest.MonkeyPatch], str]


def _password(
    services: Services, accounts: Accounts, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> str:
    token: str = login_ok(STAFF, accounts.password, "staff")["access_token"]
    return token


def _completed(challenge: str, code: str) -> str:
    answer = second_step(challenge, code)
    assert answer["statusCode"] == 200, answer
    token: str = body_of(answer)["access_token"]
    return token


def _totp(services: Services, accounts: Accounts, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> str:
    secret, _codes = active_totp(accounts, clock)
    challenge = body_of(login(ADMIN, accounts.password, "admin"))["mfa_token"]
    return _completed(challenge, totp_code(secret, clock))


def _recovery(
    services: Services, accounts: Accounts, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> str:
    _secret, codes = active_totp(accounts, clock)
    challenge = body_of(login(ADMIN, accounts.password, "admin"))["mfa_token"]
    return _completed(challenge, codes[0])


def _enrolment(
    services: Services, accounts: Accounts, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> str:
    from functions.mfa.handler import handler as mfa_handler
    from tests.events import api_event
    from tests.flows import CONTEXT

    monkeypatch.setenv("MFA_REQUIRED_TYPES", "admin")
    services_module.reset()
    monkeypatch.setattr(services_module.get_services(), "clock", clock)
    answer = body_of(login(ADMIN, accounts.password, "admin"))
    assert answer["challenge"] == "enrol_totp"
    enrol = api_event("POST", "/auth/login/mfa/enrol", body={"mfa_token": answer["mfa_token"]})
    enrolment = body_of(mfa_handler(enrol, CONTEXT))
    return _completed(answer["mfa_token"], totp_code(enrolment["secret"], clock))


def _emailed_code(
    services: Services, accounts: Accounts, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> str:
    reach_the_ceiling(services)
    answer = body_of(login(STAFF, accounts.password, "staff", source_ip=NEW))
    assert answer["challenge"] == "email_code"
    (code,) = CODE.findall(mails_with_subject(STAFF, "Your sign-in code")[0]["body"])
    completed = second_step(answer["mfa_token"], code, source_ip=NEW)
    assert completed["statusCode"] == 200, completed
    token: str = body_of(completed)["access_token"]
    return token


def _passkey(synced: bool) -> Driver:
    def sign_in(
        services: Services, accounts: Accounts, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
    ) -> str:
        authenticator = Authenticator(origin=ORIGIN, rp_id=RP_ID, backup_eligible=synced)
        assert register_passkey(admin_login()["access_token"], authenticator)["statusCode"] == 201
        token: str = passkey_sign_in(authenticator)["access_token"]
        return token

    return sign_in


def _reset(services: Services, accounts: Accounts, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> str:
    answer = reset_with(reset_link(STAFF, "staff"))
    assert answer["statusCode"] == 200, answer
    token: str = body_of(answer)["access_token"]
    return token


def _invitation(
    services: Services, accounts: Accounts, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> str:
    email = "new.hire@dealership.example"
    assert invite(admin_login()["access_token"], email)["statusCode"] == 201
    answer = accept(token_of(last_mail(email), "invitation"))
    assert answer["statusCode"] == 200, answer
    token: str = body_of(answer)["access_token"]
    return token


DRIVERS: dict[str, Driver] = {
    "password": _password,
    "password and TOTP code": _totp,
    "password and recovery code": _recovery,
    "password and the enrolment its user type must make": _enrolment,
    "password and the code emailed past the ceiling": _emailed_code,
    "device-bound passkey": _passkey(synced=False),
    "synced passkey": _passkey(synced=True),
    "reset link": _reset,
    "invitation link": _invitation,
}


def test_every_declared_way_in_is_driven_here() -> None:
    assert set(DRIVERS) == set(WAYS_IN)


@pytest.mark.parametrize("way_in", list(WAYS_IN))
def test_a_way_in_proves_exactly_its_declared_amr_at_the_moment_of_its_proof(
    way_in: str,
    services: Services,
    accounts: Accounts,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = clock.now_ms() // 1000
    claims: dict[str, Any] = claims_of(DRIVERS[way_in](services, accounts, clock, monkeypatch))
    after = clock.now_ms() // 1000 + 1
    assert tuple(claims["amr"]) == WAYS_IN[way_in]
    assert before <= claims["auth_time"] <= after

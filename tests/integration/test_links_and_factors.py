"""Issue 23, findings 1 to 3: no path into a session hands out more than it proved, and factors change
only with a factor. A reset link or an invitation never skips a second factor (the account's, or the
one its user type must have); a password change keeps the caller's `amr` and `auth_time`; enrolling
or removing TOTP, registering or removing a passkey needs a fresh proof of an existing factor (or of
the password when there is none), and the owner is emailed on every factor change."""

from __future__ import annotations

from typing import Any

import jwt
import pytest

from functions.mfa.handler import handler as mfa_handler
from functions.passkeys.handler import handler as passkeys_handler
from local.outbox import messages
from shared.runtime import services as services_module
from shared.runtime.services import Services
from tests.authenticator import Authenticator
from tests.events import body_of
from tests.fixtures import Accounts, FakeClock
from tests.flows import (
    ADMIN,
    STAFF,
    active_totp,
    admin_login,
    change_password,
    enrol_totp,
    is_authorized,
    login,
    protected_call,
    refresh,
    second_step,
    staff_login,
    totp_code,
)
from tests.integration.test_account_lifecycle import (
    NEW_PASSWORD,
    accept,
    forgot,
    invite,
    last_mail,
    token_of,
)
from tests.integration.test_account_lifecycle import reset as reset_with

RP_ID = "app.example.com"
ORIGIN = "https://app.example.com"
STEP_UP = {
    "message": "A fresh sign-in is needed for this: sign in again, then retry",
    "error": "insufficient_user_authentication",
    "max_age": 900,
}


@pytest.fixture(autouse=True)
def relying_party(aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBAUTHN_RP_ID", RP_ID)
    services_module.reset()


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    from shared.accounts import password_reset

    monkeypatch.setattr(password_reset, "sleep", lambda _seconds: None)


def claims_of(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def registration_options(token: str) -> dict[str, Any]:
    return protected_call(passkeys_handler, token, "POST", "/auth/passkeys/register/options")


def register_passkey(token: str, authenticator: Authenticator) -> dict[str, Any]:
    options = registration_options(token)
    assert options["statusCode"] == 200, options
    credential = authenticator.create(body_of(options))
    body = {"credential": credential, "name": "Laptop"}
    return protected_call(passkeys_handler, token, "POST", "/auth/passkeys/register", body=body)


def remove_passkey(token: str, credential_id: str) -> dict[str, Any]:
    path = f"/auth/passkeys/{credential_id}"
    return protected_call(passkeys_handler, token, "DELETE", path, path_parameters={"id": credential_id})


def passkey_sign_in(authenticator: Authenticator) -> dict[str, Any]:
    from tests.integration.test_passkeys_http import signed_in_with

    answer = signed_in_with(authenticator)
    assert answer["statusCode"] == 200, answer
    return body_of(answer)


def with_passkey(token: str) -> Authenticator:
    authenticator = Authenticator(origin=ORIGIN, rp_id=RP_ID)
    answer = register_passkey(token, authenticator)
    assert answer["statusCode"] == 201, answer
    return authenticator


def start_totp(token: str) -> dict[str, Any]:
    return protected_call(mfa_handler, token, "POST", "/auth/mfa/totp")


def reset_link(email: str, user_type: str) -> str:
    assert forgot(email, user_type)["statusCode"] == 202
    return token_of(last_mail(email), "reset")


def assert_no_tokens(answer: dict[str, Any]) -> None:
    assert answer["statusCode"] == 200, answer
    body = body_of(answer)
    assert "access_token" not in body and "refresh_token" not in body, body
    assert body["sign_in"] is True
    assert "Set-Cookie" not in answer.get("headers", {}) and not answer.get("multiValueHeaders", {}).get(
        "Set-Cookie"
    )


# ------------------------------------------------------------- finding 1: links never skip a factor
def test_23_1_a_reset_link_on_an_account_with_totp_yields_no_tokens(
    services: Services, accounts: Accounts, clock: FakeClock
) -> None:
    secret, _codes = active_totp(accounts, clock)
    challenge = admin_login()
    first = second_step(challenge["mfa_token"], totp_code(secret, clock))
    assert first["statusCode"] == 200
    old = body_of(first)
    answer = reset_with(reset_link(ADMIN, "admin"))
    assert_no_tokens(answer)
    # the password is set and every older session has ended
    assert not is_authorized(old["access_token"]) and refresh(old["refresh_token"])["statusCode"] == 401
    # signing in normally still asks for the factor
    again = login(ADMIN, NEW_PASSWORD, "admin")
    assert again["statusCode"] == 200 and body_of(again)["mfa_required"] is True
    assert last_mail(ADMIN)["subject"] == "Your password was changed"


def test_23_1_b_reset_link_on_an_account_with_a_passkey_yields_no_tokens(accounts: Accounts) -> None:
    with_passkey(staff_login()["access_token"])
    assert_no_tokens(reset_with(reset_link(STAFF, "staff")))
    assert login(STAFF, NEW_PASSWORD, "staff")["statusCode"] == 200


def test_23_1_c_reset_link_into_a_type_that_must_have_a_factor_yields_no_tokens(
    accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MFA_REQUIRED_TYPES", "staff")
    services_module.reset()
    assert_no_tokens(reset_with(reset_link(STAFF, "staff")))
    assert body_of(login(STAFF, NEW_PASSWORD, "staff"))["challenge"] == "enrol_totp"


def test_23_1_d_an_invitation_into_a_type_that_must_have_a_factor_yields_no_tokens(
    accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MFA_REQUIRED_TYPES", "staff")
    services_module.reset()
    assert invite(admin_login()["access_token"])["statusCode"] == 201
    email = "new.hire@dealership.example"
    assert_no_tokens(accept(token_of(last_mail(email), "invitation")))
    assert body_of(login(email, NEW_PASSWORD, "staff"))["challenge"] == "enrol_totp"


def test_23_1_e_a_reset_without_any_factor_still_signs_in_with_amr_pwd(accounts: Accounts) -> None:
    answer = reset_with(reset_link(STAFF, "staff"))
    assert answer["statusCode"] == 200
    assert claims_of(body_of(answer)["access_token"])["amr"] == ["pwd"]


# ----------------------------------------- finding 2: a password change is not a login, nor stronger
def test_23_2_a_a_password_change_keeps_the_callers_amr_and_auth_time(
    services: Services, accounts: Accounts, clock: FakeClock
) -> None:
    secret, _codes = active_totp(accounts, clock)
    signed_in = body_of(second_step(admin_login()["mfa_token"], totp_code(secret, clock)))
    before = claims_of(signed_in["access_token"])
    clock.advance(600)
    changed = change_password(signed_in["access_token"], accounts.password, NEW_PASSWORD)
    assert changed["statusCode"] == 200, changed
    after = claims_of(body_of(changed)["access_token"])
    assert after["amr"] == before["amr"] == ["pwd", "otp", "mfa"]
    assert after["auth_time"] == before["auth_time"]
    # and so does every refresh of the session it answers with
    refreshed = refresh(body_of(changed)["refresh_token"])
    assert claims_of(body_of(refreshed)["access_token"])["auth_time"] == before["auth_time"]


def test_23_2_b_a_password_change_does_not_make_an_old_login_fresh_for_a_passkey(
    services: Services, accounts: Accounts, clock: FakeClock
) -> None:
    tokens = staff_login()
    clock.advance(16 * 60)
    token = body_of(refresh(tokens["refresh_token"]))["access_token"]  # the login stays 16 minutes old
    changed = change_password(token, accounts.password, NEW_PASSWORD)
    assert changed["statusCode"] == 200
    answer = registration_options(body_of(changed)["access_token"])
    assert answer["statusCode"] == 403 and body_of(answer) == STEP_UP


# --------------------------------------------------------------- finding 3: factors take a factor
def test_23_3_a_totp_enrolment_needs_a_fresh_login(
    services: Services, accounts: Accounts, clock: FakeClock
) -> None:
    tokens = staff_login()
    clock.advance(16 * 60)
    refreshed = body_of(refresh(tokens["refresh_token"]))  # a stolen refresh token keeps the old login
    answer = start_totp(refreshed["access_token"])
    assert answer["statusCode"] == 403 and body_of(answer) == STEP_UP
    assert start_totp(staff_login()["access_token"])["statusCode"] == 201


def test_23_3_b_a_password_session_cannot_add_a_passkey_to_an_account_with_totp(
    services: Services, accounts: Accounts, clock: FakeClock
) -> None:
    # the session that enrolled TOTP proved only the password
    tokens = admin_login()
    enrolment = enrol_totp(tokens["access_token"])
    from tests.flows import verify_totp

    assert verify_totp(tokens["access_token"], totp_code(enrolment["secret"], clock))["statusCode"] == 200
    answer = registration_options(tokens["access_token"])
    assert answer["statusCode"] == 403 and body_of(answer) == STEP_UP
    clock.advance(30)
    strong = body_of(second_step(admin_login()["mfa_token"], totp_code(enrolment["secret"], clock)))
    assert registration_options(strong["access_token"])["statusCode"] == 200


def test_23_3_c_a_password_session_cannot_change_the_factors_of_an_account_with_a_passkey(
    services: Services, accounts: Accounts
) -> None:
    authenticator = with_passkey(staff_login()["access_token"])
    password_only = staff_login()["access_token"]  # a password login: the passkey is not asked for
    (passkey,) = authenticator.credentials
    for answer in (
        registration_options(password_only),
        remove_passkey(password_only, passkey.id),
        start_totp(password_only),
    ):
        assert answer["statusCode"] == 403 and body_of(answer) == STEP_UP
    strong = passkey_sign_in(authenticator)["access_token"]
    assert start_totp(strong)["statusCode"] == 201
    assert remove_passkey(strong, passkey.id)["statusCode"] == 200


def test_23_3_d_a_stale_second_factor_login_cannot_remove_a_passkey(
    services: Services, accounts: Accounts, clock: FakeClock
) -> None:
    authenticator = with_passkey(staff_login()["access_token"])
    strong = passkey_sign_in(authenticator)
    clock.advance(16 * 60)
    stale = body_of(refresh(strong["refresh_token"]))["access_token"]
    answer = remove_passkey(stale, authenticator.credentials[0].id)
    assert answer["statusCode"] == 403 and body_of(answer) == STEP_UP


def test_23_3_e_every_factor_change_is_emailed(
    services: Services, accounts: Accounts, clock: FakeClock
) -> None:
    secret, _codes = active_totp(accounts, clock)
    assert any(m["subject"] == "An authenticator app was added to your account" for m in messages())
    strong = body_of(second_step(admin_login()["mfa_token"], totp_code(secret, clock)))
    clock.advance(30)
    removed = protected_call(
        mfa_handler,
        strong["access_token"],
        "DELETE",
        "/auth/mfa/totp",
        body={"code": totp_code(secret, clock)},
    )
    assert removed["statusCode"] == 200, removed
    assert last_mail(ADMIN)["subject"] == "An authenticator app was removed from your account"
    authenticator = with_passkey(admin_login()["access_token"])
    strong = passkey_sign_in(authenticator)["access_token"]
    assert remove_passkey(strong, authenticator.credentials[0].id)["statusCode"] == 200
    mail = last_mail(ADMIN)
    assert mail["subject"] == "A passkey was removed from your account" and "Laptop" in mail["body"]


def test_23_3_f_a_password_login_cannot_enrol_totp_beside_a_passkey_in_a_type_that_must_have_a_factor(
    accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.events import api_event
    from tests.flows import CONTEXT

    authenticator = with_passkey(staff_login()["access_token"])
    monkeypatch.setenv("MFA_REQUIRED_TYPES", "staff")
    services_module.reset()
    challenge = body_of(login(STAFF, accounts.password, "staff"))
    assert challenge["challenge"] == "enrol_totp"
    enrol = api_event("POST", "/auth/login/mfa/enrol", body={"mfa_token": challenge["mfa_token"]})
    answer = mfa_handler(enrol, CONTEXT)
    assert answer["statusCode"] == 401 and "secret" not in body_of(answer)
    # the passkey is the way in, and with it the account may add an authenticator app
    assert start_totp(passkey_sign_in(authenticator)["access_token"])["statusCode"] == 201


def test_23_3_g_an_operators_factor_reset_is_emailed(
    services: Services, accounts: Accounts, clock: FakeClock
) -> None:
    from shared.mfa.factor import reset_factors

    active_totp(accounts, clock)
    with_passkey(staff_login()["access_token"])
    assert reset_factors(services, accounts.admin) is True
    assert last_mail(ADMIN)["subject"] == "An authenticator app was removed from your account"
    assert reset_factors(services, accounts.staff) is True
    mail = last_mail(STAFF)
    assert mail["subject"] == "A passkey was removed from your account" and "Laptop" in mail["body"]


def test_23_1_f_a_factor_added_while_a_reset_link_is_used_gets_no_session(
    services: Services, accounts: Accounts
) -> None:
    from tests.fixtures import around_aws_calls

    token = reset_link(STAFF, "staff")
    user_id = accounts.staff.user_id
    cut = []

    def activate_a_factor_first(client: Any, operation: str, params: Any, call: Any) -> Any:
        if operation == "TransactWriteItems" and not cut:
            cut.append(operation)  # the owner activates TOTP between the reset's read and its commit
            assert services.factors.put_pending_totp(user_id, b"secret", [], 1, only_while_no_factor=False)
            assert services.factors.activate_totp(user_id, 1, only_while_no_factor=False)
        return call()

    with around_aws_calls(activate_a_factor_first):
        answer = reset_with(token)
    assert cut and "access_token" not in body_of(answer)
    assert login(STAFF, NEW_PASSWORD, "staff")["statusCode"] == 401  # nothing was written


def _fresh_reset_link(services: Services, email: str, user_type: str) -> str:
    from shared.accounts.links import links_of, new_link
    from shared.store.dynamo import transact_write
    from shared.store.links import RESET

    user = services.users.get(user_type, email)
    assert user is not None
    links = links_of(services)
    token, link = new_link(RESET, user, services.clock.now_ms() // 1000 + 600)
    replaced = links.current(RESET, user_type, email)
    transact_write(services.users.dynamodb, links.issue_operations(link, replaced))
    return token


def _reset_with_activation_at(
    services: Services, user_id: str, token: str, cut: int
) -> tuple[dict[str, Any], list[str]]:
    """The reset link used, the owner activating TOTP just before its AWS call number `cut` (or after
    its last); the answer and the reset's own calls."""
    from tests.fixtures import around_aws_calls

    calls: list[str] = []
    state = {"running": False, "done": False}

    def activate() -> None:
        state["running"] = True
        try:
            assert services.factors.put_pending_totp(user_id, b"secret", [], 1, only_while_no_factor=False)
            assert services.factors.activate_totp(user_id, 1, only_while_no_factor=False)
        finally:
            state["running"], state["done"] = False, True

    def observed(client: Any, operation: str, params: Any, call: Any) -> Any:
        if state["running"]:  # the activation's own calls
            return call()
        if not state["done"] and len(calls) == cut:
            activate()
        calls.append(operation)
        return call()

    with around_aws_calls(observed):
        answer = reset_with(token)
    if not state["done"]:
        activate()
    return answer, calls


def test_23_1_g_a_reset_and_a_factor_activation_in_every_interleaving(
    services: Services, accounts: Accounts
) -> None:
    """The owner activates TOTP at every AWS call boundary of a reset link's use: tokens come back
    only when the factor was activated after the reset committed, never from a read before it."""
    user_id = accounts.staff.user_id
    cut, total, outcomes = 0, 0, []
    while cut <= total:
        services.factors.remove_all(user_id)
        answer, calls = _reset_with_activation_at(
            services, user_id, _fresh_reset_link(services, STAFF, "staff"), cut
        )
        assert answer["statusCode"] in (200, 400), answer
        gave_tokens = "access_token" in body_of(answer)
        outcomes.append((cut, gave_tokens))
        assert not gave_tokens or cut > calls.index("TransactWriteItems"), (cut, calls)
        total = len(calls)
        cut += 1
    assert any(tokens for _, tokens in outcomes) and not all(tokens for _, tokens in outcomes)

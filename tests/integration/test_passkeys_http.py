"""Passkeys over the handlers (issue 16), with a software authenticator (tests/authenticator.py):
registration by a signed-in user, listing and removal, and a sign-in with no password that counts as
two factors. Every bad input: a challenge unknown, reused, expired or of another purpose; a wrong
origin or relying-party id; no user verification; a sign counter that went backwards (a cloned
authenticator), also when two sign-ins race; an unknown credential; another user's passkey; a
disabled account; malformed bodies (400 naming the field, never 500)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from typing import Any

import jwt
import pytest

from functions.passkey_login.handler import handler as passkey_login_handler
from functions.passkeys.handler import handler as passkeys_handler
from local.outbox import messages
from shared.runtime import services as services_module
from shared.runtime.services import Services, get_services
from shared.store.user_items import user_key
from tests import expected_calls
from tests.authenticator import Authenticator, b64url
from tests.events import api_event, body_of
from tests.fixtures import Accounts, FakeClock, around_aws_calls, audit_events
from tests.flows import (
    ADMIN,
    CONTEXT,
    admin_login,
    authorize,
    is_authorized,
    protected_call,
    staff_login,
)

RP_ID = "app.example.com"
ORIGIN = "https://app.example.com"  # tests/fixtures.py's allowed origin
STAFF = "staff@dealership.example"


@pytest.fixture(autouse=True)
def relying_party(aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBAUTHN_RP_ID", RP_ID)
    services_module.reset()


@pytest.fixture
def admin_token(accounts: Accounts) -> str:
    token: str = admin_login()["access_token"]
    return token


@pytest.fixture
def authenticator() -> Authenticator:
    return Authenticator(origin=ORIGIN, rp_id=RP_ID)


# ------------------------------------------------------------------------------------- helpers
def options_for_registration(token: str) -> dict[str, Any]:
    answer = protected_call(passkeys_handler, token, "POST", "/auth/passkeys/register/options")
    assert answer["statusCode"] == 200, answer
    options: dict[str, Any] = body_of(answer)
    return options


def register(token: str, credential: Any, name: str | None = "Laptop") -> dict[str, Any]:
    body: dict[str, Any] = {"credential": credential}
    if name is not None:
        body["name"] = name
    return protected_call(passkeys_handler, token, "POST", "/auth/passkeys/register", body=body)


def registered(token: str, authenticator: Authenticator) -> dict[str, Any]:
    answer = register(token, authenticator.create(options_for_registration(token)))
    assert answer["statusCode"] == 201, answer
    view: dict[str, Any] = body_of(answer)
    return view


def listed(token: str) -> list[dict[str, Any]]:
    answer = protected_call(passkeys_handler, token, "GET", "/auth/passkeys")
    assert answer["statusCode"] == 200, answer
    passkeys: list[dict[str, Any]] = body_of(answer)["passkeys"]
    return passkeys


def remove(token: str, credential_id: str) -> dict[str, Any]:
    path = f"/auth/passkeys/{credential_id}"
    return protected_call(passkeys_handler, token, "DELETE", path, path_parameters={"id": credential_id})


def options_for_login(body: Any = None, **kwargs: Any) -> dict[str, Any]:
    answer = passkey_login_handler(
        api_event("POST", "/auth/login/passkey/options", body=body, **kwargs), CONTEXT
    )
    assert answer["statusCode"] == 200, answer
    options: dict[str, Any] = body_of(answer)
    return options


def sign_in(credential: Any, **kwargs: Any) -> dict[str, Any]:
    event = api_event("POST", "/auth/login/passkey", body={"credential": credential}, **kwargs)
    result: dict[str, Any] = passkey_login_handler(event, CONTEXT)
    return result


def signed_in_with(
    authenticator: Authenticator, source_ip: str = "203.0.113.10", **kwargs: Any
) -> dict[str, Any]:
    return sign_in(authenticator.get(options_for_login(), **kwargs), source_ip=source_ip)


def strong_token(authenticator: Authenticator) -> str:
    """An access token of a fresh sign-in with `authenticator`'s passkey (amr with mfa): what changing
    the factors of an account that has one takes (issue 23)."""
    answer = signed_in_with(authenticator)
    assert answer["statusCode"] == 200, answer
    token: str = body_of(answer)["access_token"]
    return token


def claims_of(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def refused(answer: dict[str, Any]) -> bool:
    return answer["statusCode"] == 401 and body_of(answer) == {"message": "Invalid credentials"}


# ---------------------------------------------------------------------------------- registration
def test_registration_options_ask_for_a_discoverable_verified_passkey(
    admin_token: str, accounts: Accounts
) -> None:
    options = options_for_registration(admin_token)
    assert options["rp"] == {"id": RP_ID, "name": "jwt-auth"}
    assert options["user"]["name"] == ADMIN and options["user"]["id"] == b64url(
        accounts.admin.user_id.encode()
    )
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["authenticatorSelection"]["userVerification"] == "required"
    assert options["attestation"] == "none" and len(options["challenge"]) == 43
    assert options["excludeCredentials"] == []


def test_register_list_and_the_owner_is_emailed(admin_token: str, authenticator: Authenticator) -> None:
    view = registered(admin_token, authenticator)
    assert view["name"] == "Laptop" and view["id"] == authenticator.credentials[0].id and not view["synced"]
    assert view["last_used_at"] is None and view["transports"] == ["internal"]
    assert [p["id"] for p in listed(admin_token)] == [view["id"]]
    mail = next(m for m in messages() if ADMIN in m["to"])
    assert mail["subject"] == "A passkey was added to your account" and "Laptop" in mail["body"]
    # the next options exclude it: the browser does not register one authenticator twice
    excluded = options_for_registration(strong_token(authenticator))["excludeCredentials"]
    assert [entry["id"] for entry in excluded] == [view["id"]]


def test_registration_is_audited(
    admin_token: str, authenticator: Authenticator, caplog: pytest.LogCaptureFixture
) -> None:
    registered(admin_token, authenticator)
    outcomes = [e["outcome"] for e in audit_events(caplog) if e["event"] == "passkey_register"]
    assert outcomes == ["started", "success"]


def test_a_registration_challenge_works_once(admin_token: str, authenticator: Authenticator) -> None:
    registered(admin_token, authenticator)
    strong = strong_token(authenticator)  # the account has a passkey now: the next one takes it
    second = Authenticator(origin=ORIGIN, rp_id=RP_ID)
    options = options_for_registration(strong)
    assert register(strong, second.create(options))["statusCode"] == 201
    again = register(strong, second.create(options))
    assert again["statusCode"] == 400 and body_of(again)["field"] == "credential"
    assert len(listed(strong)) == 2


def test_a_registration_challenge_expires(
    admin_token: str, authenticator: Authenticator, services: Services, clock: FakeClock
) -> None:
    options = options_for_registration(admin_token)
    clock.advance(services.settings.passkey_challenge_ttl + 1)
    assert register(admin_token, authenticator.create(options))["statusCode"] == 400
    assert listed(admin_token) == []


def test_a_registration_challenge_is_bound_to_its_user_and_session(
    admin_token: str, accounts: Accounts, authenticator: Authenticator
) -> None:
    options = options_for_registration(admin_token)
    staff_token = staff_login()["access_token"]
    assert register(staff_token, authenticator.create(options))["statusCode"] == 400
    other_session = admin_login()["access_token"]
    assert register(other_session, authenticator.create(options))["statusCode"] == 400
    assert listed(staff_token) == [] and listed(admin_token) == []


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"origin": "https://evil.example"}, "wrong origin"),
        ({"rp_id": "evil.example"}, "wrong relying-party id"),
        ({"user_verified": False}, "user not verified"),
    ],
)
def test_a_registration_that_does_not_verify_is_refused(
    admin_token: str, change: dict[str, Any], why: str
) -> None:
    authenticator = Authenticator(origin=ORIGIN, rp_id=RP_ID, user_verified=change.get("user_verified", True))
    options = options_for_registration(admin_token)
    credential = authenticator.create(options, origin=change.get("origin"), rp_id=change.get("rp_id"))
    answer = register(admin_token, credential)
    assert answer["statusCode"] == 400 and body_of(answer)["field"] == "credential", why
    assert listed(admin_token) == []


def test_registration_needs_a_fresh_login(admin_token: str, services: Services) -> None:
    # Given a valid access token of a session whose login is older than the registration allows (a
    # refreshed session keeps its login's auth_time: a stolen refresh token is such a session)
    from tests.forge import our_header, signed_by_us

    max_age = services.settings.factor_change_max_age
    claims = {**claims_of(admin_token), "auth_time": claims_of(admin_token)["auth_time"] - max_age - 1}
    old_login = signed_by_us(services, our_header(services), claims)
    for path in ("/auth/passkeys/register/options", "/auth/passkeys/register"):
        answer = protected_call(passkeys_handler, old_login, "POST", path, body={"credential": {}})
        # Then it is sent to sign in again, as a step-up route would be
        assert answer["statusCode"] == 403
        assert body_of(answer) == {
            "message": "A fresh sign-in is needed for this: sign in again, then retry",
            "error": "insufficient_user_authentication",
            "max_age": max_age,
        }


def test_at_most_ten_passkeys(admin_token: str, authenticator: Authenticator) -> None:
    registered(admin_token, authenticator)
    strong = strong_token(authenticator)
    for _ in range(9):
        registered(strong, Authenticator(origin=ORIGIN, rp_id=RP_ID))
    answer = protected_call(passkeys_handler, strong, "POST", "/auth/passkeys/register/options")
    assert answer["statusCode"] == 409


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "credential"),
        ({"credential": "x"}, "credential"),
        ({"credential": []}, "credential"),
        ({"credential": {"type": "public-key"}}, "credential"),
        ({"credential": {"id": "a", "rawId": "a", "type": "public-key", "response": {}}}, "credential"),
        (
            {
                "credential": {
                    "id": "AAAA",
                    "rawId": "AAAA",
                    "type": "public-key",
                    "response": {"clientDataJSON": "!!", "attestationObject": "AAAA"},
                }
            },
            "credential",
        ),
        (
            {
                "credential": {
                    "id": "AAAA",
                    "rawId": "AAAA",
                    "type": "public-key",
                    "response": {"clientDataJSON": b64url(b"[1]"), "attestationObject": "AAAA"},
                }
            },
            "credential",
        ),
        ({"credential": {}, "name": 5}, "credential"),
    ],
)
def test_malformed_registrations_are_400_naming_the_field(
    admin_token: str, body: dict[str, Any], field: str
) -> None:
    answer = protected_call(passkeys_handler, admin_token, "POST", "/auth/passkeys/register", body=body)
    assert answer["statusCode"] == 400 and body_of(answer)["field"] == field, answer


@pytest.mark.parametrize("name", [5, "x" * 65, "tab\there"])
def test_a_bad_name_is_400_naming_it(admin_token: str, authenticator: Authenticator, name: Any) -> None:
    answer = register(admin_token, authenticator.create(options_for_registration(admin_token)), name=name)
    assert answer["statusCode"] == 400 and body_of(answer)["field"] == "name"


@pytest.mark.parametrize("raw", ["not json", "[]", ""])
def test_a_body_that_is_not_an_object_is_400(admin_token: str, raw: str) -> None:
    answer = protected_call(passkeys_handler, admin_token, "POST", "/auth/passkeys/register", raw_body=raw)
    assert answer["statusCode"] == 400 and body_of(answer)["field"] == "body"


# ------------------------------------------------------------------------------------ removal
def test_remove_own_then_it_no_longer_signs_in(admin_token: str, authenticator: Authenticator) -> None:
    view = registered(admin_token, authenticator)
    strong = strong_token(authenticator)
    assert remove(strong, view["id"])["statusCode"] == 200
    assert listed(strong) == []
    assert refused(signed_in_with(authenticator))


def test_another_users_passkey_is_not_found(
    admin_token: str, accounts: Accounts, authenticator: Authenticator
) -> None:
    view = registered(admin_token, authenticator)
    staff_token = staff_login()["access_token"]
    assert remove(staff_token, view["id"])["statusCode"] == 404
    assert [p["id"] for p in listed(admin_token)] == [view["id"]]
    assert signed_in_with(authenticator)["statusCode"] == 200


@pytest.mark.parametrize("credential_id", ["unknown", "x" * 3000, "a/b", "%00", " "])
def test_an_unknown_or_malformed_id_is_404(admin_token: str, credential_id: str) -> None:
    assert remove(admin_token, credential_id)["statusCode"] == 404


def test_an_operators_factor_reset_removes_the_passkeys_too(
    admin_token: str,
    authenticator: Authenticator,
    services: Services,
    accounts: Accounts,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from shared.mfa.factor import reset_factors

    registered(admin_token, authenticator)
    assert reset_factors(get_services(), accounts.admin) is True
    assert listed(admin_token) == [] and refused(signed_in_with(authenticator))
    assert any(
        e["event"] == "passkey_removed" and e["outcome"] == "reset_by_operator" for e in audit_events(caplog)
    )


# ------------------------------------------------------------------------------------- sign-in
def test_login_options_name_no_credential_and_ask_for_user_verification() -> None:
    options = options_for_login()
    assert options["rpId"] == RP_ID and options["allowCredentials"] == []
    assert options["userVerification"] == "required" and len(options["challenge"]) == 43
    named = options_for_login({"email": ADMIN, "userType": "admin"})
    unknown = options_for_login({"email": "nobody@dealership.example", "userType": "admin"})
    assert set(named) == set(unknown) and named["allowCredentials"] == unknown["allowCredentials"] == []


def test_a_passkey_signs_in_with_two_factors(
    admin_token: str, authenticator: Authenticator, accounts: Accounts, clock: FakeClock
) -> None:
    registered(admin_token, authenticator)
    answer = signed_in_with(authenticator)
    assert answer["statusCode"] == 200, answer
    body = body_of(answer)
    assert body["user"]["email"] == ADMIN and body["refresh_token"] and body["token_type"] == "Bearer"
    claims = claims_of(body["access_token"])
    assert claims["amr"] == ["hwk", "mfa", "user"] and claims["sub"] == accounts.admin.user_id
    assert claims["auth_time"] == pytest.approx(clock.now_ms() // 1000, abs=2)
    assert is_authorized(body["access_token"])
    (view,) = listed(body["access_token"])
    assert view["last_used_at"] is not None


def test_a_synced_passkey_is_a_software_key(admin_token: str) -> None:
    synced = Authenticator(origin=ORIGIN, rp_id=RP_ID, backup_eligible=True)
    assert registered(admin_token, synced)["synced"] is True
    body = body_of(signed_in_with(synced))
    assert claims_of(body["access_token"])["amr"] == ["swk", "mfa", "user"]


def test_a_passkey_login_passes_a_step_up_route(
    step_up_routes: str, accounts: Accounts, authenticator: Authenticator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEBAUTHN_RP_ID", RP_ID)
    services_module.reset()
    token = admin_login()["access_token"]
    registered(token, authenticator)
    password_only = authorize(token, "DELETE", "/cars/car-1")
    assert password_only["context"]["step_up"] != ""
    strong = body_of(signed_in_with(authenticator))["access_token"]
    policy = authorize(strong, "DELETE", "/cars/car-1")
    assert policy["context"]["step_up"] == "" and any(
        r.endswith("/DELETE/cars/*") for r in policy["policyDocument"]["Statement"][0]["Resource"]
    )


def test_an_authenticator_without_a_counter_signs_in_again_and_again(admin_token: str) -> None:
    counterless = Authenticator(origin=ORIGIN, rp_id=RP_ID, counter_step=0)
    registered(admin_token, counterless)
    assert [signed_in_with(counterless)["statusCode"] for _ in range(3)] == [200, 200, 200]


def test_a_sign_in_challenge_works_once(admin_token: str, authenticator: Authenticator) -> None:
    registered(admin_token, authenticator)
    options = options_for_login()
    assert sign_in(authenticator.get(options))["statusCode"] == 200
    assert refused(sign_in(authenticator.get(options)))


def test_a_sign_in_challenge_expires(
    admin_token: str, authenticator: Authenticator, services: Services, clock: FakeClock
) -> None:
    registered(admin_token, authenticator)
    options = options_for_login()
    clock.advance(services.settings.passkey_challenge_ttl + 1)
    assert refused(sign_in(authenticator.get(options)))


def test_a_challenge_never_issued_is_refused(admin_token: str, authenticator: Authenticator) -> None:
    registered(admin_token, authenticator)
    assert refused(sign_in(authenticator.get(options_for_login(), challenge=b64url(b"\x01" * 32))))


def test_a_registration_challenge_does_not_sign_in(admin_token: str, authenticator: Authenticator) -> None:
    registered(admin_token, authenticator)
    registration = options_for_registration(strong_token(authenticator))
    assert refused(sign_in(authenticator.get(options_for_login(), challenge=registration["challenge"])))


@pytest.mark.parametrize(
    "change",
    [{"origin": "https://evil.example"}, {"origin": "http://app.example.com"}, {"rp_id": "evil.example"}],
)
def test_a_wrong_origin_or_relying_party_is_refused(
    admin_token: str, authenticator: Authenticator, change: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    registered(admin_token, authenticator)
    assert refused(signed_in_with(authenticator, **change))
    failures = [e for e in audit_events(caplog) if e["event"] == "login" and e["outcome"] == "failure"]
    assert failures[-1]["reason"] == "passkey_refused"
    assert signed_in_with(authenticator)["statusCode"] == 200  # the real passkey still works


def test_a_user_not_verified_is_refused(admin_token: str, authenticator: Authenticator) -> None:
    registered(admin_token, authenticator)
    authenticator.user_verified = False
    assert refused(signed_in_with(authenticator))


def test_a_tampered_signature_is_refused(admin_token: str, authenticator: Authenticator) -> None:
    registered(admin_token, authenticator)
    credential = authenticator.get(options_for_login())
    credential["response"]["clientDataJSON"] = b64url(
        json.dumps(
            {**json.loads(_unb64(credential["response"]["clientDataJSON"])), "crossOrigin": True}
        ).encode()
    )
    assert refused(sign_in(credential))


def _unb64(text: str) -> bytes:
    from tests.authenticator import unb64url

    return unb64url(text)


def test_a_cloned_authenticator_is_refused_and_audited(
    admin_token: str, authenticator: Authenticator, caplog: pytest.LogCaptureFixture
) -> None:
    registered(admin_token, authenticator)
    clone = authenticator.credentials[0].clone()  # exported at counter 0
    for _ in range(3):
        assert signed_in_with(authenticator)["statusCode"] == 200  # the original moves on to 3
    answer = sign_in(authenticator.get(options_for_login(), credential=clone))  # the clone signs 1
    assert refused(answer) and "refresh_token" not in body_of(answer)
    (cloned,) = [e for e in audit_events(caplog) if e["event"] == "passkey_cloned"]
    assert cloned["outcome"] == "detected" and cloned["reason"] == "counter_regression"


def test_a_replayed_counter_value_is_refused(admin_token: str, authenticator: Authenticator) -> None:
    registered(admin_token, authenticator)
    assert signed_in_with(authenticator)["statusCode"] == 200
    assert refused(signed_in_with(authenticator, sign_count=1))
    assert refused(signed_in_with(authenticator, sign_count=0))


def test_an_unknown_credential_is_refused(admin_token: str, authenticator: Authenticator) -> None:
    registered(admin_token, authenticator)
    stranger = Authenticator(origin=ORIGIN, rp_id=RP_ID)
    stranger.create(options_for_registration(strong_token(authenticator)))  # made, never registered
    assert refused(signed_in_with(stranger))


def test_a_disabled_account_is_refused(
    admin_token: str, authenticator: Authenticator, services: Services, accounts: Accounts
) -> None:
    registered(admin_token, authenticator)
    user = services.users.get("admin", ADMIN)
    assert user is not None
    services.users.dynamodb.transact_write_items(
        TransactItems=[services.users.update_operation(user, disabled=True)]
    )  # type: ignore[list-item]
    assert refused(signed_in_with(authenticator))


def test_a_deleted_then_recreated_account_is_not_reached(
    admin_token: str, authenticator: Authenticator, services: Services, accounts: Accounts
) -> None:
    from local.provision import create_user

    registered(admin_token, authenticator)
    services.users.dynamodb.delete_item(
        TableName=services.users.table, Key={"pk": {"S": user_key("admin", ADMIN)}}
    )
    create_user(
        services.users, ADMIN, accounts.password, name="Someone Else", role="admin", user_type="admin"
    )
    assert refused(signed_in_with(authenticator))


def test_a_named_account_of_another_type_is_refused(admin_token: str, authenticator: Authenticator) -> None:
    registered(admin_token, authenticator)
    options = options_for_login({"email": ADMIN, "userType": "staff"})
    assert refused(sign_in(authenticator.get(options)))
    options = options_for_login({"email": ADMIN, "userType": "admin"})
    assert sign_in(authenticator.get(options))["statusCode"] == 200


def test_failed_assertions_lock_out_nothing(
    services: Services, admin_token: str, authenticator: Authenticator
) -> None:
    """A passkey cannot be guessed, so its sign-ins count no attempt (issue 23, finding 5): failed
    assertions lock out neither the passkey nor the password (nor do failed passwords the passkey:
    tests/integration/test_lockout_counts.py)."""
    registered(admin_token, authenticator)
    tries = services.settings.lockout_threshold + 1
    statuses = [
        signed_in_with(authenticator, origin="https://evil.example")["statusCode"] for _ in range(tries)
    ]
    assert statuses == [401] * tries
    assert signed_in_with(authenticator)["statusCode"] == 200
    assert admin_login()["access_token"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": ADMIN}, "userType"),
        ({"email": ADMIN, "userType": "robot"}, "userType"),
        ({"email": ADMIN, "user_type": "robot"}, "user_type"),
        ({"email": ADMIN, "userType": "admin", "user_type": "robot"}, "user_type"),
        ({"userType": None}, "userType"),
        ({"email": 5, "userType": "admin"}, "email"),
        ({"email": "x" * 300, "userType": "admin"}, "email"),
    ],
)
def test_malformed_login_options_are_400_naming_the_field(body: dict[str, Any], field: str) -> None:
    answer = passkey_login_handler(api_event("POST", "/auth/login/passkey/options", body=body), CONTEXT)
    assert answer["statusCode"] == 400 and body_of(answer)["field"] == field


@pytest.mark.parametrize(
    "credential",
    [None, "x", 5, {}, {"type": "public-key", "id": "AAAA", "rawId": "AAAB", "response": {}}],
)
def test_malformed_sign_ins_are_400_naming_credential(credential: Any) -> None:
    answer = sign_in(credential)
    assert answer["statusCode"] == 400 and body_of(answer)["field"] == "credential"


def test_passkeys_are_off_without_a_relying_party(
    accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WEBAUTHN_RP_ID")
    services_module.reset()
    token = admin_login()["access_token"]
    assert (
        protected_call(passkeys_handler, token, "POST", "/auth/passkeys/register/options")["statusCode"]
        == 503
    )
    answer = passkey_login_handler(api_event("POST", "/auth/login/passkey/options"), CONTEXT)
    assert answer["statusCode"] == 503


# ------------------------------------------------------------------------ a cloned key, raced
@contextlib.contextmanager
def cut_at_first(operation: str, interrupt: Callable[[], None], skip: int = 0) -> Iterator[None]:
    """Run `interrupt` (its own calls unobserved) just before the operation's call `operation`
    (service.Operation) number `skip` (0-based)."""
    seen: list[bool] = []
    done: list[bool] = []

    def observed(client: Any, name: str, params: Any, call: Callable[[], Any]) -> Any:
        if done or f"{client.meta.service_model.service_name}.{name}" != operation:
            return call()
        if len(seen) == skip:
            done.append(True)
            interrupt()
        seen.append(True)
        return call()

    with around_aws_calls(observed):
        yield
    assert done, f"no {operation} call was made"


def test_two_sign_ins_of_one_counter_value_race_and_exactly_one_wins(
    admin_token: str, authenticator: Authenticator, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a passkey and its clone, both at counter 0, each about to sign 1
    registered(admin_token, authenticator)
    clone = authenticator.credentials[0].clone()
    first = authenticator.get(options_for_login())
    second = authenticator.get(options_for_login(), credential=clone)
    results: list[dict[str, Any]] = []
    # When the first sign-in is cut at its commit (its reads done: counter 0 seen) and the second
    # runs whole right there, having read the same counter
    with cut_at_first("dynamodb.TransactWriteItems", lambda: results.append(sign_in(second))):
        results.insert(0, sign_in(first))
    # Then exactly one of them has a session, and the loser is audited as a clone
    statuses = sorted(answer["statusCode"] for answer in results)
    assert statuses == [200, 401], results
    assert any(e["event"] == "passkey_cloned" for e in audit_events(caplog))


def test_the_stored_counter_only_moves_forward(admin_token: str, authenticator: Authenticator) -> None:
    registered(admin_token, authenticator)
    services = get_services()
    passkey = services.passkeys.get(authenticator.credentials[0].id)
    assert passkey is not None and passkey.sign_count == 0
    assert signed_in_with(authenticator)["statusCode"] == 200
    after = services.passkeys.get(authenticator.credentials[0].id)
    assert after is not None and after.sign_count == 1


# -------------------------------------------------------------------------------- AWS calls
def test_a_passkey_sign_in_makes_the_expected_calls_and_the_authorizer_stays_one_read(
    admin_token: str, authenticator: Authenticator, aws_calls: list[str]
) -> None:
    registered(admin_token, authenticator)
    aws_calls.clear()
    options = options_for_login()
    assert aws_calls == list(expected_calls.PASSKEY_LOGIN_OPTIONS)
    aws_calls.clear()
    body = body_of(sign_in(authenticator.get(options)))
    assert aws_calls == list(expected_calls.PASSKEY_LOGIN)
    authorize(body["access_token"])  # warm
    aws_calls.clear()
    authorize(body["access_token"], "DELETE", "/cars/car-1")
    assert aws_calls == list(expected_calls.AUTHORIZER)  # one DynamoDB request, no KMS call

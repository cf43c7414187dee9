"""Passkey sign-in and registration rules, one by one (issue 30, rule 4): the user handle is compared
with the account (or absent), a challenge dies at its very millisecond, a passkey of an account
deleted and made again signs nobody in, registration options exclude the passkeys the account has
(with their transports), and removal emails the owner."""

from __future__ import annotations

from typing import Any

import pytest

from shared.runtime.services import Services
from tests.authenticator import Authenticator, b64url
from tests.clocks import pin_clock
from tests.events import body_of
from tests.fixtures import Accounts
from tests.flows import staff_login
from tests.integration.test_passkeys_http import (  # noqa: F401 (fixtures)
    ORIGIN,
    RP_ID,
    STAFF,
    options_for_login,
    options_for_registration,
    refused,
    registered,
    relying_party,
    remove,
    sign_in,
    signed_in_with,
    strong_token,
)


@pytest.fixture
def staff_passkey(accounts: Accounts) -> Authenticator:
    authenticator = Authenticator(origin=ORIGIN, rp_id=RP_ID)
    registered(staff_login()["access_token"], authenticator)
    return authenticator


def test_a_sign_in_naming_another_account_in_its_user_handle_is_refused(
    staff_passkey: Authenticator, accounts: Accounts
) -> None:
    credential = staff_passkey.get(options_for_login())
    credential["response"]["userHandle"] = b64url(accounts.admin.user_id.encode())
    assert refused(sign_in(credential))


def test_a_sign_in_without_a_user_handle_is_read_by_its_credential(staff_passkey: Authenticator) -> None:
    credential = staff_passkey.get(options_for_login())
    del credential["response"]["userHandle"]
    answer = sign_in(credential)
    assert answer["statusCode"] == 200, answer


def test_a_sign_in_challenge_dies_at_its_millisecond(
    services: Services, staff_passkey: Authenticator, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = pin_clock(services, monkeypatch, services.clock.now_ms())
    ttl_ms = services.settings.passkey_challenge_ttl * 1000
    options = options_for_login()
    clock.advance(ttl_ms / 1000 - 0.001)
    assert sign_in(staff_passkey.get(options))["statusCode"] == 200
    options = options_for_login()
    clock.advance(ttl_ms / 1000)
    assert refused(sign_in(staff_passkey.get(options)))


def test_a_passkey_of_an_account_deleted_and_made_again_signs_nobody_in(
    services: Services, staff_passkey: Authenticator, accounts: Accounts
) -> None:
    """Without a user handle (it is optional) only the account's id tells the new account apart."""
    from local.provision import create_user
    from shared.store.user_items import user_key

    services.users.dynamodb.delete_item(
        TableName=services.users.table, Key={"pk": {"S": user_key("staff", STAFF)}}
    )
    create_user(
        services.users, STAFF, accounts.password, name="Someone Else", role="sales", user_type="staff"
    )
    credential = staff_passkey.get(options_for_login())
    del credential["response"]["userHandle"]
    assert refused(sign_in(credential))


def test_registration_options_exclude_the_accounts_passkeys_with_their_transports(
    staff_passkey: Authenticator,
) -> None:
    options = options_for_registration(strong_token(staff_passkey))
    (passkey,) = staff_passkey.credentials
    assert options["excludeCredentials"] == [
        {"id": passkey.id, "type": "public-key", "transports": ["internal"]}
    ]


def test_an_unknown_transport_is_left_out_of_the_exclusion_not_the_passkey(
    services: Services, staff_passkey: Authenticator, accounts: Accounts
) -> None:
    from shared.store.passkeys import credential_key

    (passkey,) = staff_passkey.credentials
    services.users.dynamodb.update_item(
        TableName=services.users.table,
        Key={"pk": {"S": credential_key(passkey.id)}},
        UpdateExpression="SET transports = :t",
        ExpressionAttributeValues={":t": {"L": [{"S": "carrier-pigeon"}, {"S": "usb"}]}},
    )
    options = options_for_registration(strong_token(staff_passkey))
    assert options["excludeCredentials"] == [{"id": passkey.id, "type": "public-key", "transports": ["usb"]}]


def test_removing_a_passkey_emails_the_owner(staff_passkey: Authenticator) -> None:
    from local.outbox import messages

    (passkey,) = staff_passkey.credentials
    answer = remove(strong_token(staff_passkey), passkey.id)
    assert answer["statusCode"] == 200, answer
    sent = [m for m in messages() if STAFF in m["to"]]
    assert sent[0]["subject"] == "A passkey was removed from your account"


@pytest.mark.parametrize(("first", "then"), [(5, 5), (5, 3), (5, 0), (1, 0)])
def test_a_sign_counter_that_does_not_move_forward_is_a_clone(
    staff_passkey: Authenticator, first: int, then: int
) -> None:
    """Once a counter is stored (non-zero), the next sign-in must present a larger one: the same, a
    smaller one or zero means two authenticators hold one key."""
    assert signed_in_with(staff_passkey, sign_count=first)["statusCode"] == 200
    assert refused(signed_in_with(staff_passkey, sign_count=then))


def test_an_authenticator_without_a_counter_always_presents_zero(staff_passkey: Authenticator) -> None:
    for _ in range(2):
        assert signed_in_with(staff_passkey, sign_count=0)["statusCode"] == 200
    assert signed_in_with(staff_passkey, sign_count=1)["statusCode"] == 200


def test_a_user_handle_of_any_decodable_length_is_compared_not_crashed_on(
    staff_passkey: Authenticator,
) -> None:
    credential = staff_passkey.get(options_for_login())
    credential["response"]["userHandle"] = b64url(b"x" * 37)  # 50 characters: two '=' due
    assert refused(sign_in(credential))


def test_sign_in_options_last_the_challenge_lifetime_and_list_no_credential(
    services: Services, accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dataclasses

    monkeypatch.setattr(
        services, "settings", dataclasses.replace(services.settings, passkey_challenge_ttl=120)
    )
    options = options_for_login({"email": STAFF, "userType": "staff"})
    assert options["timeout"] == 120_000 and options["allowCredentials"] == []
    assert options["userVerification"] == "required" and options["rpId"] == RP_ID


def test_sign_in_options_take_an_email_of_at_most_254_characters(accounts: Accounts) -> None:
    from functions.passkey_login.handler import handler
    from tests.events import api_event
    from tests.flows import CONTEXT

    longest = "a" * 242 + "@example.com"
    assert len(longest) == 254
    options_for_login({"email": longest, "userType": "staff"})
    too_long = "a" + longest
    answer = handler(
        api_event("POST", "/auth/login/passkey/options", body={"email": too_long, "userType": "staff"}),
        CONTEXT,
    )
    assert answer["statusCode"] == 400
    assert body_of(answer) == {"field": "email", "message": "email is too long (at most 254 characters)"}


# --- registration ---------------------------------------------------------------------------------


def _register_with(token: str, authenticator: Authenticator, change: Any = None) -> dict[str, Any]:
    from tests.integration.test_passkeys_http import register

    credential = authenticator.create(options_for_registration(token))
    if change is not None:
        change(credential)
    return register(token, credential)


def _stored(services: Services, accounts: Accounts) -> Any:
    (passkey,) = services.passkeys.of_user(accounts.staff.user_id)
    return passkey


def test_a_registration_challenge_dies_at_its_millisecond(
    services: Services, accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.integration.test_passkeys_http import register

    clock = pin_clock(services, monkeypatch, services.clock.now_ms())
    ttl = services.settings.passkey_challenge_ttl
    token = staff_login()["access_token"]
    authenticator = Authenticator(origin=ORIGIN, rp_id=RP_ID)
    late = authenticator.create(options_for_registration(token))
    clock.advance(ttl)
    answer = register(token, late)
    assert answer["statusCode"] == 400, answer
    assert body_of(answer) == {
        "field": "credential",
        "message": "the passkey challenge is unknown, expired or already used: ask for new options",
    }
    in_time = authenticator.create(options_for_registration(token))
    clock.advance(ttl - 0.001)
    assert register(token, in_time)["statusCode"] == 201


def test_a_credential_that_does_not_verify_is_refused_with_its_message(accounts: Accounts) -> None:
    token = staff_login()["access_token"]
    authenticator = Authenticator(origin="https://evil.example", rp_id=RP_ID)  # an origin not ours
    answer = _register_with(token, authenticator)
    assert answer["statusCode"] == 400
    assert body_of(answer) == {"field": "credential", "message": "the passkey could not be verified"}


def test_a_credential_id_is_stored_as_its_whole_base64url(
    services: Services, accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An id of a multiple of 3 bytes has no padding: its last character (here 'X') is kept."""
    import tests.authenticator as authenticator_module

    raw = b"\x00" * 14 + bytes([23])  # 15 bytes: the last base64url character is 'X'
    monkeypatch.setattr(authenticator_module.secrets, "token_bytes", lambda _n: raw)
    authenticator = Authenticator(origin=ORIGIN, rp_id=RP_ID)
    assert _register_with(staff_login()["access_token"], authenticator)["statusCode"] == 201
    assert b64url(raw).endswith("X") and _stored(services, accounts).credential_id == b64url(raw)
    monkeypatch.undo()
    assert signed_in_with(authenticator)["statusCode"] == 200


@pytest.mark.parametrize(
    ("transports", "kept"),
    [
        (None, ()),
        ("usb", ()),
        (["usb", "nfc", "ble", "internal", "hybrid", "cable", "smart-card", "x", "ninth"], None),
        (["usb", "x" * 33, "é", 7, "x" * 32], ("usb", "x" * 32)),
    ],
)
def test_the_transports_kept_are_at_most_eight_short_ascii_strings(
    services: Services, accounts: Accounts, transports: Any, kept: Any
) -> None:
    def given(credential: dict[str, Any]) -> None:
        if transports is None:
            del credential["response"]["transports"]
        else:
            credential["response"]["transports"] = transports

    authenticator = Authenticator(origin=ORIGIN, rp_id=RP_ID)
    assert _register_with(staff_login()["access_token"], authenticator, given)["statusCode"] == 201
    expected = tuple(transports[:8]) if kept is None else kept
    assert _stored(services, accounts).transports == expected


def test_registration_options_name_the_user_and_last_the_challenge_lifetime(
    services: Services, accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dataclasses

    monkeypatch.setattr(
        services, "settings", dataclasses.replace(services.settings, passkey_challenge_ttl=120)
    )
    options = options_for_registration(staff_login()["access_token"])
    assert options["timeout"] == 120_000 and options["attestation"] == "none"
    assert options["user"]["name"] == STAFF and options["user"]["displayName"] == accounts.staff.name


def test_a_registered_passkey_keeps_its_authenticators_model(services: Services, accounts: Accounts) -> None:
    import uuid

    from tests.authenticator import AAGUID

    authenticator = Authenticator(origin=ORIGIN, rp_id=RP_ID)
    assert _register_with(staff_login()["access_token"], authenticator)["statusCode"] == 201
    assert _stored(services, accounts).aaguid == str(uuid.UUID(bytes=AAGUID))


def test_a_registration_whose_challenge_is_used_meanwhile_is_refused_as_such(
    services: Services, accounts: Accounts
) -> None:
    """The challenge is used by another request between this one's read and its write: the
    transaction fails on the challenge, and the answer says so (not a limit reached)."""
    from shared.core import aws
    from tests.integration.test_passkeys_http import register

    token = staff_login()["access_token"]
    authenticator = Authenticator(origin=ORIGIN, rp_id=RP_ID)
    options = options_for_registration(token)
    credential = authenticator.create(options)
    events = aws.dynamodb().meta.events

    def use_the_challenge_first(**_: object) -> None:
        events.unregister("before-call.dynamodb.TransactWriteItems", use_the_challenge_first)
        services.users.dynamodb.transact_write_items(
            TransactItems=[services.passkeys.consume_challenge_operation(options["challenge"])]
        )

    events.register("before-call.dynamodb.TransactWriteItems", use_the_challenge_first)
    try:
        answer = register(token, credential)
    finally:
        events.unregister("before-call.dynamodb.TransactWriteItems", use_the_challenge_first)
    assert answer["statusCode"] == 400, answer
    assert body_of(answer)["message"].startswith("the passkey challenge is unknown, expired or already used")
    assert services.passkeys.of_user(accounts.staff.user_id) == []

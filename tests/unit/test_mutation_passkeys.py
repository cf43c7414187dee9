"""A passkey ceremony's answer, structurally, rule by rule (issue 30, rule 4): every member's shape
and bound to the character, the challenge's length, the name's, the amr of each kind of passkey."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from webauthn.helpers.structs import CredentialDeviceType

from shared.core.errors import BadRequest
from shared.passkeys import ceremony
from shared.passkeys.ceremony import MALFORMED, parse_answer, parse_name


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


CHALLENGE = "c" * 43


def answer(registration: bool = False, challenge: str = CHALLENGE, **changes: Any) -> dict[str, Any]:
    raw_id = b64(b"credential-id")
    response: dict[str, Any] = {"clientDataJSON": b64(json.dumps({"challenge": challenge}).encode())}
    if registration:
        response["attestationObject"] = b64(b"attestation")
    else:
        response.update(authenticatorData=b64(b"data"), signature=b64(b"signature"))
    credential: dict[str, Any] = {"id": raw_id, "rawId": raw_id, "type": "public-key", "response": response}
    for name, value in changes.items():
        if name.startswith("response_"):
            response[name.removeprefix("response_")] = value
        else:
            credential[name] = value
    return {"credential": credential}


def refused(body: dict[str, Any], registration: bool = False) -> str:
    with pytest.raises(BadRequest) as error:
        parse_answer(body, registration=registration)
    assert error.value.field == "credential"
    return error.value.message


@pytest.mark.parametrize("registration", [False, True])
def test_a_well_formed_answer_is_read(registration: bool) -> None:
    parsed = parse_answer(answer(registration), registration=registration)
    assert parsed.credential_id == b64(b"credential-id") and parsed.challenge == CHALLENGE
    assert parsed.user_handle == "" and parsed.credential == answer(registration)["credential"]


def test_the_user_handle_is_read_when_there_is_one() -> None:
    assert parse_answer(answer(response_userHandle="dXNlcg"), registration=False).user_handle == "dXNlcg"
    assert "userHandle" in refused(answer(response_userHandle="not base64!"))
    assert "userHandle" in refused(answer(response_userHandle=""))


@pytest.mark.parametrize("credential", [None, "x", [], 1])
def test_a_credential_that_is_not_an_object_is_refused(credential: object) -> None:
    assert "WebAuthn" in refused({"credential": credential})


def test_only_a_public_key_credential_with_a_response_object_is_read() -> None:
    assert refused(answer(type="password")) == MALFORMED
    assert refused(answer(response="x")) == MALFORMED
    body = answer()
    del body["credential"]["type"]
    assert refused(body) == MALFORMED


def test_the_id_must_be_the_raw_id() -> None:
    assert refused(answer(id=b64(b"other"))) == MALFORMED


def test_a_credential_id_is_at_most_1023_bytes() -> None:
    longest = b64(b"x" * 1023)
    parse_answer(answer(id=longest, rawId=longest), registration=False)
    too_long = b64(b"x" * 1024)
    assert refused(answer(id=too_long, rawId=too_long)) == MALFORMED


@pytest.mark.parametrize("value", [None, "", 7, "a", "a" * 16_385])
def test_each_member_must_be_base64url_text_of_bounded_length(value: object) -> None:
    message = refused(answer(response_signature=value))
    assert message == "credential.response.signature must be a base64url string"
    assert refused(answer(rawId=value)) == "credential.rawId must be a base64url string"


def test_a_member_of_the_longest_length_is_read() -> None:
    parse_answer(answer(response_signature="A" * 16_384), registration=False)


@pytest.mark.parametrize(
    ("registration", "member"),
    [
        (True, "attestationObject"),
        (False, "authenticatorData"),
        (False, "signature"),
        (True, "clientDataJSON"),
    ],
)
def test_each_ceremony_needs_its_own_members(registration: bool, member: str) -> None:
    body = answer(registration)
    del body["credential"]["response"][member]
    assert refused(body, registration) == f"credential.response.{member} must be a base64url string"


def test_a_registration_needs_no_signature_and_a_sign_in_no_attestation() -> None:
    body = answer(True)
    assert "signature" not in body["credential"]["response"]
    parse_answer(body, registration=True)
    assert "attestationObject" not in answer(False)["credential"]["response"]


@pytest.mark.parametrize(
    "client_data", [b"not json", b"\xff\xfe", b"[1]", b'"x"', b"{}", b'{"challenge": 5}']
)
def test_client_data_must_be_a_json_object_with_a_challenge(client_data: bytes) -> None:
    assert refused(answer(response_clientDataJSON=b64(client_data))) == MALFORMED


@pytest.mark.parametrize(("length", "read"), [(15, False), (16, True), (128, True), (129, False)])
def test_the_challenge_is_16_to_128_characters(length: int, read: bool) -> None:
    body = answer(challenge="c" * length)
    if read:
        assert parse_answer(body, registration=False).challenge == "c" * length
    else:
        assert refused(body) == MALFORMED


def test_a_name_is_at_most_64_characters_of_text_and_defaults_to_passkey() -> None:
    assert parse_name({"name": "  Laptop  "}) == "Laptop"
    assert parse_name({}) == parse_name({"name": "   "}) == "Passkey"
    assert parse_name({"name": "x" * 64}) == "x" * 64
    for bad in ("x" * 65, "a\nb", "\x1f", 5, None):
        with pytest.raises(BadRequest) as error:
            parse_name({"name": bad})
        assert error.value.field == "name" and "64" in error.value.message
    assert parse_name({"name": " \x20ok"}) == "ok"


def test_a_synced_passkey_says_swk_and_a_device_bound_one_hwk() -> None:
    assert ceremony.amr_of(CredentialDeviceType.MULTI_DEVICE) == ("swk", "mfa", "user")
    assert ceremony.amr_of(CredentialDeviceType.SINGLE_DEVICE) == ("hwk", "mfa", "user")


def test_a_challenge_is_256_random_bits_in_base64url() -> None:
    raw, text = ceremony.new_challenge()
    assert len(raw) == 32 and len(text) == 43 and "=" not in text
    assert ceremony.challenge_bytes(text) == raw
    assert len({ceremony.new_challenge()[1] for _ in range(10)}) == 10


def test_passkeys_need_a_relying_party() -> None:
    from types import SimpleNamespace

    from shared.core.errors import ServiceUnavailable

    off = SimpleNamespace(settings=SimpleNamespace(webauthn_rp_id="", passkey_origins=("https://a",)))
    with pytest.raises(ServiceUnavailable):
        ceremony.relying_party(off)  # type: ignore[arg-type]
    on = SimpleNamespace(settings=SimpleNamespace(webauthn_rp_id="a.example", passkey_origins=("https://a",)))
    assert ceremony.relying_party(on) == ("a.example", ["https://a"])  # type: ignore[arg-type]

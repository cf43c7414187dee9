"""Passkeys (WebAuthn) with py_webauthn: registration by a signed-in user, listing and removal, and
a sign-in with no password that counts as two factors.

Imported only by the functions that serve passkey routes (functions/passkeys, functions/passkey_login):
py_webauthn and what it pulls in (cbor2, pyOpenSSL, asn1) cost a few hundred milliseconds of cold
start that no other function should pay.

Every ceremony starts with options holding a fresh 256-bit challenge, stored server-side (only its
hash, shared/store/passkeys.py) with its purpose, who asked and a short expiry. The browser signs it
into clientDataJSON; the answer is matched to its challenge by that very value, so the challenge is
the single-use token, and using it deletes it in the same transaction as what it allows.

Checked on every answer: the challenge (known, unexpired, unused, of this purpose and, for a
registration, of this user and session), the origin (one of the configured origins), the
relying-party id hash, user presence and user verification, the signature. Attestation is not asked
for ("none"): this service trusts the user's choice of authenticator, not a vendor list.

A sign-in is a full login: its own lockout counters (failed assertions count like wrong passwords
for the account), the same generic 401 for an unknown credential, a disabled account or a wrong user
type, and a session committed only if the account is still at the version read, the challenge is
still there, and the credential's sign counter moves forward. A counter that does not increase (both
non-zero) means two authenticators hold one key: refused and audited as `passkey_cloned`.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from dataclasses import dataclass
from typing import Any

from webauthn import options_to_json
from webauthn.helpers.structs import CredentialDeviceType

from shared.core.errors import BadRequest, ServiceUnavailable
from shared.runtime.services import Services
from shared.sessions.assurance import AMR_PASSKEY_DEVICE_BOUND, AMR_PASSKEY_SYNCED

MAX_CREDENTIAL_ID_BYTES = 1023  # WebAuthn's bound on a credential id
MAX_FIELD_CHARS = 16_384  # one base64url member of a credential (the body itself is at most 16 KiB)
MAX_NAME_CHARS = 64
CHALLENGE_BYTES = 32
MALFORMED = "credential is malformed"
UNUSABLE_CHALLENGE = "the passkey challenge is unknown, expired or already used: ask for new options"


@dataclass(frozen=True)
class Answer:
    """A browser's answer to a ceremony: the credential as the WebAuthn JSON encoding has it, and the
    challenge its clientDataJSON signed."""

    credential: dict[str, Any]
    credential_id: str
    challenge: str
    user_handle: str


def amr_of(device_type: CredentialDeviceType) -> tuple[str, ...]:
    synced = device_type == CredentialDeviceType.MULTI_DEVICE
    return AMR_PASSKEY_SYNCED if synced else AMR_PASSKEY_DEVICE_BOUND


# ------------------------------------------------------------------------------------ parsing
def _b64url(value: object, field: str) -> bytes:
    if not isinstance(value, str) or not value or len(value) > MAX_FIELD_CHARS:
        raise BadRequest("credential", f"credential.{field} must be a base64url string")
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise BadRequest("credential", f"credential.{field} must be a base64url string") from None


def parse_answer(body: dict[str, Any], *, registration: bool) -> Answer:
    """The credential member of a body, structurally checked (400 naming `credential` otherwise);
    what it proves is checked later, against the stored challenge and key."""
    credential = body.get("credential")
    if not isinstance(credential, dict):
        raise BadRequest("credential", "credential must be the object the browser's WebAuthn call returned")
    response = credential.get("response")
    if credential.get("type") != "public-key" or not isinstance(response, dict):
        raise BadRequest("credential", MALFORMED)
    raw_id = _b64url(credential.get("rawId"), "rawId")
    if len(raw_id) > MAX_CREDENTIAL_ID_BYTES or credential.get("id") != credential.get("rawId"):
        raise BadRequest("credential", MALFORMED)
    members = (
        ("clientDataJSON", "attestationObject")
        if registration
        else ("clientDataJSON", "authenticatorData", "signature")
    )
    for member in members:
        _b64url(response.get(member), f"response.{member}")
    handle = response.get("userHandle")
    if handle is not None:
        _b64url(handle, "response.userHandle")
    try:
        client_data = json.loads(_b64url(response["clientDataJSON"], "response.clientDataJSON"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise BadRequest("credential", MALFORMED) from None
    challenge = client_data.get("challenge") if isinstance(client_data, dict) else None
    if not isinstance(challenge, str) or not 16 <= len(challenge) <= 128:
        raise BadRequest("credential", MALFORMED)
    return Answer(credential, str(credential["rawId"]), challenge, handle or "")


def parse_name(body: dict[str, Any]) -> str:
    name = body.get("name", "")
    if not isinstance(name, str) or len(name) > MAX_NAME_CHARS or any(ord(c) < 32 for c in name):
        raise BadRequest("name", f"name must be text of at most {MAX_NAME_CHARS} characters")
    return name.strip() or "Passkey"


def challenge_bytes(challenge: str) -> bytes:
    return base64.urlsafe_b64decode(challenge + "=" * (-len(challenge) % 4))


def new_challenge() -> tuple[bytes, str]:
    raw = secrets.token_bytes(CHALLENGE_BYTES)
    return raw, base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def options_json(options: Any) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(options_to_json(options))
    return parsed


def relying_party(services: Services) -> tuple[str, list[str]]:
    settings = services.settings
    if not settings.webauthn_rp_id:
        raise ServiceUnavailable("passkeys (WEBAUTHN_RP_ID is not set)")
    return settings.webauthn_rp_id, list(settings.passkey_origins)

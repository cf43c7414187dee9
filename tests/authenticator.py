"""A software WebAuthn authenticator for the tests (never shipped): an ES256 key per credential,
attestation "none", assertions with a sign counter, and the browser's part (clientDataJSON with the
challenge and the origin). Every knob a hostile or broken client could turn is a parameter: the
origin, the relying-party id, user verification, the counter, the challenge."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import struct
from dataclasses import dataclass, field, replace
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

UP, UV, BE, BS, AT = 0x01, 0x04, 0x08, 0x10, 0x40
AAGUID = bytes(16)  # "none" attestation: no model is claimed


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Credential:
    credential_id: bytes
    private_key: ec.EllipticCurvePrivateKey
    rp_id: str
    user_handle: bytes
    sign_count: int = 0

    @property
    def id(self) -> str:
        return b64url(self.credential_id)

    def clone(self) -> Credential:
        """The same key and counter, in a second authenticator (what an exported key allows)."""
        return replace(self)


@dataclass
class Authenticator:
    origin: str
    rp_id: str
    user_verified: bool = True
    backup_eligible: bool = False  # True: a synced (multi-device) passkey
    counter_step: int = 1  # 0: an authenticator with no counter
    credentials: list[Credential] = field(default_factory=list)

    def _flags(self, extra: int = 0) -> int:
        return UP | (UV if self.user_verified else 0) | (BE | BS if self.backup_eligible else 0) | extra

    def create(
        self, options: dict[str, Any], *, origin: str | None = None, rp_id: str | None = None
    ) -> dict[str, Any]:
        """navigator.credentials.create(): a new credential for `options` (the creation options JSON)."""
        rp = rp_id or self.rp_id
        key = ec.generate_private_key(ec.SECP256R1())
        numbers = key.public_key().public_numbers()
        cose = cbor2.dumps(
            {1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")}
        )
        credential = Credential(secrets.token_bytes(16), key, rp, unb64url(options["user"]["id"]))
        attested = AAGUID + struct.pack(">H", len(credential.credential_id)) + credential.credential_id + cose
        auth_data = (
            hashlib.sha256(rp.encode()).digest() + bytes([self._flags(AT)]) + struct.pack(">I", 0) + attested
        )
        client_data = self._client_data("webauthn.create", options["challenge"], origin)
        self.credentials.append(credential)
        return {
            "id": credential.id,
            "rawId": credential.id,
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": {
                "clientDataJSON": b64url(client_data),
                "attestationObject": b64url(
                    cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
                ),
                "transports": ["internal"],
            },
        }

    def get(
        self,
        options: dict[str, Any],
        *,
        credential: Credential | None = None,
        origin: str | None = None,
        rp_id: str | None = None,
        challenge: str | None = None,
        sign_count: int | None = None,
    ) -> dict[str, Any]:
        """navigator.credentials.get(): an assertion by `credential` (the first one by default)."""
        chosen = credential or self.credentials[0]
        if sign_count is None:
            chosen.sign_count += self.counter_step
            sign_count = chosen.sign_count
        rp = rp_id or chosen.rp_id
        auth_data = (
            hashlib.sha256(rp.encode()).digest() + bytes([self._flags()]) + struct.pack(">I", sign_count)
        )
        client_data = self._client_data("webauthn.get", challenge or options["challenge"], origin)
        signature = chosen.private_key.sign(
            auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
        )
        return {
            "id": chosen.id,
            "rawId": chosen.id,
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": {
                "clientDataJSON": b64url(client_data),
                "authenticatorData": b64url(auth_data),
                "signature": b64url(signature),
                "userHandle": b64url(chosen.user_handle),
            },
        }

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        data = {"type": kind, "challenge": challenge, "origin": origin or self.origin, "crossOrigin": False}
        return json.dumps(data, separators=(",", ":")).encode()

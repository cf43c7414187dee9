"""Build hostile tokens: any header, any payload, any key, any signature bytes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from shared.runtime.services import Services


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def segment(value: Any) -> str:
    raw = value if isinstance(value, bytes) else json.dumps(value, separators=(",", ":")).encode()
    return b64(raw)


def good_claims(services: Services, **overrides: Any) -> dict[str, Any]:
    now = time.time()
    claims: dict[str, Any] = {
        "iss": services.settings.issuer,
        "aud": services.settings.audience,
        "sub": "user-1",
        "iat": int(now),
        "iat_ms": int(now * 1000),
        "auth_time": int(now),
        "exp": int(now) + 600,
        "client_id": "web",
        "jti": "jti-forged-1",
        "sid": "sid-forged-1",
        "email": "someone@example.com",
        "name": "Some One",
        "role": "admin",
        "type": "admin",
    }
    claims.update(overrides)
    return {name: value for name, value in claims.items() if value is not ...}


def our_header(services: Services, **overrides: Any) -> dict[str, Any]:
    keys = services.keys
    header: dict[str, Any] = {"alg": keys.signer.algorithm, "typ": "at+jwt", "kid": keys.signer.kid}
    header.update(overrides)
    return {name: value for name, value in header.items() if value is not ...}


def signed_by_us(services: Services, header: Any, payload: Any) -> str:
    """Signed with the service's real key (via KMS): only the content is hostile."""
    signing_input = f"{segment(header)}.{segment(payload)}"
    return f"{signing_input}.{b64(services.keys.signer.sign(signing_input.encode()))}"


def hs(header: Any, payload: Any, key: bytes, digest: Any = hashlib.sha256) -> str:
    signing_input = f"{segment(header)}.{segment(payload)}"
    return f"{signing_input}.{b64(hmac.new(key, signing_input.encode(), digest).digest())}"


def rs256(header: Any, payload: Any, key: rsa.RSAPrivateKey) -> str:
    signing_input = f"{segment(header)}.{segment(payload)}"
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{b64(signature)}"


def es256(header: Any, payload: Any, key: ec.EllipticCurvePrivateKey) -> str:
    signing_input = f"{segment(header)}.{segment(payload)}"
    r, s = decode_dss_signature(key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
    return f"{signing_input}.{b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def with_signature(token: str, signature: bytes) -> str:
    head, body, _ = token.split(".")
    return f"{head}.{body}.{b64(signature)}"

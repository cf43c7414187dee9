"""Access tokens: issue (signed by the active key) and verify (strictly, against our key set only).

Header: alg (pinned), typ "at+jwt", kid (RFC 7638 thumbprint). Claims: iss, aud, sub, iat, exp,
jti, sid, email, name, role, type. `iat` carries milliseconds (a JSON number, as RFC 7519's
NumericDate allows) so a per-user "not before" is never ambiguous within one second.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

import jwt

from shared.errors import InvalidAccessToken
from shared.settings import Settings
from shared.signing import KMS_RAW_MESSAGE_LIMIT, KeySet, b64url

TOKEN_TYPE = "at+jwt"  # noqa: S105 - a media type, not a secret
MAX_TOKEN_LENGTH = 8192
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
IDENTIFIER = re.compile(r"[A-Za-z0-9_-]{1,128}")
NAME_TOKEN = re.compile(r"[A-Za-z0-9_.-]{1,64}")
MAX_EMAIL_LENGTH = 254
MAX_NAME_LENGTH = 256
_FORBIDDEN_HEADERS = ("jku", "jwk", "x5u", "x5c", "crit", "b64")
_REQUIRED_CLAIMS = ["iss", "aud", "sub", "iat", "exp", "jti", "sid", "email", "name", "role", "type"]


@dataclass(frozen=True)
class AccessClaims:
    sub: str
    jti: str
    sid: str
    email: str
    name: str
    role: str
    user_type: str
    iat: float
    exp: int

    @property
    def issued_at_ms(self) -> int:
        return round(self.iat * 1000)


@dataclass(frozen=True)
class Identity:
    """Who a token is issued to (from the users table, at login or refresh)."""

    user_id: str
    email: str
    name: str
    role: str
    user_type: str


class ClaimsTooLarge(ValueError):
    """The identity does not fit in a token KMS can sign (4096 bytes of signing input)."""


def new_token_id() -> str:
    return b64url(secrets.token_bytes(16))


def _json_segment(value: dict[str, Any]) -> str:
    return b64url(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


def check_identity(identity: Identity) -> None:
    if not IDENTIFIER.fullmatch(identity.user_id):
        raise ClaimsTooLarge("user id")
    if not 0 < len(identity.email) <= MAX_EMAIL_LENGTH or len(identity.name) > MAX_NAME_LENGTH:
        raise ClaimsTooLarge("email or name")
    if not NAME_TOKEN.fullmatch(identity.role) or not NAME_TOKEN.fullmatch(identity.user_type):
        raise ClaimsTooLarge("role or type")


def issue_access_token(
    identity: Identity, session_id: str, settings: Settings, keys: KeySet, at: float | None = None
) -> tuple[str, AccessClaims]:
    check_identity(identity)
    issued = round(time.time() if at is None else at, 3)
    claims = AccessClaims(
        sub=identity.user_id,
        jti=new_token_id(),
        sid=session_id,
        email=identity.email,
        name=identity.name,
        role=identity.role,
        user_type=identity.user_type,
        iat=issued,
        exp=int(issued) + settings.access_token_ttl,
    )
    header = {"alg": keys.signer.algorithm, "typ": TOKEN_TYPE, "kid": keys.signer.kid}
    payload = {
        "iss": settings.issuer,
        "aud": settings.audience,
        "sub": claims.sub,
        "iat": claims.iat,
        "exp": claims.exp,
        "jti": claims.jti,
        "sid": claims.sid,
        "email": claims.email,
        "name": claims.name,
        "role": claims.role,
        "type": claims.user_type,
    }
    signing_input = f"{_json_segment(header)}.{_json_segment(payload)}".encode("ascii")
    if len(signing_input) > KMS_RAW_MESSAGE_LIMIT:
        raise ClaimsTooLarge("signing input over 4096 bytes")
    signature = keys.signer.sign(signing_input)
    return f"{signing_input.decode('ascii')}.{b64url(signature)}", claims


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, value in pairs:
        if name in result:
            raise InvalidAccessToken("duplicate JSON key")
        result[name] = value
    return result


def _strict_json_segment(segment: str) -> dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        value = json.loads(raw.decode("utf-8"), object_pairs_hook=_reject_duplicates)
    except (binascii.Error, UnicodeDecodeError, ValueError, RecursionError):
        raise InvalidAccessToken("malformed segment") from None
    if not isinstance(value, dict):
        raise InvalidAccessToken("segment is not a JSON object")
    return value


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_claim_types(payload: dict[str, Any]) -> None:
    for claim in ("sub", "jti", "sid"):
        if not isinstance(payload.get(claim), str) or not IDENTIFIER.fullmatch(payload[claim]):
            raise InvalidAccessToken(f"claim {claim} malformed")
    for claim in ("role", "type"):
        if not isinstance(payload.get(claim), str) or not NAME_TOKEN.fullmatch(payload[claim]):
            raise InvalidAccessToken(f"claim {claim} malformed")
    email, name = payload.get("email"), payload.get("name")
    if not isinstance(email, str) or not 0 < len(email) <= MAX_EMAIL_LENGTH:
        raise InvalidAccessToken("claim email malformed")
    if not isinstance(name, str) or len(name) > MAX_NAME_LENGTH:
        raise InvalidAccessToken("claim name malformed")
    if not isinstance(payload.get("iss"), str) or not isinstance(payload.get("aud"), str):
        raise InvalidAccessToken("claim iss or aud malformed")
    if not _is_number(payload.get("iat")) or not isinstance(payload.get("exp"), int):
        raise InvalidAccessToken("claim iat or exp malformed")
    if isinstance(payload.get("exp"), bool) or ("nbf" in payload and not _is_number(payload["nbf"])):
        raise InvalidAccessToken("claim exp or nbf malformed")


def verify_access_token(
    token: str, settings: Settings, keys: KeySet, now: float | None = None
) -> AccessClaims:
    """Verify everything or raise InvalidAccessToken (with a reason for the log, never the client)."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH or not _TOKEN_SHAPE.fullmatch(token):
        raise InvalidAccessToken("not a compact JWS")
    header_segment, payload_segment, _ = token.split(".")
    header = _strict_json_segment(header_segment)
    payload = _strict_json_segment(payload_segment)
    if header.get("typ") != TOKEN_TYPE:
        raise InvalidAccessToken("typ is not at+jwt")
    if any(name in header for name in _FORBIDDEN_HEADERS):
        raise InvalidAccessToken("unsupported header parameter")
    kid = header.get("kid")
    key = keys.keys.get(kid) if isinstance(kid, str) else None
    if key is None:
        raise InvalidAccessToken("unknown kid")
    if header.get("alg") != key.algorithm:
        raise InvalidAccessToken("algorithm not allowed")
    _check_claim_types(payload)
    current = time.time() if now is None else now
    try:
        jwt.decode(
            token,
            key=key.key,
            algorithms=[key.algorithm],
            audience=settings.audience,
            issuer=settings.issuer,
            leeway=settings.clock_leeway,
            options={"require": _REQUIRED_CLAIMS, "strict_aud": True, "verify_signature": True},
        )
    except jwt.PyJWTError as error:
        raise InvalidAccessToken(type(error).__name__) from None
    if payload["iat"] > current + settings.clock_leeway:
        raise InvalidAccessToken("issued in the future")
    if payload["exp"] <= current - settings.clock_leeway:
        raise InvalidAccessToken("expired")
    return AccessClaims(
        sub=payload["sub"],
        jti=payload["jti"],
        sid=payload["sid"],
        email=payload["email"],
        name=payload["name"],
        role=payload["role"],
        user_type=payload["type"],
        iat=float(payload["iat"]),
        exp=payload["exp"],
    )

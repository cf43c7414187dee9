"""Access tokens: issue (signed by the active key) and verify (strictly, against our key set only).

Header: alg (pinned), typ "at+jwt", kid (RFC 7638 thumbprint). Claims: iss, aud, sub, iat, exp,
jti, sid, email, name, role, type, auth_time, amr (RFC 8176 methods of the login the session
started with: "pwd", "otp", "hwk", "swk", "mfa"). `iat` carries milliseconds (a JSON number, as RFC 7519's
NumericDate allows) so a per-user "not before" is never ambiguous within one second.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
from dataclasses import dataclass
from typing import Any

import jwt

from shared.config.settings import Settings
from shared.config.tunables import MAX_EXTRA_AUDIENCES
from shared.core.errors import InvalidAccessToken, Reason
from shared.credentials.identity import (
    IDENTIFIER,
    MAX_EMAIL_LENGTH,
    MAX_NAME_LENGTH,
    NAME_TOKEN,
    Identity,
    InvalidIdentity,
    check_identity,
)
from shared.credentials.signing import KMS_RAW_MESSAGE_LIMIT, KeySet, b64url

TOKEN_TYPE = "at+jwt"  # noqa: S105  # a media type, not a secret
MAX_TOKEN_LENGTH = 8192
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
AMR_PASSWORD = ("pwd",)  # RFC 8176: a login with a password alone
MAX_AUDIENCES = MAX_EXTRA_AUDIENCES + 1
MAX_AMR_VALUES = 8
_FORBIDDEN_HEADERS = ("jku", "jwk", "x5u", "x5c", "crit", "b64")
_REQUIRED_CLAIMS = [
    "iss",
    "aud",
    "sub",
    "iat",
    "iat_ms",
    "auth_time",
    "exp",
    "jti",
    "sid",
    "email",
    "name",
    "role",
    "type",
    "client_id",
]


@dataclass(frozen=True)
class AccessClaims:
    sub: str
    jti: str
    sid: str
    email: str
    name: str
    role: str
    user_type: str
    iat: int
    exp: int
    iat_ms: int = 0  # `iat` to the millisecond: what not-before comparisons use
    auth_time: int = 0
    client_id: str = ""
    amr: tuple[str, ...] = ()  # how the session's login was made (RFC 8176)

    @property
    def identity(self) -> Identity:
        return Identity(self.sub, self.email, self.name, self.role, self.user_type)


def new_token_id() -> str:
    return b64url(secrets.token_bytes(16))


def _json_segment(value: dict[str, Any]) -> str:
    return b64url(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


def access_token_payload(claims: AccessClaims, settings: Settings) -> dict[str, Any]:
    """The JWT claims set of an access token with these claims."""
    return {
        "iss": settings.issuer,
        "aud": token_audience(settings),
        "sub": claims.sub,
        "iat": claims.iat,
        "iat_ms": claims.iat_ms,
        "auth_time": claims.auth_time,
        "amr": list(claims.amr),
        "exp": claims.exp,
        "client_id": claims.client_id,
        "jti": claims.jti,
        "sid": claims.sid,
        "email": claims.email,
        "name": claims.name,
        "role": claims.role,
        "type": claims.user_type,
    }


def issue_access_token(
    identity: Identity,
    session_id: str,
    settings: Settings,
    keys: KeySet,
    *,
    at_ms: int,
    auth_time: int,
    amr: tuple[str, ...],
) -> tuple[str, AccessClaims]:
    """A token issued at `at_ms`: the moment the state it is built from was read. NumericDates are
    integers (RFC 7519 allows fractions, several verifiers do not); the millisecond travels in
    `iat_ms` for the not-before rules."""
    check_identity(identity)
    claims = AccessClaims(
        sub=identity.user_id,
        jti=new_token_id(),
        sid=session_id,
        email=identity.email,
        name=identity.name,
        role=identity.role,
        user_type=identity.user_type,
        iat=at_ms // 1000,
        exp=at_ms // 1000 + settings.access_token_ttl,
        iat_ms=at_ms,
        auth_time=auth_time,
        client_id=settings.client_id,
        amr=amr,
    )
    header = {"alg": keys.signer.algorithm, "typ": TOKEN_TYPE, "kid": keys.signer.kid}
    payload = access_token_payload(claims, settings)
    signing_input = f"{_json_segment(header)}.{_json_segment(payload)}".encode("ascii")
    if len(signing_input) > KMS_RAW_MESSAGE_LIMIT:
        raise InvalidIdentity("signing input over 4096 bytes")
    signature = keys.signer.sign(signing_input)
    return f"{signing_input.decode('ascii')}.{b64url(signature)}", claims


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, value in pairs:
        if name in result:
            raise InvalidAccessToken(Reason.MALFORMED, "duplicate JSON key")
        result[name] = value
    return result


def _strict_json_segment(segment: str) -> dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        value = json.loads(raw.decode("utf-8"), object_pairs_hook=_reject_duplicates)
    except (binascii.Error, UnicodeDecodeError, ValueError, RecursionError):
        raise InvalidAccessToken(Reason.MALFORMED, "segment") from None
    if not isinstance(value, dict):
        raise InvalidAccessToken(Reason.MALFORMED, "segment is not a JSON object")
    return value


def _is_integer(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_audience(value: object) -> bool:
    """One audience, or a short list of them (RFC 7519 allows both)."""
    if isinstance(value, list):
        return 0 < len(value) <= MAX_AUDIENCES and all(isinstance(item, str) for item in value)
    return isinstance(value, str)


def token_audience(settings: Settings) -> str | list[str]:
    """The service's audience, then every other API's the tokens are for; a plain string when there
    is no other, as verifiers that expect one audience prefer."""
    if not settings.extra_audiences:
        return settings.audience
    return [settings.audience, *settings.extra_audiences]


def _check_claim_types(payload: dict[str, Any]) -> None:
    for claim in ("sub", "jti", "sid"):
        if not isinstance(payload.get(claim), str) or not IDENTIFIER.fullmatch(payload[claim]):
            raise InvalidAccessToken(Reason.CLAIMS, claim)
    for claim in ("role", "type"):
        if not isinstance(payload.get(claim), str) or not NAME_TOKEN.fullmatch(payload[claim]):
            raise InvalidAccessToken(Reason.CLAIMS, claim)
    email, name = payload.get("email"), payload.get("name")
    if not isinstance(email, str) or not 0 < len(email) <= MAX_EMAIL_LENGTH:
        raise InvalidAccessToken(Reason.CLAIMS, "email")
    if not isinstance(name, str) or len(name) > MAX_NAME_LENGTH:
        raise InvalidAccessToken(Reason.CLAIMS, "name")
    if not isinstance(payload.get("iss"), str) or not _is_audience(payload.get("aud")):
        raise InvalidAccessToken(Reason.CLAIMS, "iss or aud")
    for claim in ("iat", "exp", "auth_time", "iat_ms"):
        if not _is_integer(payload.get(claim)):
            raise InvalidAccessToken(Reason.CLAIMS, claim)
    if payload["iat_ms"] // 1000 != payload["iat"]:
        raise InvalidAccessToken(Reason.CLAIMS, "iat_ms is not iat")
    if not isinstance(payload.get("client_id"), str) or not NAME_TOKEN.fullmatch(payload["client_id"]):
        raise InvalidAccessToken(Reason.CLAIMS, "client_id")
    if "nbf" in payload and not _is_integer(payload["nbf"]):
        raise InvalidAccessToken(Reason.CLAIMS, "nbf")
    amr = payload.get("amr", [])  # absent in tokens issued before the claim existed: no factor named
    if (
        not isinstance(amr, list)
        or len(amr) > MAX_AMR_VALUES
        or not all(isinstance(value, str) and NAME_TOKEN.fullmatch(value) for value in amr)
    ):
        raise InvalidAccessToken(Reason.CLAIMS, "amr")


def verify_access_token(
    token: str, settings: Settings, keys: KeySet, now: float, *, audience: str | None = None
) -> AccessClaims:
    """Verify everything at `now` (seconds) or raise InvalidAccessToken with the reason (for the log,
    never the client). PyJWT checks the signature, iss and that `aud` holds `audience` (by default
    the service's own); the times are checked here against the service's clock."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH or not _TOKEN_SHAPE.fullmatch(token):
        raise InvalidAccessToken(Reason.MALFORMED, "not a compact JWS")
    header_segment, payload_segment, _ = token.split(".")
    header = _strict_json_segment(header_segment)
    payload = _strict_json_segment(payload_segment)
    if header.get("typ") != TOKEN_TYPE:
        raise InvalidAccessToken(Reason.TOKEN_TYPE)
    if any(name in header for name in _FORBIDDEN_HEADERS):
        raise InvalidAccessToken(Reason.FORBIDDEN_HEADER)
    kid = header.get("kid")
    key = keys.keys.get(kid) if isinstance(kid, str) else None
    if key is None:
        raise InvalidAccessToken(Reason.UNKNOWN_KEY)
    if header.get("alg") != key.algorithm:
        raise InvalidAccessToken(Reason.ALGORITHM)
    _check_claim_types(payload)
    try:
        jwt.decode(
            token,
            key=key.key,
            algorithms=[key.algorithm],
            audience=audience or settings.audience,
            issuer=settings.issuer,
            options={
                "require": _REQUIRED_CLAIMS,
                "verify_signature": True,
                "verify_exp": False,
                "verify_nbf": False,
                "verify_iat": False,
            },
        )
    except jwt.InvalidSignatureError:
        raise InvalidAccessToken(Reason.SIGNATURE) from None
    except jwt.DecodeError as error:
        raise InvalidAccessToken(Reason.MALFORMED, type(error).__name__) from None
    except jwt.PyJWTError as error:
        raise InvalidAccessToken(Reason.CLAIMS, type(error).__name__) from None
    leeway = settings.clock_leeway
    if payload["exp"] <= now - leeway:
        raise InvalidAccessToken(Reason.EXPIRED)
    if payload["iat"] > now + leeway or payload.get("nbf", 0) > now + leeway:
        raise InvalidAccessToken(Reason.NOT_YET_VALID)
    return AccessClaims(
        sub=payload["sub"],
        jti=payload["jti"],
        sid=payload["sid"],
        email=payload["email"],
        name=payload["name"],
        role=payload["role"],
        user_type=payload["type"],
        iat=payload["iat"],
        exp=payload["exp"],
        iat_ms=payload["iat_ms"],
        auth_time=payload["auth_time"],
        client_id=payload["client_id"],
        amr=tuple(payload.get("amr", ())),
    )

"""Refresh sessions: create, rotate with theft detection and a grace window, revoke.

A refresh token is `<session id>.<secret>`, 22 + 43 base64url characters; only its SHA-256 is
stored. Each use rotates it in one conditional transaction. The successor of a token is derived
from it with a server-side key (HMAC-SHA256), so a retry within the grace window gets the very
same child back and no second successor can ever exist. Presenting a rotated token outside
those rules is theft: the whole session is revoked.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Any

from shared.errors import InvalidRefreshToken, ServiceUnavailable
from shared.observability import Client, audit
from shared.services import Services
from shared.signing import b64url
from shared.store import RotationRejected, Session, now_ms
from shared.tokens import AccessClaims, Identity, issue_access_token

REFRESH_TOKEN = re.compile(r"([A-Za-z0-9_-]{22})\.[A-Za-z0-9_-]{43}")


@dataclass(frozen=True)
class TokenGrant:
    access_token: str
    refresh_token: str
    expires_in: int
    refresh_expires_in: int
    claims: AccessClaims
    identity: Identity


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def session_id_of(token: str) -> str | None:
    match = REFRESH_TOKEN.fullmatch(token) if isinstance(token, str) else None
    return match.group(1) if match else None


def derive_child(token: str, key: bytes) -> str:
    sid = token.split(".", 1)[0]
    return f"{sid}.{b64url(hmac.new(key, token.encode('ascii'), hashlib.sha256).digest())}"


def _identity(session: Session) -> Identity:
    return Identity(session.user_id, session.email, session.name, session.role, session.user_type)


def _grant(
    services: Services, session: Session, refresh_token: str, idle_expires: int, at_ms: int
) -> TokenGrant:
    identity = _identity(session)
    access_token, claims = issue_access_token(identity, session.sid, services.settings, services.keys)
    refresh_expires_in = max(0, min(idle_expires, session.abs_expires) - at_ms // 1000)
    return TokenGrant(
        access_token=access_token,
        refresh_token=refresh_token,
        expires_in=services.settings.access_token_ttl,
        refresh_expires_in=refresh_expires_in,
        claims=claims,
        identity=identity,
    )


def _idle_expiry(services: Services, at_ms: int, abs_expires: int) -> int:
    return min(at_ms // 1000 + services.settings.refresh_idle_ttl, abs_expires)


def start_session(
    services: Services,
    identity: Identity,
    client: Client,
    extra: list[dict[str, Any]],
    *,
    new_device: bool = False,
) -> TokenGrant:
    """Create a session and its first refresh token (committed before any token is signed)."""
    at = now_ms()
    sid = b64url(secrets.token_bytes(16))
    refresh_token = f"{sid}.{b64url(secrets.token_bytes(32))}"
    session = Session(
        sid=sid,
        user_id=identity.user_id,
        email=identity.email,
        name=identity.name,
        role=identity.role,
        user_type=identity.user_type,
        status="active",
        created_at=at,
        last_used=at,
        abs_expires=at // 1000 + services.settings.session_max_ttl,
        user_agent=client.user_agent,
        source_ip=client.source_ip,
        new_device=new_device,
    )
    idle_expires = _idle_expiry(services, at, session.abs_expires)
    try:
        services.sessions.create(session, token_hash(refresh_token), idle_expires, extra)
    except RotationRejected as rejected:
        raise ServiceUnavailable("DynamoDB") from rejected
    return _grant(services, session, refresh_token, idle_expires, at)


def refresh(services: Services, presented: str, client: Client) -> TokenGrant:
    """Rotate a refresh token, or answer a retry within the grace window, or detect theft."""
    sid = session_id_of(presented)
    if sid is None:
        raise InvalidRefreshToken("malformed")
    child = derive_child(presented, services.refresh_key)
    presented_hash, child_hash = token_hash(presented), token_hash(child)
    grace_ms = services.settings.refresh_grace_seconds * 1000

    for _attempt in range(3):
        at = now_ms()
        view = services.sessions.view(presented_hash, child_hash, sid)
        record, session = view.presented, view.session
        if record is None or record.sid != sid or session is None:
            raise InvalidRefreshToken("unknown token")
        if not session.is_live(at):
            raise InvalidRefreshToken("session ended")
        idle_expires = _idle_expiry(services, at, session.abs_expires)

        if record.status == "active":
            if not record.is_usable(at):
                raise InvalidRefreshToken("token expired")
            try:
                services.sessions.rotate(session, presented_hash, child_hash, at, idle_expires)
            except RotationRejected as rejected:
                if rejected.reasons[:2] != ["None", "None"]:
                    continue  # another request rotated this token first: read again
                raise InvalidRefreshToken("session revoked") from rejected
            _audit(client, session, "refresh", "success", "rotated")
            return _grant(services, session, child, idle_expires, at)

        child_record = view.child
        within_grace = (
            record.status == "used"
            and record.child_hash == child_hash
            and at - record.used_at <= grace_ms
            and child_record is not None
            and child_record.is_usable(at)
        )
        if within_grace and child_record is not None:
            try:
                services.sessions.confirm_live(session, at)
            except RotationRejected as rejected:
                raise InvalidRefreshToken("session revoked") from rejected
            _audit(client, session, "refresh", "success", "grace_retry")
            return _grant(services, session, child, child_record.idle_expires, at)

        revoke_session(services, session, "refresh_token_reuse", client)
        raise InvalidRefreshToken("reuse detected")

    raise ServiceUnavailable("DynamoDB")


def revoke_session(
    services: Services,
    session: Session,
    reason: str,
    client: Client,
    extra: list[dict[str, Any]] | None = None,
) -> None:
    try:
        services.sessions.revoke(session.sid, session.abs_expires, reason, now_ms(), extra or [])
    except RotationRejected as rejected:
        raise ServiceUnavailable("DynamoDB") from rejected
    outcome = "detected" if reason == "refresh_token_reuse" else "success"
    event = "refresh_reuse" if reason == "refresh_token_reuse" else "session_revoked"
    _audit(client, session, event, outcome, reason)


def _audit(client: Client, session: Session, event: str, outcome: str, reason: str) -> None:
    audit(event, outcome, client, user_id=session.user_id, session_id=session.sid, reason=reason)


def logout(services: Services, caller: AccessClaims, refresh_token: str | None, client: Client) -> None:
    """Deny the caller's access token until it expires and revoke its session.

    A refresh token in the body names the session to revoke instead, but only one of the caller's
    own: anything else is ignored (the caller's session ends), so nobody can end another user's
    session with it.
    """
    session = _named_own_session(services, caller, refresh_token) or services.sessions.get(caller.sid)
    denied_until = caller.exp + services.settings.clock_leeway
    if session is None or session.user_id != caller.sub:
        services.denylist.deny_token(caller.jti, denied_until)
    else:
        deny = services.denylist.deny_token_operation(caller.jti, denied_until)
        revoke_session(services, session, "logout", client, extra=[deny])
    session_id = session.sid if session is not None else caller.sid
    audit("logout", "success", client, user_id=caller.sub, session_id=session_id)


def _named_own_session(services: Services, caller: AccessClaims, refresh_token: str | None) -> Session | None:
    """The caller's other session that `refresh_token` belongs to, if it really is one."""
    named = session_id_of(refresh_token) if refresh_token else None
    if not named or named == caller.sid:
        return None
    record = services.sessions.get_refresh(token_hash(refresh_token or ""))
    if record is None or record.sid != named:
        return None
    session = services.sessions.get(named)
    return session if session is not None and session.user_id == caller.sub else None

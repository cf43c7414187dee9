"""Sessions: start one, list a user's, end one, log out, log out everywhere.

Revocation rules: ending a session marks it revoked and denies its access tokens (SID# entry);
a per-user "not before" refuses every access token issued and every session created at or before
it, in one atomic write, whether or not the sessions could be listed; `*` does the same for every
user. Listing and revoking the sessions one by one afterwards is clean-up, best effort.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.core.errors import DomainError, NotFound, ServiceUnavailable
from shared.core.observability import Client, Event, audit, logger
from shared.credentials.access_tokens import AccessClaims, issue_access_token
from shared.credentials.identity import Identity
from shared.credentials.refresh_tokens import (
    SESSION_ID,
    new_refresh_token,
    new_session_id,
    session_id_of,
    token_hash,
)
from shared.runtime.services import Services
from shared.store.dynamo import Operation, TransactionRejected
from shared.store.session_items import Session

REUSE = "refresh_token_reuse"  # why a session ends when a rotated refresh token comes back


@dataclass(frozen=True)
class TokenGrant:
    access_token: str
    refresh_token: str
    expires_in: int
    refresh_expires_in: int
    claims: AccessClaims
    identity: Identity


@dataclass(frozen=True)
class SessionView:
    session: Session
    current: bool


def grant(
    services: Services, session: Session, refresh_token: str, idle_expires: int, at_ms: int
) -> TokenGrant:
    """An access token issued at `at_ms` (when the session's state was read) and the refresh token."""
    identity = Identity.of(session)
    access_token, claims = issue_access_token(
        identity,
        session.sid,
        services.settings,
        services.keys,
        at_ms=at_ms,
        auth_time=session.auth_time,
        amr=session.amr,
    )
    return TokenGrant(
        access_token=access_token,
        refresh_token=refresh_token,
        expires_in=services.settings.access_token_ttl,
        refresh_expires_in=max(0, min(idle_expires, session.abs_expires) - at_ms // 1000),
        claims=claims,
        identity=identity,
    )


def idle_expiry(services: Services, at_ms: int, abs_expires: int) -> int:
    return min(at_ms // 1000 + services.settings.refresh_idle_ttl, abs_expires)


def start_session(
    services: Services,
    identity: Identity,
    client: Client,
    extra: list[Operation],
    *,
    at: int,
    user_version: int,
    amr: tuple[str, ...],
    auth_time: int,
    new_device: bool = False,
    switch_unthrown_since: int = 0,
) -> TokenGrant:
    """Create a session and its first refresh token, with `extra` operations, in one transaction
    committed before any token is signed. The session and its tokens date from `at`, the moment the
    identity and the account version were read; they carry `amr`, what the way in proved (every
    caller says it: shared/sessions/assurance.py), and `auth_time`, when (epoch seconds) it was last
    proven. A session dated later than its reads (`at` after them) commits only if the emergency
    switch was not thrown since those reads (`switch_unthrown_since`). Raises TransactionRejected
    when a condition fails (the caller knows what it meant)."""
    if not amr or auth_time <= 0:
        raise ValueError("a session needs what was proven and when")
    sid = new_session_id()
    refresh_token = new_refresh_token(sid)
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
        user_version=user_version,
        amr=amr,
        auth_time=auth_time,
    )
    idle_expires = idle_expiry(services, at, session.abs_expires)
    if switch_unthrown_since:
        extra = [*extra, services.denylist.switch_not_reached_check(sid, switch_unthrown_since)]
    services.sessions.create(session, token_hash(refresh_token), idle_expires, extra)
    return grant(services, session, refresh_token, idle_expires, at)


def revoke_session(
    services: Services,
    session: Session,
    reason: str,
    client: Client,
    extra: list[Operation] | None = None,
) -> None:
    settings = services.settings
    # Denied until the last access token the session could have issued has expired.
    denied_until = session.abs_expires + settings.access_token_ttl + settings.clock_leeway
    try:
        services.sessions.revoke(session.sid, denied_until, reason, services.clock.now_ms(), extra or [])
    except TransactionRejected as rejected:
        raise ServiceUnavailable("DynamoDB") from rejected
    outcome = "detected" if reason == REUSE else "success"
    event = Event.REFRESH_REUSE if reason == REUSE else Event.SESSION_REVOKED
    audit(event, outcome, client, user_id=session.user_id, session_id=session.sid, reason=reason)


def logout(services: Services, caller: AccessClaims, refresh_token: str | None, client: Client) -> None:
    """Deny the caller's access token until it expires and end the caller's session, always.

    A refresh token may name one more of the caller's own sessions to end as well (never instead);
    anything else is ignored, so nobody can end another user's session with it.
    """
    own = services.sessions.get(caller.sid)
    denied_until = caller.exp + services.settings.clock_leeway
    if own is not None and own.user_id == caller.sub:
        deny = services.denylist.deny_token_operation(caller.jti, denied_until)
        revoke_session(services, own, "logout", client, extra=[deny])
    else:
        services.denylist.deny_token(caller.jti, denied_until)
    named = _named_own_session(services, caller, refresh_token)
    if named is not None:
        revoke_session(services, named, "logout", client)
    audit(Event.LOGOUT, "success", client, user_id=caller.sub, session_id=caller.sid)


def _named_own_session(services: Services, caller: AccessClaims, refresh_token: str | None) -> Session | None:
    """The caller's other session that `refresh_token` belongs to, if it really is one."""
    named = session_id_of(refresh_token)
    if not named or named == caller.sid or refresh_token is None:
        return None
    record = services.sessions.refresh_token(token_hash(refresh_token))
    if record is None or record.sid != named:
        return None
    session = services.sessions.get(named)
    return session if session is not None and session.user_id == caller.sub else None


def live_sessions(services: Services, user_id: str) -> list[Session]:
    at = services.clock.now_ms()
    idle = services.settings.refresh_idle_ttl
    return sorted(
        (session for session in services.sessions.sessions_of(user_id) if session.is_live(at, idle)),
        key=lambda session: session.created_at,
    )


def list_sessions(services: Services, caller: AccessClaims) -> list[SessionView]:
    return [
        SessionView(session, session.sid == caller.sid) for session in live_sessions(services, caller.sub)
    ]


def end_session(services: Services, caller: AccessClaims, session_id: str, client: Client) -> None:
    """End one of the caller's own sessions; anybody else's id is simply not found."""
    well_formed = SESSION_ID.fullmatch(session_id) is not None
    session = services.sessions.get(session_id) if well_formed else None  # never an oversized key
    if session is None or session.user_id != caller.sub or not session.is_live(services.clock.now_ms()):
        raise NotFound()
    revoke_session(services, session, "revoked_by_user", client)


def revocation_time(services: Services, user_id: str) -> int:
    """A not-before for a revocation starting now: at or after its start, and after the user's
    current one (a not-before never moves back, whatever the clock of whoever wrote it)."""
    return max(services.clock.now_ms(), services.denylist.not_before(user_id) + 1)


def clean_up_sessions(services: Services, user_id: str, reason: str, client: Client, keep: str = "") -> int:
    """After a not-before: mark the user's listed sessions revoked, best effort (the not-before has
    already ended them all, listed or not). How many were marked."""
    ended = 0
    for session in live_sessions(services, user_id):
        if session.sid == keep:
            continue
        try:
            revoke_session(services, session, reason, client)
        except DomainError as error:
            logger.warning(
                "session clean-up skipped", extra={"reason": str(error.reason), "detail": error.detail}
            )
            continue
        ended += 1
    return ended


def logout_all(services: Services, caller: AccessClaims, client: Client) -> int:
    """Every access token and every session of the caller, issued before now, stops working."""
    services.denylist.set_not_before(caller.sub, revocation_time(services, caller.sub))
    ended = clean_up_sessions(services, caller.sub, "logout_all", client)
    audit(Event.LOGOUT_ALL, "success", client, user_id=caller.sub, reason="logout_all")
    return ended

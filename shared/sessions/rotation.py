"""Refresh: rotate a refresh token with theft detection and a grace window.

Each use rotates the token in one conditional transaction. Presenting a rotated token again is
theft (the whole session is revoked), except the immediate parent within the grace window while
its child is unused: that retry gets the very same child back.
"""

from __future__ import annotations

from shared.core.errors import InvalidRefreshToken, Reason, ServiceUnavailable
from shared.core.observability import Client, Event, audit
from shared.credentials.refresh_tokens import derive_child, session_id_of, token_hash
from shared.runtime.services import Services
from shared.sessions.lifecycle import REUSE, TokenGrant, grant, idle_expiry, revoke_session
from shared.store.dynamo import TransactionRejected
from shared.store.session_items import Session


def refresh(services: Services, presented: str, client: Client) -> TokenGrant:
    """Rotate a refresh token, or answer a retry within the grace window, or detect theft."""
    sid = session_id_of(presented)
    if sid is None:
        raise InvalidRefreshToken(Reason.MALFORMED)
    presented_hash = token_hash(presented)
    grace_ms = services.settings.refresh_grace_seconds * 1000
    reloaded = False

    for _attempt in range(3):
        # The successor under each derivation key, the current one first: during a key rotation a
        # retry may reach a container that derived the child with the other key.
        successors = {token_hash(child): child for child in _successors(services, presented, reloaded)}
        at = services.clock.now_ms()
        view = services.sessions.view(presented_hash, list(successors), sid)
        record, session = view.presented, view.session
        if record is None or record.sid != sid or session is None:
            raise InvalidRefreshToken(Reason.UNKNOWN_TOKEN)
        if not session.is_live(at):
            raise InvalidRefreshToken(Reason.SESSION_ENDED)
        idle_expires = idle_expiry(services, at, session.abs_expires)

        if record.status == "active":
            if not record.is_usable(at):
                raise InvalidRefreshToken(Reason.TOKEN_EXPIRED)
            child_hash, child = next(iter(successors.items()))
            try:
                services.sessions.rotate(session, presented_hash, child_hash, at, idle_expires)
            except TransactionRejected as rejected:
                if rejected.reasons[:2] != ["None", "None"]:
                    continue  # another request rotated this token first: read again
                raise InvalidRefreshToken(Reason.SESSION_REVOKED) from rejected
            _audit(client, session, "rotated")
            return grant(services, session, child, idle_expires, at)

        if record.status == "used" and record.child_hash not in successors and not reloaded:
            reloaded = True  # derived under a key this container has not read yet: read the keys again
            continue
        child_record = view.children.get(record.child_hash)
        within_grace = (
            record.status == "used"
            and at - record.used_at <= grace_ms
            and child_record is not None
            and child_record.is_usable(at)
        )
        if within_grace and child_record is not None:
            try:
                services.sessions.confirm_live(session, at)
            except TransactionRejected as rejected:
                raise InvalidRefreshToken(Reason.SESSION_REVOKED) from rejected
            _audit(client, session, "grace_retry")
            return grant(services, session, successors[record.child_hash], child_record.idle_expires, at)

        revoke_session(services, session, REUSE, client)
        raise InvalidRefreshToken(Reason.REUSE_DETECTED)

    raise ServiceUnavailable("DynamoDB")


def _successors(services: Services, presented: str, reload: bool) -> list[str]:
    return [derive_child(presented, key) for key in services.refresh_keys(reload=reload)]


def _audit(client: Client, session: Session, how: str) -> None:
    audit(Event.REFRESH, "success", client, user_id=session.user_id, session_id=session.sid, reason=how)

"""Accounts and sessions: list and end sessions, log out everywhere, change passwords, and the
operator's actions (role change, disable, enable, delete, reset password, global revocation).

Revocation rules: ending a session marks it revoked and denies its access tokens (SID# entry);
a per-user "not before" denies every access token issued earlier (and, with sessions, every
session created earlier); `*` does the same for every user.
"""

from __future__ import annotations

import functools
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

from shared import passwords
from shared.errors import BadRequest, NotFound, TooManyAttempts
from shared.login import lockout_remaining, normalise_email
from shared.observability import OPERATOR, Client, audit
from shared.services import Services
from shared.sessions import revoke_session
from shared.store import GLOBAL_SUBJECT, Session, User, now_ms
from shared.tokens import AccessClaims, ClaimsTooLarge, Identity, check_identity

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128
COMMON_PASSWORDS_FILE = Path(__file__).with_name("data") / "common-passwords.txt"
SESSION_ID = re.compile(r"[A-Za-z0-9_-]{22}")  # 16 random bytes, base64url (shared.sessions)


@dataclass(frozen=True)
class SessionView:
    session: Session
    current: bool


def live_sessions(services: Services, user_id: str) -> list[Session]:
    at = now_ms()
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
    if session is None or session.user_id != caller.sub or not session.is_live(now_ms()):
        raise NotFound()
    revoke_session(services, session, "revoked_by_user", client)


def revoke_everything(services: Services, user_id: str, client: Client, event: str, reason: str) -> int:
    """Every access token and every session of the user, issued before now, stops working."""
    _not_before(services, user_id, sessions=True)
    ended = 0
    for session in live_sessions(services, user_id):
        revoke_session(services, session, reason, client)
        ended += 1
    audit(event, "success", client, user_id=user_id, reason=reason)
    return ended


def logout_all(services: Services, caller: AccessClaims, client: Client) -> int:
    return revoke_everything(services, caller.sub, client, "logout_all", "logout_all")


def _not_before(services: Services, subject: str, *, sessions: bool) -> None:
    settings = services.settings
    keep = max(settings.session_max_ttl, settings.access_token_ttl) + settings.clock_leeway
    services.denylist.set_not_before(subject, now_ms(), sessions=sessions, keep_seconds=keep)


@functools.cache
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def check_password_policy(password: str, field: str, email: str = "") -> None:
    """Length 12 to 128 characters (never truncated), not a common password, not the email."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise BadRequest(field, f"{field} must be at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise BadRequest(field, f"{field} must be at most {MAX_PASSWORD_LENGTH} characters")
    lowered = password.lower()
    if lowered in common_passwords():
        raise BadRequest(field, f"{field} is too common: choose another")
    if email and lowered.strip() == email.lower():
        raise BadRequest(field, f"{field} must not be your email address")


def change_password(services: Services, caller: AccessClaims, current: str, new: str, client: Client) -> None:
    """Check the current password (failures count towards the lockout), store the new hash, end
    every other session and deny every access token issued before now."""
    settings = services.settings
    user, failures = services.users.login_state(caller.user_type, caller.email)
    if user is None or user.user_id != caller.sub or user.disabled:
        raise NotFound()
    at = now_ms()
    retry_after = lockout_remaining(failures, at, settings)
    if retry_after:
        raise TooManyAttempts(retry_after)
    if not passwords.verify_password(user.password_hash, current):
        services.users.record_failure(
            user.user_type, user.email, failures, at, settings.lockout_window_seconds
        )
        audit(
            "password_change",
            "failure",
            client,
            user_id=user.user_id,
            session_id=caller.sid,
            reason="wrong_current_password",
        )
        raise BadRequest("current_password", "current_password is incorrect")
    check_password_policy(new, "new_password", user.email)
    if new == current:
        raise BadRequest("new_password", "new_password must differ from current_password")
    services.users.update(user, password_hash=passwords.hash_password(new))
    _not_before(services, user.user_id, sessions=False)
    for session in live_sessions(services, user.user_id):
        if session.sid != caller.sid:
            revoke_session(services, session, "password_changed", client)
    audit("password_changed", "success", client, user_id=user.user_id, session_id=caller.sid)


# ------------------------------------------------------------------------------ operator actions


def find_user(services: Services, email: str, user_type: str) -> User:
    user = services.users.get(user_type, normalise_email(email))
    if user is None:
        raise NotFound()
    return user


def new_user(
    email: str, password: str, *, name: str, role: str, user_type: str, disabled: bool = False
) -> User:
    """A new account with a fresh id and an argon2id hash (not yet stored, not yet validated)."""
    return User(
        user_id=str(uuid.uuid4()),
        email=email,
        name=name,
        role=role,
        user_type=user_type,
        password_hash=passwords.hash_password(password),
        disabled=disabled,
        created_at=now_ms(),
    )


def create_account(
    services: Services, email: str, password: str, *, name: str, role: str, user_type: str
) -> User:
    email = normalise_email(email)
    check_password_policy(password, "password", email)
    user = new_user(email, password, name=name, role=role, user_type=user_type)
    try:
        check_identity(Identity(user.user_id, email, name, role, user_type))
    except ClaimsTooLarge as error:
        raise BadRequest(
            "user",
            f"invalid {error}: email at most 254, name at most 256 characters, "
            "role and type letters, digits, '.', '_' or '-'",
        ) from None
    if not services.users.create(user):
        raise BadRequest("email", f"a {user_type} user with email {email} already exists")
    audit("user_created", "success", OPERATOR, user_id=user.user_id)
    return user


def change_role(services: Services, user: User, role: str) -> None:
    """New role now: sessions refresh with it, and every access token issued before now is denied."""
    try:
        check_identity(Identity(user.user_id, user.email, user.name, role, user.user_type))
    except ClaimsTooLarge:
        raise BadRequest("role", "role must be letters, digits, '.', '_' or '-' (at most 64)") from None
    services.users.update(user, role=role)
    for session in live_sessions(services, user.user_id):
        services.sessions.set_role(session.sid, role)
    _not_before(services, user.user_id, sessions=False)
    audit("role_changed", "success", OPERATOR, user_id=user.user_id, reason=role)


def disable_user(services: Services, user: User) -> int:
    services.users.update(user, disabled=True)
    return revoke_everything(services, user.user_id, OPERATOR, "user_disabled", "disabled")


def enable_user(services: Services, user: User) -> None:
    services.users.update(user, disabled=False)
    audit("user_enabled", "success", OPERATOR, user_id=user.user_id)


def delete_user(services: Services, user: User) -> int:
    ended = revoke_everything(services, user.user_id, OPERATOR, "user_deleted", "deleted")
    services.users.delete(user)
    return ended


def reset_password(services: Services, user: User, password: str) -> int:
    check_password_policy(password, "password", user.email)
    services.users.update(user, password_hash=passwords.hash_password(password))
    return revoke_everything(services, user.user_id, OPERATOR, "password_reset", "password_reset")


def revoke_all_tokens_of_everyone(services: Services) -> None:
    """The emergency switch: every access token and session of every user, issued before now."""
    _not_before(services, GLOBAL_SUBJECT, sessions=True)
    audit("global_revocation", "success", OPERATOR)

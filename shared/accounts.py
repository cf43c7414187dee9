"""Accounts: the owner's password change, and the operator's actions (create, role change,
disable, enable, delete, reset password, global revocation)."""

from __future__ import annotations

import uuid

from shared import passwords
from shared.errors import BadRequest, NotFound, TooManyAttempts
from shared.login import lockout_remaining, normalise_email
from shared.observability import OPERATOR, Client, audit
from shared.passwords import check_password_policy
from shared.services import Services
from shared.sessions import live_sessions, revoke_everything, revoke_session, set_not_before
from shared.store.denylist import GLOBAL_SUBJECT
from shared.store.users import User
from shared.tokens import AccessClaims, Identity, InvalidIdentity, check_identity


def change_password(services: Services, caller: AccessClaims, current: str, new: str, client: Client) -> None:
    """Check the current password (failures count towards the lockout), store the new hash, end
    every other session and deny every access token issued before now."""
    settings = services.settings
    user, failures = services.users.login_state(caller.user_type, caller.email)
    if user is None or user.user_id != caller.sub or user.disabled:
        raise NotFound()
    at = services.clock.now_ms()
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
    set_not_before(services, user.user_id, sessions=False)
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
    email: str,
    password: str,
    *,
    name: str,
    role: str,
    user_type: str,
    created_at: int,
    disabled: bool = False,
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
        created_at=created_at,
    )


def create_account(
    services: Services, email: str, password: str, *, name: str, role: str, user_type: str
) -> User:
    email = normalise_email(email)
    check_password_policy(password, "password", email)
    at = services.clock.now_ms()
    user = new_user(email, password, name=name, role=role, user_type=user_type, created_at=at)
    try:
        check_identity(Identity(user.user_id, email, name, role, user_type))
    except InvalidIdentity as error:
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
    except InvalidIdentity:
        raise BadRequest("role", "role must be letters, digits, '.', '_' or '-' (at most 64)") from None
    services.users.update(user, role=role)
    for session in live_sessions(services, user.user_id):
        services.sessions.set_role(session.sid, role)
    set_not_before(services, user.user_id, sessions=False)
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
    set_not_before(services, GLOBAL_SUBJECT, sessions=True)
    audit("global_revocation", "success", OPERATOR)

"""Accounts: the operator's actions (create, role change, disable, enable, delete, reset password,
global revocation). The owner's password change: shared/accounts/password_change.py."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from shared.core.errors import BadRequest, NotFound, ServiceUnavailable
from shared.core.observability import OPERATOR, Event, audit
from shared.credentials import passwords
from shared.credentials.identity import Identity, InvalidIdentity, check_identity
from shared.credentials.passwords import check_password_policy
from shared.login.flow import normalise_email
from shared.runtime.services import Services
from shared.sessions.lifecycle import clean_up_sessions, revocation_time
from shared.store.denylist import GLOBAL_SUBJECT
from shared.store.dynamo import Operation, TransactionRejected, transact_write
from shared.store.user_items import User

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


def check_new_account(services: Services, email: str, *, name: str, role: str, user_type: str) -> str:
    """The email as stored, or BadRequest naming the field of a new account that is wrong."""
    email = normalise_email(email)
    check_email(email)
    check_user_type(services, user_type)
    check_role(services, role)
    if not name.strip():
        raise BadRequest("name", "name must not be empty")
    return email


def create_account(
    services: Services, email: str, password: str, *, name: str, role: str, user_type: str
) -> User:
    email = check_new_account(services, email, name=name, role=role, user_type=user_type)
    check_password_policy(password, "password", email, services.settings, name=name)
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
    audit(Event.USER_CREATED, "success", OPERATOR, user_id=user.user_id)
    return user


def revoke_account(
    services: Services,
    user: User,
    change: Callable[[User], list[Operation]],
    event: Event,
    reason: str,
) -> int:
    """Apply `change` to the account and write a not-before in one transaction, then clean up its
    sessions; how many ended."""

    def with_not_before(current: User) -> list[Operation]:
        not_before = revocation_time(services, current.user_id)
        return [*change(current), services.denylist.not_before_operation(current.user_id, not_before)]

    current = _apply_to_current(services, user, with_not_before)
    ended = clean_up_sessions(services, current.user_id, reason, OPERATOR)
    audit(event, "success", OPERATOR, user_id=current.user_id, reason=reason)
    return ended


def _apply_to_current(services: Services, user: User, change: Callable[[User], list[Operation]]) -> User:
    """Write `change` of the account as it is now: read again and retried when it changed since it
    was read (each operation is conditioned on the version read); NotFound once it is gone."""
    for _attempt in range(3):
        current = services.users.get(user.user_type, user.email)
        if current is None:
            raise NotFound()
        try:
            transact_write(services.sessions.dynamodb, change(current))
        except TransactionRejected:
            continue
        return current
    raise ServiceUnavailable("DynamoDB")


def check_role(services: Services, role: str) -> None:
    """A role the route declaration knows (declared, or named by a route), or BadRequest listing them."""
    known = services.routes.roles
    if role not in known:
        raise BadRequest("role", f"unknown role {role!r}: the route declaration knows {', '.join(known)}")


def check_email(email: str) -> None:
    """A syntactically valid address (deliverability is not checked: no DNS from here). Imported
    here, not at the top: only account creation (the operator CLI) needs the library."""
    from email_validator import EmailNotValidError, validate_email

    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError as error:
        raise BadRequest("email", f"{email!r} is not a valid email address: {error}") from None


def check_user_type(services: Services, user_type: str) -> None:
    known = services.routes.user_types
    if user_type not in known:
        raise BadRequest(
            "type", f"unknown user type {user_type!r}: the route declaration has {', '.join(known)}"
        )


def change_role(services: Services, user: User, role: str) -> int:
    """New role now: every session and access token issued with the old one ends."""
    check_role(services, role)
    try:
        check_identity(Identity(user.user_id, user.email, user.name, role, user.user_type))
    except InvalidIdentity:
        raise BadRequest("role", "role must be letters, digits, '.', '_' or '-' (at most 64)") from None
    return revoke_account(
        services,
        user,
        lambda current: [services.users.update_operation(current, role=role)],
        Event.ROLE_CHANGED,
        role,
    )


def disable_user(services: Services, user: User) -> int:
    return revoke_account(
        services,
        user,
        lambda current: [services.users.update_operation(current, disabled=True)],
        Event.USER_DISABLED,
        "disabled",
    )


def enable_user(services: Services, user: User) -> None:
    current = _apply_to_current(
        services, user, lambda current: [services.users.update_operation(current, disabled=False)]
    )
    audit(Event.USER_ENABLED, "success", OPERATOR, user_id=current.user_id)


def delete_user(services: Services, user: User) -> int:
    return revoke_account(
        services,
        user,
        lambda current: [services.users.delete_operation(current)],
        Event.USER_DELETED,
        "deleted",
    )


def reset_password(services: Services, user: User, password: str) -> int:
    check_password_policy(password, "password", user.email, services.settings, name=user.name)
    password_hash = passwords.hash_password(password)
    ended = revoke_account(
        services,
        user,
        lambda current: [services.users.update_operation(current, password_hash=password_hash)],
        Event.PASSWORD_RESET,
        "password_reset",
    )
    from shared.mail.notifications import notify_password_changed  # only a password change sends mail

    notify_password_changed(services, user, OPERATOR)
    return ended


def unlock(services: Services, user_type: str, email: str) -> int:
    """Clear the login lockout of an account (from every source IP); how many counters there were."""
    cleared = services.users.unlock(user_type, normalise_email(email))
    audit(Event.USER_UNLOCKED, "success", OPERATOR, reason=f"{cleared} counters")
    return cleared


def revoke_all_tokens_of_everyone(services: Services) -> None:
    """The emergency switch: every access token and session of every user, issued before now."""
    services.denylist.set_not_before(GLOBAL_SUBJECT, services.clock.now_ms())
    audit(Event.GLOBAL_REVOCATION, "success", OPERATOR)

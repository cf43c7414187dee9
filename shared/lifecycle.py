"""The account lifecycle: invitations, self-service password reset by email, and the emails that
tell users about changes to their account.

Links. A link carries a token of 256 random bits; only its SHA-256 is stored (shared/store/links.py),
with the account version it was issued for and its expiry. It is used by one transaction that
deletes it on the condition that it is still there and still the account's current link, and changes
the account on the condition that it is still at that version: so a link works once, ever; a newer
link, a password change or any other account change kills it; of two requests with one link exactly
one wins. Every kind of bad link gets the same 400 naming `token`.

Invitations. The account is created disabled, with the hash of a random password nobody knows (a
login does the same work as for any account and fails like a wrong password), in the same
transaction as its link. If the email cannot be sent, both are deleted again: no half-made
invitation is left. Accepting sets the password, enables the account and answers with a session.

Reset. Asking always answers the same (202) after the same minimum time, whether or not the account
exists, and counts the request per account and IP, per account and per IP (the login lockout's
rules) whether or not it exists. Only a real, enabled account gets a link. Using it sets the
password and, in the same transaction, writes the not-before that ends every older session and access
token, clears the account's login lock and answers with a fresh session.
"""

from __future__ import annotations

import dataclasses
import secrets
import time
from typing import NoReturn

from shared import passwords
from shared.accounts import (
    check_email,
    check_role,
    check_user_type,
    find_user,
    identity_of_user,
    new_user,
)
from shared.clock import iso_time
from shared.errors import BadRequest, InvalidLink, Reason, ServiceUnavailable, TooManyAttempts
from shared.lockout import reserve_attempt
from shared.login import normalise_email
from shared.mail import MailNotSent, can_send, link, render, send
from shared.observability import Client, audit, logger
from shared.passwords import check_password_policy
from shared.services import Services
from shared.sessions import TokenGrant, clean_up_sessions, revocation_time, start_session
from shared.store.dynamo import TransactionRejected, transact_write
from shared.store.links import INVITATION, RESET, Link, LinkStore, request_counter_keys, token_hash
from shared.store.users import User, lock_key
from shared.tokens import MAX_EMAIL_LENGTH, InvalidIdentity, check_identity

TOKEN_BYTES = 32
TOKEN_LENGTH = 43  # token_urlsafe(32)
MAIL = "Amazon SES"


def links_of(services: Services) -> LinkStore:
    return LinkStore(services.users.table, services.users.dynamodb)


def new_link(purpose: str, user: User, expires: int) -> tuple[str, Link]:
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, Link(token_hash(token), purpose, user.user_type, user.email, user.version, expires)


def is_token_shaped(token: str) -> bool:
    return len(token) == TOKEN_LENGTH and all(c.isascii() and (c.isalnum() or c in "-_") for c in token)


# ---------------------------------------------------------------------------------- invitations


@dataclasses.dataclass(frozen=True)
class Invitation:
    user: User
    expires: int  # epoch seconds


def invite(
    services: Services, email: str, *, name: str, role: str, user_type: str, actor: Client
) -> Invitation:
    """Create a disabled account and its invitation link in one transaction, then email the link;
    if the email cannot be sent, delete both again and answer 503."""
    settings = services.settings
    email = normalise_email(email)
    check_email(email)
    check_user_type(services, user_type)
    check_role(services, role)
    if not name.strip():
        raise BadRequest("name", "name must not be empty")
    if not can_send(settings):
        raise ServiceUnavailable(MAIL)  # nothing written: invitations need MAIL_SENDER and FRONTEND_URL
    at = services.clock.now_ms()
    unusable = secrets.token_urlsafe(32)  # nobody knows it: login fails like a wrong password
    user = dataclasses.replace(
        new_user(email, unusable, name=name, role=role, user_type=user_type, created_at=at, disabled=True),
        version=1,
    )
    try:
        check_identity(identity_of_user(user))
    except InvalidIdentity as error:
        raise BadRequest("email" if str(error) == "email" else "name", f"invalid {error}") from None
    links = links_of(services)
    replaced = links.current(INVITATION, user_type, email)  # left by an account deleted meanwhile
    token, invitation = new_link(INVITATION, user, at // 1000 + settings.invitation_ttl)
    try:
        transact_write(
            services.users.dynamodb,
            [services.users.create_operation(user), *links.issue_operations(invitation, replaced)],
        )
    except TransactionRejected:
        raise BadRequest("email", f"a {user_type} user with email {email} already exists") from None
    try:
        _send_invitation(services, user, token)
    except MailNotSent as error:
        _undo_invitation(services, user, invitation)
        audit("invitation_sent", "failure", actor, user_id=user.user_id, reason=error.reason)
        raise ServiceUnavailable(MAIL) from None
    audit("invitation_sent", "success", actor, user_id=user.user_id)
    return Invitation(user, invitation.expires)


def _send_invitation(services: Services, user: User, token: str) -> None:
    settings = services.settings
    hours = str(settings.invitation_ttl // 3600)
    url = link(settings, INVITATION, token)
    send(settings, render("invitation", user.email, name=user.name, email=user.email, link=url, hours=hours))


def _undo_invitation(services: Services, user: User, invitation: Link) -> None:
    operations = [
        services.users.delete_at_version_operation(user),
        *links_of(services).use_operations(invitation),
    ]
    try:
        transact_write(services.users.dynamodb, operations)
    except (TransactionRejected, ServiceUnavailable) as error:
        # The account stays a pending invitation whose link nobody received: resend or revoke it.
        logger.warning("invitation not undone", extra={"detail": type(error).__name__})


def _pending_invitation(services: Services, email: str, user_type: str) -> tuple[User, str]:
    user = find_user(services, email, user_type)
    current = links_of(services).current(INVITATION, user.user_type, user.email)
    if not current or not user.disabled:
        raise BadRequest("email", f"{user.email} has no pending invitation")
    return user, current


def resend_invitation(services: Services, email: str, user_type: str, actor: Client) -> Invitation:
    """A new link for a pending invitation; the old one dies in the same transaction."""
    settings = services.settings
    if not can_send(settings):
        raise ServiceUnavailable(MAIL)
    user, current = _pending_invitation(services, email, user_type)
    at = services.clock.now_ms()
    token, invitation = new_link(INVITATION, user, at // 1000 + settings.invitation_ttl)
    operations = [
        services.users.account_unchanged_check(user.user_type, user.email, user.version),
        *links_of(services).issue_operations(invitation, current),
    ]
    try:
        transact_write(services.users.dynamodb, operations)
    except TransactionRejected:
        raise BadRequest("email", f"the invitation of {user.email} changed meanwhile: try again") from None
    try:
        _send_invitation(services, user, token)
    except MailNotSent as error:
        audit("invitation_sent", "failure", actor, user_id=user.user_id, reason=error.reason)
        raise ServiceUnavailable(MAIL) from None
    audit("invitation_sent", "success", actor, user_id=user.user_id, reason="resent")
    return Invitation(user, invitation.expires)


def revoke_invitation(services: Services, email: str, user_type: str, actor: Client) -> None:
    """Delete a pending invitation and its account (only while it is still pending)."""
    user, current = _pending_invitation(services, email, user_type)
    pending = Link(current, INVITATION, user.user_type, user.email, user.version, 0)
    operations = [
        services.users.delete_at_version_operation(user),
        *links_of(services).use_operations(pending),
    ]
    try:
        transact_write(services.users.dynamodb, operations)
    except TransactionRejected:
        raise BadRequest("email", f"the invitation of {user.email} changed meanwhile: try again") from None
    audit("invitation_revoked", "success", actor, user_id=user.user_id)


def accept_invitation(services: Services, token: str, new_password: str, client: Client) -> TokenGrant:
    """Set the password, enable the account, use the link up and start a session, in one transaction."""
    at = services.clock.now_ms()
    invitation, user = _usable_link(services, token, INVITATION, at, client)
    if not user.disabled:
        _refuse(INVITATION, Reason.ACCOUNT_CHANGED, client, user.user_id)
    check_password_policy(new_password, "new_password", user.email, services.settings)
    commit = [
        services.users.update_operation(
            user, password_hash=passwords.hash_password(new_password), disabled=False
        ),
        *links_of(services).use_operations(invitation),
    ]
    try:
        grant = start_session(
            services, identity_of_user(user), client, commit, at=at, user_version=user.version + 1
        )
    except TransactionRejected:  # used by a parallel request, replaced, or the account changed
        _refuse(INVITATION, Reason.ACCOUNT_CHANGED, client, user.user_id)
    audit("invitation_accepted", "success", client, user_id=user.user_id, session_id=grant.claims.sid)
    return grant


# ------------------------------------------------------------------------------- password reset


def request_password_reset(services: Services, email: str, user_type: str, client: Client) -> None:
    """Email a reset link to a real, enabled account; the same answer, after at least the same
    time, whatever the account (FORGOT_PASSWORD_MIN_MS). TooManyAttempts past the limits."""
    started = time.monotonic()
    try:
        _request_password_reset(services, normalise_email(email), user_type, client)
    finally:
        remaining = services.settings.forgot_password_min_ms / 1000 - (time.monotonic() - started)
        if remaining > 0:
            sleep(remaining)


def sleep(seconds: float) -> None:
    time.sleep(seconds)


def _request_password_reset(services: Services, email: str, user_type: str, client: Client) -> None:
    settings = services.settings
    if len(email) > MAX_EMAIL_LENGTH:
        raise BadRequest("email", f"email is too long (at most {MAX_EMAIL_LENGTH} characters)")
    at = services.clock.now_ms()
    counters = services.users.attempts(request_counter_keys(user_type, email, client.source_ip))
    thresholds = [
        settings.forgot_password_account_threshold,
        settings.forgot_password_threshold,
        settings.forgot_password_ip_threshold,
    ]
    try:
        reserve_attempt(services, counters, thresholds, at)
    except TooManyAttempts:
        audit("password_reset_requested", "blocked", client, reason=Reason.LOCKED)
        raise
    user = services.users.get(user_type, email)
    if user is None or user.disabled or "reset_requested" not in settings.notifications:
        reason = Reason.UNKNOWN_USER if user is None else Reason.DISABLED
        audit(
            "password_reset_requested", "ignored", client, user_id=user.user_id if user else "", reason=reason
        )
        return
    links = links_of(services)
    token, reset = new_link(RESET, user, at // 1000 + settings.reset_link_ttl)
    operations = [
        services.users.account_unchanged_check(user.user_type, user.email, user.version),
        *links.issue_operations(reset, links.current(RESET, user.user_type, user.email)),
    ]
    try:
        transact_write(services.users.dynamodb, operations)
        url = link(settings, RESET, token)
        minutes = str(settings.reset_link_ttl // 60)
        send(
            settings, render("reset", user.email, name=user.name, email=user.email, link=url, minutes=minutes)
        )
    except (TransactionRejected, ServiceUnavailable, MailNotSent) as error:
        # The caller still gets the same 202: a failure must not tell that the account exists.
        failure = error.reason if isinstance(error, MailNotSent) else type(error).__name__
        audit("password_reset_requested", "failure", client, user_id=user.user_id, reason=failure)
        return
    audit("password_reset_requested", "success", client, user_id=user.user_id)


def reset_password(services: Services, token: str, new_password: str, client: Client) -> TokenGrant:
    """Set the new password, end every older session and access token (one not-before), clear the
    account's login lock, use the link up and start a fresh session, in one transaction."""
    at = services.clock.now_ms()
    reset, user = _usable_link(services, token, RESET, at, client)
    if user.disabled:
        _refuse(RESET, Reason.DISABLED, client, user.user_id)
    check_password_policy(new_password, "new_password", user.email, services.settings)
    not_before = revocation_time(services, user.user_id)
    locks = [lock_key(user.user_type, user.email), lock_key(user.user_type, user.email, client.source_ip)]
    commit = [
        services.users.update_operation(user, password_hash=passwords.hash_password(new_password)),
        services.denylist.not_before_operation(user.user_id, not_before),
        *services.users.reset_attempts_operations(locks),
        *links_of(services).use_operations(reset),
    ]
    try:
        grant = start_session(
            services, identity_of_user(user), client, commit, at=not_before + 1, user_version=user.version + 1
        )
    except TransactionRejected:
        _refuse(RESET, Reason.ACCOUNT_CHANGED, client, user.user_id)
    clean_up_sessions(services, user.user_id, "password_reset", client, keep=grant.claims.sid)
    audit(
        "password_reset", "success", client, user_id=user.user_id, session_id=grant.claims.sid, reason="link"
    )
    notify_password_changed(services, user, client)
    return grant


def _usable_link(services: Services, token: str, purpose: str, at: int, client: Client) -> tuple[Link, User]:
    """The live link of that purpose the token names and its account at the version it was issued
    for, or InvalidLink (the same answer for every kind of bad link)."""
    if not is_token_shaped(token):
        _refuse(purpose, Reason.MALFORMED, client)
    found = links_of(services).find(token_hash(token))
    if found is None or found.purpose != purpose:
        _refuse(purpose, Reason.UNKNOWN_LINK, client)
    if not found.is_live(at):
        _refuse(purpose, Reason.LINK_EXPIRED, client)
    user = services.users.get(found.user_type, found.email)
    if user is None or user.version != found.user_version:
        _refuse(purpose, Reason.ACCOUNT_CHANGED, client, user.user_id if user else "")
    return found, user


def _refuse(purpose: str, reason: Reason, client: Client, user_id: str = "") -> NoReturn:
    audit(f"{purpose}_link", "rejected", client, user_id=user_id, reason=reason)
    raise InvalidLink(reason)


# -------------------------------------------------------------------------------- notifications


def notify(services: Services, user: User, template: str, **values: str) -> None:
    """Email the user about their account, when that notification is on; a failure is logged, never
    raised (the change it reports has happened)."""
    settings = services.settings
    if template not in settings.notifications or not settings.mail_sender:
        return
    try:
        send(settings, render(template, user.email, name=user.name, email=user.email, **values))
    except MailNotSent as error:
        logger.warning("notification not sent", extra={"template": template, "reason": error.reason})


def notify_password_changed(services: Services, user: User, client: Client) -> None:
    notify(services, user, "password_changed", time=iso_time(services.clock.now_ms()))


def notify_new_device(services: Services, user: User, client: Client) -> None:
    device = client.user_agent[:200] or "an unknown device"
    at = iso_time(services.clock.now_ms())
    notify(services, user, "new_device", time=at, device=device, ip=client.source_ip or "unknown")

"""Invitations: the account is created disabled, with the hash of a random password nobody knows (a
login does the same work as for any account and fails like a wrong password), in the same
transaction as its link. If the email cannot be sent, both are deleted again: no half-made
invitation is left. Accepting sets the password, enables the account and answers with a session
(amr pwd), or with none when the user type must have a second factor (MFA_REQUIRED_TYPES): the user
then signs in and enrols it.
"""

from __future__ import annotations

import dataclasses
import secrets

from shared.accounts.actions import check_new_account, find_user, new_user
from shared.accounts.links import MAIL, links_of, new_link, refuse_link, usable_link
from shared.core.errors import BadRequest, Reason, ServiceUnavailable
from shared.core.observability import Client, Event, audit, logger
from shared.credentials import passwords
from shared.credentials.identity import Identity, InvalidIdentity, check_identity
from shared.credentials.passwords import check_password_policy
from shared.mail.sending import MailNotSent, can_send, link, render, send
from shared.runtime.services import Services
from shared.sessions.assurance import AMR_LINK, factor_due, no_factor_checks
from shared.sessions.lifecycle import TokenGrant, start_session
from shared.store.dynamo import TransactionRejected, transact_write
from shared.store.links import INVITATION, Link
from shared.store.user_items import User


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
    email = check_new_account(services, email, name=name, role=role, user_type=user_type)
    if not can_send(settings):
        raise ServiceUnavailable(MAIL)  # nothing written: invitations need MAIL_SENDER and FRONTEND_URL
    at = services.clock.now_ms()
    unusable = secrets.token_urlsafe(32)  # nobody knows it: login fails like a wrong password
    user = dataclasses.replace(
        new_user(email, unusable, name=name, role=role, user_type=user_type, created_at=at, disabled=True),
        version=1,
    )
    try:
        check_identity(Identity.of(user))
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
        audit(Event.INVITATION_SENT, "failure", actor, user_id=user.user_id, reason=error.reason)
        raise ServiceUnavailable(MAIL) from None
    audit(Event.INVITATION_SENT, "success", actor, user_id=user.user_id)
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
        audit(Event.INVITATION_SENT, "failure", actor, user_id=user.user_id, reason=error.reason)
        raise ServiceUnavailable(MAIL) from None
    audit(Event.INVITATION_SENT, "success", actor, user_id=user.user_id, reason="resent")
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
    audit(Event.INVITATION_REVOKED, "success", actor, user_id=user.user_id)


def accept_invitation(services: Services, token: str, new_password: str, client: Client) -> TokenGrant | None:
    """Set the password, enable the account, use the link up and start a session, in one transaction;
    no session (None) when a second factor is due: the link proves the mailbox, never a factor."""
    at = services.clock.now_ms()
    invitation, user = usable_link(services, token, INVITATION, at, client)
    if not user.disabled:
        refuse_link(INVITATION, Reason.ACCOUNT_CHANGED, client, user.user_id)
    check_password_policy(new_password, "new_password", user.email, services.settings, name=user.name)
    commit = [
        services.users.update_operation(
            user, password_hash=passwords.hash_password(new_password), disabled=False
        ),
        *links_of(services).use_operations(invitation),
    ]
    grant = None
    try:
        if factor_due(services, user):
            transact_write(services.users.dynamodb, commit)
        else:
            grant = start_session(
                services,
                Identity.of(user),
                client,
                [*commit, *no_factor_checks(services, user.user_id)],
                at=at,
                user_version=user.version + 1,
                amr=AMR_LINK,
                auth_time=at // 1000,
            )
    except TransactionRejected:  # used by a parallel request, replaced, or the account changed
        refuse_link(INVITATION, Reason.ACCOUNT_CHANGED, client, user.user_id)
    session_id = grant.claims.sid if grant else ""
    audit(Event.INVITATION_ACCEPTED, "success", client, user_id=user.user_id, session_id=session_id)
    return grant

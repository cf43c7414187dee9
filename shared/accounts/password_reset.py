"""Self-service password reset by an emailed link. Asking always answers the same (202) after the same
minimum time, whether or not the account exists, and counts the request per account and IP, per
account and per IP (the login lockout's rules) whether or not it exists. Only a real, enabled
account gets a link, and at most RESET_EMAILS_PER_DAY a day (counted in the transaction that issues
it): past that the answer is still the same 202, so the limit tells nothing either. An address the
account signed in from before is not counted per account and has a daily limit of its own, so
strangers asking from elsewhere cannot block the owner's reset. Using a link
sets the password and, in the same transaction, writes the not-before that ends every older session
and access token, clears the account's login lock and answers with a fresh session (amr pwd) -
unless a second factor is due (the account has one, or its user type must): a mailbox is no second
factor, so the answer then carries no tokens and the user signs in normally.
"""

from __future__ import annotations

import time

from shared.accounts.links import links_of, new_link, refuse_link, usable_link
from shared.accounts.password_change import new_password_session
from shared.core.errors import BadRequest, Reason, ServiceUnavailable, TooManyAttempts
from shared.core.observability import Client, Event, audit
from shared.credentials.identity import MAX_EMAIL_LENGTH
from shared.credentials.passwords import check_password_policy
from shared.login.flow import known_address, normalise_email
from shared.login.lockout import reserve_attempt
from shared.mail.sending import MailNotSent, link, render, send
from shared.runtime.services import Services
from shared.sessions.assurance import AMR_LINK, factor_due, no_factor_checks
from shared.sessions.lifecycle import TokenGrant
from shared.store.dynamo import TransactionRejected, transact_write
from shared.store.links import RESET, request_counter_keys
from shared.store.user_items import lock_key

MAIL_COUNTER = 1  # the index of the daily mail counter in the transaction that issues a link


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
    user = services.users.get(user_type, email)
    # Strangers cannot block the owner's own reset: an address the account signed in from before
    # skips the account-wide counter and has its own daily mail limit (issue 23, finding 5).
    known = known_address(user, client)
    keys = request_counter_keys(user_type, email, client.source_ip)
    thresholds = [
        settings.forgot_password_account_threshold,
        settings.forgot_password_threshold,
        settings.forgot_password_ip_threshold,
    ]
    counted = slice(1, None) if known else slice(None)
    try:
        reserve_attempt(services, services.users.attempts(keys[counted]), thresholds[counted], at)
    except TooManyAttempts:
        audit(Event.PASSWORD_RESET_REQUESTED, "blocked", client, reason=Reason.LOCKED)
        raise
    if user is None or user.disabled or "reset_requested" not in settings.notifications:
        reason = Reason.UNKNOWN_USER if user is None else Reason.DISABLED
        audit(
            Event.PASSWORD_RESET_REQUESTED,
            "ignored",
            client,
            user_id=user.user_id if user else "",
            reason=reason,
        )
        return
    links = links_of(services)
    token, reset = new_link(RESET, user, at // 1000 + settings.reset_link_ttl)
    operations = [
        services.users.account_unchanged_check(user.user_type, user.email, user.version),
        links.count_mail_operation(
            user.user_type, user.email, at, settings.reset_emails_per_day, known=known
        ),
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
        # The caller still gets the same 202: neither a failure nor the daily limit may tell that
        # the account exists.
        if isinstance(error, TransactionRejected) and error.failed(MAIL_COUNTER):
            reason = Reason.RESET_MAIL_LIMIT
            audit(Event.PASSWORD_RESET_REQUESTED, "blocked", client, user_id=user.user_id, reason=reason)
            return
        failure = error.reason if isinstance(error, MailNotSent) else type(error).__name__
        audit(Event.PASSWORD_RESET_REQUESTED, "failure", client, user_id=user.user_id, reason=failure)
        return
    audit(Event.PASSWORD_RESET_REQUESTED, "success", client, user_id=user.user_id)


def reset_password(services: Services, token: str, new_password: str, client: Client) -> TokenGrant | None:
    """Set the new password, end every older session and access token (one not-before), clear the
    account's login lock, use the link up and start a fresh session, in one transaction; no session
    (None) when a second factor is due: the link proves the mailbox, never a factor."""
    at = services.clock.now_ms()
    reset, user = usable_link(services, token, RESET, at, client)
    if user.disabled:
        refuse_link(RESET, Reason.DISABLED, client, user.user_id)
    check_password_policy(new_password, "new_password", user.email, services.settings, name=user.name)
    locks = [lock_key(user.user_type, user.email), lock_key(user.user_type, user.email, client.source_ip)]
    due = factor_due(services, user)
    try:
        grant = new_password_session(
            services,
            user,
            new_password,
            client,
            cleared_locks=locks,
            reason="password_reset",
            proof=None if due else (AMR_LINK, at // 1000),
            read_at=at,
            extra=[
                *links_of(services).use_operations(reset),
                *([] if due else no_factor_checks(services, user.user_id)),
            ],
        )
    except TransactionRejected:
        refuse_link(RESET, Reason.ACCOUNT_CHANGED, client, user.user_id)
    audit(
        Event.PASSWORD_RESET,
        "success",
        client,
        user_id=user.user_id,
        session_id=grant.claims.sid if grant else "",
        reason="link" if grant else "link_sign_in_required",
    )
    return grant

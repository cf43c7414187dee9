"""The owner's password change, and the new-password transaction a reset link shares with it.

A password change is not a login: the fresh session it answers with carries the caller's `amr` and
`auth_time` (shared/sessions/assurance.py), so it never looks fresher or stronger than the one that
asked."""

from __future__ import annotations

from shared.core.errors import BadRequest, InvalidCredentials, NotFound, Reason
from shared.core.observability import Client, Event, audit
from shared.credentials import passwords
from shared.credentials.access_tokens import AMR_PASSWORD, AccessClaims
from shared.credentials.identity import Identity
from shared.credentials.passwords import check_password_policy
from shared.login.lockout import reserve_attempt
from shared.runtime.services import Services
from shared.sessions.lifecycle import TokenGrant, clean_up_sessions, revocation_time, start_session
from shared.store.dynamo import Operation, TransactionRejected, transact_write
from shared.store.user_items import User, password_lock_key


def change_password(
    services: Services, caller: AccessClaims, current: str, new: str, client: Client
) -> TokenGrant:
    """Check the current password (attempts counted per session, not by the login lockout), then
    in one transaction: store the new hash (bumping the account version), write a not-before that
    ends every older session and access token, and start a fresh session for the caller, which is
    returned. A password change is not a login: the fresh session carries the caller's `amr` and
    `auth_time`, never more nor newer. Listing and revoking the old sessions afterwards is clean-up."""
    settings = services.settings
    at = services.clock.now_ms()
    user = services.users.get(caller.user_type, caller.email)
    if user is None or user.user_id != caller.sub or user.disabled:
        raise NotFound()
    check_password_policy(new, "new_password", user.email, settings, name=user.name)
    (counter,) = services.users.attempts([password_lock_key(caller.sid)])
    reserve_attempt(services, [counter], [settings.lockout_threshold], at)
    if not passwords.verify_password(user.password_hash, current):
        audit(
            Event.PASSWORD_CHANGE,
            "failure",
            client,
            user_id=user.user_id,
            session_id=caller.sid,
            reason=Reason.WRONG_PASSWORD,
        )
        raise BadRequest("current_password", "current_password is incorrect")
    if new == current:
        raise BadRequest("new_password", "new_password must differ from current_password")
    try:
        grant = new_password_session(
            services,
            user,
            new,
            client,
            cleared_locks=[counter.key],
            reason="password_changed",
            # the caller's proof; a token from before the `amr` claim has just proven the password
            proof=(caller.amr or AMR_PASSWORD, max(caller.auth_time, 1)),
            read_at=at,
        )
    except TransactionRejected:  # the account changed meanwhile: nothing was written
        raise InvalidCredentials(Reason.ACCOUNT_CHANGED) from None
    assert grant is not None  # a proof was given: a session was started
    audit(Event.PASSWORD_CHANGED, "success", client, user_id=user.user_id, session_id=grant.claims.sid)
    return grant


def new_password_session(
    services: Services,
    user: User,
    password: str,
    client: Client,
    *,
    cleared_locks: list[str],
    reason: str,
    proof: tuple[tuple[str, ...], int] | None,
    read_at: int,
    extra: list[Operation] | None = None,
) -> TokenGrant | None:
    """In one transaction: the new password's hash (bumping the account version), a not-before
    that ends every older session and access token, the lock counters cleared, `extra`, and, given
    a `proof` (the `amr` and `auth_time` it carries), a fresh session for the caller, which is
    returned (None without a proof: no session); then the older sessions are cleaned up (ended by
    `reason`) and the owner told by email. The session dates from the commit (so that sessions
    started meanwhile end with the not-before), so it commits only if the emergency switch was not
    thrown since the account was read (`read_at`). TransactionRejected when the account changed
    meanwhile or the switch was thrown: nothing was written."""
    not_before = revocation_time(services, user.user_id)
    commit = [
        services.users.update_operation(user, password_hash=passwords.hash_password(password)),
        services.denylist.not_before_operation(user.user_id, not_before),
        *services.users.reset_attempts_operations(cleared_locks),
        *(extra or []),
    ]
    grant = None
    if proof is None:
        transact_write(services.users.dynamodb, commit)
    else:
        amr, auth_time = proof
        grant = start_session(
            services,
            Identity.of(user),
            client,
            commit,
            at=not_before + 1,
            user_version=user.version + 1,
            amr=amr,
            auth_time=auth_time,
            switch_unthrown_since=read_at,
        )
    clean_up_sessions(services, user.user_id, reason, client, keep=grant.claims.sid if grant else "")
    from shared.mail.notifications import notify_password_changed  # only a password change sends mail

    notify_password_changed(services, user, client)
    return grant

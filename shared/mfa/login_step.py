"""The second step of a login: POST /auth/login/mfa {mfa_token, code}.

The challenge is read (unknown or expired: 401), then one attempt is counted on the login's counter
for this address before the code is checked, so wrong codes lock an address as wrong passwords do
(the account-wide ceiling was met at the password step). A TOTP or recovery code is also counted
on the account's consecutive-failure counter (issue 23, finding 4): MFA_FAILURE_LIMIT wrong codes
in a row, from anywhere and over any time, close code login until a recovery code, a passkey or the
unlock link emailed to the owner then; only a proven factor resets it. A TOTP code is accepted once
ever, a recovery code once (an audit event). The session is committed in one transaction with the
challenge's deletion (conditional on it being there: a challenge used twice gets 401) and on the
account version the password step read. Its tokens carry amr [pwd, otp, mfa].

A challenge for a code emailed past the account-wide ceiling (shared/login/step_up.py) takes that
code (CODE_TRIES tries); the login then goes on as after its password step: a factor due is asked
next, else tokens with amr [pwd].
"""

from __future__ import annotations

from shared.core import aws
from shared.core.errors import InvalidCredentials, Reason
from shared.core.observability import Client, Event
from shared.login.challenge import MfaChallenge, second_factor_challenge
from shared.login.flow import Admission, audit_login, finish_login, reserve_login_attempt
from shared.login.step_up import CODE_TRIES, code_matches
from shared.mail.sending import MailNotSent, link
from shared.mfa import factor as mfa
from shared.runtime.services import Services
from shared.sessions.assurance import AMR_EMAILED_CODE, AMR_PASSWORD_AND_OTP, has_factor
from shared.sessions.lifecycle import TokenGrant
from shared.store.challenges import Challenge
from shared.store.dynamo import transact_write
from shared.store.links import UNLOCK, LinkStore, new_link
from shared.store.user_items import User, code_lock_key


def complete_login(services: Services, token: str, code: str, client: Client) -> TokenGrant | MfaChallenge:
    at = services.clock.now_ms()
    challenge = services.challenges.get(token)
    if challenge is None or challenge.expires_ms <= at:
        audit_login(
            Event.LOGIN, "failure", client, challenge.user_id if challenge else "", Reason.MFA_CHALLENGE
        )
        raise InvalidCredentials(Reason.MFA_CHALLENGE)
    admission = reserve_login_attempt(
        services, challenge.user_type, challenge.email, client, at, challenge.user_id
    )
    user = admission.user
    if (
        user is None
        or user.user_id != challenge.user_id
        or user.version != challenge.version
        or user.disabled
    ):
        audit_login(Event.LOGIN, "failure", client, challenge.user_id, Reason.ACCOUNT_CHANGED)
        raise InvalidCredentials(Reason.ACCOUNT_CHANGED)
    if challenge.purpose == "email":
        return _emailed_code(services, token, challenge, code, user, admission, client, at)

    kms, key_id, seconds = aws.kms(), mfa.factor_key_id(services), at / 1000
    if challenge.purpose == "enrol":
        used = "otp" if mfa.confirm_totp(services.factors, kms, key_id, user.user_id, code, seconds) else None
    else:
        failures = services.users.count_code_attempt(user.user_id, services.settings.mfa_failure_limit)
        used = mfa.check_second_factor(
            services.factors, kms, key_id, user.user_id, code, seconds, totp_open=failures is not None
        )
        if used is None and failures == services.settings.mfa_failure_limit:
            _close_code_login(services, user, client, failures, at)
    if used is None:
        audit_login(Event.LOGIN, "failure", client, user.user_id, Reason.WRONG_CODE)
        raise InvalidCredentials(Reason.WRONG_CODE)

    grant = finish_login(
        services,
        user,
        admission.counters,
        client,
        at,
        method=used,
        amr=AMR_PASSWORD_AND_OTP,
        consume=[
            services.challenges.consume_operation(token),
            *services.users.reset_attempts_operations([code_lock_key(user.user_id)]),
        ],
        refused=lambda _: Reason.MFA_CHALLENGE,  # used twice, or the account changed meanwhile
    )
    sid = grant.claims.sid
    if challenge.purpose == "enrol":
        audit_login(Event.MFA_ENROL, "success", client, user.user_id, "", sid)
        from shared.mail.notifications import notify_factor_changed  # only an enrolment sends mail

        notify_factor_changed(services, user.email, user.name, "totp_added", client)
    if used == "recovery":
        audit_login(Event.MFA_RECOVERY_CODE_USED, "success", client, user.user_id, "", sid)
        from shared.mail.notifications import notify_recovery_code_used  # only this login sends mail

        notify_recovery_code_used(services, user, client)
    return grant


def _emailed_code(
    services: Services,
    token: str,
    challenge: Challenge,
    code: str,
    user: User,
    admission: Admission,
    client: Client,
    at: int,
) -> TokenGrant | MfaChallenge:
    """The code emailed past the ceiling: the mailbox is proven, and the login goes on as after its
    password step (a factor due next, else tokens proving the password)."""
    if not services.challenges.count_try(token, CODE_TRIES) or not code_matches(token, challenge, code):
        audit_login(Event.LOGIN, "failure", client, user.user_id, Reason.WRONG_CODE)
        raise InvalidCredentials(Reason.WRONG_CODE)
    consume = services.challenges.consume_operation(token)
    following = second_factor_challenge(services, user, at)
    if following is None:
        return finish_login(
            services,
            user,
            admission.counters,
            client,
            at,
            method="email_code",
            amr=AMR_EMAILED_CODE,
            consume=[consume],
            refused=lambda _: Reason.MFA_CHALLENGE,
        )
    transact_write(services.users.dynamodb, [consume])  # used once: a second use finds it gone
    audit_login(Event.MFA_CHALLENGE, following.purpose, client, user.user_id, "")
    return following


def _close_code_login(services: Services, user: User, client: Client, failures: int, at: int) -> None:
    """The limit of wrong codes is reached: the owner is told the password was used, with a link
    that reopens code login."""
    audit_login(Event.MFA_LOCKOUT, "closed", client, user.user_id, Reason.WRONG_CODE)
    links = LinkStore(services.users.table, services.users.dynamodb)
    expires = at // 1000 + services.settings.reset_link_ttl
    token, unlock = new_link(UNLOCK, user.user_type, user.email, user.version, expires)
    transact_write(
        services.users.dynamodb,
        links.issue_operations(unlock, links.current(UNLOCK, user.user_type, user.email)),
    )
    try:
        url = link(services.settings, UNLOCK, token)
    except MailNotSent:
        url = "(ask your administrator: no sign-in page is configured)"
    from shared.mail.notifications import notify_codes_failed  # only the closing attempt mails

    notify_codes_failed(services, user, client, failures, url)


def enrol_with_challenge(services: Services, token: str, client: Client) -> mfa.totp.Enrolment:
    """The enrolment of a user whose type must have a factor, during login (the challenge stands for
    the access token they do not have yet); the same challenge then completes the login. A password
    alone never adds a factor beside a passkey the account has: that takes the passkey's sign-in."""
    challenge = services.challenges.get(token)
    if (
        challenge is None
        or challenge.expires_ms <= services.clock.now_ms()
        or challenge.purpose != "enrol"
        or has_factor(services, challenge.user_id)
    ):
        audit_login(
            Event.MFA_ENROL, "failure", client, challenge.user_id if challenge else "", Reason.MFA_CHALLENGE
        )
        raise InvalidCredentials(Reason.MFA_CHALLENGE)
    return mfa.start_enrolment(services, challenge.user_id, challenge.email, client)

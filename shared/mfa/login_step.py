"""The second step of a login with a second factor: POST /auth/login/mfa {mfa_token, code}.

The challenge is read (unknown or expired: 401), then one attempt is reserved on the login's own
lockout counters (per account and source IP, and account-wide) before the code is checked, so
wrong codes lock the account exactly as wrong passwords do. A TOTP code is accepted once ever, a
recovery code once (an audit event). The session is committed in one transaction with the
challenge's deletion (conditional on it being there: a challenge used twice gets 401) and on the
account version the password step read. Its tokens carry amr [pwd, otp, mfa].
"""

from __future__ import annotations

from shared.core import aws
from shared.core.errors import InvalidCredentials, Reason
from shared.core.observability import Client, Event
from shared.login.flow import audit_login, finish_login, reserve_login_attempt
from shared.mfa import factor as mfa
from shared.runtime.services import Services
from shared.sessions.assurance import AMR_PASSWORD_AND_OTP, has_factor
from shared.sessions.lifecycle import TokenGrant


def complete_login(services: Services, token: str, code: str, client: Client) -> TokenGrant:
    at = services.clock.now_ms()
    challenge = services.challenges.get(token)
    if challenge is None or challenge.expires_ms <= at:
        audit_login(
            Event.LOGIN, "failure", client, challenge.user_id if challenge else "", Reason.MFA_CHALLENGE
        )
        raise InvalidCredentials(Reason.MFA_CHALLENGE)
    user, counters = reserve_login_attempt(
        services, challenge.user_type, challenge.email, client, at, challenge.user_id
    )
    if (
        user is None
        or user.user_id != challenge.user_id
        or user.version != challenge.version
        or user.disabled
    ):
        audit_login(Event.LOGIN, "failure", client, challenge.user_id, Reason.ACCOUNT_CHANGED)
        raise InvalidCredentials(Reason.ACCOUNT_CHANGED)

    kms, key_id, seconds = aws.kms(), mfa.factor_key_id(services), at / 1000
    if challenge.purpose == "enrol":
        used = "otp" if mfa.confirm_totp(services.factors, kms, key_id, user.user_id, code, seconds) else None
    else:
        used = mfa.check_second_factor(services.factors, kms, key_id, user.user_id, code, seconds)
    if used is None:
        audit_login(Event.LOGIN, "failure", client, user.user_id, Reason.WRONG_CODE)
        raise InvalidCredentials(Reason.WRONG_CODE)

    grant = finish_login(
        services,
        user,
        counters,
        client,
        at,
        method=used,
        amr=AMR_PASSWORD_AND_OTP,
        consume=[services.challenges.consume_operation(token)],
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

"""Past the account-wide lockout ceiling, an address the account never signed in from is asked for a
code emailed to the account (issue 23, finding 5): the ceiling stops a distributed guess without
locking the owner out (an address the account used before is let through, shared/login/flow.py).

Every attempt there gets the same answer, a challenge for an emailed code, after the same minimum
time (FORGOT_PASSWORD_MIN_MS, as a forgotten-password request: both send mail only for a real
account), whether the account exists and the password is right or not: a guess past the ceiling
learns nothing. Only a right password stores the challenge and emails its code (8 digits, as long
as the challenge lasts, at most CODE_TRIES tries, kept as an HMAC keyed by the challenge's token,
which is itself stored only as a hash). The code proves the mailbox, not a factor: it adds nothing
to `amr`, and a factor due is asked next (shared/mfa/login_step.py).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

from shared.core.observability import logger
from shared.login.challenge import MfaChallenge
from shared.mail.sending import MailNotSent, render, send
from shared.runtime.services import Services
from shared.store.challenges import Challenge
from shared.store.user_items import User

CODE_DIGITS = 8
CODE_TRIES = 5


def code_digest(token: str, code: str) -> str:
    return hmac.new(token.encode("utf-8"), code.encode("utf-8"), hashlib.sha256).hexdigest()


def code_matches(token: str, challenge: Challenge, code: str) -> bool:
    return bool(challenge.code_hash) and hmac.compare_digest(challenge.code_hash, code_digest(token, code))


def email_code_challenge(services: Services, proven: User | None, at_ms: int, started: float) -> MfaChallenge:
    """The answer past the ceiling: a challenge whose code is emailed only when `proven` (the
    account whose right password this attempt gave; None otherwise), no sooner than the floor
    after `started` (time.monotonic)."""
    settings = services.settings
    ttl = settings.mfa_challenge_ttl
    token = secrets.token_urlsafe(32)
    if proven is not None:
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        challenge = Challenge(
            proven.user_type,
            proven.email,
            proven.user_id,
            proven.version,
            "email",
            at_ms + ttl * 1000,
            code_digest(token, code),
        )
        services.challenges.create(token, challenge)
        try:
            mail = render("sign_in_code", proven.email, name=proven.name, code=code, minutes=str(ttl // 60))
            send(settings, mail)
        except MailNotSent as error:
            logger.warning("sign-in code not sent", extra={"reason": error.reason})
    remaining = settings.forgot_password_min_ms / 1000 - (time.monotonic() - started)
    if remaining > 0:
        sleep(remaining)
    return MfaChallenge(token, "email", ttl)


def sleep(seconds: float) -> None:
    time.sleep(seconds)

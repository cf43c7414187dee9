"""The password step of a login that needs a second factor: instead of tokens, a short-lived,
single-use challenge token (256 random bits, stored only as a hash) that POST /auth/login/mfa
completes with a code. `verify` when the account has an active factor; `enrol` when its user type
must have one (MFA_REQUIRED_TYPES) and it has none: the user enrols with the challenge and proves
the factor to get tokens."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from shared.runtime.services import Services
from shared.store.challenges import Challenge, Purpose
from shared.store.user_items import User


@dataclass(frozen=True)
class MfaChallenge:
    token: str
    purpose: Purpose
    expires_in: int


def second_factor_challenge(services: Services, user: User, at_ms: int) -> MfaChallenge | None:
    """The challenge this login must pass before tokens, or None when the password is enough."""
    factor = services.factors.totp(user.user_id)
    purpose: Purpose
    if factor is not None and factor.active:
        purpose = "verify"
    elif user.user_type in services.settings.mfa_required_types:
        purpose = "enrol"
    else:
        return None
    ttl = services.settings.mfa_challenge_ttl
    token = secrets.token_urlsafe(32)
    challenge = Challenge(user.user_type, user.email, user.user_id, user.version, purpose, at_ms + ttl * 1000)
    services.challenges.create(token, challenge)
    return MfaChallenge(token, purpose, ttl)

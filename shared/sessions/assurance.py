"""One assurance model: what each way into a session proves, and what changing a factor takes.

Every way into a session names the RFC 8176 `amr` it proves, and the session and each of its tokens
carry exactly that, with `auth_time` the moment of that proof (start_session takes both, with no
default; a refresh keeps them):

| way in                                  | amr                      | auth_time          |
| --------------------------------------- | ------------------------ | ------------------ |
| password (no factor due)                | pwd                      | the login          |
| password + TOTP code or recovery code   | pwd, otp, mfa            | the second step    |
| password + code emailed past the ceiling | pwd (then a factor due) | the last step      |
| passkey (device-bound / synced)         | hwk or swk, mfa, user    | the sign-in        |
| reset link / invitation, no factor due  | pwd (the password just set, from the mailbox) | the link's use |
| reset link / invitation, a factor due   | no session: the user then signs in normally | -  |
| password change                         | the caller's             | the caller's       |

A factor is due when the account has an active TOTP factor or a passkey, or its user type is in
MFA_REQUIRED_TYPES: a link then never yields tokens, since a mailbox is not a second factor.

Changing factors (enrolling TOTP, registering or removing a passkey) takes a fresh proof: of an
existing factor (`amr` holding `mfa`) when the account has one, of anything (a password at least)
when it has none, made at most FACTOR_CHANGE_MAX_AGE_SECONDS ago; otherwise StepUpRequired (403,
`insufficient_user_authentication`). Removing TOTP takes a code of the factor in the request itself.

The verdict rests on the factor state read: a proof of the password alone is enough only while the
account has no factor, so such a change is written only while it still has none (FreshProof's
`only_while_no_factor`, a condition of the change's own transaction: a factor added between the read
and the write refuses it, StepUpRequired, and nothing is written). A removal of TOTP is written only
while the factor is the one its code proved.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.core.errors import StepUpRequired
from shared.credentials.access_tokens import AMR_PASSWORD
from shared.routes.declaration import MULTI_FACTOR
from shared.runtime.services import Services
from shared.store.dynamo import Operation
from shared.store.user_items import User

AMR_PASSWORD_AND_OTP = (*AMR_PASSWORD, "otp", MULTI_FACTOR)  # a TOTP or a recovery code after the password
# RFC 8176: "hwk" a device-bound key (the authenticator says it cannot be synced; not attested, see
# docs/threat-model.md), "swk" a key that may be synced (a cloud keychain is software); "user": the
# authenticator verified the user (PIN or biometrics, which one is not told).
AMR_PASSKEY_DEVICE_BOUND = ("hwk", MULTI_FACTOR, "user")
AMR_PASSKEY_SYNCED = ("swk", MULTI_FACTOR, "user")
AMR_LINK = AMR_PASSWORD  # a reset or invitation link with no factor due: the password just set
AMR_EMAILED_CODE = AMR_PASSWORD  # the code emailed past the lockout ceiling proves the mailbox, no factor

# Every way into a session and the `amr` it proves: tests/integration/test_assurance_paths.py drives
# each one and shows its tokens claim exactly this, never more.
WAYS_IN: dict[str, tuple[str, ...]] = {
    "password": AMR_PASSWORD,
    "password and TOTP code": AMR_PASSWORD_AND_OTP,
    "password and recovery code": AMR_PASSWORD_AND_OTP,
    "password and the enrolment its user type must make": AMR_PASSWORD_AND_OTP,
    "password and the code emailed past the ceiling": AMR_EMAILED_CODE,
    "device-bound passkey": AMR_PASSKEY_DEVICE_BOUND,
    "synced passkey": AMR_PASSKEY_SYNCED,
    "reset link": AMR_LINK,
    "invitation link": AMR_LINK,
}


def has_factor(services: Services, user_id: str) -> bool:
    """Whether the account has a second factor: an active TOTP factor or a passkey."""
    return services.factors.has_active_totp(user_id) or services.passkeys.has_any(user_id)


def no_factor_checks(services: Services, user_id: str) -> list[Operation]:
    """Conditions for a transaction that starts a session because no factor was due: still none (a
    factor added since it was read fails the transaction; nothing is written)."""
    return [services.factors.no_active_totp_check(user_id), services.passkeys.none_check(user_id)]


def factor_due(services: Services, user: User) -> bool:
    """Whether a sign-in of this account must prove a second factor (one it has, or must enrol)."""
    return user.user_type in services.settings.mfa_required_types or has_factor(services, user.user_id)


@dataclass(frozen=True)
class FreshProof:
    """A proof accepted for a factor change. `only_while_no_factor`: it proved no factor (a password),
    which allows the change only while the account has none: its write must carry that condition."""

    only_while_no_factor: bool


def require_fresh_proof(services: Services, user_id: str, amr: tuple[str, ...], auth_time: int) -> FreshProof:
    """StepUpRequired unless the caller's session proved, recently enough to change a factor, an
    existing factor of the account (or, when it has none, anything)."""
    max_age = services.settings.factor_change_max_age
    fresh = auth_time > 0 and services.clock.now_ms() // 1000 - auth_time <= max_age
    if fresh and MULTI_FACTOR in amr:
        return FreshProof(only_while_no_factor=False)
    if fresh and amr and not has_factor(services, user_id):
        return FreshProof(only_while_no_factor=True)
    raise StepUpRequired(max_age)

"""TOTP (RFC 6238) second factors and recovery codes: the pure part, with no AWS call.

A secret is 160 random bits (base32, as authenticator apps expect); codes have 6 digits and a 30 s
step, and a code is accepted for the current step and one either side (clock drift). Each accepted
code names its time step: the store refuses a step at or before the last one used, so a code can be
used once, ever. Recovery codes are 10 random codes of 50 bits shown once and stored only as
SHA-256 hashes (they are random, not chosen: a fast hash does not help guessing).

pyotp and segno are imported inside the functions that need them: only the second-factor functions
pay for them (about 2.3 ms for pyotp and 8 ms for segno on top of the shared code, measured here).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

DIGITS = 6
STEP_SECONDS = 30
DRIFT_STEPS = 1
RECOVERY_CODES = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read aloud or typed from paper


@dataclass(frozen=True)
class Enrolment:
    secret: str  # base32: shown once, stored only encrypted
    uri: str  # otpauth://totp/...
    qr_svg: str
    recovery_codes: tuple[str, ...]  # shown once, stored only as hashes


def new_secret() -> str:
    import pyotp

    return pyotp.random_base32(32)


def provisioning_uri(secret: str, account: str, issuer: str) -> str:
    import pyotp

    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=account, issuer_name=issuer
    )


def qr_svg(uri: str) -> str:
    import segno

    return str(segno.make(uri, error="m").svg_inline(scale=4))


def new_enrolment(account: str, issuer: str) -> Enrolment:
    secret = new_secret()
    uri = provisioning_uri(secret, account, issuer)
    return Enrolment(secret, uri, qr_svg(uri), new_recovery_codes())


def matching_step(secret: str, code: str, at_seconds: float) -> int | None:
    """The time step whose code `code` is, within the drift window at `at_seconds`; None if none."""
    import pyotp

    if not (isinstance(code, str) and len(code) == DIGITS and code.isascii() and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    current = int(at_seconds // STEP_SECONDS)
    found = None
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        # every candidate compared, in constant time: the answer's timing says nothing of which matched
        if hmac.compare_digest(totp.generate_otp(step), code):
            found = step
    return found


def new_recovery_codes() -> tuple[str, ...]:
    return tuple(
        "-".join("".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(5)) for _ in range(2))
        for _ in range(RECOVERY_CODES)
    )


def recovery_hash(code: str) -> str:
    normalised = code.strip().lower().replace(" ", "")
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()

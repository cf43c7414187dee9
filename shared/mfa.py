"""TOTP second factors: enrol (pending until a code proves the app has the secret), check a code or
a recovery code once. The secret is encrypted under a KMS key (Encrypt/Decrypt with the user id in
the encryption context, so a ciphertext moved to another user's item does not decrypt) and never
logged or stored in plain text.

Not yet wired to HTTP routes, the login challenge or the stack (see the issue 16 report)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from shared import totp
from shared.errors import ServiceUnavailable
from shared.store.factors import FactorStore

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient

SecondFactor = Literal["otp", "recovery"]
# RFC 8176 values of a password login completed with a TOTP or recovery code (both one-time passwords)
AMR_PASSWORD_AND_OTP = ("pwd", "otp", "mfa")


def _context(user_id: str) -> dict[str, str]:
    return {"purpose": "totp-secret", "user": user_id}


def encrypt_secret(kms: KMSClient, key_id: str, user_id: str, secret: str) -> bytes:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        answer = kms.encrypt(
            KeyId=key_id, Plaintext=secret.encode("ascii"), EncryptionContext=_context(user_id)
        )
    except (BotoCoreError, ClientError) as error:
        raise ServiceUnavailable("KMS") from error
    return bytes(answer["CiphertextBlob"])


def decrypt_secret(kms: KMSClient, key_id: str, user_id: str, ciphertext: bytes) -> str:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        answer = kms.decrypt(KeyId=key_id, CiphertextBlob=ciphertext, EncryptionContext=_context(user_id))
    except (BotoCoreError, ClientError) as error:
        raise ServiceUnavailable("KMS") from error
    return bytes(answer["Plaintext"]).decode("ascii")


def enrol_totp(
    factors: FactorStore, kms: KMSClient, key_id: str, user_id: str, account: str, issuer: str, at_ms: int
) -> totp.Enrolment | None:
    """A new pending TOTP factor and fresh recovery codes; None when an active factor exists
    (removing it needs a fresh second factor first)."""
    enrolment = totp.new_enrolment(account, issuer)
    ciphertext = encrypt_secret(kms, key_id, user_id, enrolment.secret)
    hashes = [totp.recovery_hash(code) for code in enrolment.recovery_codes]
    return enrolment if factors.put_pending_totp(user_id, ciphertext, hashes, at_ms) else None


def confirm_totp(
    factors: FactorStore, kms: KMSClient, key_id: str, user_id: str, code: str, at: float
) -> bool:
    """Activate the pending factor with a code of its secret; False for a wrong or reused code, or
    no pending factor."""
    factor = factors.totp(user_id)
    if factor is None or factor.active:
        return False
    step = totp.matching_step(decrypt_secret(kms, key_id, user_id, factor.secret_ciphertext), code, at)
    return step is not None and factors.use_step(user_id, step, activate=True)


def has_active_factor(factors: FactorStore, user_id: str) -> bool:
    factor = factors.totp(user_id)
    return factor is not None and factor.active


def check_second_factor(
    factors: FactorStore, kms: KMSClient, key_id: str, user_id: str, code: str, at: float
) -> SecondFactor | None:
    """Which factor `code` proves, used up (a TOTP step or a recovery code, once each); None if
    neither."""
    factor = factors.totp(user_id)
    if factor is None or not factor.active:
        return None
    step = totp.matching_step(decrypt_secret(kms, key_id, user_id, factor.secret_ciphertext), code, at)
    if step is not None:
        return "otp" if factors.use_step(user_id, step) else None
    if factors.use_recovery_code(user_id, totp.recovery_hash(code)):
        return "recovery"
    return None

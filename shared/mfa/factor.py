"""TOTP second factors: enrol (pending until a code proves the app has the secret), check a code or
a recovery code once. The secret is encrypted under a KMS key (Encrypt/Decrypt with the user id in
the encryption context, so a ciphertext moved to another user's item does not decrypt) and never
logged or stored in plain text.

Enrolling (its start and its confirmation) needs a fresh proof (shared/sessions/assurance.py), and a
password's proof holds only while the account has no factor, a condition of the enrolment's writes;
removing needs a code of the factor, and removes that factor only; the owner is emailed on both."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from shared.core import aws
from shared.core.errors import BadRequest, Conflict, Reason, ServiceUnavailable, StepUpRequired
from shared.core.observability import OPERATOR, Client, Event, audit
from shared.credentials import totp
from shared.credentials.access_tokens import AccessClaims
from shared.login.lockout import reserve_attempt
from shared.mfa.context import FACTOR_PURPOSE
from shared.runtime.services import Services
from shared.sessions.assurance import FreshProof, require_fresh_proof
from shared.store.factors import FactorAdded, FactorStore, TotpFactor, factor_lock_key
from shared.store.user_items import User

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient

SecondFactor = Literal["otp", "recovery"]


def _context(user_id: str) -> dict[str, str]:
    return {FACTOR_PURPOSE[0]: FACTOR_PURPOSE[1], "user": user_id}


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
    factors: FactorStore,
    kms: KMSClient,
    key_id: str,
    user_id: str,
    account: str,
    issuer: str,
    at_ms: int,
    *,
    only_while_no_factor: bool,
) -> totp.Enrolment | None:
    """A new pending TOTP factor and fresh recovery codes; None when an active factor exists
    (removing it needs a fresh second factor first). FactorAdded: see FactorStore.put_pending_totp."""
    enrolment = totp.new_enrolment(account, issuer)
    ciphertext = encrypt_secret(kms, key_id, user_id, enrolment.secret)
    hashes = [totp.recovery_hash(code) for code in enrolment.recovery_codes]
    stored = factors.put_pending_totp(
        user_id, ciphertext, hashes, at_ms, only_while_no_factor=only_while_no_factor
    )
    return enrolment if stored else None


def confirm_totp(
    factors: FactorStore, kms: KMSClient, key_id: str, user_id: str, code: str, at: float
) -> bool:
    """A login's enrolment challenge (proven by a password alone): activate the pending factor with a
    code of its secret; False for a wrong or reused code, no pending factor, or a passkey the account
    has now (a password alone is no longer enough)."""
    try:
        return activate_totp(factors, kms, key_id, user_id, code, at, only_while_no_factor=True)
    except FactorAdded:
        return False


def activate_totp(
    factors: FactorStore,
    kms: KMSClient,
    key_id: str,
    user_id: str,
    code: str,
    at: float,
    *,
    only_while_no_factor: bool,
) -> bool:
    """Activate the pending factor with a code of its secret; False for a wrong or reused code, or
    no pending factor. FactorAdded when `only_while_no_factor` and the account has a passkey now."""
    factor = factors.totp(user_id)
    if factor is None or factor.active:
        return False
    step = totp.matching_step(decrypt_secret(kms, key_id, user_id, factor.secret_ciphertext), code, at)
    return step is not None and factors.activate_totp(
        user_id, step, only_while_no_factor=only_while_no_factor
    )


def prove_second_factor(
    factors: FactorStore,
    kms: KMSClient,
    key_id: str,
    user_id: str,
    code: str,
    at: float,
    *,
    totp_open: bool = True,
) -> tuple[SecondFactor, TotpFactor] | None:
    """Which factor `code` proves, used up (a TOTP step or a recovery code, once each), and the
    TOTP factor it belongs to; None if neither. A TOTP code is tried only when `totp_open`."""
    factor = factors.totp(user_id)
    if factor is None or not factor.active:
        return None
    if totp_open:
        secret = decrypt_secret(kms, key_id, user_id, factor.secret_ciphertext)
        step = totp.matching_step(secret, code, at)
        if step is not None:
            return ("otp", factor) if factors.use_step(user_id, step) else None
    if factors.use_recovery_code(user_id, totp.recovery_hash(code)):
        return ("recovery", factor)
    return None


def check_second_factor(
    factors: FactorStore,
    kms: KMSClient,
    key_id: str,
    user_id: str,
    code: str,
    at: float,
    *,
    totp_open: bool = True,
) -> SecondFactor | None:
    """Which factor `code` proves, used up (a TOTP step or a recovery code, once each); None if
    neither. A TOTP code is not even tried when code login is closed (`totp_open` false)."""
    proven = prove_second_factor(factors, kms, key_id, user_id, code, at, totp_open=totp_open)
    return proven[0] if proven else None


# ------------------------------------------------------------------------- the user's own routes
WRONG_CODE_MESSAGE = "code is wrong, expired or already used"


def factor_key_id(services: Services) -> str:
    if not services.settings.factor_key_id:
        raise ServiceUnavailable("second factors (FACTOR_KEY_ID is not set)")
    return services.settings.factor_key_id


def start_enrolment(
    services: Services, user_id: str, email: str, client: Client, *, only_while_no_factor: bool = True
) -> totp.Enrolment:
    """A new pending TOTP factor for the caller; Conflict when one is active (remove it first).
    `only_while_no_factor`: a password alone proved it (a login's enrolment challenge does), so a
    passkey the account has now refuses it (StepUpRequired)."""
    try:
        enrolment = enrol_totp(
            services.factors,
            aws.kms(),
            factor_key_id(services),
            user_id,
            email,
            services.settings.totp_issuer,
            services.clock.now_ms(),
            only_while_no_factor=only_while_no_factor,
        )
    except FactorAdded:
        audit(Event.MFA_ENROL, "failure", client, user_id=user_id, reason=Reason.LOGIN_REQUIRED)
        raise StepUpRequired(services.settings.factor_change_max_age) from None
    if enrolment is None:
        raise Conflict(Reason.FACTOR_EXISTS, "an active factor exists")
    audit(Event.MFA_ENROL, "started", client, user_id=user_id)
    return enrolment


def start_own_enrolment(services: Services, caller: AccessClaims, client: Client) -> totp.Enrolment:
    """A signed-in user's new pending factor: a change of factors, so it takes a fresh proof of an
    existing one (a passkey), or of the password when there is none (StepUpRequired otherwise)."""
    proof = _fresh_proof(services, caller, client)
    return start_enrolment(
        services, caller.sub, caller.email, client, only_while_no_factor=proof.only_while_no_factor
    )


def _fresh_proof(services: Services, caller: AccessClaims, client: Client) -> FreshProof:
    try:
        return require_fresh_proof(services, caller.sub, caller.amr, caller.auth_time)
    except StepUpRequired:
        audit(Event.MFA_ENROL, "failure", client, user_id=caller.sub, reason=Reason.LOGIN_REQUIRED)
        raise


def _count_attempt(services: Services, session_id: str) -> None:
    """Codes typed by a signed-in user are counted per session, as password changes are: a stolen
    access token cannot try a million codes."""
    (counter,) = services.users.attempts([factor_lock_key(session_id)])
    reserve_attempt(services, [counter], [services.settings.lockout_threshold], services.clock.now_ms())


def finish_enrolment(services: Services, caller: AccessClaims, code: str, client: Client) -> None:
    """Activate the caller's pending factor with a code from the app (the owner is emailed): a change
    of factors, with a fresh proof as its start; BadRequest naming `code` if it is wrong, reused or
    there is nothing pending."""
    user_id, session_id = caller.sub, caller.sid
    proof = _fresh_proof(services, caller, client)
    _count_attempt(services, session_id)
    at = services.clock.now_ms() / 1000
    key_id = factor_key_id(services)
    try:
        confirmed = activate_totp(
            services.factors,
            aws.kms(),
            key_id,
            user_id,
            code,
            at,
            only_while_no_factor=proof.only_while_no_factor,
        )
    except FactorAdded:
        audit(Event.MFA_ENROL, "failure", client, user_id=user_id, reason=Reason.LOGIN_REQUIRED)
        raise StepUpRequired(services.settings.factor_change_max_age) from None
    if not confirmed:
        audit(Event.MFA_ENROL, "failure", client, user_id=user_id, reason=Reason.WRONG_CODE)
        raise BadRequest("code", WRONG_CODE_MESSAGE)
    audit(Event.MFA_ENROL, "success", client, user_id=user_id, session_id=session_id)
    from shared.mail.notifications import notify_factor_changed  # only a factor change sends mail

    notify_factor_changed(services, caller.email, caller.name, "totp_added", client)


def remove_factor(services: Services, caller: AccessClaims, code: str, client: Client) -> None:
    """Remove the caller's factors, proven by a fresh code of the factor (TOTP or recovery code) in
    the request itself; the owner is emailed."""
    user_id, session_id = caller.sub, caller.sid
    _count_attempt(services, session_id)
    at = services.clock.now_ms() / 1000
    proven = prove_second_factor(services.factors, aws.kms(), factor_key_id(services), user_id, code, at)
    if proven is None:
        audit(Event.MFA_REMOVED, "failure", client, user_id=user_id, reason=Reason.WRONG_CODE)
        raise BadRequest("code", WRONG_CODE_MESSAGE)
    used, factor = proven
    if used == "recovery":
        audit(Event.MFA_RECOVERY_CODE_USED, "success", client, user_id=user_id, session_id=session_id)
    if not services.factors.remove_totp(user_id, factor):  # replaced since: the code proves none now
        audit(Event.MFA_REMOVED, "failure", client, user_id=user_id, reason=Reason.WRONG_CODE)
        raise BadRequest("code", WRONG_CODE_MESSAGE)
    audit(Event.MFA_REMOVED, "success", client, user_id=user_id, session_id=session_id)
    from shared.mail.notifications import notify_factor_changed  # only a factor change sends mail

    notify_factor_changed(services, caller.email, caller.name, "totp_removed", client)


def reset_factors(services: Services, user: User) -> bool:
    """An operator's reset (the user lost the app and the recovery codes, or their passkeys): every
    factor removed (TOTP, recovery codes, passkeys), audited and emailed. Whether there was one."""
    from shared.mail.notifications import notify_factor_changed  # only a factor change sends mail

    user_id = user.user_id
    had = services.factors.totp(user_id) is not None
    services.factors.remove_all(user_id)
    audit(Event.MFA_REMOVED, "reset_by_operator", OPERATOR, user_id=user_id)
    passkeys = services.passkeys.of_user(user_id)
    for passkey in passkeys:
        services.passkeys.remove(user_id, passkey.credential_id, only_while_no_factor=False)
    if passkeys:
        audit(
            Event.PASSKEY_REMOVED, "reset_by_operator", OPERATOR, user_id=user_id, detail=f"{len(passkeys)}"
        )
    if had:
        notify_factor_changed(services, user.email, user.name, "totp_removed", OPERATOR)
    for passkey in passkeys:
        notify_factor_changed(
            services, user.email, user.name, "passkey_removed", OPERATOR, passkey=passkey.name
        )
    return had or bool(passkeys)

"""Passkeys (WebAuthn) with py_webauthn: registration by a signed-in user, listing and removal, and
a sign-in with no password that counts as two factors.

Imported only by the functions that serve passkey routes (functions/passkeys, functions/passkey_login):
py_webauthn and what it pulls in (cbor2, pyOpenSSL, asn1) cost a few hundred milliseconds of cold
start that no other function should pay.

Every ceremony starts with options holding a fresh 256-bit challenge, stored server-side (only its
hash, shared/store/passkeys.py) with its purpose, who asked and a short expiry. The browser signs it
into clientDataJSON; the answer is matched to its challenge by that very value, so the challenge is
the single-use token, and using it deletes it in the same transaction as what it allows.

Checked on every answer: the challenge (known, unexpired, unused, of this purpose and, for a
registration, of this user and session), the origin (one of the configured origins), the
relying-party id hash, user presence and user verification, the signature. Attestation is not asked
for ("none"): this service trusts the user's choice of authenticator, not a vendor list.

A sign-in is a full login: its own lockout counters (failed assertions count like wrong passwords
for the account), the same generic 401 for an unknown credential, a disabled account or a wrong user
type, and a session committed only if the account is still at the version read, the challenge is
still there, and the credential's sign counter moves forward. A counter that does not increase (both
non-zero) means two authenticators hold one key: refused and audited as `passkey_cloned`.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from dataclasses import dataclass
from typing import Any

from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    CredentialDeviceType,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from shared.errors import (
    BadRequest,
    Conflict,
    InvalidCredentials,
    NotFound,
    Reason,
    ServiceUnavailable,
    StepUpRequired,
    TooManyAttempts,
)
from shared.lockout import reserve_attempt
from shared.login import _audit, _device_history, normalise_email
from shared.observability import Client, Event, audit
from shared.services import Services
from shared.sessions import TokenGrant, start_session
from shared.store.dynamo import TransactionRejected
from shared.store.passkeys import MAX_PASSKEYS, Passkey, PasskeyChallenge
from shared.tokens import MAX_EMAIL_LENGTH, Identity, InvalidIdentity, check_identity

MAX_CREDENTIAL_ID_BYTES = 1023  # WebAuthn's bound on a credential id
MAX_FIELD_CHARS = 16_384  # one base64url member of a credential (the body itself is at most 16 KiB)
MAX_NAME_CHARS = 64
CHALLENGE_BYTES = 32
# RFC 8176: "hwk" proof of possession of a device-bound key (the authenticator says it cannot be
# synced; not attested, see docs/threat-model.md), "swk" a key that may be synced (a multi-device
# passkey lives in a cloud keychain, i.e. software); "user": the authenticator verified the user
# (PIN or biometrics, which one is not told); "mfa": something held and something known or are.
HARDWARE_KEY, SOFTWARE_KEY = "hwk", "swk"
MALFORMED = "credential is malformed"
UNUSABLE_CHALLENGE = "the passkey challenge is unknown, expired or already used: ask for new options"


@dataclass(frozen=True)
class Caller:
    """Who registers: the signed-in user as the authorizer verified them."""

    user_id: str
    user_type: str
    email: str
    name: str
    session_id: str
    auth_time: int


@dataclass(frozen=True)
class Answer:
    """A browser's answer to a ceremony: the credential as the WebAuthn JSON encoding has it, and the
    challenge its clientDataJSON signed."""

    credential: dict[str, Any]
    credential_id: str
    challenge: str
    user_handle: str


def amr_of(device_type: CredentialDeviceType) -> tuple[str, ...]:
    key = SOFTWARE_KEY if device_type == CredentialDeviceType.MULTI_DEVICE else HARDWARE_KEY
    return (key, "mfa", "user")


# ------------------------------------------------------------------------------------ parsing
def _b64url(value: object, field: str) -> bytes:
    if not isinstance(value, str) or not value or len(value) > MAX_FIELD_CHARS:
        raise BadRequest("credential", f"credential.{field} must be a base64url string")
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise BadRequest("credential", f"credential.{field} must be a base64url string") from None


def parse_answer(body: dict[str, Any], *, registration: bool) -> Answer:
    """The credential member of a body, structurally checked (400 naming `credential` otherwise);
    what it proves is checked later, against the stored challenge and key."""
    credential = body.get("credential")
    if not isinstance(credential, dict):
        raise BadRequest("credential", "credential must be the object the browser's WebAuthn call returned")
    response = credential.get("response")
    if credential.get("type") != "public-key" or not isinstance(response, dict):
        raise BadRequest("credential", MALFORMED)
    raw_id = _b64url(credential.get("rawId"), "rawId")
    if len(raw_id) > MAX_CREDENTIAL_ID_BYTES or credential.get("id") != credential.get("rawId"):
        raise BadRequest("credential", MALFORMED)
    members = (
        ("clientDataJSON", "attestationObject")
        if registration
        else ("clientDataJSON", "authenticatorData", "signature")
    )
    for member in members:
        _b64url(response.get(member), f"response.{member}")
    handle = response.get("userHandle")
    if handle is not None:
        _b64url(handle, "response.userHandle")
    try:
        client_data = json.loads(_b64url(response["clientDataJSON"], "response.clientDataJSON"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise BadRequest("credential", MALFORMED) from None
    challenge = client_data.get("challenge") if isinstance(client_data, dict) else None
    if not isinstance(challenge, str) or not 16 <= len(challenge) <= 128:
        raise BadRequest("credential", MALFORMED)
    return Answer(credential, str(credential["rawId"]), challenge, handle or "")


def parse_name(body: dict[str, Any]) -> str:
    name = body.get("name", "")
    if not isinstance(name, str) or len(name) > MAX_NAME_CHARS or any(ord(c) < 32 for c in name):
        raise BadRequest("name", f"name must be text of at most {MAX_NAME_CHARS} characters")
    return name.strip() or "Passkey"


def _challenge_bytes(challenge: str) -> bytes:
    return base64.urlsafe_b64decode(challenge + "=" * (-len(challenge) % 4))


def _new_challenge() -> tuple[bytes, str]:
    raw = secrets.token_bytes(CHALLENGE_BYTES)
    return raw, base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _options(options: Any) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(options_to_json(options))
    return parsed


def relying_party(services: Services) -> tuple[str, list[str]]:
    settings = services.settings
    if not settings.webauthn_rp_id:
        raise ServiceUnavailable("passkeys (WEBAUTHN_RP_ID is not set)")
    return settings.webauthn_rp_id, list(settings.passkey_origins)


# ------------------------------------------------------------------------------- registration
def _fresh_login(services: Services, caller: Caller) -> None:
    max_age = services.settings.passkey_registration_max_age
    if services.clock.now_ms() // 1000 - caller.auth_time > max_age:
        raise StepUpRequired(max_age)


def registration_options(services: Services, caller: Caller, client: Client) -> dict[str, Any]:
    """Creation options for a new passkey of the caller (a discoverable credential, with user
    verification), its challenge stored for this user and session."""
    rp_id, _ = relying_party(services)
    _fresh_login(services, caller)
    existing = services.passkeys.of_user(caller.user_id)
    if len(existing) >= MAX_PASSKEYS:
        raise Conflict(Reason.PASSKEY_LIMIT, f"at most {MAX_PASSKEYS} passkeys")
    raw, challenge = _new_challenge()
    settings = services.settings
    options = generate_registration_options(
        rp_id=rp_id,
        rp_name=settings.webauthn_rp_name,
        user_name=caller.email,
        user_id=caller.user_id.encode("utf-8"),
        user_display_name=caller.name or caller.email,
        challenge=raw,
        timeout=settings.passkey_challenge_ttl * 1000,
        attestation=AttestationConveyancePreference.NONE,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=[_descriptor(passkey) for passkey in existing],
    )
    expires = services.clock.now_ms() + settings.passkey_challenge_ttl * 1000
    record = PasskeyChallenge(
        "register", caller.user_id, caller.user_type, caller.email, caller.session_id, expires
    )
    services.passkeys.create_challenge(challenge, record)
    audit(Event.PASSKEY_REGISTER, "started", client, user_id=caller.user_id, session_id=caller.session_id)
    return _options(options)


def _descriptor(passkey: Passkey) -> PublicKeyCredentialDescriptor:
    transports = []
    for name in passkey.transports:
        try:
            transports.append(AuthenticatorTransport(name))
        except ValueError:
            continue
    return PublicKeyCredentialDescriptor(id=_challenge_bytes(passkey.credential_id), transports=transports)


def _refuse_registration(caller: Caller, client: Client, reason: Reason, message: str) -> BadRequest:
    audit(
        Event.PASSKEY_REGISTER,
        "failure",
        client,
        user_id=caller.user_id,
        session_id=caller.session_id,
        reason=reason,
    )
    return BadRequest("credential", message)


def register(services: Services, caller: Caller, body: dict[str, Any], client: Client) -> Passkey:
    """Verify the browser's new credential (`body`: {credential, name?}) against the caller's
    challenge and store it."""
    rp_id, origins = relying_party(services)
    _fresh_login(services, caller)
    answer, name = parse_answer(body, registration=True), parse_name(body)
    at = services.clock.now_ms()
    record = services.passkeys.challenge(answer.challenge)
    if (
        record is None
        or record.purpose != "register"
        or record.expires_ms <= at
        or record.user_id != caller.user_id
        or record.session_id != caller.session_id
    ):
        raise _refuse_registration(caller, client, Reason.PASSKEY_CHALLENGE, UNUSABLE_CHALLENGE)
    try:
        verified = verify_registration_response(
            credential=answer.credential,
            expected_challenge=_challenge_bytes(answer.challenge),
            expected_rp_id=rp_id,
            expected_origin=origins,
            require_user_verification=True,
        )
    except (WebAuthnException, KeyError, TypeError, ValueError) as error:
        raise _refuse_registration(
            caller, client, Reason.PASSKEY_REFUSED, "the passkey could not be verified"
        ) from error
    credential_id = base64.urlsafe_b64encode(verified.credential_id).rstrip(b"=").decode("ascii")
    transports = answer.credential["response"].get("transports")
    passkey = Passkey(
        credential_id=credential_id,
        user_id=caller.user_id,
        user_type=caller.user_type,
        email=caller.email,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        transports=tuple(t for t in transports[:8] if isinstance(t, str) and t.isascii() and len(t) <= 32)
        if isinstance(transports, list)
        else (),
        name=name,
        created_at=at,
        last_used=0,
        backup_eligible=verified.credential_device_type == CredentialDeviceType.MULTI_DEVICE,
        aaguid=str(verified.aaguid),
    )
    try:
        services.passkeys.add(passkey, answer.challenge)
    except TransactionRejected as rejected:
        failed = [reason != "None" for reason in rejected.reasons] + [False] * 3
        if failed[0]:
            raise _refuse_registration(caller, client, Reason.PASSKEY_CHALLENGE, UNUSABLE_CHALLENGE) from None
        audit(Event.PASSKEY_REGISTER, "failure", client, user_id=caller.user_id, reason=Reason.PASSKEY_LIMIT)
        raise Conflict(Reason.PASSKEY_LIMIT, "registered already, or too many passkeys") from None
    audit(
        Event.PASSKEY_REGISTER,
        "success",
        client,
        user_id=caller.user_id,
        session_id=caller.session_id,
        detail=f"aaguid {passkey.aaguid}",
    )
    from shared.notifications import notify_passkey_added

    notify_passkey_added(services, caller.email, caller.name, name, client)
    return passkey


def remove(services: Services, caller: Caller, credential_id: str, client: Client) -> None:
    """Remove one of the caller's passkeys; anybody else's (or an unknown one) is not found."""
    well_formed = 0 < len(credential_id) <= 2 * MAX_CREDENTIAL_ID_BYTES and all(
        c.isascii() and (c.isalnum() or c in "-_") for c in credential_id
    )
    if not well_formed or not services.passkeys.remove(caller.user_id, credential_id):
        raise NotFound()
    audit(Event.PASSKEY_REMOVED, "success", client, user_id=caller.user_id, session_id=caller.session_id)


# ------------------------------------------------------------------------------------ sign-in
def login_options(services: Services, user_type: str, email: str) -> dict[str, Any]:
    """Request options for a sign-in: no account is read and no credential listed (a discoverable
    credential names its account itself), so the answer is the same for any email. When the caller
    names an account, only a passkey of that account completes this challenge."""
    rp_id, _ = relying_party(services)
    email = normalise_email(email)
    if len(email) > MAX_EMAIL_LENGTH:
        raise BadRequest("email", f"email is too long (at most {MAX_EMAIL_LENGTH} characters)")
    settings = services.settings
    raw, challenge = _new_challenge()
    options = generate_authentication_options(
        rp_id=rp_id,
        challenge=raw,
        timeout=settings.passkey_challenge_ttl * 1000,
        allow_credentials=[],
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    expires = services.clock.now_ms() + settings.passkey_challenge_ttl * 1000
    services.passkeys.create_challenge(
        challenge, PasskeyChallenge("login", "", user_type, email, "", expires)
    )
    return _options(options)


def login(services: Services, answer: Answer, client: Client) -> TokenGrant:
    """A full login with a passkey: tokens whose `amr` counts two factors, or InvalidCredentials."""
    settings = services.settings
    rp_id, origins = relying_party(services)
    at = services.clock.now_ms()  # the snapshot: the session and its tokens date from here
    record = services.passkeys.challenge(answer.challenge)
    if record is None or record.purpose != "login" or record.expires_ms <= at:
        _audit(Event.LOGIN, "failure", client, "", Reason.PASSKEY_CHALLENGE)
        raise InvalidCredentials(Reason.PASSKEY_CHALLENGE)
    passkey = services.passkeys.get(answer.credential_id)
    if (
        passkey is None
        or (record.user_type and record.user_type != passkey.user_type)
        or (record.email and record.email != passkey.email)
    ):
        _audit(Event.LOGIN, "failure", client, passkey.user_id if passkey else "", Reason.UNKNOWN_CREDENTIAL)
        raise InvalidCredentials(Reason.UNKNOWN_CREDENTIAL)
    user, counters = services.users.login_state(passkey.user_type, passkey.email, client.source_ip)
    try:
        reserve_attempt(
            services, counters, [settings.lockout_account_threshold, settings.lockout_threshold], at
        )
    except TooManyAttempts:
        _audit(Event.LOGIN_LOCKOUT, "blocked", client, passkey.user_id, Reason.LOCKED)
        raise
    if user is None or user.user_id != passkey.user_id:  # the account was deleted (and maybe made again)
        _audit(Event.LOGIN, "failure", client, passkey.user_id, Reason.UNKNOWN_CREDENTIAL)
        raise InvalidCredentials(Reason.UNKNOWN_CREDENTIAL)
    identity = Identity(user.user_id, user.email, user.name, user.role, user.user_type)
    if user.disabled:
        _audit(Event.LOGIN, "failure", client, user.user_id, Reason.DISABLED)
        raise InvalidCredentials(Reason.DISABLED)
    try:
        check_identity(identity)
    except InvalidIdentity:
        _audit(Event.LOGIN, "failure", client, user.user_id, Reason.INVALID_IDENTITY)
        raise InvalidCredentials(Reason.INVALID_IDENTITY) from None

    handle_matches = not answer.user_handle or _challenge_bytes(answer.user_handle) == user.user_id.encode()
    try:
        if not handle_matches:
            raise ValueError("the user handle is another account's")
        verified = verify_authentication_response(
            credential=answer.credential,
            expected_challenge=_challenge_bytes(answer.challenge),
            expected_rp_id=rp_id,
            expected_origin=origins,
            credential_public_key=passkey.public_key,
            credential_current_sign_count=0,  # compared below, once the signature is known to be good
            require_user_verification=True,
        )
    except (WebAuthnException, KeyError, TypeError, ValueError) as error:
        _audit(Event.LOGIN, "failure", client, user.user_id, Reason.PASSKEY_REFUSED)
        raise InvalidCredentials(Reason.PASSKEY_REFUSED, type(error).__name__) from None
    count = verified.new_sign_count
    if (count > 0 or passkey.sign_count > 0) and count <= passkey.sign_count:
        _cloned(client, user.user_id, f"counter {count} after {passkey.sign_count}")

    new_device, agents, ips = _device_history(user, client)
    commit = [
        *services.users.reset_attempts_operations([counter.key for counter in counters]),
        services.users.remember_device_operation(user, agents, ips),  # conditional on the version read
        services.passkeys.consume_challenge_operation(answer.challenge),
        services.passkeys.use_operation(passkey, count, at),  # the counter moves forward, once
    ]
    try:
        grant = start_session(
            services,
            identity,
            client,
            commit,
            at=at,
            user_version=user.version,
            new_device=new_device,
            amr=amr_of(verified.credential_device_type),
        )
    except TransactionRejected as rejected:
        if rejected.reasons and rejected.reasons[-1] not in ("None", ""):
            _cloned(client, user.user_id, f"counter {count} used concurrently")
        _audit(Event.LOGIN, "failure", client, user.user_id, Reason.ACCOUNT_CHANGED)
        raise InvalidCredentials(Reason.ACCOUNT_CHANGED) from None
    sid = grant.claims.sid
    _audit(Event.LOGIN, "success", client, user.user_id, "passkey", sid)
    if new_device:
        _audit(Event.LOGIN_NEW_DEVICE, "flagged", client, user.user_id, "device and IP never seen", sid)
        from shared.notifications import notify_new_device

        notify_new_device(services, user, client)
    return grant


def _cloned(client: Client, user_id: str, detail: str) -> None:
    audit(
        Event.PASSKEY_CLONED,
        "detected",
        client,
        user_id=user_id,
        reason=Reason.COUNTER_REGRESSION,
        detail=detail,
    )
    _audit(Event.LOGIN, "failure", client, user_id, Reason.COUNTER_REGRESSION)
    raise InvalidCredentials(Reason.COUNTER_REGRESSION)

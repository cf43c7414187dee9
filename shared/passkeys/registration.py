"""Passkey registration by a signed-in user, and the user's list and removal: both changes of a
factor, so both take a fresh proof of an existing factor (shared/sessions/assurance.py); a password's
proof holds only while the account has no factor, a condition of the change's own write.
What every ceremony shares (parsing, challenges, the relying party): shared/passkeys/ceremony.py."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from webauthn import generate_registration_options, verify_registration_response
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

from shared.core.errors import BadRequest, Conflict, NotFound, Reason, StepUpRequired
from shared.core.observability import Client, Event, audit
from shared.passkeys.ceremony import (
    MAX_CREDENTIAL_ID_BYTES,
    UNUSABLE_CHALLENGE,
    challenge_bytes,
    new_challenge,
    options_json,
    parse_answer,
    parse_name,
    relying_party,
)
from shared.runtime.services import Services
from shared.sessions.assurance import FreshProof, require_fresh_proof
from shared.store.dynamo import TransactionRejected
from shared.store.factors import FactorAdded
from shared.store.passkeys import MAX_PASSKEYS, Passkey, PasskeyChallenge


@dataclass(frozen=True)
class Caller:
    """Who registers: the signed-in user as the authorizer verified them."""

    user_id: str
    user_type: str
    email: str
    name: str
    session_id: str
    auth_time: int
    amr: tuple[str, ...]


def _fresh_proof(services: Services, caller: Caller, client: Client, event: Event) -> FreshProof:
    try:
        return require_fresh_proof(services, caller.user_id, caller.amr, caller.auth_time)
    except StepUpRequired:
        _audit_step_up(caller, client, event)
        raise


def _audit_step_up(caller: Caller, client: Client, event: Event) -> None:
    audit(
        event,
        "failure",
        client,
        user_id=caller.user_id,
        session_id=caller.session_id,
        reason=Reason.LOGIN_REQUIRED,
    )


def _factor_added(services: Services, caller: Caller, client: Client, event: Event) -> StepUpRequired:
    """The refusal of a change proven by a password alone once the account has a factor."""
    _audit_step_up(caller, client, event)
    return StepUpRequired(services.settings.factor_change_max_age)


def registration_options(services: Services, caller: Caller, client: Client) -> dict[str, Any]:
    """Creation options for a new passkey of the caller (a discoverable credential, with user
    verification), its challenge stored for this user and session."""
    rp_id, _ = relying_party(services)
    _fresh_proof(services, caller, client, Event.PASSKEY_REGISTER)
    existing = services.passkeys.of_user(caller.user_id)
    if len(existing) >= MAX_PASSKEYS:
        raise Conflict(Reason.PASSKEY_LIMIT, f"at most {MAX_PASSKEYS} passkeys")
    raw, challenge = new_challenge()
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
    return options_json(options)


def _descriptor(passkey: Passkey) -> PublicKeyCredentialDescriptor:
    transports = []
    for name in passkey.transports:
        try:
            transports.append(AuthenticatorTransport(name))
        except ValueError:
            continue
    return PublicKeyCredentialDescriptor(id=challenge_bytes(passkey.credential_id), transports=transports)


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
    proof = _fresh_proof(services, caller, client, Event.PASSKEY_REGISTER)
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
            expected_challenge=challenge_bytes(answer.challenge),
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
        services.passkeys.add(passkey, answer.challenge, only_while_no_factor=proof.only_while_no_factor)
    except FactorAdded:
        raise _factor_added(services, caller, client, Event.PASSKEY_REGISTER) from None
    except TransactionRejected as rejected:
        if rejected.failed(0):  # the challenge
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
    from shared.mail.notifications import notify_passkey_added

    notify_passkey_added(services, caller.email, caller.name, name, client)
    return passkey


def remove(services: Services, caller: Caller, credential_id: str, client: Client) -> None:
    """Remove one of the caller's passkeys, with a fresh proof of a factor; anybody else's (or an
    unknown one) is not found. The owner is emailed."""
    well_formed = 0 < len(credential_id) <= 2 * MAX_CREDENTIAL_ID_BYTES and all(
        c.isascii() and (c.isalnum() or c in "-_") for c in credential_id
    )
    own = services.passkeys.of_user(caller.user_id) if well_formed else []
    named = next((passkey for passkey in own if passkey.credential_id == credential_id), None)
    if named is None:
        raise NotFound()
    proof = _fresh_proof(services, caller, client, Event.PASSKEY_REMOVED)
    try:
        removed = services.passkeys.remove(
            caller.user_id, credential_id, only_while_no_factor=proof.only_while_no_factor
        )
    except FactorAdded:
        raise _factor_added(services, caller, client, Event.PASSKEY_REMOVED) from None
    if not removed:
        raise NotFound()
    audit(Event.PASSKEY_REMOVED, "success", client, user_id=caller.user_id, session_id=caller.session_id)
    from shared.mail.notifications import notify_factor_changed

    notify_factor_changed(services, caller.email, caller.name, "passkey_removed", client, passkey=named.name)

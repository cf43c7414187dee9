"""Sign-in with a passkey: a full login with no password that counts as two factors. What every
ceremony shares (parsing, challenges, the relying party): shared/passkeys/ceremony.py."""

from __future__ import annotations

from typing import Any

from webauthn import generate_authentication_options, verify_authentication_response
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import UserVerificationRequirement

from shared.core.errors import BadRequest, InvalidCredentials, Reason
from shared.core.observability import Client, Event, audit
from shared.credentials.identity import MAX_EMAIL_LENGTH, Identity, InvalidIdentity, check_identity
from shared.login.flow import audit_login, finish_login, normalise_email
from shared.passkeys.ceremony import (
    Answer,
    amr_of,
    challenge_bytes,
    new_challenge,
    options_json,
    relying_party,
)
from shared.runtime.services import Services
from shared.sessions.lifecycle import TokenGrant
from shared.store.dynamo import TransactionRejected
from shared.store.passkeys import PasskeyChallenge
from shared.store.user_items import code_lock_key


def login_options(services: Services, user_type: str, email: str) -> dict[str, Any]:
    """Request options for a sign-in: no account is read and no credential listed (a discoverable
    credential names its account itself), so the answer is the same for any email. When the caller
    names an account, only a passkey of that account completes this challenge."""
    rp_id, _ = relying_party(services)
    email = normalise_email(email)
    if len(email) > MAX_EMAIL_LENGTH:
        raise BadRequest("email", f"email is too long (at most {MAX_EMAIL_LENGTH} characters)")
    settings = services.settings
    raw, challenge = new_challenge()
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
    return options_json(options)


def login(services: Services, answer: Answer, client: Client) -> TokenGrant:
    """A full login with a passkey: tokens whose `amr` counts two factors, or InvalidCredentials."""
    rp_id, origins = relying_party(services)
    at = services.clock.now_ms()  # the snapshot: the session and its tokens date from here
    record = services.passkeys.challenge(answer.challenge)
    if record is None or record.purpose != "login" or record.expires_ms <= at:
        audit_login(Event.LOGIN, "failure", client, "", Reason.PASSKEY_CHALLENGE)
        raise InvalidCredentials(Reason.PASSKEY_CHALLENGE)
    passkey = services.passkeys.get(answer.credential_id)
    if (
        passkey is None
        or (record.user_type and record.user_type != passkey.user_type)
        or (record.email and record.email != passkey.email)
    ):
        audit_login(
            Event.LOGIN, "failure", client, passkey.user_id if passkey else "", Reason.UNKNOWN_CREDENTIAL
        )
        raise InvalidCredentials(Reason.UNKNOWN_CREDENTIAL)
    # No attempt is counted: a passkey cannot be guessed, and failed passwords never lock it out
    # (issue 23, finding 5); its success resets them, and the wrong-code count, as a proven factor.
    user, counters = services.users.login_state(passkey.user_type, passkey.email, client.source_ip)
    if user is None or user.user_id != passkey.user_id:  # the account was deleted (and maybe made again)
        audit_login(Event.LOGIN, "failure", client, passkey.user_id, Reason.UNKNOWN_CREDENTIAL)
        raise InvalidCredentials(Reason.UNKNOWN_CREDENTIAL)
    identity = Identity.of(user)
    if user.disabled:
        audit_login(Event.LOGIN, "failure", client, user.user_id, Reason.DISABLED)
        raise InvalidCredentials(Reason.DISABLED)
    try:
        check_identity(identity)
    except InvalidIdentity:
        audit_login(Event.LOGIN, "failure", client, user.user_id, Reason.INVALID_IDENTITY)
        raise InvalidCredentials(Reason.INVALID_IDENTITY) from None

    handle_matches = not answer.user_handle or challenge_bytes(answer.user_handle) == user.user_id.encode()
    try:
        if not handle_matches:
            raise ValueError("the user handle is another account's")
        verified = verify_authentication_response(
            credential=answer.credential,
            expected_challenge=challenge_bytes(answer.challenge),
            expected_rp_id=rp_id,
            expected_origin=origins,
            credential_public_key=passkey.public_key,
            credential_current_sign_count=0,  # compared below, once the signature is known to be good
            require_user_verification=True,
        )
    except (WebAuthnException, KeyError, TypeError, ValueError) as error:
        audit_login(Event.LOGIN, "failure", client, user.user_id, Reason.PASSKEY_REFUSED)
        raise InvalidCredentials(Reason.PASSKEY_REFUSED, type(error).__name__) from None
    count = verified.new_sign_count
    if (count > 0 or passkey.sign_count > 0) and count <= passkey.sign_count:
        _cloned(client, user.user_id, f"counter {count} after {passkey.sign_count}")

    def refused(rejected: TransactionRejected) -> Reason:
        if rejected.failed(-1):  # the counter moved since it was read: another sign-in signed it
            _cloned(client, user.user_id, f"counter {count} used concurrently")
        return Reason.ACCOUNT_CHANGED

    return finish_login(
        services,
        user,
        counters,
        client,
        at,
        method="passkey",
        amr=amr_of(verified.credential_device_type),
        consume=[  # the counter's operation last: `refused` reads its outcome
            *services.users.reset_attempts_operations([code_lock_key(user.user_id)]),
            services.passkeys.consume_challenge_operation(answer.challenge),
            services.passkeys.use_operation(passkey, count, at),  # the counter moves forward, once
        ],
        refused=refused,
    )


def _cloned(client: Client, user_id: str, detail: str) -> None:
    audit(
        Event.PASSKEY_CLONED,
        "detected",
        client,
        user_id=user_id,
        reason=Reason.COUNTER_REGRESSION,
        detail=detail,
    )
    audit_login(Event.LOGIN, "failure", client, user_id, Reason.COUNTER_REGRESSION)
    raise InvalidCredentials(Reason.COUNTER_REGRESSION)

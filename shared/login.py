"""Login: the same work and the same answer for every kind of failure.

Unknown email, wrong password, wrong user type and disabled account all do one strongly
consistent read, one password-hash verification and one failure-counter write, then raise the
same InvalidCredentials. The counter is kept per normalised email and user type whether or not
the account exists, so a lockout (429) reveals nothing either; a locked account's password is not
checked.
"""

from __future__ import annotations

import hashlib
import math
import unicodedata
from dataclasses import dataclass

from shared import passwords
from shared.errors import BadRequest, InvalidCredentials, Reason, TooManyAttempts
from shared.observability import Client, audit
from shared.services import Services
from shared.sessions import TokenGrant, start_session
from shared.settings import Settings
from shared.store.users import LoginFailures, User
from shared.tokens import MAX_EMAIL_LENGTH, Identity, InvalidIdentity, check_identity

USER_TYPES = ("admin", "staff")
KNOWN_DEVICES = 20


@dataclass(frozen=True)
class LoginRequest:
    email: str
    password: str
    user_type: str


def normalise_email(email: str) -> str:
    return unicodedata.normalize("NFKC", email).strip().lower()


def lockout_remaining(failures: LoginFailures, at_ms: int, settings: Settings) -> int:
    """Seconds until the next attempt is allowed: exponential in failures past the threshold,
    bounded by the maximum; 0 when not locked."""
    if failures.failures < settings.lockout_threshold:
        return 0
    if at_ms - failures.last_failure_ms > settings.lockout_window_seconds * 1000:
        return 0
    exponent = min(failures.failures - settings.lockout_threshold, 20)
    lock_seconds = min(settings.lockout_base_seconds * 2**exponent, settings.lockout_max_seconds)
    remaining_ms = failures.last_failure_ms + lock_seconds * 1000 - at_ms
    return math.ceil(remaining_ms / 1000) if remaining_ms > 0 else 0


def login(services: Services, request: LoginRequest, client: Client) -> TokenGrant:
    settings = services.settings
    email = normalise_email(request.email)
    if len(email) > MAX_EMAIL_LENGTH:  # NFKC can expand one character to 18: keep keys valid
        raise BadRequest("email", f"email is too long (at most {MAX_EMAIL_LENGTH} characters)")
    passwords.prepare_dummy_hash()  # before anything is timed: the first unknown user is not slower
    user, failures = services.users.login_state(request.user_type, email)
    at = services.clock.now_ms()

    retry_after = lockout_remaining(failures, at, settings)
    if retry_after:
        _audit("login_lockout", "blocked", client, user.user_id if user else "", Reason.LOCKED)
        raise TooManyAttempts(retry_after)

    if user is None:
        passwords.dummy_verify(request.password)
        reason: Reason | None = Reason.UNKNOWN_USER
    elif not passwords.verify_password(user.password_hash, request.password):
        reason = Reason.WRONG_PASSWORD
    elif user.disabled:
        reason = Reason.DISABLED
    else:
        reason = None
    identity = Identity(user.user_id, user.email, user.name, user.role, user.user_type) if user else None
    if identity is not None and not reason:
        try:
            check_identity(identity)
        except InvalidIdentity:
            reason = Reason.INVALID_IDENTITY

    if reason or user is None or identity is None:
        reason = reason or Reason.UNKNOWN_USER
        services.users.record_failure(request.user_type, email, failures, at, settings.lockout_window_seconds)
        _audit("login", "failure", client, user.user_id if user else "", reason)
        _watch_for_credential_stuffing(services, request.user_type, email, client, at)
        raise InvalidCredentials(reason)

    if passwords.needs_rehash(user.password_hash):
        services.users.update_password_hash(
            user, user.password_hash, passwords.hash_password(request.password)
        )
    new_device, agents, ips = _device_history(user, client)
    remember = services.users.remember_device_operation(user, agents, ips)
    reset = services.users.reset_failures_operation(request.user_type, email)
    grant = start_session(services, identity, client, extra=[reset, remember], new_device=new_device)
    sid = grant.claims.sid
    _audit("login", "success", client, user.user_id, "new_device_and_ip" if new_device else "", sid)
    if new_device:
        _audit("login_new_device", "flagged", client, user.user_id, "device and IP never seen", sid)
    return grant


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:16]


def _device_history(user: User, client: Client) -> tuple[bool, list[str], list[str]]:
    """Whether this login comes from a device and an IP never seen for the user (a first login
    has no history, so it is not flagged), and the remembered lists with this one first."""
    agent = _digest(client.user_agent)
    ip = client.source_ip[:64]
    known = bool(user.known_agents or user.known_ips)
    new_device = known and agent not in user.known_agents and ip not in user.known_ips
    agents = [agent, *(a for a in user.known_agents if a != agent)][:KNOWN_DEVICES]
    ips = [ip, *(i for i in user.known_ips if i != ip)][:KNOWN_DEVICES]
    return new_device, agents, ips


def _watch_for_credential_stuffing(
    services: Services, user_type: str, email: str, client: Client, at: int
) -> None:
    """Failed logins for many accounts from one IP within a window: flagged once per window."""
    settings = services.settings
    if not client.source_ip:
        return
    accounts = services.users.record_ip_failure(
        client.source_ip,
        _digest(f"{user_type}#{email}"),
        at,
        settings.stuffing_window_seconds,
        cap=settings.stuffing_threshold,
    )
    if accounts == settings.stuffing_threshold:
        _audit("credential_stuffing", "suspected", client, "", f"{accounts} accounts failed from one IP")


def _audit(event: str, outcome: str, client: Client, user_id: str, reason: str, session_id: str = "") -> None:
    audit(event, outcome, client, user_id=user_id, session_id=session_id, reason=reason)

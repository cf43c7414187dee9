"""Login: the same work and the same answer for every kind of failure.

Unknown email, wrong password, wrong user type and disabled account all do one strongly
consistent read, reserve one attempt (before the password is checked), one password-hash
verification, then raise the same InvalidCredentials. Attempts are counted per account and source
IP (the lock) and per account (a higher ceiling), whether or not the account exists, so a lockout
(429) reveals nothing either; a locked account's password is not checked.

The session and its tokens date from the moment the account was read, and the session is committed
only if the account is still at the version that was read: a login in flight across a password
change, a role change or a disable gets 401, never a session from the old state.
"""

from __future__ import annotations

import hashlib
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from shared.core.errors import BadRequest, InvalidCredentials, Reason, TooManyAttempts
from shared.core.observability import Client, Event, audit
from shared.credentials import passwords
from shared.credentials.identity import MAX_EMAIL_LENGTH, Identity, InvalidIdentity, check_identity
from shared.login.challenge import MfaChallenge, second_factor_challenge
from shared.login.lockout import reserve_attempt
from shared.runtime.services import Services
from shared.sessions.assurance import AMR_PASSWORD
from shared.sessions.lifecycle import TokenGrant, start_session
from shared.store.dynamo import Operation, TransactionRejected
from shared.store.user_items import Attempts, User

KNOWN_DEVICES = 20


@dataclass(frozen=True)
class LoginRequest:
    email: str
    password: str
    user_type: str


def normalise_email(email: str) -> str:
    return unicodedata.normalize("NFKC", email).strip().lower()


@dataclass(frozen=True)
class Admission:
    """A login attempt let through: the account (None if unknown), the counters a success resets
    (account-wide, then this address's) and, when the account-wide counter is at its ceiling, the
    refusal it would have been (`ceiling`): this attempt was not counted on it."""

    user: User | None
    counters: list[Attempts]
    ceiling: TooManyAttempts | None = None

    def needs_step_up(self, client: Client) -> bool:
        """At the ceiling, from an address the account never signed in from: an emailed code first."""
        return self.ceiling is not None and not known_address(self.user, client)


def known_address(user: User | None, client: Client) -> bool:
    return user is not None and bool(client.source_ip) and client.source_ip[:64] in user.known_ips


def reserve_login_attempt(
    services: Services, user_type: str, email: str, client: Client, at: int, user_id: str = ""
) -> Admission:
    """Read the account and count one attempt on its counter for this address (TooManyAttempts,
    audited as a lockout of `user_id`, by default the account's, when it is locked), then on the
    account-wide one. The account-wide ceiling locks nobody out: past it the attempt goes on
    uncounted, and the caller asks an address new to the account for an emailed code
    (Admission.needs_step_up). The owner is emailed when an attempt reaches the ceiling."""
    settings = services.settings
    user, (account, from_ip) = services.users.login_state(user_type, email, client.source_ip)
    locked_out = user_id or (user.user_id if user else "")
    try:
        reserve_attempt(services, [from_ip], [settings.lockout_threshold], at)
    except TooManyAttempts:
        audit_login(Event.LOGIN_LOCKOUT, "blocked", client, locked_out, Reason.LOCKED)
        raise
    try:
        reached = reserve_attempt(services, [account], [settings.lockout_account_threshold], at)
    except TooManyAttempts as ceiling:
        return Admission(user, [account, from_ip], ceiling)
    if reached and user is not None:
        audit_login(Event.LOGIN_CEILING, "reached", client, user.user_id, Reason.LOCKED)
        from shared.mail.notifications import notify_ceiling  # only the attempt that reaches it mails

        notify_ceiling(services, user, client)
    return Admission(user, [account, from_ip])


def login(services: Services, request: LoginRequest, client: Client) -> TokenGrant | MfaChallenge:
    email = normalise_email(request.email)
    if len(email) > MAX_EMAIL_LENGTH:  # NFKC can expand one character to 18: keep keys valid
        raise BadRequest("email", f"email is too long (at most {MAX_EMAIL_LENGTH} characters)")
    passwords.prepare_dummy_hash()  # before anything is timed: the first unknown user is not slower
    started = time.monotonic()
    at = services.clock.now_ms()  # the snapshot: the session and its tokens date from this read
    admission = reserve_login_attempt(services, request.user_type, email, client, at)
    user, counters = admission.user, admission.counters
    user_id = user.user_id if user else ""

    step_up = admission.needs_step_up(client)
    if step_up and admission.ceiling and not services.settings.mail_sender:  # no code can be sent
        audit_login(Event.LOGIN_LOCKOUT, "blocked", client, user_id, Reason.LOCKED)
        raise admission.ceiling

    reason = _refusal(user, request.password)
    if reason is not None or user is None:
        audit_login(Event.LOGIN, "failure", client, user_id, reason or Reason.UNKNOWN_USER)
        _watch_for_credential_stuffing(services, request.user_type, email, client, at)
    if step_up:
        # the same answer whether the password is right or not: past the ceiling a guess learns nothing
        audit_login(Event.LOGIN_STEP_UP, "asked", client, user_id, reason or "")
        from shared.login.step_up import email_code_challenge  # only past the ceiling: mail stays unloaded

        return email_code_challenge(services, None if reason else user, at, started)
    if reason is not None or user is None:
        raise InvalidCredentials(reason or Reason.UNKNOWN_USER)

    if passwords.needs_rehash(user.password_hash):
        services.users.update_password_hash(
            user, user.password_hash, passwords.hash_password(request.password)
        )
    # A second factor is due (issue 16): a challenge instead of tokens; the attempt stays counted.
    challenge = second_factor_challenge(services, user, at)
    if challenge is not None:
        audit_login(Event.MFA_CHALLENGE, challenge.purpose, client, user.user_id, "")
        return challenge
    return finish_login(services, user, counters, client, at, method="pwd", amr=AMR_PASSWORD)


def finish_login(
    services: Services,
    user: User,
    counters: list[Attempts],
    client: Client,
    at: int,
    *,
    method: str,
    amr: tuple[str, ...],
    consume: Sequence[Operation] = (),
    refused: Callable[[TransactionRejected], Reason] = lambda _: Reason.ACCOUNT_CHANGED,
) -> TokenGrant:
    """The end of every successful way of logging in (`method`: pwd, otp, recovery, passkey, proving
    `amr` at `at`: shared/sessions/assurance.py): one
    transaction that resets the lockout counters, remembers the device, runs `consume` (the
    challenge or passkey used) and creates the session, conditional on the account version read at
    `at`; then the audit and a new device's email. A failed condition is audited and refused with
    the reason `refused` reads from it."""
    new_device, agents, ips = device_history(user, client)
    commit = [
        *services.users.reset_attempts_operations([counter.key for counter in counters]),
        services.users.remember_device_operation(user, agents, ips),  # conditional on the version read
        *consume,
    ]
    identity = Identity.of(user)
    try:
        grant = start_session(
            services,
            identity,
            client,
            commit,
            at=at,
            user_version=user.version,
            new_device=new_device,
            amr=amr,
            auth_time=at // 1000,
        )
    except TransactionRejected as rejected:
        reason = refused(rejected)
        audit_login(Event.LOGIN, "failure", client, user.user_id, reason)
        raise InvalidCredentials(reason) from None
    sid = grant.claims.sid
    audit_login(Event.LOGIN, "success", client, user.user_id, method, sid)
    if new_device:
        audit_login(Event.LOGIN_NEW_DEVICE, "flagged", client, user.user_id, "device and IP never seen", sid)
        from shared.mail.notifications import notify_new_device  # only a flagged login sends mail

        notify_new_device(services, user, client)
    return grant


def _refusal(user: User | None, password: str) -> Reason | None:
    """Why this login is refused (None: it is not), after exactly one password-hash verification."""
    if user is None:
        passwords.dummy_verify(password)
        return Reason.UNKNOWN_USER
    if not passwords.verify_password(user.password_hash, password):
        return Reason.WRONG_PASSWORD
    if user.disabled:
        return Reason.DISABLED
    try:
        check_identity(Identity.of(user))
    except InvalidIdentity:
        return Reason.INVALID_IDENTITY
    return None


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:16]


def device_history(user: User, client: Client) -> tuple[bool, list[str], list[str]]:
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
        audit_login(
            Event.CREDENTIAL_STUFFING, "suspected", client, "", f"{accounts} accounts failed from one IP"
        )


def audit_login(
    event: Event, outcome: str, client: Client, user_id: str, reason: str, session_id: str = ""
) -> None:
    audit(event, outcome, client, user_id=user_id, session_id=session_id, reason=reason)

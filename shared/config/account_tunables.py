"""The tunables of the account lifecycle and of second factors: rows of shared/config/tunables.py's one
table, kept here by concern. Only the functions that set passwords, send mail or check a second
factor read them; an authorizer elsewhere is never given them (infra/sharing.py).
"""

from __future__ import annotations

from shared.config.parsing import DAY, HOUR, MINUTE, Tunable, from_stack, int_tunable

# A relying-party id: a DNS name (lower case) or `localhost` (browsers refuse an IP address).
RP_ID_PATTERN = r"localhost|([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"

# Passwords, mail and one-time links.
LIFECYCLE_TUNABLES: tuple[Tunable, ...] = (
    Tunable(
        "PWNED_PASSWORDS",
        "pwned_passwords",
        "choice",
        "off",
        "ask the Pwned Passwords range API (k-anonymity: 5 hex characters of the SHA-1 leave) about every "
        "new password; when it times out or fails, `fail-open` accepts the password (logged) and "
        "`fail-closed` answers 503. Deployed functions reach the internet, so the stack turns it on; "
        "unset it is off, as in the local API and the tests, which have no network but loopback",
        context="pwned_passwords",
        choices=("off", "fail-open", "fail-closed"),
        shown_default="`fail-open` deployed; `off` when unset (locally)",
        deployed="fail-open",
    ),
    Tunable(
        "PWNED_PASSWORDS_URL",
        "pwned_passwords_url",
        "text",
        "https://api.pwnedpasswords.com/range/",
        "the range API, the 5-character prefix appended",
        context="pwned_passwords_url",
        pattern=r"(https://[A-Za-z0-9.-]+(:\d+)?|http://127\.0\.0\.1:\d+)/[A-Za-z0-9/._-]*",
        shape="an https URL (plain http only on 127.0.0.1) ending in '/'",
        example="https://passwords.example.com/range/",
    ),
    int_tunable(
        "PWNED_PASSWORDS_TIMEOUT_MS",
        "pwned_passwords_timeout_ms",
        1500,
        100,
        5000,
        "how long the range API may take (milliseconds)",
    ),
    Tunable(
        "PASSWORD_CONTEXT_WORDS",
        "password_context_words",
        "list",
        ("dealership", "jwt-auth"),
        "the service's own names (company, product, brand), comma-separated: a new password built only "
        "from them, the user's name and the parts of their email, in any case, with digits and "
        "punctuation added or common character swaps (`d3al3rsh1p`), is refused",
        context="password_context_words",
        high=50,
        pattern=r"[A-Za-z0-9][A-Za-z0-9 ._-]{2,63}",
        shape="names of 3 to 64 letters, digits, spaces, '.', '_' or '-'",
        shown_default="`dealership,jwt-auth`",
        example=("contoso", "roadrunner"),
    ),
    Tunable(
        "MAIL_SENDER",
        "mail_sender",
        "text",
        "",
        "the From address of every email (a verified Amazon SES identity); empty: no email is sent, "
        "invitations answer 503 and forgotten-password requests send nothing",
        context="mail_sender",
        pattern=r"[^@\s<>\"]{1,64}@[A-Za-z0-9.-]{1,189}\.[A-Za-z]{2,63}",
        shape="an email address",
        shown_default="none",
        example="no-reply@example.com",
    ),
    Tunable(
        "MAIL_CONFIGURATION_SET",
        "mail_configuration_set",
        "text",
        "",
        "the SES configuration set every email is sent with (event publishing, suppression); empty: none",
        context="mail_configuration_set",
        pattern=r"[A-Za-z0-9_-]{1,64}",
        shape="letters, digits, '_' or '-', at most 64",
        shown_default="none",
    ),
    Tunable(
        "FRONTEND_URL",
        "frontend_url",
        "text",
        "",
        "the page that opens invitation and reset links: the link is this URL with "
        "`#invitation=<token>` or `#reset=<token>` (a fragment: never sent to a server, never in a Referer)",
        context="frontend_url",
        pattern=r"(https://[A-Za-z0-9.-]+(:\d+)?|http://(localhost|127\.0\.0\.1)(:\d+)?)(/[A-Za-z0-9/._~-]*)?",
        shape="an https URL (plain http only for localhost) with no query or fragment",
        shown_default="none",
        example="https://app.example.com/account",
    ),
    int_tunable(
        "INVITATION_TTL_SECONDS",
        "invitation_ttl",
        72 * HOUR,
        HOUR,
        30 * DAY,
        "an invitation link works this long",
    ),
    int_tunable(
        "RESET_LINK_TTL_SECONDS",
        "reset_link_ttl",
        HOUR,
        5 * MINUTE,
        DAY,
        "a password-reset link works this long",
    ),
    int_tunable(
        "FORGOT_PASSWORD_THRESHOLD",
        "forgot_password_threshold",
        3,
        1,
        100,
        "forgotten-password requests for one account from one source IP before 429 (the lock then "
        "doubles as the login lock does)",
    ),
    int_tunable(
        "FORGOT_PASSWORD_ACCOUNT_THRESHOLD",
        "forgot_password_account_threshold",
        10,
        1,
        10_000,
        "forgotten-password requests for one account from all IPs together before 429",
    ),
    int_tunable(
        "FORGOT_PASSWORD_IP_THRESHOLD",
        "forgot_password_ip_threshold",
        30,
        1,
        100_000,
        "forgotten-password requests from one source IP, for any accounts, before 429",
    ),
    int_tunable(
        "FORGOT_PASSWORD_MIN_MS",
        "forgot_password_min_ms",
        800,
        0,
        10_000,
        "a forgotten-password request is answered no sooner than this (milliseconds), so a real "
        "account (a link stored and emailed) and an unknown one take the same time",
    ),
    int_tunable(
        "RESET_EMAILS_PER_DAY",
        "reset_emails_per_day",
        10,
        1,
        1000,
        "reset emails one account is sent per UTC day, however many addresses ask: past it a "
        "forgotten-password request answers the same 202 and sends nothing (audited)",
    ),
    Tunable(
        "NOTIFICATIONS",
        "notifications",
        "list",
        (
            "password_changed",
            "reset_requested",
            "new_device",
            "recovery_code_used",
            "passkey_added",
            "passkey_removed",
            "totp_added",
            "totp_removed",
            "login_ceiling",
            "codes_failed",
        ),
        "the emails users get, comma-separated: `password_changed` (a change or reset), `reset_requested` "
        "(the reset link itself: without it self-service reset is off), `new_device` (a flagged login), "
        "`recovery_code_used` (a login with a second-factor recovery code), `passkey_added` (a new "
        "passkey can sign in), `passkey_removed`, `totp_added` (an authenticator app is active), "
        "`totp_removed` (it and its recovery codes are gone), `login_ceiling` (failed logins reached the "
        "account-wide ceiling), `codes_failed` (MFA_FAILURE_LIMIT wrong codes in a row closed code "
        "login; it carries the unlock link)",
        context="notifications",
        pattern=r"password_changed|reset_requested|new_device|recovery_code_used"
        r"|passkey_added|passkey_removed|totp_added|totp_removed|login_ceiling|codes_failed",
        shape="password_changed, reset_requested, new_device, recovery_code_used, passkey_added, "
        "passkey_removed, totp_added, totp_removed, login_ceiling or codes_failed",
        shown_default="all ten",
        example=("password_changed",),
    ),
)
LIFECYCLE_FIELDS: tuple[str, ...] = tuple(tunable.field for tunable in LIFECYCLE_TUNABLES)

SECOND_FACTOR_TUNABLES: tuple[Tunable, ...] = (
    from_stack(
        "FACTOR_KEY_ID",
        "factor_key_id",
        "the symmetric KMS key that encrypts TOTP secrets (the user id in the encryption context)",
        required=False,
        shown="none: second factors unavailable",
    ),
    int_tunable(
        "MFA_CHALLENGE_TTL_SECONDS",
        "mfa_challenge_ttl",
        5 * MINUTE,
        MINUTE,
        15 * MINUTE,
        "how long the single-use challenge between the password and the second factor lasts",
    ),
    Tunable(
        "MFA_REQUIRED_TYPES",
        "mfa_required_types",
        "list",
        (),
        "user types that must have a second factor, comma-separated: such a user without one is "
        "sent to enrolment after the password step and gets no tokens until it is proven",
        context="mfa_required_types",
        pattern=r"[A-Za-z0-9_-]{1,64}",
        shape="user type names",
        shown_default="none",
    ),
    Tunable(
        "TOTP_ISSUER",
        "totp_issuer",
        "text",
        "jwt-auth",
        "the issuer name authenticator apps show beside a TOTP factor",
        context="totp_issuer",
        pattern=r"[A-Za-z0-9 ._-]{1,64}",
        shape="letters, digits, spaces, '.', '_' or '-', at most 64",
    ),
    # Passkeys (WebAuthn): off until a relying-party id is set.
    Tunable(
        "WEBAUTHN_RP_ID",
        "webauthn_rp_id",
        "text",
        "",
        "the relying-party id passkeys are bound to: the frontend's host or a registrable suffix of it "
        "(`example.com` serves `app.example.com`); `localhost` locally; empty: passkeys off (their routes "
        "answer 503)",
        context="webauthn_rp_id",
        pattern=RP_ID_PATTERN,
        shape="a DNS name in lower case, or localhost (never an IP address)",
        shown_default="none: passkeys off",
        example="example.com",
    ),
    Tunable(
        "WEBAUTHN_RP_NAME",
        "webauthn_rp_name",
        "text",
        "jwt-auth",
        "the relying party's name browsers show when a passkey is created",
        context="webauthn_rp_name",
        pattern=r"[A-Za-z0-9 ._-]{1,64}",
        shape="letters, digits, spaces, '.', '_' or '-', at most 64",
    ),
    Tunable(
        "WEBAUTHN_ORIGINS",
        "webauthn_origins",
        "origins",
        (),
        "the exact origins passkey ceremonies may run on, comma-separated, each on the relying-party id "
        "or under it; empty: those of ALLOWED_ORIGINS that are",
        context="webauthn_origins",
        shown_default="from ALLOWED_ORIGINS",
        example=("https://app.example.com",),
    ),
    int_tunable(
        "PASSKEY_CHALLENGE_TTL_SECONDS",
        "passkey_challenge_ttl",
        5 * MINUTE,
        MINUTE,
        15 * MINUTE,
        "how long a passkey challenge (registration or sign-in) lasts; each is single use",
    ),
    int_tunable(
        "FACTOR_CHANGE_MAX_AGE_SECONDS",
        "factor_change_max_age",
        15 * MINUTE,
        MINUTE,
        7 * DAY,
        "enrolling TOTP, registering or removing a passkey needs a proof (`auth_time`) at most this "
        "old, of an existing factor (`amr` with `mfa`) when the account has one, so a session stolen "
        "earlier cannot change them: otherwise the step-up 403 (`insufficient_user_authentication`)",
    ),
)

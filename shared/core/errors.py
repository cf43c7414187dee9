"""Domain errors. Each carries a reason code from one closed set (what logs, metric filters and
alarms match, exactly) and optional free detail for the log. Nothing here knows HTTP: the
endpoint layer maps each class to one answer."""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    """Why a request was refused or could not be decided: the only values a `reason` field holds."""

    # access tokens, at the authorizer
    MALFORMED = "malformed"
    TOKEN_TYPE = "token_type"  # noqa: S105  # a code, not a secret
    FORBIDDEN_HEADER = "forbidden_header"
    UNKNOWN_KEY = "unknown_key"
    ALGORITHM = "algorithm"
    SIGNATURE = "signature"
    CLAIMS = "claims"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    LOGGED_OUT = "logged_out"
    SESSION_REVOKED = "session_revoked"
    NOT_BEFORE = "not_before"
    UNDECIDABLE = "undecidable"  # a dependency or the configuration failed: denied, and it alarms
    # refresh tokens
    UNKNOWN_TOKEN = "unknown_token"  # noqa: S105  # a code, not a secret
    SESSION_ENDED = "session_ended"
    TOKEN_EXPIRED = "token_expired"  # noqa: S105  # a code, not a secret
    REUSE_DETECTED = "reuse_detected"
    # login and passwords
    UNKNOWN_USER = "unknown_user"
    WRONG_PASSWORD = "wrong_password"  # noqa: S105  # a code, not a secret
    DISABLED = "disabled"
    INVALID_IDENTITY = "invalid_identity"
    ACCOUNT_CHANGED = "account_changed"  # the account changed between the read and the commit
    LOCKED = "locked"
    # invitation and reset links
    UNKNOWN_LINK = "unknown_link"
    LINK_EXPIRED = "link_expired"
    RESET_MAIL_LIMIT = "reset_mail_limit"  # the account was sent RESET_EMAILS_PER_DAY reset emails today
    # second factors
    WRONG_CODE = "wrong_code"  # a TOTP or recovery code that is wrong, expired or already used
    MFA_CHALLENGE = "mfa_challenge"  # an unknown, expired or already used login challenge
    FACTOR_EXISTS = "factor_exists"
    # passkeys (WebAuthn)
    PASSKEY_CHALLENGE = "passkey_challenge"  # an unknown, expired, used or misdirected passkey challenge
    UNKNOWN_CREDENTIAL = "unknown_credential"  # a passkey this service does not know (or no longer)
    PASSKEY_REFUSED = "passkey_refused"  # signature, origin, relying-party id or user verification wrong
    COUNTER_REGRESSION = "counter_regression"  # a sign counter that did not increase: a cloned authenticator
    LOGIN_REQUIRED = "login_required"  # the caller's login is too old for this change
    PASSKEY_LIMIT = "passkey_limit"
    # everything else
    BAD_INPUT = "bad_input"
    NOT_FOUND = "not_found"
    FORBIDDEN = "forbidden"
    UNAVAILABLE = "unavailable"
    CONFIGURATION = "configuration"


class DomainError(Exception):
    """A refusal the caller gets a defined answer for. `detail` is for the log only."""

    def __init__(self, reason: Reason, detail: str = "") -> None:
        super().__init__(f"{reason.value}: {detail}" if detail else reason.value)
        self.reason = reason
        self.detail = detail


class ConfigurationError(DomainError):
    """A missing or unsafe setting: the function refuses to start."""

    def __init__(self, detail: str) -> None:
        super().__init__(Reason.CONFIGURATION, detail)

    def __str__(self) -> str:
        return self.detail


class BadRequest(DomainError):
    """Malformed input. `field` names the offending field; `message` is shown to the caller."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(Reason.BAD_INPUT, message)
        self.field = field
        self.message = message


class InvalidLink(BadRequest):
    """An invitation or reset link that is unknown, expired, used, replaced by a newer one, or
    issued for an account that has changed since. One answer for all: `reason` is for the log."""

    def __init__(self, reason: Reason) -> None:
        super().__init__("token", "This link is invalid or has expired: ask for a new one")
        self.reason = reason


class PayloadTooLarge(BadRequest):
    """The body is over the size limit."""


class InvalidCredentials(DomainError):
    """Login failed. The reason is for the audit log only, never for the response."""


class TooManyAttempts(DomainError):
    """Locked out for `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(Reason.LOCKED, f"retry after {retry_after}s")
        self.retry_after = retry_after


class InvalidRefreshToken(DomainError):
    """The refresh token is unknown, expired, revoked or replayed."""


class InvalidAccessToken(DomainError):
    """The access token fails verification, is revoked, or its state cannot be decided."""


class NotFound(DomainError):
    """The resource does not exist for this caller."""

    def __init__(self, detail: str = "") -> None:
        super().__init__(Reason.NOT_FOUND, detail)


class Forbidden(DomainError):
    """The caller may not do this (a handler reached without the authorizer's context)."""

    def __init__(self, detail: str = "") -> None:
        super().__init__(Reason.FORBIDDEN, detail)


class Conflict(DomainError):
    """The request clashes with the resource's state (enrolling a factor when one is active)."""

    def __init__(self, reason: Reason, detail: str = "") -> None:
        super().__init__(reason, detail)


class StepUpRequired(DomainError):
    """The caller's login is older than this change allows (RFC 9470: `max_age` seconds): sign in
    again, then retry. The answer carries the same `error` and `max_age` as the gateway's step-up."""

    def __init__(self, max_age: int) -> None:
        super().__init__(Reason.LOGIN_REQUIRED, f"login older than {max_age}s")
        self.max_age = max_age


class ServiceUnavailable(DomainError):
    """A dependency (DynamoDB, KMS, Secrets Manager) failed; nothing was half-written."""

    def __init__(self, dependency: str) -> None:
        super().__init__(Reason.UNAVAILABLE, f"{dependency} unavailable")
        self.dependency = dependency

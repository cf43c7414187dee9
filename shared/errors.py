"""Domain errors. Handlers map each to exactly one HTTP status; nothing here knows HTTP."""


class ConfigurationError(RuntimeError):
    """A missing or unsafe setting: the function refuses to start."""


class BadRequest(Exception):
    """Malformed input (400). `field` names the offending field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class InvalidCredentials(Exception):
    """Login failed (401). The reason is for the audit log only, never for the response."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TooManyAttempts(Exception):
    """The account (or unknown email) is locked out (429)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after}s")
        self.retry_after = retry_after


class InvalidRefreshToken(Exception):
    """The refresh token is unknown, expired, revoked or replayed (401)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class InvalidAccessToken(Exception):
    """The access token fails verification or is revoked (the authorizer answers Unauthorized)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NotFound(Exception):
    """The resource does not exist for this caller (404)."""


class ServiceUnavailable(Exception):
    """A dependency (DynamoDB, KMS, Secrets Manager) failed; nothing was half-written (503)."""

    def __init__(self, dependency: str) -> None:
        super().__init__(f"{dependency} unavailable")
        self.dependency = dependency

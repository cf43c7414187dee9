"""The plumbing every HTTP handler shares: parse the event, map domain errors to the contract's
answers (one table), log with the request's correlation id, flush metrics. Handlers stay thin."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from shared.authorizer.decision import STEP_UP_ERROR
from shared.core.errors import (
    BadRequest,
    Conflict,
    DomainError,
    Forbidden,
    InvalidCredentials,
    InvalidLink,
    InvalidRefreshToken,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
    StepUpRequired,
    TooManyAttempts,
)
from shared.core.observability import DEPENDENCY_UNAVAILABLE, Client, log_invocation, logger, metrics
from shared.credentials.access_tokens import AccessClaims
from shared.http.proxy import Request, parse_event
from shared.http.reply import IssuedRefresh, Reply, render
from shared.runtime.services import Services, get_services
from shared.sessions.lifecycle import TokenGrant

Endpoint = Callable[[Request, Services], Reply]

# Every domain error a handler can meet, and the status and message the caller sees (BadRequest
# shows its own message and names the field). An error missing here is a bug: it surfaces as 500.
ANSWERS: dict[type[DomainError], tuple[int, str]] = {
    BadRequest: (400, "Bad request"),
    PayloadTooLarge: (413, "Request body is too large"),
    InvalidLink: (400, "This link is invalid or has expired: ask for a new one"),
    InvalidCredentials: (401, "Invalid credentials"),
    InvalidRefreshToken: (401, "Invalid refresh token"),
    Forbidden: (403, "Forbidden"),
    NotFound: (404, "Not found"),
    Conflict: (409, "Conflict"),
    StepUpRequired: (403, "A fresh sign-in is needed for this: sign in again, then retry"),
    TooManyAttempts: (429, "Too many attempts, try again later"),
    ServiceUnavailable: (503, "Service temporarily unavailable, try again"),
}


def client_of(request: Request) -> Client:
    return Client(source_ip=request.source_ip, user_agent=request.user_agent, request_id=request.request_id)


def caller_of(request: Request) -> AccessClaims:
    """The caller as the authorizer verified it (handlers behind the authorizer trust its context)."""
    context = request.authorizer
    try:
        return AccessClaims(
            sub=str(context["sub"]),
            jti=str(context["jti"]),
            sid=str(context["sid"]),
            email=str(context.get("email", "")),
            name=str(context.get("name", "")),
            role=str(context["role"]),
            user_type=str(context["type"]),
            iat=int(context.get("iat", 0)),
            exp=int(context["exp"]),
            iat_ms=int(context.get("iat_ms", 0)),
            auth_time=int(context.get("auth_time", 0)),
            amr=tuple(str(context.get("amr", "")).split()),
            client_id=str(context.get("client_id", "")),
        )
    except (KeyError, ValueError):
        # Only a misconfigured integration (no authorizer in front) can get here.
        raise Forbidden("no authorizer context") from None


def error_reply(error: DomainError) -> Reply:
    """The answer to a domain error, from ANSWERS."""
    status, message = ANSWERS[type(error)]
    headers: dict[str, str] = {}
    body: dict[str, Any] = {"message": message}
    if isinstance(error, BadRequest):  # PayloadTooLarge too: both name the field
        body = {"message": error.message, **({"field": error.field} if error.field else {})}
    if isinstance(error, TooManyAttempts):
        headers["Retry-After"] = str(error.retry_after)
    if isinstance(error, ServiceUnavailable):
        headers["Retry-After"] = "1"
        logger.warning(DEPENDENCY_UNAVAILABLE, extra={"dependency": error.dependency})
    elif isinstance(error, InvalidRefreshToken):
        logger.info("refresh rejected", extra={"reason": str(error.reason), "detail": error.detail})
    if isinstance(error, StepUpRequired):  # RFC 9470's members, as the gateway's step-up answer has them
        body = {"message": message, "error": STEP_UP_ERROR, "max_age": error.max_age}
    return Reply(status, body, headers, clear_refresh=isinstance(error, InvalidRefreshToken))


def http_endpoint(endpoint: Endpoint) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    @functools.wraps(endpoint)
    @log_invocation
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        services = get_services()
        request = parse_event(event)
        try:
            reply = endpoint(request, services)
        except DomainError as error:
            if type(error) not in ANSWERS:
                raise
            reply = error_reply(error)
        return render(reply, request, services.settings)

    return handler


def token_reply(body: dict[str, Any], grant: TokenGrant) -> Reply:
    """A token answer: in cookie mode the refresh token travels only in an HttpOnly cookie."""
    return Reply(200, body, refresh=IssuedRefresh(grant.refresh_token, grant.refresh_expires_in))


def session_reply(grant: TokenGrant) -> Reply:
    """A new session: what login answers (and accepting an invitation, a password reset)."""
    identity = grant.identity
    body = {
        "access_token": grant.access_token,
        "token_type": "Bearer",  # the OAuth token type name, not a secret
        "expires_in": grant.expires_in,
        "type": identity.user_type,
        "user": identity.as_json(),
    }
    return token_reply(body, grant)


def link_reply(grant: TokenGrant | None, done: str) -> Reply:
    """The answer to a used reset or invitation link: a session, or, when a second factor is due
    (shared/sessions/assurance.py), no tokens at all: `done`, and the user signs in normally."""
    if grant is not None:
        return session_reply(grant)
    return Reply(200, {"message": f"{done}: sign in to continue", "sign_in": True})

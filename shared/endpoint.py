"""The plumbing every HTTP handler shares: parse the event, map domain errors to the contract's
statuses, log with the request's correlation id, flush metrics. Handlers stay thin."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from shared.errors import (
    BadRequest,
    InvalidCredentials,
    InvalidRefreshToken,
    NotFound,
    ServiceUnavailable,
    TooManyAttempts,
)
from shared.http import (
    Request,
    clear_refresh_cookie,
    error_response,
    parse_event,
    refresh_cookie,
    response,
)
from shared.observability import Client, log_invocation, logger, metrics
from shared.services import Services, get_services
from shared.tokens import AccessClaims

Endpoint = Callable[[Request, Services], dict[str, Any]]


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
            iat=float(context.get("iat", 0)),
            exp=int(context["exp"]),
        )
    except (KeyError, ValueError):
        # Only a misconfigured integration (no authorizer in front) can get here.
        raise PermissionError("no authorizer context") from None


def http_endpoint(endpoint: Endpoint) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    @functools.wraps(endpoint)
    @log_invocation
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        services = get_services()
        settings = services.settings
        request = parse_event(event)
        try:
            return endpoint(request, services)
        except BadRequest as error:
            return error_response(400, error.message, request, settings, field=error.field)
        except InvalidCredentials:
            return error_response(401, "Invalid credentials", request, settings)
        except InvalidRefreshToken as error:
            logger.info("refresh rejected", extra={"reason": error.reason})
            result = error_response(401, "Invalid refresh token", request, settings)
            if request.wants_cookie:
                result["multiValueHeaders"] = {"Set-Cookie": [clear_refresh_cookie(settings)]}
            return result
        except TooManyAttempts as error:
            headers = {"Retry-After": str(error.retry_after)}
            return error_response(
                429, "Too many attempts, try again later", request, settings, headers=headers
            )
        except NotFound:
            return error_response(404, "Not found", request, settings)
        except PermissionError:
            return error_response(403, "Forbidden", request, settings)
        except ServiceUnavailable as error:
            logger.warning("dependency unavailable", extra={"dependency": error.dependency})
            return error_response(
                503,
                "Service temporarily unavailable, try again",
                request,
                settings,
                headers={"Retry-After": "1"},
            )

    return handler


def token_response(
    request: Request, services: Services, body: dict[str, Any], refresh_token: str, max_age: int
) -> dict[str, Any]:
    """A token response: in cookie mode the refresh token travels only in an HttpOnly cookie."""
    settings = services.settings
    if request.wants_cookie:
        return response(
            200, body, request, settings, cookies=[refresh_cookie(refresh_token, max_age, settings)]
        )
    return response(200, {**body, "refresh_token": refresh_token}, request, settings)

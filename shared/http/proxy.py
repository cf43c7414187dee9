"""HTTP helpers for the Lambda proxy integration: the request, JSON bodies, security and CORS headers,
the refresh-token cookie (shared/http/reply.py renders the answers)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shared.config.settings import Settings
from shared.core.errors import BadRequest, PayloadTooLarge

MAX_BODY_BYTES = 16 * 1024
# Browsers opt in to the refresh cookie with this header; a cross-site form cannot send it, and a
# cross-origin script needs a CORS preflight that only the allowed origins pass.
COOKIE_MODE_HEADER = "x-token-transport"
COOKIE_MODE_VALUE = "cookie"

SECURITY_HEADERS = {
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
CORS_ALLOW_METHODS = "GET,POST,DELETE,OPTIONS"
# API Gateway's ACCESS_DENIED body (a 403): its message, plus the members the authorizer puts in its
# `step_up` context value when the caller's login is not strong or fresh enough for the route
# (RFC 9470's "error" and "max_age"); empty otherwise, so a plain 403 keeps its body. Gateway response
# templates only substitute variables (no VTL): the local API renders this same text the same way.
ACCESS_DENIED_TEMPLATE = '{"message": $context.error.messageString$context.authorizer.step_up}'


def render_access_denied(message: str, authorizer_context: dict[str, str] | None) -> str:
    step_up = (authorizer_context or {}).get("step_up", "")
    return ACCESS_DENIED_TEMPLATE.replace("$context.error.messageString", json.dumps(message)).replace(
        "$context.authorizer.step_up", step_up
    )


@dataclass(frozen=True)
class Request:
    """The parts of an API Gateway proxy event the handlers use."""

    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes
    source_ip: str
    user_agent: str
    request_id: str
    path_parameters: dict[str, str]
    authorizer: dict[str, Any]

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")

    @property
    def origin(self) -> str:
        return self.header("origin")

    @property
    def wants_cookie(self) -> bool:
        return self.header(COOKIE_MODE_HEADER).strip().lower() == COOKIE_MODE_VALUE

    def cookie(self, name: str) -> str:
        """The value of cookie `name` ("" when absent). Each `name=value` pair is read on its own, so
        a foreign cookie this parser cannot make sense of never hides ours; the same name twice
        (one planted by a sibling subdomain, say) is refused rather than guessed."""
        found = []
        for pair in self.header("cookie").split(";"):
            key, separator, value = pair.strip().partition("=")
            if separator and key.strip() == name:
                found.append(value.strip().removeprefix('"').removesuffix('"'))
        if len(found) > 1:
            raise BadRequest("cookie", f"the {name} cookie was sent more than once")
        return found[0] if found else ""


def parse_event(event: Mapping[str, Any]) -> Request:
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items() if v is not None}
    cookies = [
        str(value)
        for name, values in (event.get("multiValueHeaders") or {}).items()
        if str(name).lower() == "cookie" and isinstance(values, list)
        for value in values
    ]
    if len(cookies) > 1:  # several Cookie headers: API Gateway's `headers` keeps only the last one
        headers["cookie"] = "; ".join(cookies)
    raw = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            body = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            body = b"\xff"  # undecodable: rejected as malformed JSON
    else:
        body = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else b""
    context = event.get("requestContext") or {}
    identity = context.get("identity") or {}
    return Request(
        method=str(event.get("httpMethod", "")),
        path=str(event.get("path", "")),
        headers=headers,
        body=body,
        source_ip=str(identity.get("sourceIp") or ""),
        user_agent=str(identity.get("userAgent") or headers.get("user-agent", "")),
        request_id=str(context.get("requestId") or ""),
        path_parameters=dict(event.get("pathParameters") or {}),
        authorizer=dict(context.get("authorizer") or {}),
    )


def json_body(request: Request, *, optional: bool = False) -> dict[str, Any]:
    """The body as a JSON object, or BadRequest naming what is wrong."""
    if len(request.body) > MAX_BODY_BYTES:
        raise PayloadTooLarge("body", f"Request body is too large (at most {MAX_BODY_BYTES} bytes)")
    if not request.body.strip():
        if optional:
            return {}
        raise BadRequest("body", "Request body must be a JSON object")
    content_type = request.header("content-type").split(";")[0].strip().lower()
    if content_type and content_type != "application/json":
        raise BadRequest("body", "Content-Type must be application/json")
    try:
        value = json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise BadRequest("body", "Request body must be valid JSON") from None
    if not isinstance(value, dict):
        raise BadRequest("body", "Request body must be a JSON object")
    return value


def string_field(body: Mapping[str, Any], name: str, *, max_length: int, min_length: int = 1) -> str:
    value = body.get(name)
    if not isinstance(value, str):
        raise BadRequest(name, f"{name} must be a string")
    if "\x00" in value:
        raise BadRequest(name, f"{name} must not contain NUL characters")
    if len(value) < min_length:
        raise BadRequest(name, f"{name} is required")
    if len(value) > max_length:
        raise BadRequest(name, f"{name} is too long (at most {max_length} characters)")
    return value


def cors_headers(origin: str, settings: Settings) -> dict[str, str]:
    if origin and origin in settings.allowed_origins:
        return {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Credentials": "true",
            "Access-Control-Expose-Headers": "Retry-After",
            "Vary": "Origin",
        }
    return {"Vary": "Origin"}


def refresh_cookie(token: str, max_age: int, settings: Settings) -> str:
    return (
        f"{settings.refresh_cookie_name}={token}; Max-Age={max_age}; Path={settings.refresh_cookie_path}; "
        f"HttpOnly; Secure; SameSite={settings.cookie_same_site}"
    )


def clear_refresh_cookie(settings: Settings) -> str:
    return refresh_cookie("", 0, settings)

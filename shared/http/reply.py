"""What an endpoint answers, and the one renderer that turns it into the Lambda proxy result for the
request it answers: security, CORS and no-store headers, the JSON body, the refresh cookie."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.config.settings import Settings
from shared.http.proxy import SECURITY_HEADERS, Request, clear_refresh_cookie, cors_headers, refresh_cookie


@dataclass(frozen=True)
class IssuedRefresh:
    token: str
    max_age: int


@dataclass(frozen=True)
class Reply:
    """An answer before rendering. `refresh` travels as the HttpOnly cookie in cookie mode and as the
    body's `refresh_token` otherwise; `clear_refresh` expires the cookie, in cookie mode only."""

    status: int
    body: Mapping[str, Any] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    refresh: IssuedRefresh | None = None
    clear_refresh: bool = False


def render(reply: Reply, request: Request, settings: Settings) -> dict[str, Any]:
    body = reply.body
    cookies: list[str] = []
    if reply.refresh is not None:
        if request.wants_cookie:
            cookies.append(refresh_cookie(reply.refresh.token, reply.refresh.max_age, settings))
        else:
            body = {**(body or {}), "refresh_token": reply.refresh.token}
    if reply.clear_refresh and request.wants_cookie:
        cookies.append(clear_refresh_cookie(settings))
    headers = {**SECURITY_HEADERS, **cors_headers(request.origin, settings), **reply.headers}
    if body is not None:
        headers["Content-Type"] = "application/json"
    result: dict[str, Any] = {
        "statusCode": reply.status,
        "headers": headers,
        "body": json.dumps(body, separators=(",", ":")) if body is not None else "",
    }
    if cookies:
        result["multiValueHeaders"] = {"Set-Cookie": cookies}
    return result

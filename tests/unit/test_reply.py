"""The one renderer: what an endpoint or a domain error answers becomes the exact proxy result (headers
in order, the refresh cookie or the body member, the JSON text) for the request it answers."""

from __future__ import annotations

from typing import Any

from shared.core.errors import (
    BadRequest,
    InvalidRefreshToken,
    Reason,
    ServiceUnavailable,
    StepUpRequired,
    TooManyAttempts,
)
from shared.credentials.access_tokens import AccessClaims
from shared.credentials.identity import Identity
from shared.http.endpoint import error_reply, session_reply, token_reply
from shared.http.proxy import parse_event
from shared.http.reply import Reply, render
from shared.sessions.lifecycle import TokenGrant
from tests.unit.test_mutation_http import SETTINGS

ORIGIN = "https://app.example.com"
SECURITY = {
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
CORS = {
    "Access-Control-Allow-Origin": ORIGIN,
    "Access-Control-Allow-Credentials": "true",
    "Access-Control-Expose-Headers": "Retry-After",
    "Vary": "Origin",
}
JSON = {"Content-Type": "application/json"}
ATTRIBUTES = "Path=/; HttpOnly; Secure; SameSite=Strict"
CLEARED = f"__Host-refresh_token=; Max-Age=0; {ATTRIBUTES}"
CLAIMS = AccessClaims(
    sub="u1",
    jti="j",
    sid="s",
    email="ann@example.com",
    name="Ann",
    role="sales",
    user_type="staff",
    iat=0,
    exp=0,
)
GRANT = TokenGrant(
    access_token="header.claims.signature",
    refresh_token="opaque-refresh",
    expires_in=900,
    refresh_expires_in=604800,
    claims=CLAIMS,
    identity=Identity("u1", "ann@example.com", "Ann", "sales", "staff"),
)


def rendered(reply: Reply, *, cookie_mode: bool = False, origin: str = ORIGIN) -> dict[str, Any]:
    headers = {"Origin": origin, **({"X-Token-Transport": "cookie"} if cookie_mode else {})}
    request = parse_event({"httpMethod": "POST", "path": "/auth/login", "headers": headers})
    return render(reply, request, SETTINGS)


def test_a_reply_carries_the_security_cors_and_its_own_headers_in_order() -> None:
    result = rendered(Reply(200, {"b": 1, "a": "é"}, {"Cache-Control": "public, max-age=300"}))
    assert result == {
        "statusCode": 200,
        "headers": {**SECURITY, **CORS, "Cache-Control": "public, max-age=300", **JSON},
        "body": '{"b":1,"a":"\\u00e9"}',
    }
    assert list(result["headers"]) == [*SECURITY, *CORS, *JSON]


def test_no_body_is_an_empty_body_without_a_content_type() -> None:
    assert rendered(Reply(204), origin="https://evil.example") == {
        "statusCode": 204,
        "headers": {**SECURITY, "Vary": "Origin"},
        "body": "",
    }


def test_a_session_puts_the_refresh_token_last_in_the_body_outside_cookie_mode() -> None:
    result = rendered(session_reply(GRANT))
    assert result == {
        "statusCode": 200,
        "headers": {**SECURITY, **CORS, **JSON},
        "body": '{"access_token":"header.claims.signature","token_type":"Bearer","expires_in":900,'
        '"type":"staff","user":{"id":"u1","email":"ann@example.com","name":"Ann","role":"sales",'
        '"type":"staff"},"refresh_token":"opaque-refresh"}',
    }


def test_in_cookie_mode_the_refresh_token_travels_only_in_the_cookie() -> None:
    result = rendered(token_reply({"access_token": "a", "expires_in": 900}, GRANT), cookie_mode=True)
    assert result == {
        "statusCode": 200,
        "headers": {**SECURITY, **CORS, **JSON},
        "body": '{"access_token":"a","expires_in":900}',
        "multiValueHeaders": {
            "Set-Cookie": [f"__Host-refresh_token=opaque-refresh; Max-Age=604800; {ATTRIBUTES}"]
        },
    }


def test_the_refresh_cookie_is_cleared_in_cookie_mode_only() -> None:
    reply = Reply(200, {"message": "Successfully logged out"}, clear_refresh=True)
    assert rendered(reply, cookie_mode=True)["multiValueHeaders"] == {"Set-Cookie": [CLEARED]}
    assert "multiValueHeaders" not in rendered(reply)


def test_domain_errors_render_their_status_body_and_headers() -> None:
    bad = rendered(error_reply(BadRequest("email", "email is required")))
    assert (bad["statusCode"], bad["body"]) == (400, '{"message":"email is required","field":"email"}')
    busy = rendered(error_reply(TooManyAttempts(42)))
    assert (busy["statusCode"], busy["headers"]["Retry-After"]) == (429, "42")
    assert list(busy["headers"])[-2:] == ["Retry-After", "Content-Type"]
    down = rendered(error_reply(ServiceUnavailable("dynamodb")))
    assert (down["statusCode"], down["headers"]["Retry-After"]) == (503, "1")
    step_up = rendered(error_reply(StepUpRequired(300)))
    assert step_up["statusCode"] == 403
    assert step_up["body"] == (
        '{"message":"A fresh sign-in is needed for this: sign in again, then retry",'
        '"error":"insufficient_user_authentication","max_age":300}'
    )


def test_a_refused_refresh_token_clears_the_cookie_in_cookie_mode() -> None:
    refused = error_reply(InvalidRefreshToken(Reason.MALFORMED, "not a refresh token"))
    in_cookie_mode = rendered(refused, cookie_mode=True)
    assert (in_cookie_mode["statusCode"], in_cookie_mode["body"]) == (
        401,
        '{"message":"Invalid refresh token"}',
    )
    assert in_cookie_mode["multiValueHeaders"] == {"Set-Cookie": [CLEARED]}
    assert "multiValueHeaders" not in rendered(refused)

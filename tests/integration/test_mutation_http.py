"""Cookie mode and CORS through the real handlers (until now only the end-to-end tests saw them): the
refresh cookie is read only with the cookie-mode header (the CSRF defence), and the CORS headers
name only an allowed origin, on success and on refusal alike."""

from __future__ import annotations

from typing import Any

from functions.refresh.handler import handler as refresh_handler
from tests.events import api_event, body_of
from tests.fixtures import Accounts
from tests.flows import CONTEXT, login

ORIGIN = "https://app.example.com"  # the allowed origin the test environment is provisioned with
COOKIE_MODE = {"X-Token-Transport": "cookie"}


def cookie_login(accounts: Accounts) -> str:
    response = login(
        "staff@dealership.example", accounts.password, "staff", headers={**COOKIE_MODE, "Origin": ORIGIN}
    )
    assert response["statusCode"] == 200, response
    assert "refresh_token" not in body_of(response)
    (cookie,) = response["multiValueHeaders"]["Set-Cookie"]
    name_value = cookie.split(";", 1)[0]
    assert name_value.startswith("__Host-refresh_token=") and "HttpOnly" in cookie
    return name_value


def cookie_refresh(cookie: str, headers: dict[str, str]) -> dict[str, Any]:
    event = api_event("POST", "/auth/refresh", headers={"Cookie": f"theme=dark; {cookie}", **headers})
    return refresh_handler(event, CONTEXT)


def test_the_refresh_cookie_is_used_with_the_cookie_mode_header(accounts: Accounts) -> None:
    cookie = cookie_login(accounts)
    response = cookie_refresh(cookie, {**COOKIE_MODE, "Origin": ORIGIN})
    assert response["statusCode"] == 200, response
    assert response["headers"]["Access-Control-Allow-Origin"] == ORIGIN
    assert response["headers"]["Access-Control-Allow-Credentials"] == "true"
    assert response["multiValueHeaders"]["Set-Cookie"][0].split(";", 1)[0] != cookie


def test_the_refresh_cookie_is_ignored_without_the_cookie_mode_header(accounts: Accounts) -> None:
    cookie = cookie_login(accounts)
    # a cross-site form sends the cookie but cannot send the header
    for headers in ({}, {"X-Token-Transport": "body"}, {"Origin": ORIGIN}):
        response = cookie_refresh(cookie, headers)
        assert response["statusCode"] == 400, response  # no token at all: the cookie is not read
        assert "Set-Cookie" not in response.get("multiValueHeaders", {})
    # and the cookie was not used up: with the header it still rotates
    assert cookie_refresh(cookie, COOKIE_MODE)["statusCode"] == 200


def test_cors_headers_name_only_an_allowed_origin_on_success_and_refusal(accounts: Accounts) -> None:
    ok = login("staff@dealership.example", accounts.password, "staff", headers={"Origin": ORIGIN})
    refused = login("staff@dealership.example", "wrong password!", "staff", headers={"Origin": ORIGIN})
    for response in (ok, refused):
        assert response["headers"]["Access-Control-Allow-Origin"] == ORIGIN
        assert response["headers"]["Vary"] == "Origin"
    for origin in ("https://evil.example.com", "https://app.example.com.evil.example", "null"):
        hostile = login("staff@dealership.example", accounts.password, "staff", headers={"Origin": origin})
        assert "Access-Control-Allow-Origin" not in hostile["headers"], origin
        assert "Access-Control-Allow-Credentials" not in hostile["headers"]

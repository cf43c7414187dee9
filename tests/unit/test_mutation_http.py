"""HTTP parsing rules the browser depends on, at the unit level: the CORS allow-list, the cookie-mode
header (the CSRF defence) and reading the refresh cookie among others."""

from __future__ import annotations

from typing import Any

import pytest

from shared.config.settings import Settings
from shared.core.errors import BadRequest
from shared.http.proxy import Request, cors_headers, parse_event

SETTINGS = Settings(
    users_table="users",
    sessions_table="sessions",
    denylist_table="denylist",
    issuer="https://auth.test.example",
    audience="jwt-auth-tests",
    signing_algorithm="RS256",
    signing_key_ids=("key",),
    hs256_secret_arn="",
    refresh_key_secret_arn="secret",
    allowed_origins=("https://app.example.com", "http://localhost:5173"),
)
ALLOWED = {
    "Access-Control-Allow-Origin": "https://app.example.com",
    "Access-Control-Allow-Credentials": "true",
    "Access-Control-Expose-Headers": "Retry-After",
    "Vary": "Origin",
}


def request(headers: dict[str, Any]) -> Request:
    return parse_event({"httpMethod": "POST", "path": "/auth/refresh", "headers": headers})


def test_cors_allows_exactly_the_listed_origins() -> None:
    assert cors_headers("https://app.example.com", SETTINGS) == ALLOWED
    assert (
        cors_headers("http://localhost:5173", SETTINGS)["Access-Control-Allow-Origin"]
        == "http://localhost:5173"
    )
    for origin in (
        "https://evil.example.com",
        "https://app.example.com.evil.example",
        "https://APP.example.com",
        "http://app.example.com",
        "https://app.example.com/",
        "https://app.example",
        "null",
        "*",
        "",
    ):
        assert cors_headers(origin, SETTINGS) == {"Vary": "Origin"}, origin


def test_no_origin_is_allowed_when_none_is_configured() -> None:
    closed = Settings(**{**SETTINGS.__dict__, "allowed_origins": ()})
    assert cors_headers("https://app.example.com", closed) == {"Vary": "Origin"}
    assert cors_headers("", closed) == {"Vary": "Origin"}


@pytest.mark.parametrize("value", ["cookie", "Cookie", " COOKIE "])
def test_cookie_mode_is_the_header_with_the_value_cookie_in_any_case(value: str) -> None:
    assert request({"X-Token-Transport": value}).wants_cookie


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Token-Transport": ""},
        {"X-Token-Transport": "body"},
        {"X-Token-Transport": "cookies"},
        {"Cookie": "x"},
    ],
)
def test_without_the_cookie_mode_header_there_is_no_cookie_mode(headers: dict[str, str]) -> None:
    assert not request(headers).wants_cookie


def test_header_names_are_case_insensitive_and_a_missing_header_is_empty() -> None:
    parsed = request({"X-TOKEN-TRANSPORT": "cookie", "Origin": "https://app.example.com", "X-Empty": None})
    assert parsed.header("x-token-transport") == "cookie"
    assert parsed.header("X-Token-Transport") == "cookie"
    assert parsed.origin == "https://app.example.com"
    assert parsed.header("authorization") == ""
    assert parsed.header("x-empty") == ""


def test_the_refresh_cookie_is_read_among_other_cookies() -> None:
    cookies = "theme=dark; refresh_token=abc.def; lang=en"
    assert request({"Cookie": cookies}).cookie("refresh_token") == "abc.def"
    assert request({"cookie": "refresh_token=abc.def"}).cookie("refresh_token") == "abc.def"


def test_41_the_refresh_cookie_is_read_after_a_cookie_holding_json() -> None:
    cookies = 'prefs={"a":1}; refresh_token=abc.def'
    assert request({"Cookie": cookies}).cookie("refresh_token") == "abc.def"


@pytest.mark.parametrize(
    "cookies",
    [
        "",
        "other=1",
        "refresh_tokenx=abc",
        "xrefresh_token=abc",
    ],
)
def test_a_missing_refresh_cookie_is_empty(cookies: str) -> None:
    assert request({"Cookie": cookies}).cookie("refresh_token") == ""


def test_a_foreign_cookie_the_parser_cannot_read_does_not_hide_ours() -> None:
    assert request({"Cookie": "a,b=1; refresh_token=abc"}).cookie("refresh_token") == "abc"
    assert request({"Cookie": 'refresh_token="'}).cookie("refresh_token") == ""


@pytest.mark.parametrize(
    ("cookies", "value"),
    [
        ("refresh_token =abc; theme=dark", "abc"),  # white space around the name
        ("theme=dark;refresh_token= abc ;lang=en", "abc"),  # and around the value
        ('refresh_token="abc.def"', "abc.def"),  # a quoted value is read without its quotes
        ('refresh_token="abc', "abc"),
        ("refresh_token=a=b", "a=b"),  # the value runs to the end of the pair
        ("flag; refresh_token=abc", "abc"),  # a pair without '=' names no cookie
    ],
)
def test_the_refresh_cookie_is_read_without_white_space_or_quotes(cookies: str, value: str) -> None:
    assert request({"Cookie": cookies}).cookie("refresh_token") == value


def test_a_pair_without_a_value_separator_is_not_the_cookie() -> None:
    assert request({"Cookie": "refresh_token; other=1"}).cookie("refresh_token") == ""


@pytest.mark.parametrize(
    "cookies",
    [
        "refresh_token=a; refresh_token=b",
        "refresh_token=a; refresh_token=a",
        "refresh_token=; refresh_token=b",
    ],
)
def test_the_refresh_cookie_sent_twice_is_refused(cookies: str) -> None:
    with pytest.raises(BadRequest) as refused:
        request({"Cookie": cookies}).cookie("refresh_token")
    assert refused.value.field == "cookie"
    assert refused.value.message == "the refresh_token cookie was sent more than once"

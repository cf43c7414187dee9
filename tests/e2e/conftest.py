"""One local API for the whole e2e session, started as `python -m local` on free loopback ports, and
the browser tests' Chromium (Playwright) confined to its two origins."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from tests import browser as chromium
from tests.e2e.local_api import LocalApi, call, start_local_api

USERS = {
    "admin": ("admin@dealership.example", "admin"),
    "staff": ("staff@dealership.example", "staff"),
}


@pytest.fixture(scope="session")
def local_api() -> Iterator[LocalApi]:
    api = start_local_api()
    yield api
    api.stop()


def login(api: LocalApi, who: str, *, headers: dict[str, str] | None = None) -> dict[str, Any]:
    email, user_type = USERS[who]
    reply = call(
        "POST",
        f"{api.base_url}/auth/login",
        body={"email": email, "password": api.password, "userType": user_type},
        headers=headers,
    )
    assert reply.status == 200, reply.body
    result: dict[str, Any] = reply.json()
    return result


# -- the browser -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        try:
            browser = chromium.start(playwright)
        except chromium.NoBrowser as error:
            if chromium.required():
                pytest.fail(f"{error} (REQUIRE_BROWSER is set)")
            pytest.skip(f"{error}: {chromium.MAKE_BROWSER}")
        yield browser
        browser.close()


@contextmanager
def loopback_context(browser: Browser, api: LocalApi) -> Iterator[BrowserContext]:
    """A fresh browser profile (its tabs share cookies, storage, locks and channels) that reaches
    nothing but the local API's two loopback origins, ever."""
    context = browser.new_context()
    context.set_default_timeout(10_000)
    allowed = (api.base_url, api.frontend_url)
    context.route(
        "**/*", lambda route: route.continue_() if route.request.url.startswith(allowed) else route.abort()
    )
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def context(browser: Browser, local_api: LocalApi) -> Iterator[BrowserContext]:
    with loopback_context(browser, local_api) as context:
        yield context


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


def sign_in(page: Page, api: LocalApi, who: str) -> str:
    """Sign in through the form; returns the access token the API issued (read off the wire)."""
    page.goto(api.frontend_url)
    expect(page.locator("#login")).to_be_visible()
    page.select_option("#user-type", who)
    expect(page.locator("#email")).to_have_value(f"{who}@dealership.example")
    page.fill("#password", api.password)
    with page.expect_response(lambda r: r.url.endswith("/auth/login")) as login:
        page.click("#login-submit")
    assert login.value.status == 200
    expect(page.locator("#who")).to_contain_text(f"{who}@dealership.example")
    token: str = login.value.json()["access_token"]
    return token

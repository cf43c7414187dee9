"""The web client (clients/web) in Chromium against the local API: several tabs of one browser
profile sharing one session. Through the demo page (which runs on the client): two tabs refreshing
at once rotate the refresh token once and both keep working; a logout in one tab signs out the
other. Through the module itself, on a private API whose passwords may change: a password change
adopts the fresh session in every tab, and body mode.

Fixtures (the browser, confined to the two loopback origins): tests/e2e/conftest.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Request, Response, expect

from tests.e2e.conftest import USERS, loopback_context, sign_in
from tests.e2e.local_api import LocalApi, call, start_local_api

pytestmark = pytest.mark.browser

# Makes every tab that ran it click its "Reload" button on one message: the tabs act at once.
ARM = """() => {
  window.e2eGo = new BroadcastChannel("e2e-go");
  window.e2eGo.onmessage = () => document.querySelector("#reload-cars").click();
}"""
GO = """() => new BroadcastChannel("e2e-go").postMessage("go")"""


def open_demo(context: BrowserContext, api: LocalApi) -> Page:
    page = context.new_page()
    page.goto(api.frontend_url)
    return page


def log_count(page: Page, text: str) -> int:
    count: int = page.locator("#log li", has_text=text).count()
    return count


def test_two_tabs_refreshing_at_once_rotate_the_refresh_token_once_and_both_keep_working(
    context: BrowserContext, local_api: LocalApi
) -> None:
    first = context.new_page()
    sign_in(first, local_api, "staff")
    with context.expect_event("response", lambda r: r.url.endswith("/auth/refresh")) as restored:
        second = open_demo(context, local_api)  # a second tab: signed in from the shared cookie
    assert restored.value.status == 200
    expect(second.locator("#who")).to_contain_text("staff@dealership.example")
    for tab in (first, second):
        expect(tab.locator("#cars tbody tr").first).to_be_visible()

    answers: list[Response] = []
    context.on("response", lambda r: answers.append(r))
    # Both tabs' next call carries a spoiled token (401), and both make it at the same moment.
    for tab in (first, second):
        tab.click("#break-token")
        tab.evaluate(ARM)
    first.evaluate(GO)

    for tab in (first, second):
        expect(tab.locator("#log li", has_text="GET /cars -> 401")).to_have_count(1)
        expect(tab.locator("#log li").first).to_contain_text("GET /cars -> 200")
    refreshes = [r for r in answers if r.url.endswith("/auth/refresh")]
    assert [r.status for r in refreshes] == [200], "one rotation for both tabs"
    fresh = f"Bearer {refreshes[0].json()['access_token']}"
    cars = [r for r in answers if r.url.endswith("/cars")]
    assert sorted(r.status for r in cars) == [200, 200, 401, 401]
    # Both tabs had their 401 before the refresh was answered: they needed it at the same time.
    assert max(answers.index(r) for r in cars if r.status == 401) < answers.index(refreshes[0])
    assert {r.frame.page for r in cars if r.status == 200} == {first, second}
    assert [r.request.headers["authorization"] for r in cars if r.status == 200] == [fresh, fresh]

    # Both keep working, with no further refresh; the other tab's token is the one rotation's.
    for tab in (first, second):
        with tab.expect_response(lambda r: r.url.endswith("/cars")) as again:
            tab.click("#reload-cars")
        assert again.value.status == 200
        assert again.value.request.headers["authorization"] == fresh
    assert len([r for r in answers if r.url.endswith("/auth/refresh")]) == 1
    assert call("GET", f"{local_api.base_url}/auth/me", token=fresh.split()[1]).status == 200


def test_a_login_in_one_tab_signs_in_the_other_and_a_logout_signs_it_out(
    context: BrowserContext, local_api: LocalApi
) -> None:
    second = open_demo(context, local_api)
    expect(second.locator("#login")).to_be_visible()
    first = context.new_page()
    token = sign_in(first, local_api, "admin")
    expect(second.locator("#who")).to_contain_text("admin@dealership.example")  # followed the login
    expect(second.locator("#cars tbody tr").first).to_be_visible()

    calls: list[Request] = []
    second.on("request", lambda r: calls.append(r))
    with first.expect_response(lambda r: r.url.endswith("/auth/logout")) as logged_out:
        first.click("#logout")
    assert logged_out.value.status == 200
    expect(first.locator("#login-error")).to_have_text("You are logged out.")
    expect(second.locator("#login")).to_be_visible()
    expect(second.locator("#app")).to_be_hidden()
    expect(second.locator("#login-error")).to_have_text("You were logged out in another tab.")
    assert calls == [], "the other tab learns it from the first, not from the API"
    assert call("GET", f"{local_api.base_url}/auth/me", token=token).status == 401
    assert not [c for c in context.cookies(local_api.base_url) if c["name"] == "__Host-refresh_token"]


# -- the module itself -----------------------------------------------------------------------------

# Loads the client into a page of the demo's origin (not the demo itself) as `window.auth`.
LOAD = """async ([baseUrl, options]) => {
  const { createAuthClient } = await import("/auth-client.js");
  window.spoilNext = false;
  const spoiling = (url, init) => {
    const headers = new Headers(init.headers);
    if (window.spoilNext && headers.has("Authorization")) {
      window.spoilNext = false;
      headers.set("Authorization", headers.get("Authorization") + "x");
    }
    return fetch(url, { ...init, headers });
  };
  const storage = options.storage ? sessionStorage : null;
  window.auth = createAuthClient({ baseUrl, fetch: spoiling, ...options, storage });
  window.signedOut = [];
  window.auth.onSignedOut((event) => window.signedOut.push(event));
  return true;
}"""


@pytest.fixture(scope="module")
def private_api() -> Iterator[LocalApi]:
    """Its own local API: the password change below must not reach the shared one's users."""
    api = start_local_api()
    yield api
    api.stop()


@pytest.fixture
def private_context(browser: Browser, private_api: LocalApi) -> Iterator[BrowserContext]:
    with loopback_context(browser, private_api) as context:
        yield context


def client_tab(context: BrowserContext, api: LocalApi, **options: Any) -> Page:
    page = context.new_page()
    page.goto(f"{api.frontend_url}/blank")  # the demo's origin (a 404 page), without the demo
    page.evaluate(LOAD, [api.base_url, options])
    return page


def credentials(api: LocalApi, who: str, password: str | None = None) -> dict[str, str]:
    email, user_type = USERS[who]
    return {"email": email, "password": password or api.password, "userType": user_type}


def test_a_password_change_adopts_the_fresh_session_in_every_tab_and_after_a_reload(
    private_context: BrowserContext, private_api: LocalApi
) -> None:
    api = private_api
    first = client_tab(private_context, api)
    second = client_tab(private_context, api)
    with first.expect_response(lambda r: r.url.endswith("/auth/login")) as login:
        user = first.evaluate("(c) => auth.login(c)", credentials(api, "staff"))
    assert user["email"] == "staff@dealership.example" and user["role"] == "sales"
    old_token = login.value.json()["access_token"]
    second.wait_for_function("() => auth.user && auth.user.email === 'staff@dealership.example'")

    wrong = first.evaluate(
        "() => auth.changePassword('not the password', 'copper lighthouse 52 waves')"
        ".then(() => null, (e) => ({ name: e.name, status: e.status, field: e.field }))"
    )
    assert wrong == {"name": "AuthError", "status": 400, "field": "current_password"}

    new_password = "copper lighthouse 52 waves"
    with first.expect_response(lambda r: r.url.endswith("/auth/password")) as changed:
        first.evaluate("([a, b]) => auth.changePassword(a, b)", [api.password, new_password])
    assert changed.value.status == 200
    assert "refresh_token" not in changed.value.json()
    assert changed.value.request.headers.get("x-token-transport") == "cookie"
    assert call("GET", f"{api.base_url}/auth/me", token=old_token).status == 401

    # Both tabs go on with the fresh session at once: no refresh, no sign-out.
    refreshes: list[Request] = []
    private_context.on("request", lambda r: refreshes.append(r) if r.url.endswith("/auth/refresh") else None)
    for tab in (first, second):
        assert tab.evaluate("() => auth.fetch('/auth/me').then((r) => r.status)") == 200
        assert tab.evaluate("() => signedOut") == []
    assert refreshes == []

    # A reload restores the session from the cookie the password change set.
    first.reload()
    first.evaluate(LOAD, [api.base_url, {}])
    restored = first.evaluate("() => auth.restore()")
    assert restored is not None and restored["email"] == "staff@dealership.example"
    assert len(refreshes) == 1
    login_url = f"{api.base_url}/auth/login"
    assert call("POST", login_url, body=credentials(api, "staff")).status == 401
    assert call("POST", login_url, body=credentials(api, "staff", new_password)).status == 200


def test_body_mode_keeps_the_refresh_token_out_of_cookies_and_survives_a_reload_with_a_storage(
    private_context: BrowserContext, private_api: LocalApi
) -> None:
    api = private_api
    tab = client_tab(private_context, api, transport="body", storage=True)
    with tab.expect_response(lambda r: r.url.endswith("/auth/login")) as login:
        tab.evaluate("(c) => auth.login(c)", credentials(api, "admin"))
    assert "refresh_token" in login.value.json()
    assert "x-token-transport" not in login.value.request.headers
    assert private_context.cookies(api.base_url) == []

    tab.evaluate("() => { spoilNext = true; }")
    with tab.expect_response(lambda r: r.url.endswith("/auth/refresh")) as refreshed:
        assert tab.evaluate("() => auth.fetch('/cars').then((r) => r.status)") == 200
    assert refreshed.value.status == 200
    assert refreshed.value.request.post_data_json["refresh_token"] == login.value.json()["refresh_token"]
    rotated = refreshed.value.json()["refresh_token"]

    tab.reload()  # sessionStorage keeps the refresh token; the access token is gone with the page
    tab.evaluate(LOAD, [api.base_url, {"transport": "body", "storage": True}])
    with tab.expect_response(lambda r: r.url.endswith("/auth/refresh")) as restored:
        assert tab.evaluate("() => auth.restore().then((u) => u.email)") == "admin@dealership.example"
    assert restored.value.request.post_data_json["refresh_token"] == rotated

    tab.evaluate("() => auth.logout()")
    assert tab.evaluate("() => [auth.user, sessionStorage.length, signedOut]") == [
        None,
        0,
        [{"reason": "logout", "remote": False}],
    ]
    newest = restored.value.json()["refresh_token"]
    assert call("POST", f"{api.base_url}/auth/refresh", body={"refresh_token": newest}).status == 401

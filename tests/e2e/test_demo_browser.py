"""The demo page in Chromium (Playwright), across its two loopback origins.

The browser is the one tests/browser.py finds (`make browser` gets it); with none, these tests are
skipped with the reason, or fail when REQUIRE_BROWSER is set (CI). Fixtures: tests/e2e/conftest.py.
"""

from __future__ import annotations

import jwt
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import login, sign_in
from tests.e2e.local_api import LocalApi, call

pytestmark = pytest.mark.browser


def test_cookie_refresh_is_transparent_survives_a_reload_and_logout_ends_it(
    page: Page, local_api: LocalApi
) -> None:
    sign_in(page, local_api, "admin")
    expect(page.locator("#cars tbody tr").first).to_be_visible()

    # The refresh token is an HttpOnly, Secure, SameSite=Strict `__Host-` cookie of the API's origin.
    (cookie,) = [
        c
        for c in page.context.cookies(f"{local_api.base_url}/auth/refresh")
        if c["name"] == "__Host-refresh_token"
    ]
    assert (cookie["httpOnly"], cookie["secure"], cookie["sameSite"], cookie["path"]) == (
        True,
        True,
        "Strict",
        "/",
    )
    assert page.evaluate("document.cookie") == ""
    assert page.evaluate("localStorage.length + sessionStorage.length") == 0

    # A broken access token: the next call gets 401 and the page refreshes from the cookie, unseen.
    page.click("#break-token")
    with page.expect_response(lambda r: r.url.endswith("/auth/refresh")) as refreshed:
        page.click("#reload-cars")
    assert refreshed.value.status == 200
    assert "refresh_token" not in refreshed.value.json()
    assert refreshed.value.request.headers.get("x-token-transport") == "cookie"
    expect(page.locator("#log li").first).to_contain_text("GET /cars -> 200")
    expect(page.locator("#app")).to_be_visible()

    # A reload loses the in-memory token; the cookie brings the session back.
    with page.expect_response(lambda r: r.url.endswith("/auth/refresh")) as restored:
        page.reload()
    assert restored.value.status == 200
    access_token = restored.value.json()["access_token"]
    expect(page.locator("#who")).to_contain_text("admin@dealership.example")
    assert call("GET", f"{local_api.base_url}/auth/me", token=access_token).status == 200

    with page.expect_response(lambda r: r.url.endswith("/auth/logout")) as logged_out:
        page.click("#logout")
    assert logged_out.value.status == 200
    expect(page.locator("#login")).to_be_visible()
    assert call("GET", f"{local_api.base_url}/auth/me", token=access_token).status == 401
    assert not [
        c
        for c in page.context.cookies(f"{local_api.base_url}/auth/refresh")
        if c["name"] == "__Host-refresh_token"
    ]

    with page.expect_response(lambda r: r.url.endswith("/auth/refresh")) as after_reload:
        page.reload()
    assert after_reload.value.status == 400  # no refresh cookie at all: nothing to refresh with
    expect(page.locator("#login")).to_be_visible()


def test_staff_adds_a_car_but_the_gateway_refuses_its_delete(page: Page, local_api: LocalApi) -> None:
    sign_in(page, local_api, "staff")
    page.fill("#car-make", "Skoda")
    page.fill("#car-model", "Octavia Browser")
    page.fill("#car-year", "2021")
    page.fill("#car-price", "18999.99")
    with page.expect_response(lambda r: r.url.endswith("/cars") and r.request.method == "POST") as added:
        page.click("#car-add")
    assert added.value.status == 201
    row = page.locator("#cars tbody tr", has_text="Octavia Browser")
    expect(row).to_have_count(1)

    with page.expect_response(lambda r: r.request.method == "DELETE") as deleted:
        row.locator("button.delete-car").click()
    assert deleted.value.status == 403
    expect(page.locator("#message")).to_contain_text("403")
    expect(row).to_have_count(1)


def test_admin_deletes_a_car_from_the_page(page: Page, local_api: LocalApi) -> None:
    token = sign_in(page, local_api, "admin")
    car = {"make": "Trabant", "model": "601 Browser", "year": 1988, "price": 800}
    assert call("POST", f"{local_api.base_url}/cars", token=token, body=car).status == 201
    page.click("#reload-cars")
    row = page.locator("#cars tbody tr", has_text="601 Browser")
    with page.expect_response(lambda r: r.request.method == "DELETE") as deleted:
        row.locator("button.delete-car").click()
    assert deleted.value.status == 204
    expect(row).to_have_count(0)


def test_the_page_lists_sessions_revokes_another_one_and_logs_out_everywhere(
    page: Page, local_api: LocalApi
) -> None:
    sign_in(page, local_api, "staff")
    other = login(local_api, "staff")  # a second device: this test's HTTP client
    other_sid = jwt.decode(other["access_token"], options={"verify_signature": False})["sid"]
    page.click("#reload-sessions")
    current = page.locator("#sessions tbody tr.current")
    expect(current).to_have_count(1)
    expect(current).to_contain_text("this browser")
    expect(current).to_contain_text("127.0.0.1")
    other_row = page.locator(f'#sessions tbody tr[data-id="{other_sid}"]')
    expect(other_row).to_have_count(1)

    with page.expect_response(lambda r: r.request.method == "DELETE") as revoked:
        other_row.locator("button.revoke-session").click()
    assert revoked.value.status == 200
    expect(other_row).to_have_count(0)
    assert call("GET", f"{local_api.base_url}/auth/me", token=other["access_token"]).status == 401
    expect(page.locator("#app")).to_be_visible()

    third = login(local_api, "staff")
    with page.expect_response(lambda r: r.url.endswith("/auth/logout-all")) as everywhere:
        page.click("#logout-all")
    assert everywhere.value.status == 200
    expect(page.locator("#login")).to_be_visible()
    assert call("GET", f"{local_api.base_url}/auth/me", token=third["access_token"]).status == 401
    assert (
        call(
            "POST", f"{local_api.base_url}/auth/refresh", body={"refresh_token": third["refresh_token"]}
        ).status
        == 401
    )

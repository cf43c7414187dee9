"""TOTP on the demo page in Chromium (issue 16): a signed-in admin enrols an authenticator app, the
next sign-in asks for a code and gets in with it, and a recovery code removes the factor. On a
private local API, so the shared one's admin keeps logging in with a password alone."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pyotp
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import loopback_context
from tests.e2e.local_api import LocalApi, start_local_api

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def private_api() -> Iterator[LocalApi]:
    api = start_local_api()
    yield api
    api.stop()


@pytest.fixture
def private_page(browser: Browser, private_api: LocalApi) -> Iterator[Page]:
    with loopback_context(browser, private_api) as context:
        yield context.new_page()


def _password_step(page: Page, api: LocalApi) -> None:
    page.goto(api.frontend_url)
    expect(page.locator("#login")).to_be_visible()
    page.select_option("#user-type", "admin")
    page.fill("#password", api.password)
    page.click("#login-submit")


def test_enrol_then_sign_in_with_a_code_then_remove_with_a_recovery_code(
    private_page: Page, private_api: LocalApi
) -> None:
    page = private_page
    _password_step(page, private_api)
    expect(page.locator("#who")).to_contain_text("admin@dealership.example")

    page.click("#totp-start")
    expect(page.locator("#totp-setup")).to_be_visible()
    assert page.locator("#totp-qr").get_attribute("src", timeout=5000).startswith("data:image/svg+xml")
    secret = page.locator("#totp-secret").inner_text()
    recovery = page.locator("#totp-recovery").inner_text().split()
    assert len(recovery) == 10
    page.fill("#totp-verify-code", pyotp.TOTP(secret).now())
    with page.expect_response(lambda r: r.url.endswith("/auth/mfa/totp/verify")) as verified:
        page.click("#totp-verify")
    assert verified.value.status == 200
    expect(page.locator("#message")).to_contain_text("Second factor on")

    page.click("#logout")
    expect(page.locator("#login")).to_be_visible()
    with page.expect_response(lambda r: r.url.endswith("/auth/login")) as challenged:
        _password_step(page, private_api)
    assert "access_token" not in challenged.value.json() and challenged.value.json()["mfa_required"]
    expect(page.locator("#mfa")).to_be_visible()
    page.fill("#mfa-code", "000000")
    page.click("#mfa-submit")
    expect(page.locator("#mfa-error")).to_contain_text("Wrong or expired code")
    # the step that proved the enrolment is used up: the next step's code (inside the drift window)
    page.fill("#mfa-code", pyotp.TOTP(secret).at(time.time() + 30))
    with page.expect_response(lambda r: r.url.endswith("/auth/login/mfa")) as completed:
        page.click("#mfa-submit")
    assert completed.value.status == 200
    expect(page.locator("#who")).to_contain_text("admin@dealership.example")

    page.fill("#totp-remove-code", recovery[0])
    with page.expect_response(lambda r: r.url.endswith("/auth/mfa/totp")) as removed:
        page.click("#totp-remove")
    assert removed.value.status == 200
    expect(page.locator("#message")).to_contain_text("Second factor removed")

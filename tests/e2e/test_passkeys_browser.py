"""Passkeys on the demo page in Chromium (issue 16), through the DevTools protocol's virtual
authenticator (the WebAuthn domain: CTAP2, internal transport, resident keys, user verification):
a signed-in admin adds a passkey, lists it, signs out and signs in with it (no password, two
factors); an assertion made for another origin is refused; a cloned authenticator (its credential
exported with WebAuthn.getCredentials and added to a second authenticator) whose counter lags is
refused; the page on 127.0.0.1 points to localhost, since browsers refuse an IP address as the
relying-party id. On a private local API, so the shared one's admin is not touched."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, CDPSession, Page, expect

from tests.e2e.local_api import LocalApi, call, start_local_api

pytestmark = pytest.mark.browser

AUTHENTICATOR = {
    "protocol": "ctap2",
    "transport": "internal",
    "hasResidentKey": True,
    "hasUserVerification": True,
    "isUserVerified": True,
    "automaticPresenceSimulation": True,
}


def localhost(url: str) -> str:
    return url.replace("127.0.0.1", "localhost")


@pytest.fixture
def private_api() -> Iterator[LocalApi]:
    """One per test: a passkey a test leaves on the admin would make the next test's password
    sign-in too weak to add one (changing factors takes a factor: issue 23)."""
    api = start_local_api()
    yield api
    api.stop()


@pytest.fixture
def context(browser: Browser, private_api: LocalApi) -> Iterator[BrowserContext]:
    """A fresh profile that reaches the local API's origins (on 127.0.0.1 and on localhost) and the
    one page a test fakes on another localhost port, nothing else."""
    context = browser.new_context()
    context.set_default_timeout(10_000)
    allowed = tuple(
        origin for url in (private_api.base_url, private_api.frontend_url) for origin in (url, localhost(url))
    )
    context.route(
        "**/*", lambda route: route.continue_() if route.request.url.startswith(allowed) else route.abort()
    )
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


@pytest.fixture
def webauthn(context: BrowserContext, page: Page) -> CDPSession:
    session = context.new_cdp_session(page)
    session.send("WebAuthn.enable", {"enableUI": False})
    return session


def add_authenticator(webauthn: CDPSession) -> str:
    answer = webauthn.send("WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR})
    authenticator: str = answer["authenticatorId"]
    return authenticator


def claims_of(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return claims


def password_sign_in(page: Page, api: LocalApi) -> None:
    page.goto(localhost(api.frontend_url))
    expect(page.locator("#login")).to_be_visible()
    page.select_option("#user-type", "admin")
    page.fill("#password", api.password)
    page.click("#login-submit")
    expect(page.locator("#who")).to_contain_text("admin@dealership.example")


def add_passkey(page: Page, name: str) -> None:
    page.fill("#passkey-name", name)
    with page.expect_response(lambda r: r.url.endswith("/auth/passkeys/register")) as registered:
        page.click("#passkey-register")
    assert registered.value.status == 201, registered.value.text()
    expect(page.locator("#passkeys tbody tr")).to_contain_text([name])


def sign_out(page: Page) -> None:
    page.click("#logout")
    expect(page.locator("#login")).to_be_visible()


def passkey_sign_in(page: Page) -> tuple[int, dict[str, Any]]:
    with page.expect_response(lambda r: r.url.endswith("/auth/login/passkey")) as answer:
        page.click("#passkey-login")
    return answer.value.status, answer.value.json()


def test_add_a_passkey_then_sign_in_with_it_and_no_password(
    page: Page, webauthn: CDPSession, private_api: LocalApi
) -> None:
    authenticator = add_authenticator(webauthn)
    password_sign_in(page, private_api)
    add_passkey(page, "Test laptop")
    (stored,) = webauthn.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
    assert stored["isResidentCredential"] and stored["rpId"] == "localhost"
    expect(page.locator("#passkeys tbody tr")).to_have_count(1)

    sign_out(page)
    status, body = passkey_sign_in(page)
    assert status == 200, body
    expect(page.locator("#who")).to_contain_text("admin@dealership.example")
    assert claims_of(body["access_token"])["amr"] == ["hwk", "mfa", "user"]
    expect(page.locator("#passkeys tbody tr")).to_contain_text(["Test laptop"])
    # removed, it no longer signs in
    removal = lambda r: "/auth/passkeys/" in r.url and r.request.method == "DELETE"  # noqa: E731
    with page.expect_response(removal) as removed:
        page.click(".remove-passkey")
    assert removed.value.status == 200
    expect(page.locator("#passkeys tbody tr")).to_have_count(0)
    sign_out(page)
    status, _ = passkey_sign_in(page)
    assert status == 401
    expect(page.locator("#login-error")).to_contain_text("Passkey not accepted")


def test_an_assertion_made_on_another_origin_is_refused(
    page: Page, webauthn: CDPSession, private_api: LocalApi, context: BrowserContext
) -> None:
    # Given a passkey registered on the demo page (relying party "localhost")
    add_authenticator(webauthn)
    password_sign_in(page, private_api)
    add_passkey(page, "Phished")
    sign_out(page)
    # When a page on another origin of the same site (another port: the relying-party id still
    # matches, so the browser signs) gets an assertion for a real challenge and replays it
    evil = "http://localhost:9/"
    context.route(evil, lambda route: route.fulfill(status=200, content_type="text/html", body="<p>evil</p>"))
    page.goto(evil)
    options = call("POST", f"{private_api.base_url}/auth/login/passkey/options", body={}).json()
    credential = page.evaluate(ASSERT_IN_PAGE, options)
    signed = json.loads(base64.urlsafe_b64decode(credential["response"]["clientDataJSON"] + "=="))
    assert signed["origin"] == "http://localhost:9"
    answer = call("POST", f"{private_api.base_url}/auth/login/passkey", body={"credential": credential})
    # Then it is refused, while the same passkey on the real page signs in
    assert answer.status == 401 and answer.json() == {"message": "Invalid credentials"}
    assert audited(private_api, answer.request_id, "passkey_refused")
    page.goto(localhost(private_api.frontend_url))
    status, body = passkey_sign_in(page)
    assert status == 200, body


def test_the_page_on_an_ip_address_cannot_use_passkeys_and_points_to_localhost(
    page: Page, webauthn: CDPSession, private_api: LocalApi
) -> None:
    add_authenticator(webauthn)
    page.goto(private_api.frontend_url)
    expect(page.locator("#passkey-hint")).to_be_visible()
    expect(page.locator("#passkey-hint-link")).to_have_text(localhost(private_api.frontend_url))
    expect(page.locator("#passkey-login")).to_be_disabled()
    # the browser itself refuses the relying party "localhost" on 127.0.0.1
    options = call("POST", f"{private_api.base_url}/auth/login/passkey/options", body={}).json()
    refused = page.evaluate(
        "async (options) => { try { await navigator.credentials.get({ publicKey: {"
        " challenge: new Uint8Array(32), rpId: options.rpId, userVerification: 'required' } });"
        " return 'signed'; } catch (error) { return error.name; } }",
        options,
    )
    assert refused == "SecurityError"


def test_a_cloned_authenticator_whose_counter_lags_is_refused(
    page: Page, webauthn: CDPSession, private_api: LocalApi
) -> None:
    # Given a passkey, exported right after registration (a clone of the authenticator's key)
    original = add_authenticator(webauthn)
    password_sign_in(page, private_api)
    add_passkey(page, "Cloned")
    (exported,) = webauthn.send("WebAuthn.getCredentials", {"authenticatorId": original})["credentials"]
    sign_out(page)
    # and the original signing in a few times, its counter moving on
    for _ in range(3):
        status, body = passkey_sign_in(page)
        assert status == 200, body
        expect(page.locator("#who")).to_contain_text("admin@dealership.example")
        sign_out(page)
    (moved,) = webauthn.send("WebAuthn.getCredentials", {"authenticatorId": original})["credentials"]
    assert moved["signCount"] > exported["signCount"]
    # When the clone, in another authenticator, signs in with its older counter
    webauthn.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": original})
    clone = add_authenticator(webauthn)
    webauthn.send("WebAuthn.addCredential", {"authenticatorId": clone, "credential": exported})
    status, body = passkey_sign_in(page)
    # Then it is refused, with no session
    assert status == 401 and "access_token" not in body
    expect(page.locator("#login-error")).to_contain_text("Passkey not accepted")
    expect(page.locator("#login")).to_be_visible()
    assert any('"event":"passkey_cloned"' in line for line in private_api.output)


def audited(api: LocalApi, request_id: str, reason: str) -> bool:
    """Whether the local API logged an audit event of `request_id` with `reason`."""
    api.log_line(request_id)  # written after the handler's own lines
    return any(request_id in line and f'"reason":"{reason}"' in line for line in api.output)


# Runs in the page: navigator.credentials.get() with the API's options, the answer in the JSON
# encoding the API takes.
ASSERT_IN_PAGE = """async (options) => {
  const bytes = (text) => Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')
    + '==='.slice((text.length + 3) % 4)), (c) => c.charCodeAt(0));
  const text = (buffer) => btoa(String.fromCharCode(...new Uint8Array(buffer)))
    .replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
  const credential = await navigator.credentials.get({ publicKey: {
    ...options, challenge: bytes(options.challenge), allowCredentials: [] } });
  const r = credential.response;
  return { id: credential.id, rawId: text(credential.rawId), type: credential.type,
    response: { clientDataJSON: text(r.clientDataJSON), authenticatorData: text(r.authenticatorData),
      signature: text(r.signature), userHandle: r.userHandle ? text(r.userHandle) : undefined } };
}"""

"""Invitations and password reset against `make run`'s local API, the links read from its outbox
(the mail sent through the embedded SES stand-in): over HTTP, and clicked through in Chromium."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import login, sign_in
from tests.e2e.local_api import LocalApi, call

PASSWORD = "harbour violet engine 64"
NEW_PASSWORD = "saffron bicycle orbit 19"


def outbox(api: LocalApi) -> list[dict[str, Any]]:
    reply = call("GET", f"{api.frontend_url}/outbox.json")
    assert reply.status == 200
    mails: list[dict[str, Any]] = reply.json()
    return mails


def link_to(api: LocalApi, email: str, purpose: str) -> str:
    link: str = next(
        found
        for mail in outbox(api)
        if email in mail["to"]
        for found in mail["links"]
        if f"#{purpose}=" in found
    )
    assert link.startswith(f"{api.frontend_url}/#{purpose}=")
    return link


def invite(api: LocalApi, email: str) -> None:
    admin = login(api, "admin")["access_token"]
    body = {"email": email, "name": "Invited Person", "role": "sales", "user_type": "staff"}
    reply = call("POST", f"{api.base_url}/auth/invitations", body=body, token=admin)
    assert reply.status == 201, reply.body


def accept(api: LocalApi, token: str) -> Any:
    body = {"token": token, "new_password": PASSWORD}
    return call("POST", f"{api.base_url}/auth/invitations/accept", body=body)


def a_new_email() -> str:
    return f"person-{uuid.uuid4().hex[:8]}@dealership.example"


def test_forgot_password_answers_alike_for_real_and_unknown_accounts_and_mails_only_the_real(
    local_api: LocalApi,
) -> None:
    email = a_new_email()
    invite(local_api, email)
    token = link_to(local_api, email, "invitation").rsplit("=", 1)[1]
    accepted = call(
        "POST",
        f"{local_api.base_url}/auth/invitations/accept",
        body={"token": token, "new_password": PASSWORD},
    )
    assert accepted.status == 200
    answers = []
    for who in (email, a_new_email()):
        before = len(outbox(local_api))
        reply = call(
            "POST", f"{local_api.base_url}/auth/password/forgot", body={"email": who, "user_type": "staff"}
        )
        answers.append((reply.status, reply.body, reply.header("Content-Type")))
        assert len(outbox(local_api)) - before == (1 if who == email else 0)
    assert answers[0] == answers[1] and answers[0][0] == 202


@pytest.mark.browser
def test_an_invited_user_opens_the_link_from_the_outbox_sets_a_password_and_lands_signed_in(
    page: Page, local_api: LocalApi
) -> None:
    email = a_new_email()
    sign_in(page, local_api, "admin")
    page.fill("#invite-email", email)
    page.fill("#invite-name", "Invited Person")
    with page.expect_response(lambda r: r.url.endswith("/auth/invitations")) as invited:
        page.click("#invite-submit")
    assert invited.value.status == 201
    expect(page.locator("#outbox li").first).to_contain_text(email)
    page.click("#logout")
    expect(page.locator("#login")).to_be_visible()

    with page.expect_navigation():
        page.locator("#outbox li").first.locator("a.mail-link").click()
    expect(page.locator("#set-password")).to_be_visible()
    assert "#" not in page.url  # the token left the address bar
    page.fill("#new-password", PASSWORD)
    with page.expect_response(lambda r: r.url.endswith("/auth/invitations/accept")) as accepted:
        page.click("#set-password-submit")
    assert accepted.value.status == 200
    expect(page.locator("#who")).to_contain_text(email)
    expect(page.locator("#set-password")).to_be_hidden()


@pytest.mark.browser
def test_a_forgotten_password_is_reset_from_the_outbox_and_every_other_session_dies(
    page: Page, local_api: LocalApi
) -> None:
    email = a_new_email()
    invite(local_api, email)
    token = link_to(local_api, email, "invitation").rsplit("=", 1)[1]
    other = call(
        "POST",
        f"{local_api.base_url}/auth/invitations/accept",
        body={"token": token, "new_password": PASSWORD},
    ).json()
    assert call("GET", f"{local_api.base_url}/auth/me", token=other["access_token"]).status == 200

    page.goto(local_api.frontend_url)
    page.select_option("#user-type", "staff")
    page.fill("#email", email)
    with page.expect_response(lambda r: r.url.endswith("/auth/password/forgot")) as asked:
        page.click("#forgot-submit")
    assert asked.value.status == 202
    page.goto(link_to(local_api, email, "reset"))
    expect(page.locator("#set-password")).to_be_visible()
    page.fill("#new-password", NEW_PASSWORD)
    with page.expect_response(lambda r: r.url.endswith("/auth/password/reset")) as reset:
        page.click("#set-password-submit")
    assert reset.value.status == 200
    expect(page.locator("#who")).to_contain_text(email)

    # The session opened elsewhere before the reset is over: its access and refresh tokens both.
    assert call("GET", f"{local_api.base_url}/auth/me", token=other["access_token"]).status == 401
    refreshed = call(
        "POST", f"{local_api.base_url}/auth/refresh", body={"refresh_token": other["refresh_token"]}
    )
    assert refreshed.status == 401
    # The new password works; the old one does not.
    for password, status in ((NEW_PASSWORD, 200), (PASSWORD, 401)):
        body = {"email": email, "password": password, "userType": "staff"}
        assert call("POST", f"{local_api.base_url}/auth/login", body=body).status == status

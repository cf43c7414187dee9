"""The account lifecycle over the real handlers (issue 15; docs/hostile-inputs.md entries 44, 45):
invitations, forgotten-password reset by email, and the notification emails, every bad input included."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest

from functions.invitations.handler import handler as invitations_handler
from functions.recovery.handler import handler as recovery_handler
from local.outbox import messages
from shared.accounts import password_reset
from shared.core.errors import BadRequest
from shared.runtime.services import Services
from shared.store.dynamo import scan_all
from tests.events import LambdaContext, api_event, body_of
from tests.fixtures import Accounts, FakeClock, Faults, around_aws_calls
from tests.flows import (
    admin_login,
    authorize,
    change_password,
    is_authorized,
    login,
    login_ok,
    protected_call,
    refresh,
    staff_login,
)

CONTEXT = LambdaContext()
NEW_PASSWORD = "amber lighthouse rowing 31"
OTHER_PASSWORD = "copper field whistle 58"
STAFF = "staff@dealership.example"


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The forgotten-password floor is asked for, not slept through."""
    waits: list[float] = []
    monkeypatch.setattr(password_reset, "sleep", waits.append)
    return waits


def public(handler: Any, path: str, body: Any, **kwargs: Any) -> dict[str, Any]:
    result: dict[str, Any] = handler(api_event("POST", path, body=body, **kwargs), CONTEXT)
    return result


def forgot(email: str, user_type: str = "staff", **kwargs: Any) -> dict[str, Any]:
    return public(
        recovery_handler, "/auth/password/forgot", {"email": email, "user_type": user_type}, **kwargs
    )


def reset(token: str, new_password: str = NEW_PASSWORD, **kwargs: Any) -> dict[str, Any]:
    body = {"token": token, "new_password": new_password}
    return public(recovery_handler, "/auth/password/reset", body, **kwargs)


def accept(token: str, new_password: str = NEW_PASSWORD) -> dict[str, Any]:
    body = {"token": token, "new_password": new_password}
    return public(invitations_handler, "/auth/invitations/accept", body)


def admin_call(admin_token: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    return protected_call(invitations_handler, admin_token, "POST", path, body=body)


def invite(admin_token: str, email: str = "new.hire@dealership.example", **fields: str) -> dict[str, Any]:
    body = {"email": email, "name": "New Hire", "role": "sales", "user_type": "staff", **fields}
    return admin_call(admin_token, "/auth/invitations", body)


def token_of(mail: dict[str, Any], purpose: str) -> str:
    (link,) = mail["links"]
    assert urlsplit(link).query == "", "the token travels in the fragment only"
    fragment = urlsplit(link).fragment
    assert fragment.startswith(f"{purpose}=")
    return fragment.removeprefix(f"{purpose}=")


def last_mail(to: str) -> dict[str, Any]:
    return next(mail for mail in messages() if to in mail["to"])


def mails_to(to: str) -> list[dict[str, Any]]:
    return [mail for mail in messages() if to in mail["to"]]


def link_items(services: Services) -> list[dict[str, Any]]:
    return scan_all(
        services.users.dynamodb,
        services.users.table,
        FilterExpression="begins_with(pk, :link)",
        ExpressionAttributeValues={":link": {"S": "LINK"}},
    )


@pytest.fixture
def admin_token(accounts: Accounts) -> str:
    token: str = admin_login()["access_token"]
    return token


def assert_invalid_link(response: dict[str, Any]) -> None:
    assert response["statusCode"] == 400, response
    assert body_of(response)["field"] == "token"
    assert body_of(response)["message"] == "This link is invalid or has expired: ask for a new one"


# ---------------------------------------------------------------------------------- invitations


def test_an_invited_user_opens_the_emailed_link_sets_a_password_and_is_signed_in(
    admin_token: str, services: Services
) -> None:
    response = invite(admin_token)
    assert response["statusCode"] == 201, response
    assert body_of(response)["email"] == "new.hire@dealership.example"
    mail = last_mail("new.hire@dealership.example")
    assert mail["subject"] == "You are invited: set your password"
    assert mail["links"][0].startswith(services.settings.frontend_url)
    token = token_of(mail, "invitation")
    # Before accepting, the account exists but nobody can log in to it.
    assert login("new.hire@dealership.example", NEW_PASSWORD, "staff")["statusCode"] == 401
    accepted = accept(token)
    assert accepted["statusCode"] == 200, accepted
    session = body_of(accepted)
    assert session["user"]["email"] == "new.hire@dealership.example" and session["user"]["role"] == "sales"
    assert is_authorized(session["access_token"])
    assert refresh(session["refresh_token"])["statusCode"] == 200
    assert login("new.hire@dealership.example", NEW_PASSWORD, "staff")["statusCode"] == 200
    assert_invalid_link(accept(token, OTHER_PASSWORD))  # an accepted link cannot be reused
    assert login("new.hire@dealership.example", NEW_PASSWORD, "staff")["statusCode"] == 200
    assert link_items(services) == []


def test_only_role_admin_may_invite(accounts: Accounts, admin_token: str) -> None:
    staff = staff_login()["access_token"]
    staff_policy = json.dumps(authorize(staff, "POST", "/auth/invitations")["policyDocument"])
    admin_policy = json.dumps(authorize(admin_token, "POST", "/auth/invitations")["policyDocument"])
    for path in ('/POST/auth/invitations"', "/POST/auth/invitations/resend", "/POST/auth/invitations/revoke"):
        assert path in admin_policy and path not in staff_policy


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"email": "not an email"}, "email"),
        ({"email": "staff@dealership.example"}, "email"),  # already a staff user
        ({"role": "emperor"}, "role"),
        ({"user_type": "robot"}, "type"),
        ({"name": "   "}, "name"),
    ],
)
def test_bad_invitations_are_400_naming_the_field_and_send_nothing(
    admin_token: str, services: Services, fields: dict[str, str], field: str
) -> None:
    before = len(messages())
    response = invite(admin_token, **fields)
    assert response["statusCode"] == 400, response
    assert body_of(response)["field"] == field
    assert len(messages()) == before
    assert link_items(services) == []


def test_an_invitation_expires(admin_token: str, clock: FakeClock, services: Services) -> None:
    invite(admin_token)
    token = token_of(last_mail("new.hire@dealership.example"), "invitation")
    clock.advance(services.settings.invitation_ttl + 1)
    assert_invalid_link(accept(token))


def test_a_resent_invitation_kills_the_old_link_and_a_revoked_one_the_account(
    admin_token: str, services: Services
) -> None:
    invite(admin_token)
    first = token_of(last_mail("new.hire@dealership.example"), "invitation")
    target = {"email": "new.hire@dealership.example", "user_type": "staff"}
    assert admin_call(admin_token, "/auth/invitations/resend", target)["statusCode"] == 200
    second = token_of(last_mail("new.hire@dealership.example"), "invitation")
    assert first != second
    assert_invalid_link(accept(first))
    assert admin_call(admin_token, "/auth/invitations/revoke", target)["statusCode"] == 200
    assert_invalid_link(accept(second))
    assert services.users.get("staff", "new.hire@dealership.example") is None
    assert link_items(services) == []
    # Nothing pending any more: resend and revoke say so.
    assert admin_call(admin_token, "/auth/invitations/revoke", target)["statusCode"] == 404


def test_an_accepted_invitation_cannot_be_revoked_or_resent(admin_token: str) -> None:
    invite(admin_token)
    accept(token_of(last_mail("new.hire@dealership.example"), "invitation"))
    target = {"email": "new.hire@dealership.example", "user_type": "staff"}
    for path in ("/auth/invitations/revoke", "/auth/invitations/resend"):
        assert admin_call(admin_token, path, target)["statusCode"] == 400
    assert login("new.hire@dealership.example", NEW_PASSWORD, "staff")["statusCode"] == 200


def test_a_failure_to_send_the_invitation_leaves_no_account_and_no_link(
    admin_token: str, services: Services, faults: Faults
) -> None:
    faults.fail("sesv2.SendEmail", "MessageRejected")
    response = invite(admin_token)
    assert response["statusCode"] == 503
    assert services.users.get("staff", "new.hire@dealership.example") is None
    assert link_items(services) == []
    assert invite(admin_token)["statusCode"] == 201  # and it can be tried again


def test_a_common_password_is_refused_and_the_link_still_works(admin_token: str) -> None:
    invite(admin_token)
    token = token_of(last_mail("new.hire@dealership.example"), "invitation")
    refused = accept(token, "Password123!")
    assert refused["statusCode"] == 400 and body_of(refused)["field"] == "new_password"
    assert accept(token)["statusCode"] == 200


# ------------------------------------------------------------------------------- password reset


def test_forgot_password_answers_the_same_for_real_unknown_disabled_and_invited_accounts(
    accounts: Accounts, admin_token: str, services: Services, no_waiting: list[float]
) -> None:
    from shared.accounts import actions as account_actions

    invite(admin_token)
    disabled = account_actions.find_user(services, "admin@dealership.example", "admin")
    answers = []
    for email, user_type in (
        ("staff@dealership.example", "staff"),
        ("nobody@dealership.example", "staff"),
        ("new.hire@dealership.example", "staff"),  # invited, not accepted: not enabled
        ("admin@dealership.example", "admin"),
    ):
        if email.startswith("admin"):
            account_actions.disable_user(services, disabled)
        before = len(messages())
        response = forgot(email, user_type)
        headers = {k: v for k, v in response["headers"].items() if k.lower() != "x-request-id"}
        answers.append((response["statusCode"], response["body"], headers))
        assert len(messages()) - before == (1 if email.startswith("staff") else 0), email
    assert all(answer == answers[0] for answer in answers), answers
    assert answers[0][0] == 202
    assert len(no_waiting) == 4 and all(wait > 0 for wait in no_waiting)  # each held to the floor


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"email": "a@b.example"},
        {"email": 7, "user_type": "staff"},
        {"email": "x@y.example", "user_type": "robot"},
    ],
)
def test_forgot_password_with_a_malformed_body_is_400_naming_the_field(body: dict[str, Any]) -> None:
    response = public(recovery_handler, "/auth/password/forgot", body)
    assert response["statusCode"] == 400
    assert body_of(response)["field"] in ("email", "user_type")


def test_a_reset_ends_every_session_and_access_token_clears_the_lock_and_signs_in(
    accounts: Accounts, services: Services
) -> None:
    first = staff_login()
    second = staff_login(user_agent="other-device/1")
    for _ in range(services.settings.lockout_threshold):
        login("staff@dealership.example", "wrong wrong wrong", "staff")
    assert login("staff@dealership.example", accounts.password, "staff")["statusCode"] == 429
    assert forgot("staff@dealership.example")["statusCode"] == 202
    mail = last_mail("staff@dealership.example")
    assert mail["subject"] == "Reset your password"
    response = reset(token_of(mail, "reset"))
    assert response["statusCode"] == 200, response
    fresh = body_of(response)
    for old in (first, second):
        assert not is_authorized(old["access_token"])
        assert refresh(old["refresh_token"])["statusCode"] == 401
    assert is_authorized(fresh["access_token"])
    assert refresh(fresh["refresh_token"])["statusCode"] == 200
    assert login("staff@dealership.example", NEW_PASSWORD, "staff")["statusCode"] == 200
    assert login("staff@dealership.example", accounts.password, "staff")["statusCode"] == 401
    assert last_mail("staff@dealership.example")["subject"] == "Your password was changed"


def reset_token(email: str = "staff@dealership.example") -> str:
    assert forgot(email)["statusCode"] == 202
    return token_of(last_mail(email), "reset")


def test_a_reset_link_works_once(accounts: Accounts) -> None:
    token = reset_token()
    assert reset(token)["statusCode"] == 200
    assert_invalid_link(reset(token, OTHER_PASSWORD))
    assert login("staff@dealership.example", NEW_PASSWORD, "staff")["statusCode"] == 200


def test_a_newer_link_kills_the_older_one(accounts: Accounts) -> None:
    older = reset_token()
    newer = reset_token()
    assert_invalid_link(reset(older))
    assert reset(newer)["statusCode"] == 200


def test_a_password_change_kills_an_outstanding_link(accounts: Accounts) -> None:
    token = reset_token()
    tokens = staff_login()
    assert change_password(tokens["access_token"], accounts.password, OTHER_PASSWORD)["statusCode"] == 200
    assert_invalid_link(reset(token))
    assert login("staff@dealership.example", OTHER_PASSWORD, "staff")["statusCode"] == 200


def test_an_expired_reset_link_is_refused(accounts: Accounts, clock: FakeClock, services: Services) -> None:
    token = reset_token()
    clock.advance(services.settings.reset_link_ttl + 1)
    assert_invalid_link(reset(token))


@pytest.mark.parametrize(
    "tamper",
    [
        lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),
        lambda token: token[:-1],
        lambda token: token.swapcase(),
        lambda token: token + "=",
        lambda token: "../../" + token[6:],
        lambda token: "x" * 43,
    ],
)
def test_a_tampered_or_forged_token_is_refused_and_the_real_one_still_works(
    accounts: Accounts, tamper: Callable[[str], str]
) -> None:
    token = reset_token()
    assert_invalid_link(reset(tamper(token)))
    assert reset(token)["statusCode"] == 200


def test_an_invitation_link_cannot_reset_and_a_reset_link_cannot_accept(admin_token: str) -> None:
    invite(admin_token)
    invitation = token_of(last_mail("new.hire@dealership.example"), "invitation")
    assert_invalid_link(reset(invitation))
    assert_invalid_link(accept(reset_token()))
    assert accept(invitation)["statusCode"] == 200


def test_a_disabled_account_cannot_use_its_reset_link(accounts: Accounts, services: Services) -> None:
    from shared.accounts import actions as account_actions

    token = reset_token()
    account_actions.disable_user(services, accounts.staff)
    assert_invalid_link(reset(token))


def test_forgot_password_is_limited_per_account_and_ip_with_identical_answers_for_unknown_emails(
    accounts: Accounts, services: Services
) -> None:
    limit = services.settings.forgot_password_threshold
    for email in ("staff@dealership.example", "nobody@dealership.example"):
        statuses = [forgot(email)["statusCode"] for _ in range(limit + 1)]
        assert statuses == [202] * limit + [429], email
    assert len(mails_to("staff@dealership.example")) == limit
    # The owner, from another IP, can still ask: a stranger's flood does not lock them out.
    assert forgot("staff@dealership.example", source_ip="198.51.100.7")["statusCode"] == 202


def test_23_7_one_attacker_cannot_send_a_victim_more_reset_emails_a_day_than_the_limit(
    accounts: Accounts,
    services: Services,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
    no_waiting: list[float],
) -> None:
    """The request limits (429) count per account and IP and end with their locks; the daily limit
    counts the emails an account is sent. Past it the answer is the same 202, body and floor, as for
    an account that does not exist, and the next day's mail goes out again."""
    import dataclasses

    per_day = services.settings.reset_emails_per_day
    assert per_day == 10
    relaxed = dataclasses.replace(services.settings, forgot_password_account_threshold=10_000)
    monkeypatch.setattr(services, "settings", relaxed)
    clock.advance((86_400_000 - clock.now_ms() % 86_400_000) / 1000 + 3600)  # 01:00 UTC: one day's count
    victim, nobody = [], []
    for attempt in range(3 * per_day):
        victim.append(forgot(STAFF, source_ip=f"198.51.100.{attempt + 1}"))
        nobody.append(forgot("nobody@dealership.example", source_ip=f"203.0.113.{attempt + 1}"))
        clock.advance(60)
    assert len(mails_to(STAFF)) == per_day
    for answer in (*victim, *nobody):
        assert (answer["statusCode"], answer["body"]) == (202, nobody[0]["body"])
    assert len(no_waiting) == 6 * per_day and all(wait > 0 for wait in no_waiting)  # each held to the floor
    clock.advance(24 * 3600)
    assert forgot(STAFF, source_ip="192.0.2.200")["statusCode"] == 202
    assert len(mails_to(STAFF)) == per_day + 1


def test_a_failure_to_send_the_reset_email_still_answers_202(accounts: Accounts, faults: Faults) -> None:
    faults.fail("sesv2.SendEmail", "ThrottlingException", times=3)
    response = forgot("staff@dealership.example")
    assert response["statusCode"] == 202
    assert body_of(response) == body_of(forgot("nobody@dealership.example"))


def test_one_link_used_by_two_requests_at_once_works_exactly_once(accounts: Accounts) -> None:
    """Cut the first reset at its commit and run a second, complete one there."""
    token = reset_token()
    results: list[dict[str, Any]] = []
    cuts: list[str] = []

    def cut(client: Any, operation: str, params: Any, call: Callable[[], Any]) -> Any:
        if operation == "TransactWriteItems" and not cuts:
            cuts.append(operation)
            results.append(reset(token, OTHER_PASSWORD, source_ip="198.51.100.9"))
        return call()

    with around_aws_calls(cut):
        first = reset(token)
    statuses = sorted([first["statusCode"], results[0]["statusCode"]])
    assert statuses == [200, 400]
    assert login("staff@dealership.example", OTHER_PASSWORD, "staff")["statusCode"] == 200
    assert login("staff@dealership.example", NEW_PASSWORD, "staff")["statusCode"] == 401


def test_one_invitation_accepted_twice_at_once_works_exactly_once(admin_token: str) -> None:
    invite(admin_token)
    token = token_of(last_mail("new.hire@dealership.example"), "invitation")
    results: list[dict[str, Any]] = []
    cuts: list[str] = []

    def cut(client: Any, operation: str, params: Any, call: Callable[[], Any]) -> Any:
        if operation == "TransactWriteItems" and not cuts:
            cuts.append(operation)
            results.append(accept(token, OTHER_PASSWORD))
        return call()

    with around_aws_calls(cut):
        first = accept(token)
    assert sorted([first["statusCode"], results[0]["statusCode"]]) == [200, 400]


# -------------------------------------------------------------------------------- notifications


def test_a_password_change_and_a_new_device_are_emailed(accounts: Accounts) -> None:
    tokens = staff_login()
    change_password(tokens["access_token"], accounts.password, OTHER_PASSWORD)
    assert last_mail("staff@dealership.example")["subject"] == "Your password was changed"
    login_ok("staff@dealership.example", OTHER_PASSWORD, "staff", source_ip="192.0.2.50", user_agent="curl/8")
    mail = last_mail("staff@dealership.example")
    assert mail["subject"] == "New sign-in to your account" and "192.0.2.50" in mail["body"]


def test_23_7_the_new_sign_in_email_never_quotes_the_user_agent(accounts: Accounts) -> None:
    hostile = (
        "Mozilla/5.0 (Linux; Android 10; <a href=https://evil.example/r>evil.com</a> Build/QP1A) "
        'AppleWebKit/537.36 Chrome/120 Mobile Safari/537.36 <a href="https://evil.example/reset">Reset</a> '
        "www.evil.example"
    )
    login_ok(STAFF, accounts.password, "staff", source_ip="192.0.2.60", user_agent="curl/8")
    login_ok(STAFF, accounts.password, "staff", source_ip="198.51.100.61", user_agent=hostile)
    mail = last_mail(STAFF)
    assert mail["subject"] == "New sign-in to your account"
    assert mail["links"] == []
    for quoted in ("evil", "://", "www.", "href", "&lt;", "Mozilla", "Build/"):
        assert quoted not in mail["body"], quoted
    assert "from a device and a network not seen before:\nAndroid, IP address 198.51.100.61" in mail["body"]


def test_23_7_every_way_of_setting_a_password_refuses_the_users_and_the_services_names(
    admin_token: str, accounts: Accounts, services: Services
) -> None:
    from shared.accounts import actions

    def refused(response: dict[str, Any], field: str = "new_password") -> None:
        assert response["statusCode"] == 400, response
        assert body_of(response)["field"] == field
        assert "must not be built from" in body_of(response)["message"]

    tokens = staff_login()
    refused(change_password(tokens["access_token"], accounts.password, "Dealership2024!"))
    refused(change_password(tokens["access_token"], accounts.password, "SamStaff123456!"))
    refused(reset(reset_token(), "staff.dealership!1"))
    invite(admin_token, name="Nadia Newhire")
    refused(accept(token_of(last_mail("new.hire@dealership.example"), "invitation"), "NadiaNewhire2024"))
    for operator in (
        lambda: actions.create_account(
            services, "x@example.com", "Dealership2024!", name="X", role="sales", user_type="staff"
        ),
        lambda: actions.reset_password(services, accounts.staff, "Staff-Dealership-1"),
    ):
        with pytest.raises(BadRequest) as error:
            operator()
        assert error.value.field == "password" and "must not be built from" in error.value.message


def test_each_notification_is_a_setting(
    accounts: Accounts, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dataclasses

    monkeypatch.setattr(services, "settings", dataclasses.replace(services.settings, notifications=()))
    tokens = staff_login()
    change_password(tokens["access_token"], accounts.password, OTHER_PASSWORD)
    login_ok("staff@dealership.example", OTHER_PASSWORD, "staff", source_ip="192.0.2.50", user_agent="curl/8")
    assert forgot("staff@dealership.example")["statusCode"] == 202
    assert mails_to("staff@dealership.example") == []


def test_no_link_token_or_password_reaches_a_log_line(
    admin_token: str, accounts: Accounts, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    invite(admin_token)
    invitation = token_of(last_mail("new.hire@dealership.example"), "invitation")
    accept(invitation)
    token = reset_token()
    reset(token)
    reset(token)
    logged = "\n".join(f"{record.getMessage()} {record.__dict__}" for record in caplog.records)
    for secret in (invitation, token, NEW_PASSWORD):
        assert secret not in logged


def test_forgot_password_refuses_an_unknown_user_type_in_either_spelling(accounts: Accounts) -> None:
    body = {"email": "staff@dealership.example", "userType": "AAA", "user_type": "staff"}
    response = public(recovery_handler, "/auth/password/forgot", body)
    assert response["statusCode"] == 400 and body_of(response)["field"] == "userType"
    body = {"email": "staff@dealership.example", "userType": "staff"}
    assert public(recovery_handler, "/auth/password/forgot", body)["statusCode"] == 202

"""docs/hostile-inputs.md entries 24-29: login must answer every failure identically, lock out
repeated failures without revealing accounts, and refuse malformed input with 400, never 500."""

from __future__ import annotations

import json

import pytest

from shared.credentials import passwords
from shared.runtime.services import Services
from tests.clocks import pin_clock
from tests.events import api_event, body_of
from tests.expected_calls import LOGIN_FAILURE
from tests.fixtures import Accounts, audit_events
from tests.flows import CONTEXT, login, staff_login

STAFF = "staff@dealership.example"


def _count_verifications(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real_verify = passwords.verify_password

    def counting(stored_hash: str, password: str) -> bool:
        calls.append("verify")
        return real_verify(stored_hash, password)

    monkeypatch.setattr(passwords, "verify_password", counting)
    return calls


def _failure(email: str, password: str, user_type: str) -> dict[str, object]:
    response = login(email, password, user_type)
    response["headers"] = {k: v for k, v in response["headers"].items()}
    return response


def test_24_unknown_user_wrong_password_and_wrong_user_type_are_indistinguishable(
    accounts: Accounts, aws_calls: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    passwords.prepare_dummy_hash()
    verifications = _count_verifications(monkeypatch)
    observed = []
    for email, password, user_type in (
        ("nobody@dealership.example", accounts.password, "staff"),
        (STAFF, "wrong password entirely", "staff"),
        (STAFF, accounts.password, "admin"),
    ):
        aws_calls.clear()
        verifications.clear()
        response = _failure(email, password, user_type)
        observed.append(
            (
                response["statusCode"],
                response["body"],
                response["headers"],
                list(aws_calls),
                list(verifications),
            )
        )
    assert observed[0][0] == 401
    assert json.loads(str(observed[0][1])) == {"message": "Invalid credentials"}
    assert observed[0] == observed[1] == observed[2]
    assert observed[0][3] == list(LOGIN_FAILURE)
    assert observed[0][4] == ["verify"]


def test_24_a_disabled_account_fails_exactly_like_a_wrong_password(
    services: Services, accounts: Accounts, aws_calls: list[str]
) -> None:
    from shared.accounts.actions import disable_user

    disable_user(services, accounts.staff)
    aws_calls.clear()
    disabled = login(STAFF, accounts.password, "staff")
    disabled_calls = list(aws_calls)
    aws_calls.clear()
    wrong = login("admin@dealership.example", "wrong password entirely", "admin")
    assert (disabled["statusCode"], disabled["body"], disabled["headers"]) == (
        wrong["statusCode"],
        wrong["body"],
        wrong["headers"],
    )
    assert disabled_calls == list(aws_calls)


def test_24_the_log_keeps_the_failure_reason_that_the_response_hides(
    accounts: Accounts, caplog: pytest.LogCaptureFixture
) -> None:
    login("nobody@dealership.example", "whatever password", "staff")
    login(STAFF, "wrong password entirely", "staff")
    reasons = [e["reason"] for e in audit_events(caplog) if e["event"] == "login"]
    assert reasons == ["unknown_user", "wrong_password"]


def test_25_repeated_failures_lock_real_and_unknown_emails_with_identical_429s(
    services: Services, accounts: Accounts, aws_calls: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a pinned clock: on the real one, a second passing between the two locks (a slow or loaded
    machine) gave them different Retry-After values, and the answers differed."""
    pin_clock(services, monkeypatch, services.clock.now_ms())
    threshold = services.settings.lockout_threshold
    for email in (STAFF, "ghost@dealership.example"):
        for _ in range(threshold):
            assert login(email, "wrong password entirely", "staff")["statusCode"] == 401
    verifications = _count_verifications(monkeypatch)
    answers = []
    for email in (STAFF, "ghost@dealership.example"):
        aws_calls.clear()
        response = login(email, accounts.password, "staff")
        answers.append((response["statusCode"], response["body"], response["headers"], list(aws_calls)))
    assert answers[0] == answers[1]
    assert answers[0][0] == 429
    assert int(answers[0][2]["Retry-After"]) == services.settings.lockout_base_seconds
    assert answers[0][3] == ["dynamodb.BatchGetItem"]
    assert verifications == [], "a locked account's password is not checked"
    assert login("admin@dealership.example", accounts.password, "admin")["statusCode"] == 200


def test_25_lockout_is_exponential_bounded_and_reset_by_success(
    services: Services, accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a pinned clock: each wait is read a login after the lock began, which on the real clock
    may be a second later on a loaded machine (a wait one short)."""
    clock = pin_clock(services, monkeypatch, services.clock.now_ms())
    settings = services.settings
    for _ in range(settings.lockout_threshold):
        login(STAFF, "wrong password entirely", "staff")
    waits = []
    for _ in range(8):
        locked = login(STAFF, accounts.password, "staff")
        assert locked["statusCode"] == 429
        wait = int(locked["headers"]["Retry-After"])
        waits.append(wait)
        clock.advance(wait)
        assert login(STAFF, "wrong password entirely", "staff")["statusCode"] == 401
    assert waits[:3] == [settings.lockout_base_seconds * 2**i for i in range(3)]
    assert max(waits) == settings.lockout_max_seconds
    clock.advance(settings.lockout_max_seconds)
    assert login(STAFF, accounts.password, "staff")["statusCode"] == 200
    assert login(STAFF, "wrong password entirely", "staff")["statusCode"] == 401
    assert login(STAFF, accounts.password, "staff")["statusCode"] == 200


@pytest.mark.parametrize(
    ("password", "status"),
    [
        ("x" * 1_000_000, 413),  # the body is over the limit (issue 14: 413 everywhere)
        ("", 400),
        ("ça va très bien mon ami, et toi? ☕ 日本語 пароль 🙂 ok fine!!", 200),
    ],
)
def test_26_huge_empty_and_unicode_passphrases(
    services: Services, accounts: Accounts, password: str, status: int
) -> None:
    from local.provision import create_user

    create_user(
        services.users,
        "unicode@dealership.example",
        "ça va très bien mon ami, et toi? ☕ 日本語 пароль 🙂 ok fine!!",
        name="Uni Code",
        role="sales",
        user_type="staff",
    )
    response = login("unicode@dealership.example", password, "staff")
    assert response["statusCode"] == status
    if status == 400:
        assert body_of(response)["field"] in ("password", "body")


@pytest.mark.parametrize(
    "email", [{"a": 1}, ["x"], None, 42, "' OR '1'='1", "staff@dealership.example\x00", "e" * 10_240]
)
def test_27_hostile_email_values_get_400_or_the_generic_401_never_500(
    accounts: Accounts, email: object
) -> None:
    event = api_event(
        "POST", "/auth/login", body={"email": email, "password": "whatever it is", "userType": "staff"}
    )
    from functions.login.handler import handler

    response = handler(event, CONTEXT)
    assert response["statusCode"] in (400, 401)
    if response["statusCode"] == 400:
        assert body_of(response)["field"] == "email"


def test_27_a_user_too_long_for_a_kms_signable_token_gets_the_generic_401(
    services: Services, accounts: Accounts, aws_calls: list[str]
) -> None:
    from local.provision import create_user

    create_user(
        services.users,
        "long@dealership.example",
        accounts.password,
        name="N" * 5000,
        role="sales",
        user_type="staff",
    )
    aws_calls.clear()
    response = login("long@dealership.example", accounts.password, "staff")
    assert response["statusCode"] == 401
    # the same work as any failure: no session committed, nothing signed
    assert aws_calls == list(LOGIN_FAILURE)


@pytest.mark.parametrize(
    ("raw_body", "content_type", "field", "status"),
    [
        ("not json", "application/json", "body", 400),
        ("", "application/json", "body", 400),
        ("[1, 2, 3]", "application/json", "body", 400),
        ('{"email": "a@b.c", "password": "x", "userType": "staff"}', "text/plain", "body", 400),
        ("x" * 1_048_576, "application/json", "body", 413),
        ('{"email": "a@b.c", "password": "x", "userType": "root"}', "application/json", "userType", 400),
        ('{"email": "a@b.c", "password": "x"}', "application/json", "userType", 400),
        ('{"password": "x", "userType": "staff"}', "application/json", "email", 400),
        ('{"email": "a@b.c", "userType": "staff"}', "application/json", "password", 400),
        ("[" * 100_000, "application/json", "body", 413),
        ('"\\ud800"', "application/json", "body", 400),
    ],
)
def test_28_malformed_bodies_get_400_naming_the_field(
    raw_body: str, content_type: str, field: str, status: int, accounts: Accounts
) -> None:
    """A body over the 16 KB limit is 413 (issue 14: the same status everywhere); the rest 400."""
    from functions.login.handler import handler

    event = api_event("POST", "/auth/login", raw_body=raw_body, headers={"Content-Type": content_type})
    response = handler(event, CONTEXT)
    assert response["statusCode"] == status
    assert body_of(response)["field"] == field


@pytest.mark.production_hashing
def test_29_stored_hashes_are_argon2id_with_owasp_parameters_or_stronger(
    services: Services, accounts: Accounts
) -> None:
    stored = services.users.get("staff", STAFF)
    assert stored is not None
    parameters = dict(part.split("=") for part in stored.password_hash.split("$")[3].split(","))
    assert stored.password_hash.startswith("$argon2id$")
    assert int(parameters["m"]) >= 19456 and int(parameters["t"]) >= 2 and int(parameters["p"]) >= 1


def test_29_hashes_are_upgraded_on_login_when_parameters_rise(
    services: Services, accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    from argon2 import PasswordHasher

    stronger = PasswordHasher(time_cost=3, memory_cost=19456, parallelism=1)
    monkeypatch.setattr(passwords, "hasher", stronger)
    staff_login()
    stored = services.users.get("staff", STAFF)
    assert stored is not None and "t=3" in stored.password_hash
    assert login(STAFF, accounts.password, "staff")["statusCode"] == 200

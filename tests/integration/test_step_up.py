"""Step-up at the gateway (issue 16): a route of the declaration may demand a second factor made
within a maximum age; the authorizer decides from the token's `amr` and `auth_time` alone, leaves
the route out of the policy, and tells the client why (RFC 9470's error and max_age) through its
context, which API Gateway's ACCESS_DENIED answer carries."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from shared.authorizer.decision import STEP_UP_ERROR
from shared.http.proxy import render_access_denied
from shared.runtime.services import Services, get_services
from tests.clocks import pin_clock
from tests.fixtures import Accounts
from tests.flows import assert_unauthorized, authorize, login_ok
from tests.forge import good_claims, our_header, signed_by_us

STRONG = ["pwd", "otp", "mfa"]


def _allowed(policy: dict[str, Any]) -> set[str]:
    (statement,) = policy["policyDocument"]["Statement"]
    assert statement["Effect"] == "Allow"
    return {resource.split("/", 2)[2] for resource in statement["Resource"]}


def _token(services: Services, **claims: Any) -> str:
    return signed_by_us(services, our_header(services), good_claims(services, **claims))


def _refusal_body(policy: dict[str, Any]) -> dict[str, Any]:
    """The body API Gateway's ACCESS_DENIED answer renders from this policy's context."""
    body: dict[str, Any] = json.loads(
        render_access_denied("User is not authorized to access this resource", policy["context"])
    )
    return body


def test_by_default_no_route_demands_a_step_up(accounts: Accounts) -> None:
    # Given the service's own declaration and a password-only login
    tokens = login_ok(accounts.admin.email, accounts.password, "admin")
    # When the admin deletes a car / Then the route is granted, as before issue 16
    policy = authorize(tokens["access_token"], "DELETE", "/cars/car-1")
    assert "DELETE/cars/*" in _allowed(policy)
    assert policy["context"]["amr"] == "pwd" and policy["context"]["step_up"] == ""


def test_a_password_login_is_sent_to_step_up_on_a_step_up_route(
    step_up_routes: str, accounts: Accounts
) -> None:
    tokens = login_ok(accounts.admin.email, accounts.password, "admin")
    policy = authorize(tokens["access_token"], "DELETE", "/cars/car-1")
    allowed = _allowed(policy)
    assert "DELETE/cars/*" not in allowed
    assert {"GET/cars", "POST/cars", "GET/auth/me"} <= allowed  # the rest of the API is unchanged
    assert _refusal_body(policy) == {
        "message": "User is not authorized to access this resource",
        "error": STEP_UP_ERROR,
        "max_age": 900,
    }


def test_a_route_without_step_up_keeps_its_plain_answer(step_up_routes: str, accounts: Accounts) -> None:
    tokens = login_ok(accounts.admin.email, accounts.password, "admin")
    policy = authorize(tokens["access_token"], "GET", "/cars")
    assert policy["context"]["step_up"] == ""


def test_a_role_that_may_not_use_the_route_gets_a_plain_403_not_a_step_up(
    step_up_routes: str, accounts: Accounts
) -> None:
    tokens = login_ok(accounts.staff.email, accounts.password, "staff")
    policy = authorize(tokens["access_token"], "DELETE", "/cars/car-1")
    assert "DELETE/cars/*" not in _allowed(policy)
    assert _refusal_body(policy) == {"message": "User is not authorized to access this resource"}


def test_a_fresh_second_factor_login_is_granted_until_max_age(
    step_up_routes: str, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = get_services()
    # pinned: a ticking clock crosses the boundary by itself when the machine is slow
    clock = pin_clock(services, monkeypatch, at_ms=int(time.time()) * 1000)
    now = int(clock.now())
    token = _token(services, amr=STRONG, auth_time=now, iat=now, exp=now + 3600)
    assert "DELETE/cars/*" in _allowed(authorize(token, "DELETE", "/cars/car-1"))
    clock.advance(900)  # max_age itself: still fresh
    assert "DELETE/cars/*" in _allowed(authorize(token, "DELETE", "/cars/car-1"))
    clock.advance(0.001)  # past max_age: the strong login is too old
    policy = authorize(token, "DELETE", "/cars/car-1")
    assert "DELETE/cars/*" not in _allowed(policy)
    assert _refusal_body(policy)["error"] == STEP_UP_ERROR


@pytest.mark.parametrize("amr", [["pwd"], ["otp"], ["pwd", "otp"], ["hwk"], []])
def test_a_token_that_does_not_say_mfa_is_not_strong(step_up_routes: str, amr: list[str]) -> None:
    services = get_services()
    policy = authorize(_token(services, amr=amr), "DELETE", "/cars/car-1")
    assert "DELETE/cars/*" not in _allowed(policy)


def test_a_token_without_amr_names_no_factor(step_up_routes: str) -> None:
    services = get_services()
    policy = authorize(_token(services), "DELETE", "/cars/car-1")
    assert "DELETE/cars/*" not in _allowed(policy) and policy["context"]["amr"] == ""


def test_an_auth_time_in_the_future_does_not_extend_freshness_beyond_the_token(step_up_routes: str) -> None:
    # auth_time is the session's strong login; a token claiming one later than it was issued is
    # still judged by the same rule (now - auth_time <= max_age): it cannot be forged (signed by us)
    services = get_services()
    token = _token(services, amr=STRONG)
    assert "DELETE/cars/*" in _allowed(authorize(token, "DELETE", "/cars/car-1"))


@pytest.mark.parametrize(
    "amr", ["mfa", ["mfa", 1], [""], ["m f a"], ["x" * 65], ["pwd"] * 9, {"mfa": True}, None]
)
def test_a_malformed_amr_is_unauthorized(step_up_routes: str, amr: object) -> None:
    services = get_services()
    assert_unauthorized(f"Bearer {_token(services, amr=amr)}", "DELETE", "/cars/car-1")


def test_the_authorizer_makes_no_extra_aws_call_for_a_step_up_route(
    step_up_routes: str, accounts: Accounts, aws_calls: list[str]
) -> None:
    tokens = login_ok(accounts.admin.email, accounts.password, "admin")
    authorize(tokens["access_token"], "GET", "/cars")  # warm
    aws_calls.clear()
    authorize(tokens["access_token"], "DELETE", "/cars/car-1")
    assert aws_calls == ["dynamodb.BatchGetItem"]

"""Revocation rules that other checks used to mask: a denied token id alone (its session left alive)
denies until the token's own expiry plus the leeway; a not-before in the same second as the token;
an unreadable denylist. The clock is the service's, moved or pinned, never slept on."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest

from shared.authorizer import authorize
from shared.errors import InvalidAccessToken, Reason
from shared.services import Services
from tests.clocks import pin_clock
from tests.events import body_of, method_arn
from tests.fixtures import Accounts, FakeClock, Faults
from tests.flows import change_password, is_authorized, login_ok, logout, refresh

ARN = method_arn("GET", "/auth/me")


def reason(services: Services, access_token: str) -> Reason | None:
    """Why the authorizer refuses the token now, or None when it allows it."""
    try:
        authorize(services, f"Bearer {access_token}", ARN)
    except InvalidAccessToken as refused:
        return refused.reason
    return None


def expiry(access_token: str) -> int:
    return int(jwt.decode(access_token, options={"verify_signature": False})["exp"])


@pytest.fixture
def denied_alone(accounts: Accounts, clock: FakeClock) -> dict[str, Any]:
    """A token whose id logout denied while its own session lives on: the caller logged out with the
    refresh token of another of their sessions, which is the session that ends."""
    kept = login_ok("staff@dealership.example", accounts.password, "staff")
    other = login_ok("staff@dealership.example", accounts.password, "staff")
    assert logout(kept["access_token"], other["refresh_token"])["statusCode"] == 200
    return kept


def test_a_denied_token_id_denies_until_its_own_expiry(
    services: Services, clock: FakeClock, denied_alone: dict[str, Any]
) -> None:
    access = denied_alone["access_token"]
    assert reason(services, access) == Reason.LOGGED_OUT
    clock.advance(60)  # well before the token's expiry: the entry must still count
    assert reason(services, access) == Reason.LOGGED_OUT
    # the session itself is alive: its next token is allowed
    renewed = body_of(refresh(denied_alone["refresh_token"]))
    assert reason(services, renewed["access_token"]) is None
    clock.advance(expiry(access) - services.clock.now() - 60)  # a minute before it expires
    assert reason(services, access) == Reason.LOGGED_OUT


def test_logout_entry_outlives_the_token_by_the_leeway(
    services: Services, clock: FakeClock, denied_alone: dict[str, Any]
) -> None:
    access = denied_alone["access_token"]
    leeway = services.settings.clock_leeway
    # past exp, but within the leeway the token still verifies: only the entry denies it
    clock.advance(expiry(access) + leeway - 2 - services.clock.now())
    assert reason(services, access) == Reason.LOGGED_OUT
    clock.advance(3)  # and past exp + leeway it has expired by itself
    assert reason(services, access) == Reason.EXPIRED


def test_not_before_in_the_same_second_denies_the_older_token(
    services: Services, accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a token issued 100 ms into a second
    second = time.time_ns() // 1_000_000_000 * 1000
    clock = pin_clock(services, monkeypatch, second + 100)
    tokens = login_ok("staff@dealership.example", accounts.password, "staff")
    # When the password changes 500 ms later, in the same second (a not-before for older tokens)
    clock.advance(0.5)
    new_password = "violet harbour lantern 77"
    assert change_password(tokens["access_token"], accounts.password, new_password)["statusCode"] == 200
    # Then the older token is denied by the not-before alone (its session lives on) ...
    assert reason(services, tokens["access_token"]) == Reason.NOT_BEFORE
    # ... and a token issued in that same millisecond, or later in the second, is not
    at_not_before = body_of(refresh(tokens["refresh_token"]))
    assert reason(services, at_not_before["access_token"]) is None
    clock.advance(0.3)
    later = body_of(refresh(at_not_before["refresh_token"]))
    assert reason(services, later["access_token"]) is None
    assert is_authorized(later["access_token"])


def test_an_unreadable_denylist_denies(services: Services, accounts: Accounts, faults: Faults) -> None:
    tokens = login_ok("staff@dealership.example", accounts.password, "staff")
    faults.fail("dynamodb.BatchGetItem", "ProvisionedThroughputExceededException", times=20)
    assert reason(services, tokens["access_token"]) == Reason.UNDECIDABLE


def test_logout_after_the_session_row_is_gone_still_denies_the_token(
    services: Services, accounts: Accounts
) -> None:
    """DynamoDB deletes a session row at its absolute expiry, while its last access token may still be
    valid: logging out then still denies that token."""
    tokens = login_ok("staff@dealership.example", accounts.password, "staff")
    sid = tokens["refresh_token"].split(".")[0]
    services.sessions.dynamodb.delete_item(
        TableName=services.sessions.table, Key={"pk": {"S": f"SESSION#{sid}"}}
    )
    assert logout(tokens["access_token"])["statusCode"] == 200
    assert reason(services, tokens["access_token"]) == Reason.LOGGED_OUT

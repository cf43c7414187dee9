"""Refresh-rotation rules that only the transaction enforces: a not-before passed since the session
began is refused on the rotation path too (401, not a retry loop ending in 503), though the session
row still says active."""

from __future__ import annotations

from shared.services import Services
from tests.events import body_of
from tests.fixtures import Accounts
from tests.flows import is_authorized, login_ok, refresh


def test_refresh_after_a_not_before_is_refused_while_the_session_row_is_active(
    services: Services, accounts: Accounts
) -> None:
    tokens = login_ok("staff@dealership.example", accounts.password, "staff")
    services.denylist.set_not_before(
        accounts.staff.user_id, services.clock.now_ms(), sessions=True, keep_seconds=3600
    )
    response = refresh(tokens["refresh_token"])
    assert response["statusCode"] == 401, response
    assert body_of(response) == {"message": "Invalid refresh token"}


def test_a_tokens_only_not_before_leaves_the_session_refreshing(
    services: Services, accounts: Accounts
) -> None:
    tokens = login_ok("staff@dealership.example", accounts.password, "staff")
    services.denylist.set_not_before(
        accounts.staff.user_id, services.clock.now_ms(), sessions=False, keep_seconds=3600
    )
    response = refresh(tokens["refresh_token"])
    assert response["statusCode"] == 200, response
    assert is_authorized(body_of(response)["access_token"])

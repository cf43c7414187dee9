"""Login and lockout rules at their bounds (the hostile-login tests cover the shapes)."""

from __future__ import annotations

from tests.fixtures import Accounts
from tests.flows import login, login_ok


def test_a_success_under_the_threshold_resets_the_failure_count(accounts: Accounts) -> None:
    email = "staff@dealership.example"
    for _ in range(4):
        assert login(email, "wrong password!", "staff")["statusCode"] == 401
    login_ok(email, accounts.password, "staff")
    for _ in range(4):
        assert login(email, "wrong password!", "staff")["statusCode"] == 401
    login_ok(email, accounts.password, "staff")

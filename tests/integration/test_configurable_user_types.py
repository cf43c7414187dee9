"""User types and roles are configuration (issue 14.4): a `customer` type added to the route
declaration alone logs in, reaches its own routes and is refused the admin's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shared.accounts import actions as account_actions
from shared.config.settings import DEFAULT_ROUTES_FILE
from shared.runtime import services as services_module
from shared.runtime.services import get_services
from tests.fixtures import PASSWORD
from tests.flows import authorize, login, login_ok


@pytest.fixture
def with_customers(aws_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    declaration = json.loads(Path(DEFAULT_ROUTES_FILE).read_text(encoding="utf-8"))
    declaration["user_types"].append("customer")
    declaration["roles"].append("shopper")
    declaration["routes"].append(
        {"method": "GET", "path": "/orders", "function": "cars", "allow": {"types": ["customer"]}}
    )
    routes_file = tmp_path / "routes.json"
    routes_file.write_text(json.dumps(declaration), encoding="utf-8")
    monkeypatch.setenv("ROUTES_FILE", str(routes_file))
    services_module.reset()


def _allowed(policy: dict[str, object]) -> set[str]:
    (statement,) = policy["policyDocument"]["Statement"]  # type: ignore[index]
    assert statement["Effect"] == "Allow"
    return {resource.split("/", 2)[2] for resource in statement["Resource"]}


def test_a_customer_type_from_the_declaration_alone_logs_in_and_is_refused_admin_routes(
    with_customers: None,
) -> None:
    services = get_services()
    account_actions.create_account(
        services, "shopper@example.com", PASSWORD, name="Shop Per", role="shopper", user_type="customer"
    )
    tokens = login_ok("shopper@example.com", PASSWORD, "customer")
    allowed = _allowed(authorize(tokens["access_token"], "GET", "/orders"))
    assert "GET/orders" in allowed and "GET/auth/me" in allowed
    assert "DELETE/cars/*" not in allowed and "POST/cars" not in allowed


def test_without_the_declaration_the_type_is_unknown(aws_env: dict[str, str]) -> None:
    answer = login("shopper@example.com", PASSWORD, "customer")
    assert answer["statusCode"] == 400 and json.loads(answer["body"])["field"] == "userType"

"""Each protected API has its own audience (issue 14.3): tokens carry the service's audience and
every audience in `EXTRA_AUDIENCES`; an authorizer accepts a token only when the audience of its
own route declaration (or, when it names none, the service's) is among them."""

from __future__ import annotations

import json
from pathlib import Path

import jwt
import pytest

from shared.config.settings import DEFAULT_ROUTES_FILE
from shared.core.errors import ConfigurationError, InvalidAccessToken, Reason
from shared.credentials.access_tokens import verify_access_token
from shared.routes.declaration import parse_route_table
from shared.runtime import services as services_module
from shared.runtime.services import get_services
from tests.fixtures import Accounts
from tests.flows import is_authorized, staff_login


def _declaration(audience: str | None) -> dict[str, object]:
    document: dict[str, object] = {
        "api": "orders",
        "routes": [{"method": "GET", "path": "/orders", "function": "orders", "allow": {}}],
    }
    if audience is not None:
        document["audience"] = audience
    return document


def _use_declaration(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, document: dict[str, object]) -> None:
    routes_file = tmp_path / "routes.json"
    routes_file.write_text(json.dumps(document), encoding="utf-8")
    monkeypatch.setenv("ROUTES_FILE", str(routes_file))
    services_module.reset()


def _login(accounts: Accounts) -> str:
    token: str = staff_login()["access_token"]
    return token


def _audience_of(token: str) -> object:
    return jwt.decode(token, options={"verify_signature": False})["aud"]


@pytest.fixture
def orders_audience(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXTRA_AUDIENCES", "orders-api, https://billing.example/api")
    services_module.reset()


def test_without_extra_audiences_the_token_keeps_a_single_string_audience(accounts: Accounts) -> None:
    token = _login(accounts)
    assert _audience_of(token) == get_services().settings.audience


def test_extra_audiences_follow_the_service_audience_in_every_token(
    orders_audience: None, accounts: Accounts
) -> None:
    token = _login(accounts)
    own = get_services().settings.audience
    assert _audience_of(token) == [own, "orders-api", "https://billing.example/api"]
    assert is_authorized(token, "GET", "/auth/me")


def test_an_api_declaring_its_audience_accepts_tokens_that_carry_it(
    orders_audience: None, accounts: Accounts, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    token = _login(accounts)
    _use_declaration(monkeypatch, tmp_path, _declaration("orders-api"))
    assert is_authorized(token, "GET", "/orders")


def test_an_api_refuses_tokens_minted_for_other_audiences(
    accounts: Accounts, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    token = _login(accounts)
    _use_declaration(monkeypatch, tmp_path, _declaration("orders-api"))
    assert not is_authorized(token, "GET", "/orders")
    services = get_services()
    with pytest.raises(InvalidAccessToken) as refused:
        verify_access_token(
            token, services.settings, services.keys, services.clock.now(), audience="orders-api"
        )
    assert refused.value.reason is Reason.CLAIMS


def test_an_api_without_an_audience_of_its_own_requires_the_service_audience(
    accounts: Accounts, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    token = _login(accounts)
    _use_declaration(monkeypatch, tmp_path, _declaration(None))
    assert is_authorized(token, "GET", "/orders")


@pytest.mark.parametrize("audience", ["", 42, ["orders-api"], "orders api", "x" * 201])
def test_a_declared_audience_must_be_a_plain_identifier_or_url(audience: object) -> None:
    document = _declaration(None)
    document["audience"] = audience
    with pytest.raises(ConfigurationError, match="'audience'"):
        parse_route_table(document)


def test_the_service_declaration_names_no_audience_of_its_own() -> None:
    document = json.loads(Path(DEFAULT_ROUTES_FILE).read_text(encoding="utf-8"))
    assert parse_route_table(document).audience is None


@pytest.mark.parametrize("value", ["orders api", "a,,b*"])
def test_extra_audiences_refuse_a_value_that_is_not_an_identifier_or_url(
    value: str, aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EXTRA_AUDIENCES", value)
    services_module.reset()
    with pytest.raises(ConfigurationError, match="EXTRA_AUDIENCES"):
        get_services()

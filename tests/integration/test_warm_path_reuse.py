"""Nothing on the warm path that could be done once: clients, keys, settings and the route table are
built once per container and reused by every invocation; the key set is the configured one, loaded
once, and an unknown kid never triggers a fetch (not even a reload of the configured keys)."""

from __future__ import annotations

from typing import Any

import botocore.session
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from shared.config import settings as settings_module
from shared.credentials import signing
from shared.routes import declaration as routes
from shared.runtime import services as services_module
from shared.runtime.services import Services, get_services
from tests import forge
from tests.fixtures import Accounts
from tests.flows import assert_unauthorized, authorize, me, staff_login

STAFF = "staff@dealership.example"
STRANGER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def client_creations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every AWS client created while the test runs (boto3's clients are botocore's too)."""
    created: list[str] = []
    original = botocore.session.Session.create_client

    def counting(self: Any, service_name: str, *args: Any, **kwargs: Any) -> Any:
        created.append(service_name)
        return original(self, service_name, *args, **kwargs)

    monkeypatch.setattr(botocore.session.Session, "create_client", counting)
    return created


def test_warm_invocations_reuse_clients_keys_settings_and_routes(
    services: Services, accounts: Accounts, aws_calls: list[str], client_creations: list[str]
) -> None:
    # Given a warm container: one login and one authorized call have run
    tokens = staff_login()
    authorize(tokens["access_token"])
    me(tokens["access_token"])
    keys = services.keys
    settings_misses = settings_module.get_settings.cache_info().misses
    route_misses = routes.load_route_table.cache_info().misses
    aws_calls.clear()
    client_creations.clear()

    # When the authorizer and a function behind it run again, several times
    for _ in range(3):
        authorize(tokens["access_token"], "GET", "/cars")
        me(tokens["access_token"])

    # Then nothing was built again: the same services, clients, keys, settings and route table
    assert client_creations == []
    assert get_services() is services
    assert services_module.get_services.cache_info().misses == 1
    assert services.keys is keys
    assert settings_module.get_settings.cache_info().misses == settings_misses
    assert routes.load_route_table.cache_info().misses == route_misses
    # and the only AWS traffic is the authorizer's one revocation read per request
    assert aws_calls == ["dynamodb.BatchGetItem"] * 6


def test_an_unknown_kid_on_a_cold_container_loads_only_the_configured_keys_once_and_fetches_nothing(
    services: Services, aws_calls: list[str]
) -> None:
    # Given tokens whose kid is not ours, and a cold container (no key loaded yet)
    configured = list(services.settings.signing_key_ids)
    stranger = forge.rs256(
        forge.our_header(services, kid="a-kid-we-never-issued"), forge.good_claims(services), STRANGER_KEY
    )
    aws_calls.clear()
    signing.forget_keys()

    # When the authorizer sees it, then another unknown kid, then the same again
    assert_unauthorized(f"Bearer {stranger}")
    first = list(aws_calls)
    aws_calls.clear()
    other = forge.rs256(
        forge.our_header(services, kid="another-stranger"), forge.good_claims(services), STRANGER_KEY
    )
    assert_unauthorized(f"Bearer {other}")
    assert_unauthorized(f"Bearer {stranger}")

    # Then the first call loaded exactly the configured keys (GetPublicKey per configured key id),
    # no DynamoDB read happened (the token failed before revocation was checked), and no unknown kid
    # ever caused a fetch or a reload afterwards
    assert first == ["kms.GetPublicKey"] * len(configured)
    assert aws_calls == []

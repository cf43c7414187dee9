"""Other verifiers (issue 14.3): OpenID discovery, and access tokens that two independent
verifiers accept: PyJWT, and Node's own crypto checking RFC 7519's NumericDate rules strictly."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import jwt

from functions.jwks.handler import handler as jwks_handler
from shared.runtime.services import Services
from tests.events import LambdaContext, api_event, body_of
from tests.fixtures import Accounts
from tests.flows import staff_login

NODE_VERIFIER = Path(__file__).with_name("node_verifier.mjs")


def _get(path: str) -> dict[str, object]:
    answer = jwks_handler(api_event("GET", path), LambdaContext())
    assert answer["statusCode"] == 200
    document: dict[str, object] = body_of(answer)
    return document


def test_discovery_names_the_issuer_and_its_keys(services: Services) -> None:
    document = _get("/.well-known/openid-configuration")
    assert document["issuer"] == services.settings.issuer
    assert document["jwks_uri"] == services.settings.issuer + "/.well-known/jwks.json"
    assert document["id_token_signing_alg_values_supported"] == ["RS256"]


def test_numeric_dates_are_integers_and_the_millisecond_travels_apart(
    services: Services, accounts: Accounts
) -> None:
    token = staff_login()["access_token"]
    claims = jwt.decode(token, options={"verify_signature": False})
    for claim in ("iat", "exp", "auth_time", "iat_ms"):
        assert type(claims[claim]) is int, claim
    assert claims["iat_ms"] // 1000 == claims["iat"]
    assert claims["client_id"] == services.settings.client_id


def test_pyjwt_with_the_published_keys_accepts_the_token(services: Services, accounts: Accounts) -> None:
    token = staff_login()["access_token"]
    keys = jwt.PyJWKSet.from_dict(_get("/.well-known/jwks.json"))
    key = next(k for k in keys.keys if k.key_id == jwt.get_unverified_header(token)["kid"])
    claims = jwt.decode(
        token,
        key=key.key,
        algorithms=["RS256"],
        audience=services.settings.audience,
        issuer=services.settings.issuer,
    )
    assert claims["type"] == "staff"


def test_nodes_crypto_with_the_published_keys_accepts_the_token(
    services: Services, accounts: Accounts
) -> None:
    token = staff_login()["access_token"]
    request = {
        "token": token,
        "jwks": _get("/.well-known/jwks.json"),
        "issuer": services.settings.issuer,
        "audience": services.settings.audience,
    }
    result = subprocess.run(
        ["node", str(NODE_VERIFIER)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["sub"] == accounts.staff.user_id
    forged = token.rsplit(".", 1)[0] + ".AAAA"
    refused = subprocess.run(
        ["node", str(NODE_VERIFIER)],
        input=json.dumps({**request, "token": forged}),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert refused.returncode != 0

"""docs/openapi.json describes exactly the routes of shared/routes/routes.json, so the two cannot drift."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate

from shared.routes.declaration import load_route_table

REPO = Path(__file__).resolve().parents[2]
DOCUMENT = REPO / "docs" / "openapi.json"
ROUTES = REPO / "shared" / "routes" / "routes.json"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DOCUMENT.read_text(encoding="utf-8"))
    return loaded


def operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method.upper(), path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    }


def test_the_document_is_valid_openapi_3_0(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.0."), "API Gateway imports OpenAPI 3.0.x"
    validate(document)


def test_the_document_has_exactly_the_declared_routes(document: dict[str, Any]) -> None:
    declared = {(route.method, route.path) for route in load_route_table(str(ROUTES)).routes}
    assert set(operations(document)) == declared


def test_public_routes_need_no_token_and_every_other_route_needs_the_bearer_token(
    document: dict[str, Any],
) -> None:
    scheme = document["components"]["securitySchemes"]["bearerAuth"]
    assert (scheme["type"], scheme["scheme"], scheme["bearerFormat"]) == ("http", "bearer", "JWT")
    found = operations(document)
    for route in load_route_table(str(ROUTES)).routes:
        security = found[(route.method, route.path)].get("security", document.get("security"))
        expected = [] if route.public else [{"bearerAuth": []}]
        assert security == expected, f"{route.method} {route.path}"


def test_request_bodies_use_the_model_the_route_declares(document: dict[str, Any]) -> None:
    """A route with a body model has a JSON request body that is exactly that named schema; a route
    without one has no required body (an optional one is what the function tolerates, e.g. logout)."""
    schemas = document["components"]["schemas"]
    found = operations(document)
    for route in load_route_table(str(ROUTES)).routes:
        request_body = found[(route.method, route.path)].get("requestBody")
        where = f"{route.method} {route.path}"
        if route.body is None:
            assert request_body is None or request_body.get("required") is False, where
            continue
        assert request_body is not None, where
        schema = request_body["content"]["application/json"]["schema"]
        assert schema == {"$ref": f"#/components/schemas/{route.body}"}, where
        assert route.body in schemas, where


def test_protected_routes_declare_the_gateways_401_and_every_route_its_404_and_503(
    document: dict[str, Any],
) -> None:
    for (method, path), operation in operations(document).items():
        statuses = set(operation["responses"])
        assert "503" in statuses, f"{method} {path}"
        assert "404" in statuses, f"{method} {path}: no such route or method (the gateway's 404)"
        if operation["security"]:
            assert "401" in statuses, f"{method} {path}"
        assert not any(status.startswith("5") and status != "503" for status in statuses)


def test_login_model_bounds_match_the_handler() -> None:
    from shared.config.settings import DEFAULT_ROUTES_FILE
    from shared.routes.declaration import load_route_table

    user_types = load_route_table(DEFAULT_ROUTES_FILE).user_types
    from shared.credentials.passwords import MAX_PASSWORD_BYTES

    schemas = json.loads(DOCUMENT.read_text(encoding="utf-8"))["components"]["schemas"]
    login = schemas["LoginRequest"]
    assert login["required"] == ["email", "password"]
    assert login["anyOf"] == [{"required": ["userType"]}, {"required": ["user_type"]}]
    assert login["properties"]["user_type"]["enum"] == list(user_types)
    assert login["properties"]["email"]["maxLength"] == 254
    assert login["properties"]["password"]["maxLength"] == MAX_PASSWORD_BYTES
    assert login["properties"]["userType"]["enum"] == list(user_types)
    refresh = schemas["RefreshRequest"]
    assert "required" not in refresh, "the refresh token may come from the cookie instead"
    assert refresh["properties"]["refresh_token"]["type"] == "string"


def test_password_model_bounds_match_the_policy() -> None:
    from shared.credentials.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH

    schema = json.loads(DOCUMENT.read_text(encoding="utf-8"))["components"]["schemas"]
    new = schema["PasswordChangeRequest"]["properties"]["new_password"]
    assert (new["minLength"], new["maxLength"]) == (MIN_PASSWORD_LENGTH, MAX_PASSWORD_LENGTH)


def test_the_gateway_models_never_reject_a_body_the_document_accepts(document: dict[str, Any]) -> None:
    """infra/models.py (API Gateway request validation) checks structure only and may be looser than
    the document, never stricter: same fields, same required set, same types, wider bounds."""
    import time

    from infra.models import REQUEST_MODELS

    schemas = document["components"]["schemas"]
    next_year = time.gmtime().tm_year + 1
    for name, gateway in REQUEST_MODELS.items():
        documented = schemas[name]
        assert set(gateway.get("required", [])) == set(documented.get("required", [])), name
        assert set(gateway["properties"]) == set(documented["properties"]), name
        for field, rule in gateway["properties"].items():
            doc, where = documented["properties"][field], f"{name}.{field}"
            assert rule["type"] == doc["type"], where
            assert rule.get("minLength", 0) <= doc.get("minLength", 0), where
            if "maxLength" in rule:
                assert rule["maxLength"] >= doc.get("maxLength", float("inf")), where
            if "enum" in rule:
                assert set(doc["enum"]) <= set(rule["enum"]), where
            if "minimum" in rule:
                assert rule["minimum"] <= doc.get("minimum", float("-inf")), where
            if "maximum" in rule:
                assert rule["maximum"] >= doc.get("maximum", next_year), where

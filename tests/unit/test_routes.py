"""The single route declaration: parsed strictly, and refused when IAM's `*` would widen a rule."""

from __future__ import annotations

import dataclasses

import pytest

from shared.config.settings import DEFAULT_ROUTES_FILE
from shared.core.errors import ConfigurationError
from shared.routes.declaration import load_route_table, parse_route_table


def _table(*routes: dict[str, object]) -> object:
    return parse_route_table({"api": "test", "routes": list(routes)})


def test_the_shipped_declaration_loads_and_covers_the_contract() -> None:
    table = load_route_table(DEFAULT_ROUTES_FILE)
    declared = {(route.method, route.path) for route in table.routes}
    assert {
        ("POST", "/auth/login"),
        ("POST", "/auth/refresh"),
        ("GET", "/.well-known/jwks.json"),
        ("GET", "/.well-known/openid-configuration"),
        ("POST", "/auth/logout"),
        ("POST", "/auth/logout-all"),
        ("GET", "/auth/me"),
        ("GET", "/auth/sessions"),
        ("DELETE", "/auth/sessions/{id}"),
        ("POST", "/auth/password"),
        ("POST", "/auth/password/forgot"),
        ("POST", "/auth/password/reset"),
        ("POST", "/auth/invitations"),
        ("POST", "/auth/invitations/resend"),
        ("POST", "/auth/invitations/revoke"),
        ("POST", "/auth/invitations/accept"),
        ("POST", "/auth/login/mfa"),
        ("POST", "/auth/login/mfa/enrol"),
        ("POST", "/auth/mfa/totp"),
        ("POST", "/auth/mfa/totp/verify"),
        ("DELETE", "/auth/mfa/totp"),
        ("POST", "/auth/mfa/unlock"),
        ("POST", "/auth/passkeys/register/options"),
        ("POST", "/auth/passkeys/register"),
        ("GET", "/auth/passkeys"),
        ("DELETE", "/auth/passkeys/{id}"),
        ("POST", "/auth/login/passkey/options"),
        ("POST", "/auth/login/passkey"),
        ("GET", "/cars"),
        ("POST", "/cars"),
        ("DELETE", "/cars/{id}"),
    } == declared
    assert {route.path for route in table.routes if route.public} == {
        "/auth/login",
        "/auth/login/mfa",
        "/auth/login/mfa/enrol",
        "/auth/mfa/unlock",
        "/auth/refresh",
        "/.well-known/jwks.json",
        "/.well-known/openid-configuration",
        "/auth/password/forgot",
        "/auth/password/reset",
        "/auth/invitations/accept",
        "/auth/login/passkey/options",
        "/auth/login/passkey",
    }


def test_staff_may_use_cars_but_not_delete_them_and_admins_may() -> None:
    table = load_route_table(DEFAULT_ROUTES_FILE)
    staff = {(r.method, r.path) for r in table.allowed_for("staff", "sales")}
    admin = {(r.method, r.path) for r in table.allowed_for("admin", "admin")}
    assert ("GET", "/cars") in staff and ("POST", "/cars") in staff
    assert ("DELETE", "/cars/{id}") not in staff
    assert ("DELETE", "/cars/{id}") in admin
    assert not any(r.public for r in table.allowed_for("admin", "admin"))


def test_a_wildcard_that_would_grant_a_differently_ruled_route_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="would also grant"):
        _table(
            {"method": "GET", "path": "/cars/{id}", "function": "cars", "allow": {}},
            {
                "method": "GET",
                "path": "/cars/{id}/invoice",
                "function": "cars",
                "allow": {"roles": ["admin"]},
            },
        )


def test_routes_under_one_wildcard_with_the_same_rule_are_accepted() -> None:
    table = _table(
        {"method": "GET", "path": "/cars/{id}", "function": "cars", "allow": {}},
        {"method": "GET", "path": "/cars/{id}/photos", "function": "cars", "allow": {}},
    )
    assert len(table.routes) == 2  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "route",
    [
        {"method": "GET", "path": "/x", "function": "f"},
        {"method": "GET", "path": "/x", "function": "f", "public": True, "allow": {}},
        {"method": "FETCH", "path": "/x", "function": "f", "public": True},
        {"method": "GET", "path": "x", "function": "f", "public": True},
        {"method": "GET", "path": "/x/*", "function": "f", "public": True},
        {"method": "GET", "path": "/x", "function": "F!", "public": True},
        {"method": "GET", "path": "/x", "function": "f", "allow": {"groups": ["a"]}},
        {"method": "GET", "path": "/x", "function": "f", "allow": {"roles": "admin"}},
        {"method": "GET", "path": "/x", "function": "f", "public": True, "extra": 1},
    ],
)
def test_malformed_routes_are_refused_with_their_position(route: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError, match=r"routes\[0\]"):
        _table(route)


def test_a_route_declared_twice_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="declared twice"):
        _table(
            {"method": "GET", "path": "/cars/{id}", "function": "cars", "allow": {}},
            {"method": "GET", "path": "/cars/{car}", "function": "cars", "allow": {}},
        )


def test_match_extracts_path_parameters_and_rejects_other_shapes() -> None:
    table = load_route_table(DEFAULT_ROUTES_FILE)
    found = table.find("DELETE", "/cars/abc")
    assert found is not None and found[1] == {"id": "abc"}
    assert table.find("DELETE", "/cars/abc/def") is None
    assert table.find("DELETE", "/cars/") is None
    assert table.find("PUT", "/cars") is None


def _with_step_up(step_up: object, **route: object) -> dict[str, object]:
    base: dict[str, object] = {"method": "DELETE", "path": "/cars/{id}", "function": "cars", "allow": {}}
    return {"routes": [{**base, **route, "step_up": step_up}]}


def test_a_route_may_demand_a_step_up_with_a_max_age() -> None:
    from shared.routes.declaration import parse_route_table

    (route,) = parse_route_table(_with_step_up({"max_age": 900})).routes
    assert route.step_up == 900
    assert route.strong_enough(("pwd", "otp", "mfa"), 1000, 1900)
    assert not route.strong_enough(("pwd", "otp", "mfa"), 1000, 1901)
    assert not route.strong_enough(("pwd",), 1000, 1000)
    plain = dataclasses.replace(route, step_up=0)  # a route without a step-up takes any login
    assert plain.strong_enough((), 0, 10**10)


@pytest.mark.parametrize(
    "step_up",
    [
        {},
        {"max_age": 0},
        {"max_age": -1},
        {"max_age": "900"},
        {"max_age": True},
        900,
        {"max_age": 900, "amr": "mfa"},
        {"max_age": 86401},
    ],
)
def test_a_malformed_step_up_is_refused(step_up: object) -> None:
    from shared.core.errors import ConfigurationError
    from shared.routes.declaration import parse_route_table

    with pytest.raises(ConfigurationError, match="step_up"):
        parse_route_table(_with_step_up(step_up))


def test_a_public_route_cannot_demand_a_step_up() -> None:
    from shared.core.errors import ConfigurationError
    from shared.routes.declaration import parse_route_table

    document = {
        "routes": [
            {"method": "POST", "path": "/x", "function": "x", "public": True, "step_up": {"max_age": 60}}
        ]
    }
    with pytest.raises(ConfigurationError, match="public"):
        parse_route_table(document)


def test_a_wildcard_route_cannot_grant_a_step_up_route_without_its_step_up() -> None:
    from shared.core.errors import ConfigurationError
    from shared.routes.declaration import parse_route_table

    document = {
        "routes": [
            {"method": "GET", "path": "/files/{name}", "function": "files", "allow": {}},
            {
                "method": "GET",
                "path": "/files/{name}/raw",
                "function": "files",
                "allow": {},
                "step_up": {"max_age": 60},
            },
        ]
    }
    with pytest.raises(ConfigurationError, match="would also grant"):
        parse_route_table(document)

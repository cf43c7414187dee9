"""The route rules the authorizer's policy is built from, exactly: public routes are never granted,
`types` and `roles` each restrict and both must hold, and a wildcard may not widen a grant."""

from __future__ import annotations

import pytest

from shared.core.errors import ConfigurationError
from shared.routes.declaration import RouteTable, parse_route_table
from shared.routes.wildcards import wildcard_matches

DECLARATION = {
    "routes": [
        {"method": "POST", "path": "/login", "function": "login", "public": True},
        {"method": "GET", "path": "/any", "function": "f", "allow": {}},
        {"method": "GET", "path": "/staff", "function": "f", "allow": {"types": ["staff"]}},
        {"method": "GET", "path": "/managers", "function": "f", "allow": {"roles": ["manager", "owner"]}},
        {
            "method": "GET",
            "path": "/staff-managers",
            "function": "f",
            "allow": {"types": ["staff"], "roles": ["manager"]},
        },
    ]
}


def granted(table: RouteTable, user_type: str, role: str) -> set[str]:
    return {route.path for route in table.allowed_for(user_type, role)}


@pytest.mark.parametrize(
    ("user_type", "role", "expected"),
    [
        ("staff", "manager", {"/any", "/staff", "/managers", "/staff-managers"}),
        ("staff", "sales", {"/any", "/staff"}),
        ("admin", "manager", {"/any", "/managers"}),
        ("admin", "owner", {"/any", "/managers"}),
        ("partner", "viewer", {"/any"}),
        ("", "", {"/any"}),
    ],
)
def test_each_route_is_granted_exactly_to_the_types_and_roles_it_allows(
    user_type: str, role: str, expected: set[str]
) -> None:
    table = parse_route_table(DECLARATION)
    assert granted(table, user_type, role) == expected
    for route in table.routes:
        assert route.allows(user_type, role) == (route.path in expected)


def test_a_public_route_is_never_in_a_grant() -> None:
    table = parse_route_table(DECLARATION)
    public = next(route for route in table.routes if route.public)
    assert not public.allows("staff", "manager")
    assert "/login" not in granted(table, "staff", "manager")


@pytest.mark.parametrize(
    ("wide", "narrow"),
    [
        ("/cars/{id}", "/cars/{id}/invoice"),
        ("/cars/{id}", "/cars/x/y"),
        ("/a/{x}/c", "/a/b/{y}/c"),
    ],
)
def test_a_wildcard_covering_a_differently_ruled_route_is_refused_in_either_order(
    wide: str, narrow: str
) -> None:
    routes = [
        {"method": "GET", "path": wide, "function": "f", "allow": {}},
        {"method": "GET", "path": narrow, "function": "f", "allow": {"roles": ["admin"]}},
    ]
    for ordered in (routes, routes[::-1]):
        with pytest.raises(ConfigurationError) as refused:
            parse_route_table({"routes": ordered})
        assert str(refused.value).endswith(
            "in an IAM policy (a '*' spans '/'): give both the same allow rule"
        )
        assert f"route GET {wide} would also grant GET {narrow} " in str(refused.value)


@pytest.mark.parametrize(
    "other",
    [
        {"method": "POST", "path": "/cars/{id}/invoice", "function": "f", "allow": {"roles": ["admin"]}},
        {"method": "GET", "path": "/carsx", "function": "f", "allow": {"roles": ["admin"]}},
        {"method": "GET", "path": "/cars", "function": "f", "allow": {"roles": ["admin"]}},
        {"method": "GET", "path": "/cars/{id}/invoice", "function": "f", "public": True},
        {"method": "GET", "path": "/cars/{id}/invoice", "function": "f", "allow": {}},
    ],
)
def test_a_wildcard_that_grants_nothing_more_is_accepted(other: dict[str, object]) -> None:
    routes = [{"method": "GET", "path": "/cars/{id}", "function": "f", "allow": {}}, other]
    assert len(parse_route_table({"routes": routes}).routes) == 2


def test_without_a_time_given_the_policy_judges_a_step_up_at_the_tokens_issue() -> None:
    """allow_policy's `now` defaults to the token's `iat`: a second factor made at issue is fresh."""
    from shared.authorizer.decision import allow_policy
    from shared.credentials.access_tokens import AccessClaims
    from tests.fixtures import step_up_declaration

    table = parse_route_table(step_up_declaration(max_age=900))
    arn = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod/DELETE/cars/car-1"
    delete = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod/DELETE/cars/*"

    def resources(auth_time: int) -> list[str]:
        strong = AccessClaims(
            sub="user-1",
            jti="jti-1",
            sid="sid-1",
            email="someone@example.com",
            name="Some One",
            role="admin",
            user_type="admin",
            iat=1_700_000_000,
            exp=1_700_000_900,
            auth_time=auth_time,
            amr=("pwd", "otp", "mfa"),
        )
        found: list[str] = allow_policy(strong, arn, table)["policyDocument"]["Statement"][0]["Resource"]
        return found

    assert delete in resources(1_700_000_000 - 900)
    assert delete not in resources(1_700_000_000 - 901)


@pytest.mark.parametrize(
    ("pattern", "text", "matches"),
    [
        ("GET/cars/*", "GET/cars/1/photos", True),  # `*` spans `/`
        ("GET/cars/*", "GET/cars/", True),  # ... and may match nothing
        ("*", "", True),
        ("GET/cars/?", "GET/cars/1", True),  # `?` is exactly one character
        ("GET/cars/?", "GET/cars/12", False),
        ("GET/cars/?", "GET/cars/", False),
        ("GET/cars/?", "GET/cars/\n", True),  # any character, a newline included
        ("GET/cars/*", "GET/cars/a\nb", True),
        ("GET/cars.json", "GET/carsXjson", False),  # everything else is literal
        ("GET/c+rs", "GET/ccrs", False),
        ("GET/cars", "GET/cars/1", False),  # the whole text, not a prefix
        ("cars", "GET/cars", False),  # nor a suffix
        ("GET/cars", "get/cars", False),  # case-sensitive unless asked
    ],
)
def test_iam_wildcards(pattern: str, text: str, matches: bool) -> None:
    assert wildcard_matches(pattern, text) is matches


def test_iam_wildcards_ignore_case_only_when_asked() -> None:
    assert wildcard_matches("execute-api:*", "EXECUTE-API:Invoke", ignore_case=True)
    assert wildcard_matches("EXECUTE-API:INVOK?", "execute-api:Invoke", ignore_case=True)
    assert not wildcard_matches("execute-api:*", "EXECUTE-API:Invoke")


@pytest.mark.parametrize("path", ["/cars/?", "/cars/a?b", "/cars/\n", "/cars/*"])
def test_a_route_path_never_holds_a_wildcard_or_a_newline(path: str) -> None:
    """So `?` (one character in IAM) and newlines never reach the declaration's wildcard check."""
    with pytest.raises(ConfigurationError, match="is not a valid resource path"):
        parse_route_table({"routes": [{"method": "GET", "path": path, "function": "cars", "allow": {}}]})

"""The authorizer's policy builder gives API Gateway exactly what Powertools' response builder gave
(the builder it replaced on the hot path), for every user type and role, and keeps the partition."""

from __future__ import annotations

import pytest
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerResponse,
)

from shared.authorizer.decision import allow_policy
from shared.config.settings import DEFAULT_ROUTES_FILE
from shared.core.errors import InvalidAccessToken
from shared.credentials.access_tokens import AccessClaims
from shared.routes.declaration import RouteTable, load_route_table, parse_route_table

METHOD_ARN = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod/GET/cars"


def claims(user_type: str, role: str) -> AccessClaims:
    return AccessClaims(
        sub="user-1",
        jti="jti-1",
        sid="sid-1",
        email="someone@example.com",
        name="Some One",
        role=role,
        user_type=user_type,
        iat=1_700_000_000.123,
        exp=1_700_000_900,
    )


def powertools_policy(who: AccessClaims, method_arn: str, routes: RouteTable) -> dict[str, object]:
    """What the authorizer built before, with Powertools' APIGatewayAuthorizerResponse."""
    from shared.authorizer.decision import authorizer_context

    policy = APIGatewayAuthorizerResponse.from_route_arn(method_arn, who.sub, authorizer_context(who))
    allowed = routes.allowed_for(who.user_type, who.role)
    for route in allowed:
        policy.allow_route(route.method, route.resource[len(route.method) :])
    if not allowed:
        policy.deny_all_routes()
    return policy.asdict()


@pytest.mark.parametrize(
    ("user_type", "role"), [("admin", "admin"), ("staff", "sales"), ("staff", "admin"), ("partner", "viewer")]
)
def test_policy_is_the_one_powertools_built_for_every_type_and_role(user_type: str, role: str) -> None:
    # Given the service's own route declaration and a caller of this type and role
    routes = load_route_table(DEFAULT_ROUTES_FILE)
    who = claims(user_type, role)
    # When the authorizer builds its policy / Then it is exactly what Powertools built
    assert allow_policy(who, METHOD_ARN, routes) == powertools_policy(who, METHOD_ARN, routes)


def test_a_caller_with_no_allowed_route_gets_the_deny_all_policy_powertools_built() -> None:
    # Given a declaration where every protected route needs the admin role
    routes = parse_route_table(
        {
            "routes": [
                {
                    "method": "GET",
                    "path": "/reports/{id}",
                    "function": "reports",
                    "allow": {"roles": ["admin"]},
                },
                {"method": "POST", "path": "/login", "function": "login", "public": True},
            ]
        }
    )
    who = claims("staff", "sales")
    # When / Then: one Deny of every route of this stage, as before
    policy = allow_policy(who, METHOD_ARN, routes)
    assert policy == powertools_policy(who, METHOD_ARN, routes)
    assert policy["policyDocument"]["Statement"] == [
        {
            "Action": "execute-api:Invoke",
            "Effect": "Deny",
            "Resource": ["arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod/*/*"],
        }
    ]


def test_the_policy_keeps_the_partition_of_the_method_arn() -> None:
    # Given a call through an API in the China partition (Powertools wrote arn:aws: here)
    arn = "arn:aws-cn:execute-api:cn-north-1:123456789012:a1b2c3d4e5/prod/GET/auth/me"
    routes = load_route_table(DEFAULT_ROUTES_FILE)
    # When the policy is built
    resources = allow_policy(claims("staff", "sales"), arn, routes)["policyDocument"]["Statement"][0][
        "Resource"
    ]
    # Then every resource is in that partition, API and stage
    assert resources
    assert all(
        r.startswith("arn:aws-cn:execute-api:cn-north-1:123456789012:a1b2c3d4e5/prod/") for r in resources
    )


def test_a_malformed_method_arn_is_refused() -> None:
    with pytest.raises(InvalidAccessToken):
        allow_policy(
            claims("staff", "sales"),
            "arn:aws:execute-api:eu-west-1:123:api/prod",
            load_route_table(DEFAULT_ROUTES_FILE),
        )

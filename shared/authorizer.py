"""The REQUEST authorizer's decision: verify the token, check revocation, build the policy.

Valid -> an Allow-only policy scoped to the calling API and stage that lists exactly the routes
the caller's type and role may use, so a cached answer is right for every route. Anything
invalid, revoked or undecidable -> InvalidAccessToken (the handler answers Unauthorized).
"""

from __future__ import annotations

import re
from typing import Any

from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerResponse,
)

from shared.errors import InvalidAccessToken, ServiceUnavailable
from shared.routes import RouteTable
from shared.services import Services
from shared.store import now_ms
from shared.tokens import AccessClaims, verify_access_token

# Accepted form: exactly "Bearer <jwt>" (scheme case-insensitive, one space, nothing after).
_BEARER = re.compile(r"[Bb][Ee][Aa][Rr][Ee][Rr] ([A-Za-z0-9_.-]+)")
_METHOD_ARN = re.compile(
    r"arn:(aws|aws-cn|aws-us-gov):execute-api:[a-z0-9-]+:\d{12}:[A-Za-z0-9]+/[A-Za-z0-9_-]+/[A-Z]+/.*"
)


def bearer_token(authorization: str) -> str:
    match = _BEARER.fullmatch(authorization or "")
    if match is None:
        raise InvalidAccessToken("authorization header is not 'Bearer <token>'")
    return match.group(1)


def authorize(services: Services, authorization: str, method_arn: str) -> tuple[AccessClaims, dict[str, Any]]:
    if not _METHOD_ARN.fullmatch(method_arn or ""):
        raise InvalidAccessToken("malformed methodArn")
    claims = verify_access_token(bearer_token(authorization), services.settings, services.keys)
    check_not_revoked(services, claims)
    return claims, allow_policy(claims, method_arn, services.routes)


def check_not_revoked(services: Services, claims: AccessClaims) -> None:
    try:
        revocations = services.denylist.revocations(claims.jti, claims.sid, claims.sub, now_ms())
    except ServiceUnavailable:
        raise InvalidAccessToken("revocation state undecidable") from None
    if revocations.jti_denied:
        raise InvalidAccessToken("token logged out")
    if revocations.session_revoked:
        raise InvalidAccessToken("session revoked")
    if claims.issued_at_ms < revocations.tokens_not_before_ms:
        raise InvalidAccessToken("issued before the user's not-before")


def authorizer_context(claims: AccessClaims) -> dict[str, str]:
    return {
        "sub": claims.sub,
        "email": claims.email,
        "name": claims.name,
        "role": claims.role,
        "type": claims.user_type,
        "jti": claims.jti,
        "sid": claims.sid,
        "exp": str(claims.exp),
        "iat": f"{claims.iat:.3f}",
    }


def allow_policy(claims: AccessClaims, method_arn: str, routes: RouteTable) -> dict[str, Any]:
    policy = APIGatewayAuthorizerResponse.from_route_arn(method_arn, claims.sub, authorizer_context(claims))
    allowed = routes.allowed_for(claims.user_type, claims.role)
    for route in allowed:
        path = route.resource[len(route.method) :]
        policy.allow_route(route.method, path)
    if not allowed:
        policy.deny_all_routes()
    result: dict[str, Any] = policy.asdict()
    return result

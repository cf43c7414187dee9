"""GET /.well-known/jwks.json: the public keys that verify access tokens.
GET /.well-known/openid-configuration: where they are, for verifiers that use discovery (API
Gateway HTTP APIs' JWT authorizer, Envoy, service meshes). Such a verifier checks signatures and
times only: it cannot see logout or any other revocation, which this service's authorizer does."""

from typing import Any

from shared.config.settings import get_settings
from shared.credentials.signing import KMS_SIGNING_ALGORITHM
from shared.http.endpoint import http_endpoint
from shared.http.proxy import Request
from shared.http.reply import Reply
from shared.runtime.services import Services

get_settings()

JWKS_PATH = "/.well-known/jwks.json"
CACHING = {"Cache-Control": "public, max-age=300"}


def discovery_document(services: Services) -> dict[str, Any]:
    settings = services.settings
    algorithms = [settings.signing_algorithm] if settings.signing_algorithm in KMS_SIGNING_ALGORITHM else []
    return {
        "issuer": settings.issuer,
        "jwks_uri": settings.issuer.rstrip("/") + JWKS_PATH,
        "token_endpoint": settings.issuer.rstrip("/") + "/auth/refresh",
        "id_token_signing_alg_values_supported": algorithms,
        "token_endpoint_auth_methods_supported": ["none"],
        "response_types_supported": ["token"],
        "subject_types_supported": ["public"],
        "grant_types_supported": ["refresh_token"],
        "claims_supported": ["sub", "email", "name", "role", "type", "sid", "client_id", "auth_time", "amr"],
    }


def jwks_endpoint(request: Request, services: Services) -> Reply:
    if request.path.endswith("/openid-configuration"):
        return Reply(200, discovery_document(services), CACHING)
    return Reply(200, services.keys.jwks(), CACHING)


handler = http_endpoint(jwks_endpoint)

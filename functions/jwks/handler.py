"""GET /.well-known/jwks.json: the public keys that verify access tokens."""

from typing import Any

from shared.endpoint import http_endpoint
from shared.http import Request, response
from shared.services import Services
from shared.settings import get_settings

get_settings()


def jwks_endpoint(request: Request, services: Services) -> dict[str, Any]:
    return response(
        200,
        services.keys.jwks(),
        request,
        services.settings,
        headers={"Cache-Control": "public, max-age=300"},
    )


handler = http_endpoint(jwks_endpoint)

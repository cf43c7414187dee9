"""POST /auth/login"""

from typing import Any

from shared.endpoint import client_of, http_endpoint, token_response
from shared.errors import BadRequest
from shared.http import Request, json_body, string_field
from shared.login import LoginRequest, login
from shared.passwords import MAX_PASSWORD_BYTES
from shared.services import Services
from shared.settings import get_settings

get_settings()  # a missing or unsafe setting stops the container at start-up


def parse_login(request: Request, user_types: tuple[str, ...]) -> LoginRequest:
    body = json_body(request)
    email = string_field(body, "email", max_length=254)
    password = string_field(body, "password", max_length=MAX_PASSWORD_BYTES)
    if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
        raise BadRequest("password", f"password is too long (at most {MAX_PASSWORD_BYTES} bytes)")
    # `userType` is the canonical name; `user_type` is accepted too (the other bodies' convention).
    field = "userType" if "userType" in body or "user_type" not in body else "user_type"
    user_type = body.get(field)
    if user_type not in user_types:
        raise BadRequest(field, f"{field} must be one of {', '.join(user_types)}")
    return LoginRequest(email=email, password=password, user_type=user_type)


def login_endpoint(request: Request, services: Services) -> dict[str, Any]:
    grant = login(services, parse_login(request, services.routes.user_types), client_of(request))
    identity = grant.identity
    body = {
        "access_token": grant.access_token,
        "token_type": "Bearer",  # nosec B105  # the OAuth token type name, not a secret
        "expires_in": grant.expires_in,
        "type": identity.user_type,
        "user": {
            "id": identity.user_id,
            "email": identity.email,
            "name": identity.name,
            "role": identity.role,
            "type": identity.user_type,
        },
    }
    return token_response(request, services, body, grant.refresh_token, grant.refresh_expires_in)


handler = http_endpoint(login_endpoint)

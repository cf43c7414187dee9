"""POST /auth/password: change the caller's password (behind the authorizer)."""

from typing import Any

from shared.accounts import change_password
from shared.endpoint import caller_of, client_of, http_endpoint
from shared.http import Request, json_body, response, string_field
from shared.passwords import MAX_PASSWORD_LENGTH
from shared.services import Services
from shared.settings import get_settings

get_settings()


def password_endpoint(request: Request, services: Services) -> dict[str, Any]:
    body = json_body(request)
    current = string_field(body, "current_password", max_length=1024)
    new = string_field(body, "new_password", max_length=MAX_PASSWORD_LENGTH)
    change_password(services, caller_of(request), current, new, client_of(request))
    message = "Password changed: other sessions ended; refresh to get a new access token"
    return response(200, {"message": message}, request, services.settings)


handler = http_endpoint(password_endpoint)

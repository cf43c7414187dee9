"""POST /auth/password: change the caller's password (behind the authorizer). Every older session
and access token ends; the answer carries a fresh session, as login's does."""

from shared.accounts.password_change import change_password
from shared.config.settings import get_settings
from shared.credentials.passwords import MAX_PASSWORD_LENGTH
from shared.http.endpoint import caller_of, client_of, http_endpoint, token_reply
from shared.http.proxy import Request, json_body, string_field
from shared.http.reply import Reply
from shared.runtime.services import Services

get_settings()


def password_endpoint(request: Request, services: Services) -> Reply:
    body = json_body(request)
    current = string_field(body, "current_password", max_length=1024)
    new = string_field(body, "new_password", max_length=MAX_PASSWORD_LENGTH)
    grant = change_password(services, caller_of(request), current, new, client_of(request))
    answer = {
        "message": "Password changed: every other session ended; continue with these tokens",
        "access_token": grant.access_token,
        "token_type": "Bearer",  # the OAuth token type name, not a secret
        "expires_in": grant.expires_in,
    }
    return token_reply(answer, grant)


handler = http_endpoint(password_endpoint)

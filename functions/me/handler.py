"""GET /auth/me: the caller's identity, as the authorizer verified it."""

from shared.config.settings import get_settings
from shared.http.endpoint import caller_of, http_endpoint
from shared.http.proxy import Request
from shared.http.reply import Reply
from shared.runtime.services import Services

get_settings()


def me_endpoint(request: Request, services: Services) -> Reply:
    caller = caller_of(request)
    body = {
        "id": caller.sub,
        "email": caller.email,
        "name": caller.name,
        "role": caller.role,
        "type": caller.user_type,
        "session_id": caller.sid,
    }
    return Reply(200, body)


handler = http_endpoint(me_endpoint)

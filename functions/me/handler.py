"""GET /auth/me: the caller's identity, as the authorizer verified it."""

from shared.config.settings import get_settings
from shared.http.endpoint import caller_of, http_endpoint
from shared.http.proxy import Request
from shared.http.reply import Reply
from shared.runtime.services import Services

get_settings()


def me_endpoint(request: Request, services: Services) -> Reply:
    caller = caller_of(request)
    return Reply(200, {**caller.identity.as_json(), "session_id": caller.sid})


handler = http_endpoint(me_endpoint)

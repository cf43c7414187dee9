"""POST /auth/logout (behind the authorizer, whose context it trusts)."""

from shared.config.settings import get_settings
from shared.core.errors import BadRequest
from shared.http.endpoint import caller_of, client_of, http_endpoint
from shared.http.proxy import Request, json_body
from shared.http.reply import Reply
from shared.runtime.services import Services
from shared.sessions.lifecycle import logout

get_settings()


def logout_endpoint(request: Request, services: Services) -> Reply:
    try:  # the body and the cookie are optional: malformed, they never keep the session alive
        token = json_body(request, optional=True).get("refresh_token")
        if token is None and request.wants_cookie:
            token = request.cookie(services.settings.refresh_cookie_name) or None
    except BadRequest:
        token = None
    logout(services, caller_of(request), token if isinstance(token, str) else None, client_of(request))
    return Reply(200, {"message": "Successfully logged out"}, clear_refresh=True)


handler = http_endpoint(logout_endpoint)

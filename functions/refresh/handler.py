"""POST /auth/refresh"""

from shared.config.settings import get_settings
from shared.core.errors import BadRequest, InvalidRefreshToken, Reason
from shared.http.endpoint import client_of, http_endpoint, token_reply
from shared.http.proxy import Request, json_body
from shared.http.reply import Reply
from shared.runtime.services import Services
from shared.sessions.rotation import refresh

get_settings()


def presented_token(request: Request, services: Services) -> str:
    """From the body, or (only with the cookie-mode header, which cross-site forms cannot send)
    from the refresh cookie. None at all is a 400 saying where it goes; a present but invalid one
    is a 401."""
    body = json_body(request, optional=True)
    token = body.get("refresh_token")
    if token is None and request.wants_cookie:
        token = request.cookie(services.settings.refresh_cookie_name) or None
    if token is None:
        raise BadRequest(
            "refresh_token",
            "refresh_token is required: in the JSON body, or as the refresh cookie with the "
            "X-Token-Transport: cookie header",
        )
    if not isinstance(token, str) or not token or len(token) > 256:
        raise InvalidRefreshToken(Reason.MALFORMED, "not a refresh token")
    return token


def refresh_endpoint(request: Request, services: Services) -> Reply:
    grant = refresh(services, presented_token(request, services), client_of(request))
    body = {
        "access_token": grant.access_token,
        "token_type": "Bearer",  # the OAuth token type name, not a secret
        "expires_in": grant.expires_in,
    }
    return token_reply(body, grant)


handler = http_endpoint(refresh_endpoint)

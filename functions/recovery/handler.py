"""POST /auth/password/forgot (always 202, the same body, after the same minimum time),
POST /auth/password/reset (the link's token and the new password; answers with a fresh session, as
login does, or with none when a second factor is due: every older session and access token of the
user has ended) and POST /auth/mfa/unlock (the link that reopens code login)."""

from shared.accounts.code_unlock import unlock_codes
from shared.accounts.password_reset import request_password_reset, reset_password
from shared.config.settings import get_settings
from shared.core.errors import BadRequest, NotFound
from shared.credentials.passwords import MAX_PASSWORD_LENGTH
from shared.http.endpoint import client_of, http_endpoint, link_reply
from shared.http.proxy import Request, json_body, string_field
from shared.http.reply import Reply
from shared.runtime.services import Services

get_settings()

FORGOT_ANSWER = {
    "message": "If an account with that email exists, a link to reset its password has been sent",
}


def recovery_endpoint(request: Request, services: Services) -> Reply:
    body = json_body(request)
    if request.path.endswith("/forgot"):
        email = string_field(body, "email", max_length=254)
        known = services.routes.user_types
        # `user_type`, or `userType` as login takes it: each one sent must be a user type.
        for field in [name for name in ("user_type", "userType") if name in body] or ["user_type"]:
            if body.get(field) not in known:
                raise BadRequest(field, f"{field} must be one of {', '.join(known)}")
        user_type = body["userType"] if "userType" in body else body["user_type"]
        request_password_reset(services, email, user_type, client_of(request))
        return Reply(202, FORGOT_ANSWER)
    if request.path.endswith("/reset"):
        token = string_field(body, "token", max_length=128)
        new_password = string_field(body, "new_password", max_length=MAX_PASSWORD_LENGTH)
        grant = reset_password(services, token, new_password, client_of(request))
        return link_reply(grant, "Password reset")
    if request.path.endswith("/unlock"):
        unlock_codes(services, string_field(body, "token", max_length=128), client_of(request))
        return Reply(200, {"message": "Sign-in with authenticator codes is open again"})
    raise NotFound()


handler = http_endpoint(recovery_endpoint)

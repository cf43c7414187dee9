"""Sign-in with a passkey (public): POST /auth/login/passkey/options {email?, userType?} (a challenge),
POST /auth/login/passkey {credential} (tokens, as a password and second-factor login gives them)."""

from typing import Any

from shared.config.settings import get_settings
from shared.core.errors import BadRequest
from shared.http.endpoint import client_of, http_endpoint, session_reply
from shared.http.proxy import Request, json_body, string_field
from shared.http.reply import Reply
from shared.passkeys import sign_in as passkey_login
from shared.passkeys.ceremony import parse_answer
from shared.runtime.services import Services

get_settings()


def parse_account(body: dict[str, Any], user_types: tuple[str, ...]) -> tuple[str, str]:
    """The account the caller names, if any: (user type, email), each "" when not given."""
    email = string_field(body, "email", max_length=254) if "email" in body else ""
    for name in ("userType", "user_type"):  # either spelling (userType wins), each one valid if sent
        if name in body and body[name] not in user_types:
            raise BadRequest(name, f"{name} must be one of {', '.join(user_types)}")
    user_type = body.get("userType", body.get("user_type"))
    if user_type is None and email:
        raise BadRequest("userType", f"userType must be one of {', '.join(user_types)} when email is given")
    return user_type or "", email


def passkey_login_endpoint(request: Request, services: Services) -> Reply:
    if request.path.endswith("/options"):
        user_type, email = parse_account(json_body(request, optional=True), services.routes.user_types)
        return Reply(200, passkey_login.login_options(services, user_type, email))
    answer = parse_answer(json_body(request), registration=False)
    return session_reply(passkey_login.login(services, answer, client_of(request)))


handler = http_endpoint(passkey_login_endpoint)

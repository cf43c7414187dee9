"""POST /auth/login, POST /auth/login/mfa (the second factor, when the first answered a challenge)"""

from typing import Any

from shared.config.settings import get_settings
from shared.core.errors import BadRequest
from shared.credentials.passwords import MAX_PASSWORD_BYTES
from shared.http.endpoint import client_of, http_endpoint, session_reply
from shared.http.proxy import Request, json_body, string_field
from shared.http.reply import Reply
from shared.login.challenge import MfaChallenge
from shared.login.flow import LoginRequest, login
from shared.mfa.login_step import complete_login
from shared.runtime.services import Services
from shared.sessions.lifecycle import TokenGrant

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


MFA_TOKEN_LENGTH = 43  # 32 random bytes, base64url without padding
CODE_MAX_LENGTH = 32  # a TOTP code (6 digits) or a recovery code (11 characters), with some slack


def parse_mfa_token(body: dict[str, Any]) -> str:
    token = string_field(body, "mfa_token", max_length=MFA_TOKEN_LENGTH)
    if len(token) != MFA_TOKEN_LENGTH:
        raise BadRequest("mfa_token", "mfa_token is malformed")
    return token


CHALLENGES = {"verify": "totp", "enrol": "enrol_totp", "email": "email_code"}


def challenge_body(challenge: MfaChallenge) -> dict[str, Any]:
    return {
        "mfa_required": True,
        # "totp": a code of the active factor (or a recovery code); "enrol_totp": enrol one first
        # (POST /auth/login/mfa/enrol), then its first code; "email_code": the code just emailed
        # (the account is past its lockout ceiling and this address is new to it)
        "challenge": CHALLENGES[challenge.purpose],
        "mfa_token": challenge.token,
        "expires_in": challenge.expires_in,
    }


def login_endpoint(request: Request, services: Services) -> Reply:
    if request.path.endswith("/mfa"):
        body = json_body(request)
        token = parse_mfa_token(body)
        code = string_field(body, "code", max_length=CODE_MAX_LENGTH)
        return login_reply(complete_login(services, token, code, client_of(request)))
    return login_reply(login(services, parse_login(request, services.routes.user_types), client_of(request)))


def login_reply(outcome: TokenGrant | MfaChallenge) -> Reply:
    if isinstance(outcome, MfaChallenge):
        return Reply(200, challenge_body(outcome))
    return session_reply(outcome)


handler = http_endpoint(login_endpoint)

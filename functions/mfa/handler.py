"""TOTP second factors: POST /auth/mfa/totp (enrol), POST /auth/mfa/totp/verify {code} (prove it,
which activates it), DELETE /auth/mfa/totp {code} (remove it with a fresh code), all behind the
authorizer; and POST /auth/login/mfa/enrol {mfa_token}, public, for a user whose type must have a
factor and who has none yet (the login challenge stands for the access token)."""

from typing import Any

from shared.config.settings import get_settings
from shared.core.errors import NotFound
from shared.credentials.totp import Enrolment
from shared.http.endpoint import caller_of, client_of, http_endpoint
from shared.http.proxy import Request, json_body, string_field
from shared.http.reply import Reply
from shared.mfa import factor as mfa
from shared.mfa.login_step import enrol_with_challenge
from shared.runtime.services import Services

get_settings()

CODE_MAX_LENGTH = 32


def enrolment_body(enrolment: Enrolment) -> dict[str, Any]:
    return {
        "secret": enrolment.secret,
        "otpauth_uri": enrolment.uri,
        "qr_svg": enrolment.qr_svg,
        "recovery_codes": list(enrolment.recovery_codes),  # shown once: only their hashes are kept
        "message": "Scan the QR code, then POST a code from the app to verify it",
    }


def mfa_endpoint(request: Request, services: Services) -> Reply:
    client = client_of(request)
    if request.path.endswith("/login/mfa/enrol"):
        token = string_field(json_body(request), "mfa_token", max_length=64)
        return Reply(200, enrolment_body(enrol_with_challenge(services, token, client)))
    caller = caller_of(request)
    if request.method == "POST" and request.path.endswith("/totp"):
        enrolment = mfa.start_own_enrolment(services, caller, client)
        return Reply(201, enrolment_body(enrolment))
    code = string_field(json_body(request), "code", max_length=CODE_MAX_LENGTH)
    if request.method == "POST" and request.path.endswith("/totp/verify"):
        mfa.finish_enrolment(services, caller, code, client)
        return Reply(200, {"message": "Second factor active"})
    if request.method == "DELETE":
        mfa.remove_factor(services, caller, code, client)
        return Reply(200, {"message": "Second factor removed"})
    raise NotFound()


handler = http_endpoint(mfa_endpoint)

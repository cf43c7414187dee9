"""Passkeys of the signed-in user (behind the authorizer): POST /auth/passkeys/register/options (a
challenge), POST /auth/passkeys/register {credential, name?} (the new passkey, verified and stored),
GET /auth/passkeys, DELETE /auth/passkeys/{id}. The only function besides passkey_login that
imports py_webauthn."""

from typing import Any

from shared.config.settings import get_settings
from shared.core.clock import iso_time
from shared.core.errors import NotFound
from shared.http.endpoint import caller_of, client_of, http_endpoint
from shared.http.proxy import Request, json_body
from shared.http.reply import Reply
from shared.passkeys import registration as passkeys
from shared.runtime.services import Services
from shared.store.passkeys import Passkey

get_settings()


def passkey_view(passkey: Passkey) -> dict[str, Any]:
    return {
        "id": passkey.credential_id,
        "name": passkey.name,
        "created_at": iso_time(passkey.created_at),
        "last_used_at": iso_time(passkey.last_used) if passkey.last_used else None,
        "transports": list(passkey.transports),
        "synced": passkey.backup_eligible,  # a multi-device passkey (its key may live in a cloud keychain)
    }


def passkeys_endpoint(request: Request, services: Services) -> Reply:
    claims, client = caller_of(request), client_of(request)
    caller = passkeys.Caller(
        claims.sub, claims.user_type, claims.email, claims.name, claims.sid, claims.auth_time, claims.amr
    )
    if request.method == "POST" and request.path.endswith("/register/options"):
        return Reply(200, passkeys.registration_options(services, caller, client))
    if request.method == "POST" and request.path.endswith("/register"):
        passkey = passkeys.register(services, caller, json_body(request), client)
        return Reply(201, passkey_view(passkey))
    if request.method == "GET":
        listed = [passkey_view(passkey) for passkey in services.passkeys.of_user(caller.user_id)]
        return Reply(200, {"passkeys": listed})
    if request.method == "DELETE":
        passkeys.remove(services, caller, request.path_parameters.get("id", ""), client)
        return Reply(200, {"message": "Passkey removed"})
    raise NotFound()


handler = http_endpoint(passkeys_endpoint)

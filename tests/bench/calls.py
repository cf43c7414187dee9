"""AWS calls per operation, recorded below every client (botocore's BaseClient._make_api_call),
against moto, with the real handlers, each beside the sequence tests/expected_calls.py expects (the
one the integration tests assert and the capacity model reads)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from tests import expected_calls
from tests.bench.world import PASSWORD, STAFF, World, login_tokens
from tests.fixtures import record_aws_calls

# The benchmark's operation names -> the expected sequence (the functions behind the authorizer
# without its read).
EXPECTED = {
    "authorizer, cold container": expected_calls.AUTHORIZER_COLD,
    "authorizer, warm": expected_calls.AUTHORIZER,
    "login, success": expected_calls.LOGIN,
    "login, wrong password": expected_calls.LOGIN_FAILURE,
    "login, unknown user": expected_calls.LOGIN_FAILURE,
    "refresh": expected_calls.REFRESH,
    "GET /auth/me (after the authorizer)": expected_calls.ME,
    "GET /.well-known/jwks.json, warm": expected_calls.JWKS_WARM,
    "logout (after the authorizer)": expected_calls.LOGOUT,
}


def _count(operation: Callable[[], object]) -> list[str]:
    with record_aws_calls() as calls:
        operation()
    return calls


def summary(calls: list[str]) -> str:
    if not calls:
        return "none"
    counted = Counter(calls)
    return ", ".join(f"{count} {name}" for name, count in counted.items())


def measure(world: World) -> dict[str, list[str]]:
    from shared.credentials import signing
    from tests.flows import authorize, login, logout, me, refresh

    services = world.services
    tokens = login_tokens()
    found: dict[str, list[str]] = {}
    signing.forget_keys()  # a fresh container: keys not loaded yet
    found["authorizer, cold container"] = _count(lambda: authorize(tokens["access_token"]))
    found["authorizer, warm"] = _count(lambda: authorize(tokens["access_token"], "GET", "/cars"))
    services.refresh_keys()  # warm again: forget_keys() dropped the derivation keys too
    found["login, success"] = _count(lambda: login(STAFF, PASSWORD, "staff"))
    found["login, wrong password"] = _count(lambda: login(STAFF, "not the password", "staff"))
    found["login, unknown user"] = _count(lambda: login("nobody@dealership.example", PASSWORD, "staff"))
    found["refresh"] = _count(lambda: refresh(tokens["refresh_token"]))
    authorized = login_tokens()
    found["GET /auth/me (after the authorizer)"] = _count(lambda: me(authorized["access_token"]))[1:]
    found["GET /.well-known/jwks.json, warm"] = _count(lambda: _jwks())
    found["logout (after the authorizer)"] = _count(lambda: logout(authorized["access_token"]))[1:]
    services.users.dynamodb.delete_item(
        TableName=services.users.table, Key={"pk": {"S": f"LOCK#staff#{STAFF}"}}
    )
    return found


def _jwks() -> dict[str, Any]:
    from functions.jwks.handler import handler
    from tests.events import LambdaContext, api_event

    result: dict[str, Any] = handler(api_event("GET", "/.well-known/jwks.json"), LambdaContext())
    return result

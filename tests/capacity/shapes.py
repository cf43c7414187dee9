"""The DynamoDB work each operation really does, measured: every operation runs once against moto
with the real handlers while a recorder below every client keeps each call's parameters and answer.
The call sequence must equal tests/expected_calls.py (the one the integration tests assert); the
request shapes give the units: every key read, every item written, and each item's size by
DynamoDB's rules (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html):
a strongly consistent read is one unit per 4 KB (an absent item still one), a write one unit per
1 KB, a transactional read or write two. A ConditionCheck in a transaction is counted as a
transactional write of its item (the repository's cost model counts it so; an upper bound)."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import botocore.client

from tests import expected_calls

KEY_CLASSES = ("token", "session", "user", "switch shard", "account", "source IP", "other")


@dataclass
class Work:
    """One operation's AWS work."""

    calls: list[str] = field(default_factory=list)
    read_units: dict[str, float] = field(default_factory=dict)  # by table role
    write_units: dict[str, float] = field(default_factory=dict)
    kms_sign: int = 0
    kms_get_public_key: int = 0
    secrets: int = 0
    keys: list[tuple[str, str, str, float]] = field(default_factory=list)  # (table, key class, r/w, units)


@contextlib.contextmanager
def recording() -> Iterator[list[tuple[str, dict[str, Any], dict[str, Any]]]]:
    calls: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    original = botocore.client.BaseClient._make_api_call

    def record(self: Any, operation: str, params: Any) -> Any:
        answer = original(self, operation, params)
        calls.append((f"{self.meta.service_model.service_name}.{operation}", params, answer))
        return answer

    botocore.client.BaseClient._make_api_call = record  # type: ignore[method-assign]
    try:
        yield calls
    finally:
        botocore.client.BaseClient._make_api_call = original  # type: ignore[method-assign]


def _value_size(value: dict[str, Any]) -> int:
    ((kind, inner),) = value.items()
    if kind == "S":
        return len(inner.encode("utf-8"))
    if kind == "N":
        return math.ceil(len(inner.lstrip("-").replace(".", "")) / 2) + 1
    if kind == "B":
        return len(inner)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind in ("SS", "NS", "BS"):
        return sum(_value_size({kind[0]: element}) for element in inner)
    if kind == "L":
        return 3 + sum(1 + _value_size(element) for element in inner)
    if kind == "M":
        return 3 + sum(len(name.encode()) + 1 + _value_size(element) for name, element in inner.items())
    raise ValueError(kind)


def item_size(item: dict[str, Any]) -> int:
    """Bytes, by DynamoDB's rules: attribute names plus values (numbers about a byte per two digits)."""
    return sum(len(name.encode("utf-8")) + _value_size(value) for name, value in item.items())


def key_class(pk: str) -> str:
    prefix = pk.split("#", 1)[0]
    if pk.startswith("NBF#*#"):
        return "switch shard"
    return {
        "JTI": "token",
        "SID": "session",
        "SESSION": "session",
        "RT": "session",
        "PWLOCK": "session",
        "NBF": "user",
        "USER": "user",
        "LOCK": "account",
        "IPFAIL": "source IP",
    }.get(prefix, "other")


def measure_work(
    run: Callable[[], object],
    tables: dict[str, str],
    fetch: Callable[[str, dict[str, Any]], dict[str, Any]],
    skip: int = 0,
) -> Work:
    """`tables` maps table names to roles; `fetch(table, key)` reads an item as stored after the run;
    the first `skip` calls are not counted (the authorizer's read in front of a protected call)."""
    with recording() as recorded:
        run()
    calls = recorded[skip:]
    work = Work()

    def add(table: str, pk: str, units: float, mode: str) -> None:
        role = tables.get(table, table)
        bucket = work.read_units if mode == "r" else work.write_units
        bucket[role] = bucket.get(role, 0) + units
        work.keys.append((role, key_class(pk), mode, units))

    for name, params, answer in calls:
        work.calls.append(name)
        if name == "kms.Sign":
            work.kms_sign += 1
        elif name == "kms.GetPublicKey":
            work.kms_get_public_key += 1
        elif name.startswith("secretsmanager."):
            work.secrets += 1
        elif name == "dynamodb.BatchGetItem":
            for table, request in params["RequestItems"].items():
                found = {item["pk"]["S"]: item for item in answer.get("Responses", {}).get(table, [])}
                strong = bool(request.get("ConsistentRead"))
                for key in request["Keys"]:
                    pk = key["pk"]["S"]
                    units = max(1, math.ceil(item_size(found.get(pk, {})) / 4096)) * (1 if strong else 0.5)
                    add(table, pk, units, "r")
        elif name == "dynamodb.GetItem":
            size = item_size(answer.get("Item", {}))
            strong = bool(params.get("ConsistentRead"))
            add(
                params["TableName"],
                params["Key"]["pk"]["S"],
                max(1, math.ceil(size / 4096)) * (1 if strong else 0.5),
                "r",
            )
        elif name in ("dynamodb.UpdateItem", "dynamodb.PutItem", "dynamodb.DeleteItem"):
            item = params.get("Item") or fetch(params["TableName"], params["Key"])
            key = params.get("Key") or {"pk": item["pk"]}
            add(params["TableName"], key["pk"]["S"], max(1, math.ceil(item_size(item) / 1024)), "w")
        elif name == "dynamodb.TransactWriteItems":
            for entry in params["TransactItems"]:
                ((_, action),) = entry.items()
                key = action.get("Key") or {"pk": action["Item"]["pk"]}
                item = action.get("Item") or fetch(action["TableName"], key) or key
                add(action["TableName"], key["pk"]["S"], 2 * max(1, math.ceil(item_size(item) / 1024)), "w")
        elif name.startswith("dynamodb."):
            raise ValueError(f"the model does not know how to count {name}")
    return work


OPERATIONS = ("authorizer", "login", "login failure", "refresh", "logout")


def measure() -> dict[str, Work]:
    """Each operation on a warm container, against a fresh moto account (tests/bench/world.py)."""
    from tests.bench.world import PASSWORD, STAFF, login_tokens, moto_world, prepare_environment

    prepare_environment()  # before any handler import: they read their settings at import
    from shared.credentials import signing
    from tests.flows import authorize, login, logout, refresh

    found: dict[str, Work] = {}
    with moto_world() as world:
        services = world.services
        settings = services.settings
        tables = {
            settings.users_table: "users",
            settings.sessions_table: "sessions",
            settings.denylist_table: "denylist",
        }

        def fetch(table: str, key: dict[str, Any]) -> dict[str, Any]:
            item: dict[str, Any] = services.users.dynamodb.get_item(TableName=table, Key=key).get("Item", {})
            return item

        tokens = login_tokens()
        services.refresh_keys()  # a warm container: keys and the derivation keys loaded
        signing.key_set(settings)
        authorize(tokens["access_token"])
        found["authorizer"] = measure_work(
            lambda: authorize(tokens["access_token"], "GET", "/cars"), tables, fetch
        )
        found["login"] = measure_work(lambda: login(STAFF, PASSWORD, "staff"), tables, fetch)
        found["login failure"] = measure_work(
            lambda: login(STAFF, "not the password", "staff"), tables, fetch
        )
        found["refresh"] = measure_work(lambda: refresh(tokens["refresh_token"]), tables, fetch)
        other = login_tokens()
        authorize(other["access_token"])
        # the logout function alone: the authorizer's read in front of it is the "authorizer" line
        found["logout"] = measure_work(lambda: logout(other["access_token"]), tables, fetch, skip=1)
    expected = {
        "authorizer": expected_calls.AUTHORIZER,
        "login": expected_calls.LOGIN,
        "login failure": expected_calls.LOGIN_FAILURE,
        "refresh": expected_calls.REFRESH,
        "logout": expected_calls.LOGOUT,
    }
    for operation, work in found.items():
        if tuple(work.calls) != expected[operation]:
            raise RuntimeError(
                f"{operation} made {work.calls}, tests/expected_calls.py says {list(expected[operation])}: "
                "the model would not describe this code"
            )
    return found

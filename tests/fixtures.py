"""Fixtures: the service provisioned in a moto account (tests/world.py: once per test process, its
tables emptied before each test) and two users seeded."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import botocore.client
import pytest

from local.provision import create_user
from shared.core.clock import Clock
from shared.runtime import services as services_module
from shared.runtime.services import Services, get_services
from shared.store.user_items import User
from tests import speed
from tests.flows import SEEDED_PASSWORD
from tests.world import mocked_aws, world_for

PASSWORD = SEEDED_PASSWORD


@dataclass(frozen=True)
class Accounts:
    admin: User
    staff: User
    password: str = PASSWORD


def _install(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    services_module.reset()


@pytest.fixture(autouse=True)
def _hashing(request: pytest.FixtureRequest) -> Iterator[None]:
    """The cheap argon2id parameters (tests/speed.py), or the production ones for tests marked
    `production_hashing`."""
    if request.node.get_closest_marker("production_hashing") is None:
        yield
        return
    speed.use_hasher(speed.PRODUCTION_HASHER)
    try:
        yield
    finally:
        speed.use_hasher(speed.CHEAP_HASHER)


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    algorithm = getattr(request, "param", "RS256")
    with mocked_aws():
        services_module.reset()
        env = world_for(algorithm)
        _install(monkeypatch, env)
        yield env
    services_module.reset()


@pytest.fixture
def services(aws_env: dict[str, str]) -> Services:
    return get_services()


@pytest.fixture
def accounts(services: Services) -> Accounts:
    admin = create_user(
        services.users,
        "admin@dealership.example",
        PASSWORD,
        name="Avery Admin",
        role="admin",
        user_type="admin",
    )
    staff = create_user(
        services.users,
        "staff@dealership.example",
        PASSWORD,
        name="Sam Staff",
        role="sales",
        user_type="staff",
    )
    return Accounts(admin=admin, staff=staff)


@pytest.fixture
def serialised_moto() -> Iterator[None]:
    """moto's in-process backend is not thread-safe (a cancelled transaction restores a copy of
    the whole table): concurrent tests serialise every AWS call, as the local API does."""
    lock = threading.Lock()

    def locked(client: Any, operation: str, params: Any, call: Callable[[], Any]) -> Any:
        with lock:
            return call()

    with around_aws_calls(locked):
        yield


@pytest.fixture
def aws_calls() -> Iterator[list[str]]:
    """Every AWS API call made while the test runs, as 'service.Operation'."""
    with record_aws_calls() as calls:
        yield calls


Around = Callable[[Any, str, Any, Callable[[], Any]], Any]


@contextlib.contextmanager
def around_aws_calls(around: Around) -> Iterator[None]:
    """Every AWS API call made inside the block, below every client and above moto, goes through
    `around(client, operation, params, call)`; `call()` makes the call."""
    original = botocore.client.BaseClient._make_api_call

    def patched(self: Any, operation: str, params: Any) -> Any:
        return around(self, operation, params, lambda: original(self, operation, params))

    botocore.client.BaseClient._make_api_call = patched  # type: ignore[method-assign]
    try:
        yield
    finally:
        botocore.client.BaseClient._make_api_call = original  # type: ignore[method-assign]


@contextlib.contextmanager
def cut_before_call(number: int, interrupt: Callable[[], None]) -> Iterator[list[str]]:
    """Run `interrupt` (unobserved) just before the operation's AWS call number `number` (0-based;
    past the last call: never, the caller runs it after); yields the calls the operation made."""
    calls: list[str] = []
    interrupting = []

    def observed(client: Any, operation: str, params: Any, call: Callable[[], Any]) -> Any:
        if interrupting:  # the interruption's own calls
            return call()
        if len(calls) == number:
            interrupting.append(True)
            try:
                interrupt()
            finally:
                interrupting.clear()
        calls.append(f"{client.meta.service_model.service_name}.{operation}")
        return call()

    with around_aws_calls(observed):
        yield calls


@contextlib.contextmanager
def record_aws_calls() -> Iterator[list[str]]:
    """Every AWS API call made inside the block, as 'service.Operation'."""
    calls: list[str] = []

    def recording(client: Any, operation: str, params: Any, call: Callable[[], Any]) -> Any:
        calls.append(f"{client.meta.service_model.service_name}.{operation}")
        return call()

    with around_aws_calls(recording):
        yield calls


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Fail (and record) any attempt to open a network connection."""
    import socket

    attempts: list[object] = []

    def refuse(self: socket.socket, address: object) -> None:
        attempts.append(address)
        raise OSError("network access attempted in a test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    return attempts


class FakeClock(Clock):
    """The service's clock, moved forward without sleeping (it still ticks with real time)."""

    def __init__(self) -> None:
        self.offset_ms = 0

    def now_ms(self) -> int:
        return super().now_ms() + self.offset_ms

    def advance(self, seconds: float) -> None:
        self.offset_ms += int(seconds * 1000)


@pytest.fixture
def clock(services: Services, monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """One fake clock for everything the test runs (Services carries the clock)."""
    fake = FakeClock()
    monkeypatch.setattr(services, "clock", fake)
    return fake


def audit_events(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    """The audit records among the log records captured so far."""
    return [record.audit for record in caplog.records if hasattr(record, "audit")]


class Faults:
    """Make chosen AWS operations fail at the HTTP layer, below botocore's retry loop (every
    attempt counts), while every other call reaches moto.

    `fail("dynamodb.TransactWriteItems", "ThrottlingException", times=3)` answers the next three
    attempts with that AWS error; an exception (ReadTimeoutError, ...) is raised as the network
    would raise it.
    """

    def __init__(self) -> None:
        self.pending: dict[str, list[tuple[str | Exception, int, dict[str, Any]]]] = {}

    def fail(
        self,
        operation: str,
        error: str | Exception,
        times: int = 1,
        status: int = 400,
        **fields: Any,
    ) -> None:
        for _ in range(times):
            self.pending.setdefault(operation, []).append((error, status, fields))

    def answer(self, operation: str) -> Any:
        import json

        from botocore.awsrequest import AWSResponse

        queue = self.pending.get(operation)
        if not queue:
            return None
        error, status, fields = queue.pop(0)
        if isinstance(error, Exception):
            raise error
        body = json.dumps({"__type": error, "message": "injected fault", **fields}).encode()
        return AWSResponse("https://injected", status, {"x-amzn-RequestId": "injected"}, _RawBody(body))


class _RawBody:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.body


@pytest.fixture
def faults(aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Faults:
    """Consulted before moto's own before-send handler, so a failed write is never applied."""
    from moto.core.botocore_stubber import BotocoreStubber

    injected = Faults()
    moto_answer = BotocoreStubber.__call__

    def answer(self: Any, event_name: str, request: Any, **kwargs: Any) -> Any:
        _, service_id, operation = event_name.split(".")
        response = injected.answer(f"{service_id.replace('-', '')}.{operation}")
        return response if response is not None else moto_answer(self, event_name, request, **kwargs)

    monkeypatch.setattr(BotocoreStubber, "__call__", answer)
    return injected


def step_up_declaration(max_age: int = 900) -> dict[str, Any]:
    """The service's route declaration with a step-up on DELETE /cars/{id} and on every route that
    requires the admin role: a second factor within `max_age` seconds."""
    import json
    from pathlib import Path

    from shared.config.settings import DEFAULT_ROUTES_FILE

    declaration: dict[str, Any] = json.loads(Path(DEFAULT_ROUTES_FILE).read_text(encoding="utf-8"))
    for route in declaration["routes"]:
        needs_admin = "admin" in route.get("allow", {}).get("roles", [])
        if needs_admin or (route["method"], route["path"]) == ("DELETE", "/cars/{id}"):
            route["step_up"] = {"max_age": max_age}
    return declaration


@pytest.fixture
def step_up_routes(aws_env: dict[str, str], tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """The functions read the step-up declaration (ROUTES_FILE); its path."""
    import json

    routes_file = tmp_path / "routes-step-up.json"
    routes_file.write_text(json.dumps(step_up_declaration()), encoding="utf-8")
    monkeypatch.setenv("ROUTES_FILE", str(routes_file))
    services_module.reset()
    return str(routes_file)

"""One moto account per test process, provisioned once per signing algorithm and reset cheaply.

Provisioning costs about half a second (a dozen AWS calls, RSA key generation in moto); emptying the
tables costs a few milliseconds. Each test runs inside its own `mock_aws()` started without a reset,
so the account's resources outlive it; a test that starts a mock of its own with nothing else active
resets the whole account, and the next test finds its world gone and provisions it again.

Before each test the world is checked: tables emptied, mail forgotten, what earlier tests created
themselves dropped, and anything a test may change outside the tables (a secret's versions, a key's
state) compared with what was provisioned; a world that differs is provisioned again rather than
repaired (tests/integration/test_world.py).
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from moto import mock_aws
from moto.core.base_backend import BackendDict
from moto.dynamodb.models import dynamodb_backends
from moto.kms.models import kms_backends
from moto.secretsmanager.models import secretsmanager_backends
from moto.ses.models import ses_backends

from local.constants import ACCOUNT_ID, REGION
from local.provision import provision
from shared.store.tables import CARS, TABLES

ISSUER = "https://auth.test.example"
AUDIENCE = "jwt-auth-tests"
ALLOWED_ORIGINS = "https://app.example.com"

_TABLE_SETTINGS = tuple(table.setting for table in (*TABLES, CARS))
_SECRET_SETTINGS = ("REFRESH_KEY_SECRET_ARN", "HS256_SECRET_ARN")
_KEY_SETTINGS = ("SIGNING_KEY_IDS", "FACTOR_KEY_ID")
WORLD_SERVICES = {"dynamodb", "kms", "secretsmanager", "ses", "sesv2", "sts"}
_generation = itertools.count(1)


@dataclass
class World:
    env: dict[str, str]
    fingerprint: tuple[Any, ...]


_worlds: dict[str, World] = {}


def _tables(env: dict[str, str]) -> list[Any]:
    backend = dynamodb_backends[ACCOUNT_ID][REGION]
    return [backend.tables.get(env[setting]) for setting in _TABLE_SETTINGS if setting in env]


def _fingerprint(env: dict[str, str]) -> tuple[Any, ...]:
    """What a test may change outside the tables; None where a resource is gone."""
    secrets = secretsmanager_backends[ACCOUNT_ID][REGION].secrets
    keys = kms_backends[ACCOUNT_ID][REGION].keys
    found: list[Any] = [tuple(table is not None for table in _tables(env))]
    for setting in _SECRET_SETTINGS:
        secret = secrets.get(env[setting]) if setting in env else None
        found.append(None if secret is None else (secret.default_version_id, len(secret.versions)))
    for setting in _KEY_SETTINGS:
        for key_id in env.get(setting, "").split(","):
            key = keys.get(key_id) if key_id else None
            found.append(None if key is None else (key.key_state, key.enabled))
    return tuple(found)


def _provision(algorithm: str) -> World:
    env = provision(
        prefix=f"jwt-auth-test-{next(_generation)}",
        algorithm=algorithm,
        issuer=ISSUER,
        audience=AUDIENCE,
        allowed_origins=ALLOWED_ORIGINS,
    )
    return World(env, _fingerprint(env))


def _empty(world: World) -> None:
    for table in _tables(world.env):
        table.items.clear()
    ses_backends[ACCOUNT_ID][REGION].sent_messages.clear()


def _forget_what_tests_created() -> None:
    """What a test created itself goes, as a fresh account would not have it: every service but the
    world's is reset, and the world's services keep only the world's tables and secrets."""
    for backend in list(BackendDict._instances):  # the services used so far
        if backend.service_name not in WORLD_SERVICES:
            for account in backend.values():
                account.reset()
    ours = {
        world.env[setting]
        for world in _worlds.values()
        for setting in _TABLE_SETTINGS
        if setting in world.env
    }
    for region, backend in dynamodb_backends[ACCOUNT_ID].items():
        for name in [name for name in backend.tables if region != REGION or name not in ours]:
            del backend.tables[name]
    kept = {
        world.env[setting]
        for world in _worlds.values()
        for setting in _SECRET_SETTINGS
        if setting in world.env
    }
    secrets = secretsmanager_backends[ACCOUNT_ID][REGION].secrets
    for name, secret in list(dict.items(secrets)):
        if secret.arn not in kept:
            dict.pop(secrets, name)


def world_for(algorithm: str) -> dict[str, str]:
    """The provisioned world of `algorithm`, empty; call inside an active mock."""
    _forget_what_tests_created()
    world = _worlds.get(algorithm)
    if world is None or _fingerprint(world.env) != world.fingerprint:
        world = _worlds[algorithm] = _provision(algorithm)
    _empty(world)
    return dict(world.env)


@contextlib.contextmanager
def mocked_aws() -> Iterator[None]:
    """`mock_aws()` that keeps the account's resources when it starts and when it stops."""
    mock = mock_aws()
    mock.start(reset=False)
    try:
        yield
    finally:
        mock.stop(remove_data=False)

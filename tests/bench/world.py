"""The benchmark's world: fake credentials, an in-process moto account provisioned as the tests do
(tables, RSA-2048 KMS key, secrets), two users, and real-shaped events for the real handlers."""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

PASSWORD = "bench orbit caravan 42"
STAFF = "staff@dealership.example"
ADMIN = "admin@dealership.example"

# What every process of the benchmark (and its cold-start children) runs with: no real AWS, ever.
BASE_ENVIRONMENT = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_EC2_METADATA_DISABLED": "true",
    "POWERTOOLS_SERVICE_NAME": "jwt-auth",
    "POWERTOOLS_METRICS_NAMESPACE": "JwtAuthBench",
    "POWERTOOLS_LOG_LEVEL": "INFO",  # as deployed (infra/lambdas.py)
    # Placeholders so handler modules import; replaced by the provisioned values below.
    "USERS_TABLE": "placeholder-users",
    "SESSIONS_TABLE": "placeholder-sessions",
    "DENYLIST_TABLE": "placeholder-denylist",
    "ISSUER": "https://auth.bench.example",
    "AUDIENCE": "jwt-auth-bench",
    "SIGNING_KEY_IDS": "placeholder",
    "REFRESH_KEY_SECRET_ARN": "placeholder",
    # Failures are reset between timed logins anyway; this keeps a slow run from tripping 429.
    "LOCKOUT_THRESHOLD": "100",
    "LOCKOUT_ACCOUNT_THRESHOLD": "1000",  # must not be below LOCKOUT_THRESHOLD
    "CARS_TABLE": "placeholder-cars",
}


def prepare_environment() -> None:
    """Before any handler import (each handler reads its settings at import, as in Lambda)."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ENDPOINT_URL"):
        os.environ.pop(name, None)
    os.environ.update(BASE_ENVIRONMENT)
    warnings.filterwarnings("ignore", message="No application metrics to publish")


@dataclass
class World:
    env: dict[str, str]
    services: Any  # shared.runtime.services.Services


@contextlib.contextmanager
def moto_world() -> Iterator[World]:
    """A fresh moto account with the service provisioned and the demo users seeded."""
    from moto import mock_aws

    from local.provision import create_user, provision
    from shared.runtime import services as services_module

    with mock_aws():
        services_module.reset()
        env = provision(issuer=BASE_ENVIRONMENT["ISSUER"], audience=BASE_ENVIRONMENT["AUDIENCE"])
        os.environ.update(env)
        services_module.reset()
        services = services_module.get_services()
        create_user(services.users, STAFF, PASSWORD, name="Sam Staff", role="sales", user_type="staff")
        create_user(services.users, ADMIN, PASSWORD, name="Avery Admin", role="admin", user_type="admin")
        try:
            yield World(env=env, services=services)
        finally:
            services_module.reset()


def login_tokens(email: str = STAFF, user_type: str = "staff") -> dict[str, Any]:
    from tests.events import body_of
    from tests.flows import login

    response = login(email, PASSWORD, user_type)
    if response["statusCode"] != 200:
        raise RuntimeError(f"benchmark login failed: {response}")
    tokens: dict[str, Any] = body_of(response)
    return tokens

"""boto3 clients, created once per container and reused.

A call gives up after at most 3 attempts of 1 s connect + 1 s read plus backoff (under 10 s),
half of the functions' 20 s timeout; retries use botocore's standard mode (exponential backoff
with full jitter). AWS_ENDPOINT_URL, which botocore honours itself, points the clients at the
local moto server when running locally.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_kms import KMSClient
    from mypy_boto3_secretsmanager import SecretsManagerClient

CLIENT_CONFIG = Config(
    connect_timeout=1,
    read_timeout=1,
    retries={"total_max_attempts": 3, "mode": "standard"},
    tcp_keepalive=True,
)


@functools.cache
def _client(service: str) -> Any:
    return boto3.session.Session().client(service, config=CLIENT_CONFIG)  # type: ignore[call-overload]


def dynamodb() -> DynamoDBClient:
    client: DynamoDBClient = _client("dynamodb")
    return client


def kms() -> KMSClient:
    client: KMSClient = _client("kms")
    return client


def secrets_manager() -> SecretsManagerClient:
    client: SecretsManagerClient = _client("secretsmanager")
    return client


def reset_clients() -> None:
    """Forget cached clients (tests that switch endpoints or mocks call this)."""
    _client.cache_clear()

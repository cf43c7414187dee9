"""boto3 clients, created once per container and reused.

A call gives up after at most 3 attempts of 1 s connect + 1 s read plus backoff (under 10 s),
half of the functions' 20 s timeout; retries use botocore's standard mode (exponential backoff
with full jitter). AWS_ENDPOINT_URL, which botocore honours itself, points the clients at the
local moto server when running locally.
"""

from __future__ import annotations

import functools
from typing import Any

import boto3
from botocore.config import Config

CLIENT_CONFIG = Config(
    connect_timeout=1,
    read_timeout=1,
    retries={"total_max_attempts": 3, "mode": "standard"},
    tcp_keepalive=True,
)


@functools.cache
def client(service: str) -> Any:
    return boto3.session.Session().client(service, config=CLIENT_CONFIG)  # type: ignore[call-overload]


def reset_clients() -> None:
    """Forget cached clients (tests that switch endpoints or mocks call this)."""
    client.cache_clear()

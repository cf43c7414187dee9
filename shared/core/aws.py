"""AWS clients (botocore), created once per container and reused.

botocore alone, not boto3: boto3's import pulls in s3transfer and its resource layer, which none of
the functions use (about 40% of the authorizer's cold start, measured by `make bench`); a boto3
client is this same botocore client.

botocore's data loader is told which services exist (SERVICES) instead of listing all of its data
directories to check that one does (about 450 directories, twice, at the first client: 15-40 ms of
every cold start, measured by `make bench`).

A call gives up after at most 3 attempts of 1 s connect + 1 s read plus backoff (under 10 s),
half of the functions' 20 s timeout; retries use botocore's standard mode (exponential backoff
with full jitter). AWS_ENDPOINT_URL, which botocore honours itself, points the clients at the
local moto server when running locally.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any

import botocore.loaders
import botocore.session
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

SERVICES = ("dynamodb", "kms", "secretsmanager", "sesv2")  # every client the functions create


class _KnownServicesLoader(botocore.loaders.Loader):
    """botocore's loader, with the list of services given instead of found by scanning its data
    (the list only guards against unknown names; every model is still read from botocore's data)."""

    def list_available_services(self, type_name: str) -> list[str]:
        return list(SERVICES)


def _new_session() -> botocore.session.Session:
    session = botocore.session.get_session()
    data_path = session.get_config_variable("data_path")  # AWS_DATA_PATH, honoured as botocore does
    paths = (data_path or "").split(os.pathsep)
    extra = [os.path.expanduser(os.path.expandvars(path)) for path in paths if path]
    session.register_component("data_loader", _KnownServicesLoader(extra_search_paths=extra))
    return session


# One botocore session per container (it caches the service models and endpoint data it loads, so
# the second and third clients cost less); sessions are not thread-safe, clients are: creation is
# serialised.
_lock = threading.Lock()
_session: botocore.session.Session | None = None
_clients: dict[str, Any] = {}


def client(service: str) -> Any:
    """The container's client for `service`, created on first use."""
    found = _clients.get(service)
    if found is not None:
        return found
    global _session
    with _lock:
        if service not in _clients:
            if _session is None:
                _session = _new_session()
            _clients[service] = _session.create_client(service, config=CLIENT_CONFIG)
        return _clients[service]


def dynamodb() -> DynamoDBClient:
    found: DynamoDBClient = client("dynamodb")
    return found


def kms() -> KMSClient:
    found: KMSClient = client("kms")
    return found


def secrets_manager() -> SecretsManagerClient:
    found: SecretsManagerClient = client("secretsmanager")
    return found


def drop_connections() -> None:
    """Close every client's pooled connections (kept: the clients). After a SnapStart restore the
    sockets opened before the snapshot are dead; the next call opens fresh ones."""
    for found in list(_clients.values()):
        found._endpoint.http_session.close()


def reset_clients() -> None:
    """Forget cached clients and the session (tests that switch endpoints or mocks call this)."""
    global _session
    with _lock:
        _clients.clear()
        _session = None

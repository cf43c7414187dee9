"""Where a running local API (`make run`) tells the operator CLI how to reach its store: one file
per port, so two local APIs never mix up (LOCAL_CONNECTION_FILE overrides, for tests)."""

from __future__ import annotations

import os
from pathlib import Path

CONNECTIONS = Path(__file__).resolve().parents[2] / ".local-data"


def connection_file(port: int) -> Path:
    return Path(os.environ.get("LOCAL_CONNECTION_FILE") or CONNECTIONS / f"local-api-{port}.json")


def running_ports() -> list[int]:
    """The ports of the local APIs that published a connection file."""
    if os.environ.get("LOCAL_CONNECTION_FILE"):
        return []
    return sorted(int(path.stem.rsplit("-", 1)[1]) for path in CONNECTIONS.glob("local-api-*.json"))

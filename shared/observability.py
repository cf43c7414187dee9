"""Logger, metrics and the audit trail, created once per container.

Audit events are one structured log line each, with one fixed schema. Tokens, passwords, hashes
and keys never reach a log line: callers pass identifiers only.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

SERVICE = "jwt-auth"
NAMESPACE = "JwtAuth"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)

AUDIT_FIELDS = (
    "event",
    "outcome",
    "user_id",
    "session_id",
    "source_ip",
    "user_agent",
    "request_id",
    "reason",
    "time",
)


@dataclass(frozen=True)
class Client:
    """Where a request comes from (for sessions and the audit trail)."""

    source_ip: str = ""
    user_agent: str = ""
    request_id: str = ""


OPERATOR = Client(source_ip="operator", user_agent="user-admin-cli")


def audit(
    event: str,
    outcome: str,
    client: Client,
    *,
    user_id: str = "",
    session_id: str = "",
    reason: str = "",
) -> dict[str, Any]:
    """Write one security event and count it as a metric named after the event and outcome."""
    record = {
        "event": event,
        "outcome": outcome,
        "user_id": user_id,
        "session_id": session_id,
        "source_ip": client.source_ip,
        "user_agent": client.user_agent[:256],
        "request_id": client.request_id,
        "reason": reason,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    logger.info("security_event", extra={"audit": record})
    metrics.add_metric(name=_metric_name(event, outcome), unit=MetricUnit.Count, value=1)
    return record


def _metric_name(event: str, outcome: str) -> str:
    words = f"{event}_{outcome}".replace("-", "_").split("_")
    return "".join(word.capitalize() for word in words if word)

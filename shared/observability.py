"""Logger, metrics and the audit trail, created once per container.

Audit events are one structured log line each, with one fixed schema. Tokens, passwords, hashes
and keys never reach a log line: callers pass identifiers only.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

SERVICE = "jwt-auth"
NAMESPACE = "JwtAuth"

logger = Logger(service=SERVICE)

# At DEBUG, botocore logs whole request parameters and response bodies: Secrets Manager values (the
# signing secret, the refresh-derivation key) and password hashes. A root logger set to DEBUG (Lambda's
# log-level control, a debugging session) must not turn that on, so the AWS SDK loggers stay at INFO.
for _name in ("botocore", "boto3", "urllib3", "s3transfer"):
    logging.getLogger(_name).setLevel(logging.INFO)
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


def audit(
    event: str,
    outcome: str,
    *,
    user_id: str = "",
    session_id: str = "",
    source_ip: str = "",
    user_agent: str = "",
    request_id: str = "",
    reason: str = "",
) -> dict[str, Any]:
    """Write one security event and count it as a metric named after the event."""
    record = {
        "event": event,
        "outcome": outcome,
        "user_id": user_id,
        "session_id": session_id,
        "source_ip": source_ip,
        "user_agent": user_agent[:256],
        "request_id": request_id,
        "reason": reason,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    logger.info("security_event", extra={"audit": record})
    metrics.add_metric(name=_metric_name(event, outcome), unit=MetricUnit.Count, value=1)
    return record


def _metric_name(event: str, outcome: str) -> str:
    words = f"{event}_{outcome}".replace("-", "_").split("_")
    return "".join(word.capitalize() for word in words if word)

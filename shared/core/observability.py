"""Logger, metrics and the audit trail, created once per container.

Audit events are one structured log line each, with one fixed schema. Tokens, passwords, hashes
and keys never reach a log line: callers pass identifiers only.
"""

from __future__ import annotations

import functools
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

SERVICE = "jwt-auth"  # Powertools' service (the stack writes it into POWERTOOLS_SERVICE_NAME too)
NAMESPACE = "JwtAuth"  # the metrics' CloudWatch namespace; each deployed stage has its own under it


def metrics_namespace(stage: str) -> str:
    """The stage's own CloudWatch namespace: two stages in one account and region never share a
    custom metric, so a dev test cannot move a prod alarm (infra/ writes and reads it)."""
    return f"{NAMESPACE}/{stage}"


logger = Logger(service=SERVICE)

# At DEBUG, botocore logs whole request parameters and response bodies: Secrets Manager values (the
# signing secret, the refresh-derivation key) and password hashes. A root logger set to DEBUG (Lambda's
# log-level control, a debugging session) must not turn that on, so the AWS SDK loggers stay at INFO.
for _name in ("botocore", "boto3", "urllib3", "s3transfer"):
    logging.getLogger(_name).setLevel(logging.INFO)
# The stack writes each stage's namespace (JwtAuth/<stage>) into POWERTOOLS_METRICS_NAMESPACE, so a
# dev and a prod stack in one account never mix their metrics; an explicit namespace here would win.
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or NAMESPACE, service=SERVICE)

_cold_start = True
Handler = Callable[[dict[str, Any], Any], Any]


def log_invocation(handler: Handler) -> Handler:
    """What `logger.inject_lambda_context(correlation_id_path=API_GATEWAY_REST, clear_state=True)`
    does, at a fraction of its cost on the hot path (it builds a new formatter and runs a JMESPath
    query on every call: about 70 us per authorizer call, measured by `make bench`).

    Every invocation starts from the logger's default keys (nothing an earlier invocation appended
    survives), then adds the same keys as Powertools: cold_start, the Lambda context's function_*
    keys and the API Gateway request id as correlation_id.
    """

    @functools.wraps(handler)
    def wrapper(event: dict[str, Any], context: Any) -> Any:
        global _cold_start
        cold = _cold_start and os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") != "provisioned-concurrency"
        _cold_start = False
        formatter = logger.registered_formatter
        formatter.clear_state()
        request_context = event.get("requestContext") if isinstance(event, dict) else None
        formatter.append_keys(
            cold_start=cold,
            function_name=context.function_name,
            function_memory_size=context.memory_limit_in_mb,
            function_arn=context.invoked_function_arn,
            function_request_id=context.aws_request_id,
            correlation_id=request_context.get("requestId") if isinstance(request_context, dict) else None,
        )
        if logger.sampling_rate and not cold:
            logger.refresh_sample_rate_calculation()
        return handler(event, context)

    return wrapper


class Event(StrEnum):
    """Every audit event: the names metric filters and alarms match (infra/monitoring.py reads
    these), so none is written as free text."""

    LOGIN = "login"
    LOGIN_LOCKOUT = "login_lockout"
    LOGIN_CEILING = "login_ceiling"  # an account's failures reached the account-wide ceiling
    LOGIN_STEP_UP = "login_step_up"  # past that ceiling, a new address was asked for an emailed code
    MFA_LOCKOUT = "mfa_lockout"  # consecutive wrong codes closed code login
    LOGIN_NEW_DEVICE = "login_new_device"
    CREDENTIAL_STUFFING = "credential_stuffing"
    REFRESH = "refresh"
    REFRESH_REUSE = "refresh_reuse"
    AUTHORIZER_DENY = "authorizer_deny"
    MFA_CHALLENGE = "mfa_challenge"  # the password was right; a second factor is asked next
    MFA_ENROL = "mfa_enrol"
    MFA_RECOVERY_CODE_USED = "mfa_recovery_code_used"
    MFA_REMOVED = "mfa_removed"
    SESSION_REVOKED = "session_revoked"
    LOGOUT = "logout"
    LOGOUT_ALL = "logout_all"
    PASSWORD_CHANGE = "password_change"  # a refused attempt
    PASSWORD_CHANGED = "password_changed"
    PASSWORD_RESET_REQUESTED = "password_reset_requested"
    PASSWORD_RESET = "password_reset"
    RESET_LINK = "reset_link"  # a refused reset link
    INVITATION_SENT = "invitation_sent"
    INVITATION_REVOKED = "invitation_revoked"
    INVITATION_ACCEPTED = "invitation_accepted"
    INVITATION_LINK = "invitation_link"  # a refused invitation link
    UNLOCK_LINK = "unlock_link"  # a refused code-unlock link
    MFA_UNLOCKED = "mfa_unlocked"  # code login reopened by the emailed link
    USER_CREATED = "user_created"
    USER_ENABLED = "user_enabled"
    USER_DISABLED = "user_disabled"
    USER_DELETED = "user_deleted"
    USER_UNLOCKED = "user_unlocked"
    ROLE_CHANGED = "role_changed"
    GLOBAL_REVOCATION = "global_revocation"
    PASSKEY_REGISTER = "passkey_register"
    PASSKEY_REMOVED = "passkey_removed"
    PASSKEY_CLONED = "passkey_cloned"  # a sign counter went backwards: refused, and it alarms


# The log message of a failed dependency (the endpoint writes it, a metric filter counts it).
DEPENDENCY_UNAVAILABLE = "dependency unavailable"


@dataclass(frozen=True)
class Client:
    """Where a request comes from (for sessions and the audit trail)."""

    source_ip: str = ""
    user_agent: str = ""
    request_id: str = ""


OPERATOR = Client(source_ip="operator", user_agent="user-admin-cli")


def audit(
    event: Event,
    outcome: str,
    client: Client,
    *,
    user_id: str = "",
    session_id: str = "",
    reason: str = "",
    detail: str = "",
) -> dict[str, Any]:
    """Write one security event and count it as a metric named after the event and outcome.
    `reason` is a code (shared.core.errors.Reason where one applies): filters and alarms match it
    exactly; `detail` is free text for people."""
    record = {
        "event": str(event),
        "outcome": outcome,
        "user_id": user_id,
        "session_id": session_id,
        "source_ip": client.source_ip,
        "user_agent": client.user_agent[:256],
        "request_id": client.request_id,
        "reason": str(reason),
        "detail": detail[:256],
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    logger.info("security_event", extra={"audit": record})
    metrics.add_metric(name=_metric_name(event, outcome), unit=MetricUnit.Count, value=1)
    return record


def _metric_name(event: Event, outcome: str) -> str:
    words = f"{event}_{outcome}".replace("-", "_").split("_")
    return "".join(word.capitalize() for word in words if word)

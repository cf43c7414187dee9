"""API Gateway REQUEST authorizer. Fails closed: anything but a verified, unrevoked token is
`Unauthorized` (401); a route the caller's type and role may not use is left out of the policy
(403 from the gateway)."""

from typing import Any

from shared.authorizer import authorization_header, authorize
from shared.errors import DomainError, InvalidAccessToken, Reason
from shared.observability import Client, audit, log_invocation, logger, metrics
from shared.services import get_services
from shared.settings import get_settings

get_settings()


@log_invocation
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request_context = event.get("requestContext") or {}
    try:
        authorization = authorization_header(event)
        _claims, policy = authorize(get_services(), authorization, str(event.get("methodArn", "")))
    except InvalidAccessToken as error:
        _deny(error.reason, error.detail, request_context)
        raise Exception("Unauthorized") from None
    except DomainError as error:  # a dependency or the configuration failed
        _deny(Reason.UNDECIDABLE, f"{error.reason.value}: {error.detail}", request_context)
        raise Exception("Unauthorized") from None
    except Exception as error:  # fail closed on anything unforeseen, too
        logger.exception("authorizer error")
        _deny(Reason.UNDECIDABLE, type(error).__name__, request_context)
        raise Exception("Unauthorized") from None
    return policy


def _deny(reason: Reason, detail: str, request_context: dict[str, Any]) -> None:
    identity = request_context.get("identity") or {}
    client = Client(
        source_ip=str(identity.get("sourceIp") or ""),
        user_agent=str(identity.get("userAgent") or ""),
        request_id=str(request_context.get("requestId") or ""),
    )
    audit("authorizer_deny", "denied", client, reason=reason, detail=detail)
    # Only a deny records a metric: flushing here keeps the allow path free of metrics work.
    metrics.flush_metrics()

"""API Gateway REQUEST authorizer. Fails closed: anything but a verified, unrevoked token is
`Unauthorized` (401); a route the caller's type and role may not use is left out of the policy
(403 from the gateway).

With SnapStart (`AWS_LAMBDA_INITIALIZATION_TYPE` is `snap-start`) the runtime's hooks prime the
snapshot with what the first request would otherwise do (`prime`) and refresh what a restore makes
stale (`after_restore`)."""

import contextlib
import dataclasses
import json
import os
import random
from typing import Any

from shared.authorizer.decision import authorization_header, authorize, check_not_revoked
from shared.config.settings import get_settings
from shared.core import aws
from shared.core.errors import DomainError, InvalidAccessToken, Reason
from shared.core.observability import Client, Event, audit, log_invocation, logger, metrics
from shared.credentials.access_tokens import (
    TOKEN_TYPE,
    AccessClaims,
    access_token_payload,
    verify_access_token,
)
from shared.credentials.signing import b64url
from shared.runtime.services import get_services

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
    audit(Event.AUTHORIZER_DENY, "denied", client, reason=reason, detail=detail)
    # Only a deny records a metric: flushing here keeps the allow path free of metrics work.
    metrics.flush_metrics()


# Claims no real token carries, for priming: the revocation read of their keys finds nothing.
_PRIMING_CLAIMS = AccessClaims(
    sub="priming", jti="priming", sid="priming", email="-", name="-", role="-", user_type="-", iat=0, exp=0
)


def prime() -> None:
    """Before the snapshot: create the clients, load the key set (KMS GetPublicKey), load the route
    table, run one verification down to its signature check (a token that fails there: nothing here
    can mint a real one) and one revocation read of keys no token carries, so a restored
    environment's first request pays none of it. Nothing random, secret or time-dependent is kept:
    only clients, public keys and code paths. A failure leaves the work to the first request."""
    try:
        services = get_services()
        settings, keys = services.settings, services.keys
        services.routes  # noqa: B018 - loaded and cached
        primed = dataclasses.replace(_PRIMING_CLAIMS, client_id=settings.client_id)
        claims = access_token_payload(primed, settings)
        for kid, key in keys.keys.items():
            header = {"alg": key.algorithm, "typ": TOKEN_TYPE, "kid": kid}
            token = f"{_segment(header)}.{_segment(claims)}.{b64url(bytes(64))}"
            with contextlib.suppress(InvalidAccessToken):
                verify_access_token(token, settings, keys, 0.0)
        with contextlib.suppress(InvalidAccessToken):
            check_not_revoked(services, _PRIMING_CLAIMS)
    except Exception as error:  # the snapshot must not fail over priming
        logger.warning("SnapStart priming failed, left to the first request", extra={"error": repr(error)})


def _segment(value: dict[str, Any]) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def after_restore() -> None:
    """After a restore: the sockets pooled before the snapshot are dead (closed, reopened by the
    next call); `random` (the store's retry jitter) would replay one sequence in every restored
    environment (reseeded from the OS). Clients, keys and routes stay valid; credentials come from
    the runtime's refreshable provider; the clock is read per request."""
    aws.drop_connections()
    random.seed()


if os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") == "snap-start":  # pragma: no cover - Lambda only
    from snapshot_restore_py import register_after_restore, register_before_snapshot

    register_before_snapshot(prime)
    register_after_restore(after_restore)

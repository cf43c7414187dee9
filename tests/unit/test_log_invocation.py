"""`log_invocation` (the handlers' per-invocation logging set-up) gives every log line exactly the
keys Powertools' inject_lambda_context(correlation_id_path=API_GATEWAY_REST, clear_state=True) gave,
and nothing an earlier invocation appended survives into the next one."""

from __future__ import annotations

from typing import Any

import pytest
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.logging import logger as powertools_logger_module

from shared.core import observability
from shared.core.observability import log_invocation, logger
from tests.events import LambdaContext, api_event, authorizer_event


def keys_seen_by(
    decorate: Any, event: dict[str, Any], cold: bool, appended: dict[str, str]
) -> list[tuple[str, Any]]:
    """The logger's keys, in order, as a log line inside the decorated handler would carry them."""
    seen: list[tuple[str, Any]] = []

    def handler(event: dict[str, Any], context: Any) -> None:
        seen.extend(logger.get_current_keys().items())
        logger.append_keys(**appended)  # a key some code appended during this invocation

    observability._cold_start = cold
    powertools_logger_module.is_cold_start = cold
    decorate(handler)(event, LambdaContext(function_name="jwt-auth-authorizer"))
    return seen


def powertools(handler: Any) -> Any:
    return logger.inject_lambda_context(
        correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True
    )(handler)


@pytest.mark.parametrize("cold", [True, False])
@pytest.mark.parametrize(
    "event",
    [authorizer_event("Bearer x.y.z"), api_event("POST", "/auth/login", body={"email": "a@b.c"})],
    ids=["authorizer", "proxy"],
)
def test_log_lines_carry_the_keys_powertools_gave_them(event: dict[str, Any], cold: bool) -> None:
    # Given the same event, context and cold-start state
    # When one invocation runs under each decorator
    ours = keys_seen_by(log_invocation, event, cold, {})
    theirs = keys_seen_by(powertools, event, cold, {})
    # Then a log line would carry the same keys, values and order
    assert ours == theirs
    assert dict(ours)["correlation_id"] == event["requestContext"]["requestId"]
    assert dict(ours)["cold_start"] is cold


def test_nothing_appended_in_one_invocation_survives_into_the_next() -> None:
    # Given an invocation during which some code appended a key
    keys_seen_by(log_invocation, authorizer_event("Bearer a.b.c"), False, {"user_id": "user-1"})
    # When the next invocation starts
    second = dict(keys_seen_by(log_invocation, authorizer_event("Bearer d.e.f"), False, {}))
    # Then the key is gone and the correlation id is the new request's
    assert "user_id" not in second
    assert second["correlation_id"] != ""


def test_an_event_without_a_request_context_has_no_correlation_id() -> None:
    seen = dict(keys_seen_by(log_invocation, {"headers": {}}, False, {}))
    assert seen["correlation_id"] is None

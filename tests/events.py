"""Real-shaped API Gateway (REST, Lambda proxy) events and a Lambda context for handler tests: the
events come from the builder the local API uses (local/events.py)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from local import events as gateway_events

ACCOUNT = "123456789012"
API_ID = "a1b2c3d4e5"
STAGE = "test"
REGION = "us-east-1"
TEST_API = gateway_events.ApiStage(REGION, ACCOUNT, API_ID, STAGE)


@dataclass
class LambdaContext:
    function_name: str = "test-function"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:test-function"
    aws_request_id: str = "11111111-2222-3333-4444-555555555555"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 5000


def method_arn(method: str, path: str) -> str:
    return TEST_API.method_arn(method, path)


def api_event(
    method: str,
    path: str,
    *,
    body: Any = None,
    raw_body: str | None = None,
    headers: dict[str, str] | None = None,
    authorizer: dict[str, Any] | None = None,
    path_parameters: dict[str, str] | None = None,
    source_ip: str = "203.0.113.10",
    user_agent: str = "pytest-browser/1.0",
) -> dict[str, Any]:
    all_headers = {"Content-Type": "application/json", "User-Agent": user_agent, **(headers or {})}
    if raw_body is None and body is not None:
        raw_body = json.dumps(body)
    base = gateway_events.request_event(
        TEST_API,
        method,
        path,
        resource=path,
        headers=all_headers.items(),
        source_ip=source_ip,
        request_id=str(uuid.uuid4()),
        path_parameters=path_parameters,
    )
    return gateway_events.proxy_event(base, raw_body, authorizer=authorizer)


def authorizer_event(
    authorization: str | None, method: str = "GET", path: str = "/auth/me"
) -> dict[str, Any]:
    headers = {"User-Agent": "pytest-browser/1.0"}
    if authorization is not None:
        headers["Authorization"] = authorization
    base = gateway_events.request_event(
        TEST_API,
        method,
        path,
        resource=path,
        headers=headers.items(),
        source_ip="203.0.113.10",
        request_id=str(uuid.uuid4()),
    )
    return gateway_events.authorizer_event(base, method_arn(method, path))


def body_of(response: dict[str, Any]) -> Any:
    return json.loads(response["body"]) if response.get("body") else None

"""Real-shaped API Gateway (REST, Lambda proxy) events and a Lambda context for handler tests."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

ACCOUNT = "123456789012"
API_ID = "a1b2c3d4e5"
STAGE = "test"
REGION = "us-east-1"


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
    return f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{API_ID}/{STAGE}/{method}{path}"


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
    request_id = str(uuid.uuid4())
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {name: [value] for name, value in all_headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": path_parameters,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": path,
            "httpMethod": method,
            "path": f"/{STAGE}{path}",
            "accountId": ACCOUNT,
            "apiId": API_ID,
            "stage": STAGE,
            "requestId": request_id,
            "extendedRequestId": request_id,
            "protocol": "HTTP/1.1",
            "identity": {"sourceIp": source_ip, "userAgent": user_agent},
            "authorizer": authorizer,
        },
        "body": raw_body,
        "isBase64Encoded": False,
    }


def authorizer_event(
    authorization: str | None, method: str = "GET", path: str = "/auth/me"
) -> dict[str, Any]:
    headers = {"Authorization": authorization} if authorization is not None else {}
    request_id = str(uuid.uuid4())
    return {
        "type": "REQUEST",
        "methodArn": method_arn(method, path),
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": {},
        "pathParameters": {},
        "stageVariables": {},
        "requestContext": {
            "path": f"/{STAGE}{path}",
            "accountId": ACCOUNT,
            "resourcePath": path,
            "stage": STAGE,
            "requestId": request_id,
            "identity": {"sourceIp": "203.0.113.10", "userAgent": "pytest-browser/1.0"},
            "httpMethod": method,
            "apiId": API_ID,
        },
    }


def body_of(response: dict[str, Any]) -> Any:
    return json.loads(response["body"]) if response.get("body") else None

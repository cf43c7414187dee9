"""API Gateway REST API events, as the Lambda proxy integration and a REQUEST authorizer deliver them.

One builder for the local API (local/gateway.py), which plays API Gateway in front of the real
functions, and for the tests, which call the handlers directly: both hand the functions the same shape.
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl


@dataclass(frozen=True)
class ApiStage:
    """The stage of an API the events come from, which every methodArn names."""

    region: str
    account: str
    api_id: str
    stage: str

    def method_arn(self, method: str, path: str) -> str:
        return f"arn:aws:execute-api:{self.region}:{self.account}:{self.api_id}/{self.stage}/{method}{path}"


def request_event(
    api: ApiStage,
    method: str,
    path: str,
    *,
    resource: str,
    headers: Iterable[tuple[str, str]],
    source_ip: str,
    request_id: str,
    query: str = "",
    path_parameters: Mapping[str, str] | None = None,
    domain: str = "",
) -> dict[str, Any]:
    """The parts the authorizer's REQUEST event and the proxy event share. `headers` come in the order
    sent: `headers` keeps the last value of a name, `multiValueHeaders` every one."""
    single: dict[str, str] = {}
    multi_headers: dict[str, list[str]] = {}
    user_agent = ""
    for name, value in headers:
        single[name] = value
        multi_headers.setdefault(name, []).append(value)
        if name.lower() == "user-agent":
            user_agent = value
    query_pairs = parse_qsl(query, keep_blank_values=True)
    multi_query: dict[str, list[str]] = {}
    for name, value in query_pairs:
        multi_query.setdefault(name, []).append(value)
    now = time.time()
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": single,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": dict(query_pairs) or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": dict(path_parameters) if path_parameters else None,
        "stageVariables": None,
        "requestContext": {
            "resourceId": uuid.uuid5(uuid.NAMESPACE_URL, resource).hex[:6],
            "resourcePath": resource,
            "httpMethod": method,
            "extendedRequestId": request_id,
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "path": path,
            "accountId": api.account,
            "protocol": "HTTP/1.1",
            "stage": api.stage,
            "domainPrefix": api.api_id,
            "requestTimeEpoch": int(now * 1000),
            "requestId": request_id,
            "identity": {
                "cognitoIdentityPoolId": None,
                "accountId": None,
                "cognitoIdentityId": None,
                "caller": None,
                "sourceIp": source_ip,
                "principalOrgId": None,
                "accessKey": None,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
                "userArn": None,
                "userAgent": user_agent or None,
                "user": None,
            },
            "domainName": domain or f"{api.api_id}.execute-api.{api.region}.amazonaws.com",
            "apiId": api.api_id,
        },
    }


def authorizer_event(base: dict[str, Any], method_arn: str) -> dict[str, Any]:
    return {"type": "REQUEST", "methodArn": method_arn, **base}


def proxy_event(
    base: dict[str, Any],
    body: str | None,
    *,
    is_base64: bool = False,
    authorizer: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    context = dict(base["requestContext"])
    if authorizer is not None:
        context["authorizer"] = dict(authorizer)
    return {**base, "requestContext": context, "body": body, "isBase64Encoded": is_base64}


def encoded_body(raw: bytes) -> tuple[str | None, bool]:
    """A request body as the proxy event carries it: text, base64 when it is not UTF-8, None if empty."""
    if not raw:
        return None, False
    try:
        return raw.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(raw).decode("ascii"), True

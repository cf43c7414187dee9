"""Helpers for the proofs over HTTP: a dedicated local API, its moto tables, raw sockets, tokens.

Everything talks to 127.0.0.1 only. The local API's embedded moto server is reached with boto3
(fake credentials) to state exactly which refresh tokens and sessions exist after a scenario.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config

from tests.e2e.local_api import LocalApi, Reply, call, start_local_api

PREFIX = "jwt-auth-local"
USERS = {
    "admin": ("admin@dealership.example", "admin"),
    "staff": ("staff@dealership.example", "staff"),
}
BROWSER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


@dataclass
class Tables:
    """The local API's DynamoDB tables, read straight from its embedded moto server."""

    endpoint: str

    def __post_init__(self) -> None:
        self.dynamodb = boto3.client(
            "dynamodb",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
            config=Config(retries={"total_max_attempts": 1}),
        )

    def scan(self, logical: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        arguments: dict[str, Any] = {"TableName": f"{PREFIX}-{logical}", "ConsistentRead": True}
        while True:
            page = self.dynamodb.scan(**arguments)
            items.extend(page["Items"])
            if "LastEvaluatedKey" not in page:
                return items
            arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def get(self, logical: str, pk: str) -> dict[str, Any] | None:
        item: dict[str, Any] | None = self.dynamodb.get_item(
            TableName=f"{PREFIX}-{logical}", Key={"pk": {"S": pk}}, ConsistentRead=True
        ).get("Item")
        return item

    def refresh_row(self, token: str) -> dict[str, str]:
        item = self.get("sessions", f"RT#{token_hash(token)}")
        assert item is not None, "no row for this refresh token"
        return {name: next(iter(value.values())) for name, value in item.items()}

    def session_row(self, sid: str) -> dict[str, str]:
        item = self.get("sessions", f"SESSION#{sid}")
        assert item is not None, f"no session {sid}"
        return {name: next(iter(value.values())) for name, value in item.items()}

    def refresh_rows_of(self, sid: str) -> list[dict[str, str]]:
        rows = []
        for item in self.scan("sessions"):
            if item["pk"]["S"].startswith("RT#") and item["sid"]["S"] == sid:
                rows.append({name: next(iter(value.values())) for name, value in item.items()})
        return rows


def moto_endpoint(api: LocalApi) -> str:
    for line in api.output:
        found = re.search(r"AWS \(moto\)\s+(http://127\.0\.0\.1:\d+)", line)
        if found:
            return found.group(1)
    raise AssertionError("the local API did not print its moto endpoint")


@contextmanager
def dedicated_local_api(**env: str) -> Iterator[tuple[LocalApi, Tables]]:
    api = start_local_api(**env)
    try:
        yield api, Tables(moto_endpoint(api))
    finally:
        api.stop()


def login(api: LocalApi, who: str = "staff", user_agent: str = BROWSER_AGENT) -> dict[str, Any]:
    email, user_type = USERS[who]
    reply = call(
        "POST",
        f"{api.base_url}/auth/login",
        body={"email": email, "password": api.password, "userType": user_type},
        headers={"User-Agent": user_agent},
    )
    assert reply.status == 200, reply.body
    result: dict[str, Any] = reply.json()
    return result


def refresh(api: LocalApi, refresh_token: str) -> Reply:
    return call("POST", f"{api.base_url}/auth/refresh", body={"refresh_token": refresh_token})


def me_status(api: LocalApi, access_token: str) -> int:
    return call("GET", f"{api.base_url}/auth/me", token=access_token).status


def audit_lines(api: LocalApi, event: str, session_id: str) -> list[dict[str, Any]]:
    """The handler's audit records (JSON log lines on the local API's stdout) for one session."""
    found = []
    for line in list(api.output):
        if not line.startswith("{"):
            continue
        try:
            record = json.loads(line)
        except ValueError:
            continue
        audit = record.get("audit") or {}
        if audit.get("event") == event and audit.get("session_id") == session_id:
            found.append(audit)
    return found


def raw_request(
    port: int, method: str, path: str, body: dict[str, Any] | None, headers: dict[str, str] | None = None
) -> bytes:
    payload = json.dumps(body).encode() if body is not None else b""
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if body is not None:
        lines += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


def send_and_drop(port: int, request: bytes) -> None:
    """Send a whole request, then close the socket before any byte of the answer is read: the server
    does all its work and its response is lost, as when a mobile network drops mid-request."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(request)
        sock.shutdown(socket.SHUT_WR)  # the whole request is delivered, then the client is gone


def http_post(
    port: int, path: str, body: dict[str, Any] | None, headers: dict[str, str]
) -> tuple[int, dict[str, str], bytes]:
    """One request on its own connection (a separate browser tab)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        payload = json.dumps(body).encode() if body is not None else None
        all_headers = dict(headers)
        if payload is not None:
            all_headers["Content-Type"] = "application/json"
        connection.request("POST", path, body=payload, headers=all_headers)
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()

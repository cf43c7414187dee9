"""Local API throughput: an authorized GET /auth/me (REQUEST authorizer, then the function) with 16
concurrent keep-alive clients, against the same server answering GET /.well-known/jwks.json (no
authorizer). Loopback only, bounded: the two routes alternate in short phases of fixed length."""

from __future__ import annotations

import http.client
import json
import threading
import time
from dataclasses import dataclass

CLIENTS = 16
PHASE_SECONDS = 3.0
PHASES = 2  # per route, alternating, so drift hits both alike
AUTHORIZED = "/auth/me"
PUBLIC = "/.well-known/jwks.json"


@dataclass(frozen=True)
class ThroughputResult:
    authorized_rps: float
    public_rps: float
    errors: int


def _phase(port: int, path: str, token: str | None, seconds: float) -> tuple[int, int]:
    done = [0] * CLIENTS
    failed = [0] * CLIENTS
    stop = time.monotonic() + seconds
    headers = {"Authorization": f"Bearer {token}"} if token else {}

    def client(index: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            while time.monotonic() < stop:
                try:
                    connection.request("GET", path, headers=headers)
                    response = connection.getresponse()
                    response.read()
                except (OSError, http.client.HTTPException):
                    failed[index] += 1
                    connection.close()
                    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                    continue
                if response.status == 200:
                    done[index] += 1
                else:
                    failed[index] += 1
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(index,)) for index in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done), sum(failed)


def _login(port: int, password: str) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    body = json.dumps({"email": "staff@dealership.example", "password": password, "userType": "staff"})
    connection.request("POST", "/auth/login", body=body, headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    payload = json.loads(response.read())
    connection.close()
    if response.status != 200:
        raise RuntimeError(f"benchmark login against the local API failed: {response.status} {payload}")
    token: str = payload["access_token"]
    return token


def measure() -> ThroughputResult:
    from tests.e2e.local_api import start_local_api

    api = start_local_api(POWERTOOLS_LOG_LEVEL="WARNING")
    try:
        token = _login(api.port, api.password)
        _phase(api.port, AUTHORIZED, token, 0.5)  # warm both paths
        _phase(api.port, PUBLIC, None, 0.5)
        counts = {AUTHORIZED: 0, PUBLIC: 0}
        errors = 0
        for _ in range(PHASES):
            for path, bearer in ((PUBLIC, None), (AUTHORIZED, token)):
                served, failed = _phase(api.port, path, bearer, PHASE_SECONDS)
                counts[path] += served
                errors += failed
        api.output.clear()
    finally:
        api.stop()
    seconds = PHASES * PHASE_SECONDS
    return ThroughputResult(counts[AUTHORIZED] / seconds, counts[PUBLIC] / seconds, errors)

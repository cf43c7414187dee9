"""Start `python -m local` on free loopback ports and talk to it over real HTTP (loopback only)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any
from urllib.error import HTTPError

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "e2e demo password"
STARTUP_SECONDS = 30


@dataclass
class LocalApi:
    process: subprocess.Popen[str]
    port: int = 0  # the ports the local API bound (it is started with 0: any free port), from its banner
    frontend_port: int = 0
    password: str = PASSWORD
    output: list[str] = field(default_factory=list)
    ready: threading.Event = field(default_factory=threading.Event)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def frontend_url(self) -> str:
        return f"http://127.0.0.1:{self.frontend_port}"

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line.rstrip("\n"))
            for label, name in (("Local API", "port"), ("Demo page", "frontend_port")):
                found = re.match(rf"\s+{label}\s+http://127\.0\.0\.1:(\d+)", line)
                if found and not getattr(self, name):
                    setattr(self, name, int(found.group(1)))
            if "Ctrl-C stops" in line:
                self.ready.set()

    def log_line(self, request_id: str, timeout: float = 3.0) -> str:
        """The local API's one log line for a request (written just after its response)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.output):
                if f"id={request_id}" in line:
                    return line
            time.sleep(0.02)
        raise AssertionError(f"no log line for request {request_id}")

    def stop(self, sig: int = signal.SIGINT, timeout: float = 10) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=timeout)
        return self.process.returncode


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def start_local_api(*, inherit_ignored_sigint: bool = False, **extra_env: str) -> LocalApi:
    """`inherit_ignored_sigint`: start it with SIGINT ignored, as a shell's background job or a
    test worker leaves it to its children."""
    env = {
        **os.environ,
        "PORT": "0",
        "FRONTEND_PORT": "0",
        "DEMO_PASSWORD": PASSWORD,
        "POWERTOOLS_LOG_LEVEL": "DEBUG",  # so the test of what handlers log sees everything
        "PYTHONUNBUFFERED": "1",
        **extra_env,
    }
    env.pop("AWS_ENDPOINT_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "local"],
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=_ignore_sigint if inherit_ignored_sigint else None,
    )
    api = LocalApi(process)
    threading.Thread(target=api._read, daemon=True).start()
    deadline = time.monotonic() + STARTUP_SECONDS
    while not api.ready.wait(0.1):
        if process.poll() is not None or time.monotonic() > deadline:
            api.stop()
            raise RuntimeError("the local API did not start:\n" + "\n".join(api.output))
    return api


# -- a small HTTP client that never uses a proxy -----------------------------------------------

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass
class Reply:
    status: int
    headers: Message
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def header(self, name: str) -> str:
        return self.headers.get(name) or ""

    @property
    def request_id(self) -> str:
        return self.header("x-amzn-RequestId")


def call(
    method: str,
    url: str,
    *,
    body: Any = None,
    token: str | None = None,
    headers: dict[str, str] | None = None,
    data: bytes | None = None,
) -> Reply:
    all_headers = dict(headers or {})
    if body is not None:
        data = json.dumps(body).encode()
        all_headers.setdefault("Content-Type", "application/json")
    if token is not None:
        all_headers["Authorization"] = f"Bearer {token}"
    if not url.startswith("http://127.0.0.1:"):
        raise ValueError(f"e2e tests talk to loopback only, not {url}")
    request = urllib.request.Request(url, data=data, method=method, headers=all_headers)  # noqa: S310 - loopback http only, checked above
    try:
        with _OPENER.open(request, timeout=10) as response:
            return Reply(response.status, response.headers, response.read())
    except HTTPError as error:
        with error:
            return Reply(error.code, error.headers, error.read())

"""The smoke-test command against a small stand-in API on 127.0.0.1 that follows the contract."""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from functions.smoke_hook import smoke

EMAIL, PASSWORD = "admin@dealership.example", "correct horse battery staple"


class StandIn(BaseHTTPRequestHandler):
    revokes = True  # a broken server that forgets logouts sets this False
    access: set[str] = set()
    refresh: set[str] = set()

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length)) if length else {}

    def _grant(self) -> dict[str, str]:
        access, refresh = secrets.token_hex(8), secrets.token_hex(8)
        self.access.add(access)
        self.refresh.add(refresh)
        return {"access_token": access, "refresh_token": refresh, "token_type": "Bearer"}

    def _caller(self) -> str:
        token = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
        return token if token in self.access else ""

    def do_GET(self) -> None:
        if self.path == "/.well-known/jwks.json":
            self._send(200, {"keys": [{"kty": "RSA"}]})
        elif self.path == "/auth/me":
            if self._caller():
                self._send(200, {"email": EMAIL, "role": "admin", "type": "admin"})
            else:
                self._send(401, {"message": "Unauthorized"})
        else:
            self._send(404, {"message": "Not found"})

    def do_POST(self) -> None:
        body = self._body()
        if self.path == "/auth/login":
            ok = body == {"email": EMAIL, "password": PASSWORD, "userType": "admin"}
            self._send(200, self._grant()) if ok else self._send(401, {"message": "Invalid credentials"})
        elif self.path == "/auth/refresh":
            token = body.get("refresh_token")
            if token in self.refresh:
                self.refresh.discard(token)
                self._send(200, self._grant())
            else:
                self._send(401, {"message": "Invalid refresh token"})
        elif self.path == "/auth/logout":
            caller = self._caller()
            if not caller:
                self._send(401, {"message": "Unauthorized"})
                return
            if self.revokes:
                self.access.discard(caller)
                self.refresh.discard(body.get("refresh_token"))
            self._send(200, {"message": "Successfully logged out"})
        else:
            self._send(404, {"message": "Not found"})


@pytest.fixture
def server() -> Iterator[tuple[str, type[StandIn]]]:
    handler = type("Handler", (StandIn,), {"access": set(), "refresh": set(), "revokes": True})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", handler
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_smoke_walks_login_protected_call_refresh_and_logout_and_passes(
    server: tuple[str, type[StandIn]], capsys: pytest.CaptureFixture[str]
) -> None:
    base_url, _ = server
    assert smoke.main([base_url, "--email", EMAIL, "--password", PASSWORD, "--user-type", "admin"]) == 0
    out = capsys.readouterr().out
    for step in (
        "POST /auth/login",
        "GET /auth/me",
        "POST /auth/refresh",
        "POST /auth/logout",
        "refused (401)",
    ):
        assert step in out
    assert PASSWORD not in out


def test_smoke_fails_when_the_access_token_still_works_after_logout(
    server: tuple[str, type[StandIn]], capsys: pytest.CaptureFixture[str]
) -> None:
    base_url, handler = server
    handler.revokes = False
    assert smoke.main([base_url, "--email", EMAIL, "--password", PASSWORD]) == 1
    assert "after logout" in capsys.readouterr().err


def test_smoke_fails_on_wrong_credentials_and_reads_the_password_from_the_environment(
    server: tuple[str, type[StandIn]], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    base_url, _ = server
    monkeypatch.setenv("SMOKE_PASSWORD", "wrong")
    assert smoke.main([base_url, "--email", EMAIL]) == 1
    assert "login: expected HTTP 200, got 401" in capsys.readouterr().err


def test_smoke_refuses_to_send_credentials_over_plain_http_to_a_remote_host() -> None:
    with pytest.raises(smoke.SmokeFailure, match="https"):
        smoke.call("http://auth.example.com", "GET", "/.well-known/jwks.json")

"""The two HTTP servers: the API (API Gateway stand-in) and the demo frontend's static origin."""

from __future__ import annotations

import errno
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from local.gateway import MAX_PAYLOAD_BYTES, Gateway, HttpRequest, HttpResponse

FRONTEND_DIR = Path(__file__).with_name("frontend")


class PortInUse(RuntimeError):
    pass


class Server(ThreadingHTTPServer):
    daemon_threads = True  # a kept-alive browser connection never blocks Ctrl-C
    request_queue_size = 128  # listen backlog: http.server's 5 resets a burst of browser connections
    gateway: Gateway | None = None
    api_base: str = ""


def bind(port: int, handler: type[BaseHTTPRequestHandler], what: str) -> Server:
    try:
        return Server(("127.0.0.1", port), handler)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise PortInUse(
                f"127.0.0.1:{port} ({what}) is already in use: is `make run` already running? "
                f"Stop it, or pick other ports with PORT=... FRONTEND_PORT=..."
            ) from None
        raise


def log_line(
    kind: str, client: str, method: str, target: str, status: int, started: float, extra: str = ""
) -> None:
    path = target.partition("?")[0]  # never log query strings (they may carry secrets)
    elapsed = (time.perf_counter() - started) * 1000
    stamp = time.strftime("%H:%M:%S")
    print(f"{stamp} {kind} {client} {method} {path} {status} {elapsed:.0f}ms{extra}", flush=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "local-api"
    sys_version = ""
    server: Server

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced: each request gets one line from `log_line` instead."""

    def _send(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


class ApiHandler(_Handler):
    def _serve(self) -> None:
        started = time.perf_counter()
        gateway = self.server.gateway
        assert gateway is not None  # type narrowing: set before serving
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_PAYLOAD_BYTES:
            self.close_connection = True
            response = gateway.payload_too_large(self.headers.get("Origin") or "")
        else:
            request = HttpRequest(
                method=self.command,
                target=self.path,
                headers=list(self.headers.items()),
                body=self.rfile.read(length) if length else b"",
                source_ip=self.client_address[0],
            )
            response = gateway.handle(request)
        self._send(response.status, response.headers, response.body)
        self._log(response, started)

    def _log(self, response: HttpResponse, started: float) -> None:
        extra = f" authorizer={response.authorizer} function={response.function} id={response.request_id}"
        log_line("api", self.client_address[0], self.command, self.path, response.status, started, extra)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _serve

    def __getattr__(self, name: str) -> Any:
        """Any other method (TRACE, CONNECT, made-up ones) reaches the gateway too, which answers
        403 Missing Authentication Token as API Gateway does, instead of http.server's HTML 501."""
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)


STATIC_FILES = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/index.html": ("index.html", "text/html; charset=utf-8"),
    "/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/auth-client.js": ("../../clients/web/index.js", "text/javascript; charset=utf-8"),  # the web client
    "/style.css": ("style.css", "text/css; charset=utf-8"),
}


class FrontendHandler(_Handler):
    """Serves local/frontend/ as is (no build step), plus config.js naming the API's origin."""

    @property
    def api_base(self) -> str:
        """The API's origin as this page reaches it: on localhost when the page was opened there (the
        passkey demo: WebAuthn refuses an IP address), so the refresh cookie stays same-site."""
        base = self.server.api_base
        on_localhost = self.headers.get("Host", "").partition(":")[0].lower() == "localhost"
        return base.replace("127.0.0.1", "localhost") if on_localhost else base

    def _headers(self, content_type: str) -> list[tuple[str, str]]:
        csp = (
            "default-src 'none'; script-src 'self'; style-src 'self'; "
            f"connect-src 'self' {self.api_base}; img-src 'self' data:; base-uri 'none'; "
            "form-action 'none'; frame-ancestors 'none'"
        )
        return [
            ("Content-Type", content_type),
            ("Content-Security-Policy", csp),
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "no-referrer"),
            ("Cache-Control", "no-store"),
        ]

    def _serve(self) -> None:
        started = time.perf_counter()
        path = self.path.partition("?")[0]
        if self.command not in ("GET", "HEAD"):
            status, headers, body = 405, [("Allow", "GET, HEAD")], b""
        elif path == "/outbox.json":  # the mail sent through the local SES (local/outbox.py)
            from local.outbox import messages

            status, headers = 200, self._headers("application/json; charset=utf-8")
            body = json.dumps(messages()).encode()
        elif path == "/config.js":
            script = f"window.API_BASE = {self.api_base!r};\n".replace("'", '"')
            status, headers, body = 200, self._headers("text/javascript; charset=utf-8"), script.encode()
        elif path in STATIC_FILES:
            name, content_type = STATIC_FILES[path]
            status, headers, body = 200, self._headers(content_type), (FRONTEND_DIR / name).read_bytes()
        else:
            status, headers, body = 404, self._headers("text/plain; charset=utf-8"), b"not found\n"
        self._send(status, headers, body)
        log_line("web", self.client_address[0], self.command, self.path, status, started)

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = _serve


def warn(message: str) -> None:
    print(message, file=sys.stderr, flush=True)

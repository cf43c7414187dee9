"""Smoke test of a deployed stage (or the local API): login, a protected call, refresh, logout, and
the logged-out access token refused.

    python -m operations.smoke https://auth.example.com --email admin@example.com --user-type admin
    (password from --password or SMOKE_PASSWORD; email and user type also from SMOKE_EMAIL and
    SMOKE_USER_TYPE)

Exit status 0 when every step behaves, 1 otherwise. Standard library only; it never prints tokens.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

TIMEOUT_SECONDS = 15


class SmokeFailure(Exception):
    pass


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any


def call(base_url: str, method: str, path: str, *, token: str = "", body: Any = None) -> Reply:
    url = base_url.rstrip("/") + path
    if not url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
        raise SmokeFailure(f"refusing to send credentials to {url}: use https (http only for localhost)")
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - scheme checked above
    request.add_header("Accept", "application/json")
    request.add_header("User-Agent", "jwt-auth-smoke/1")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310  # scheme checked above
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    except (urllib.error.URLError, TimeoutError) as error:
        raise SmokeFailure(f"{method} {path}: cannot reach {url}: {error}") from None
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = raw.decode("utf-8", "replace")[:200]
    return Reply(status, parsed)


def expect(reply: Reply, status: int, step: str) -> Any:
    if reply.status != status:
        message = reply.body.get("message") if isinstance(reply.body, dict) else reply.body
        raise SmokeFailure(f"{step}: expected HTTP {status}, got {reply.status} ({message!r})")
    return reply.body


def field(body: Any, name: str, step: str) -> str:
    value = body.get(name) if isinstance(body, dict) else None
    if not isinstance(value, str) or not value:
        raise SmokeFailure(f"{step}: the response has no {name!r}")
    return value


def run(base_url: str, email: str, password: str, user_type: str, say: Any = print) -> None:
    jwks = expect(call(base_url, "GET", "/.well-known/jwks.json"), 200, "jwks")
    say(f"ok   GET /.well-known/jwks.json ({len(jwks.get('keys', []))} key(s))")

    body = {"email": email, "password": password, "userType": user_type}
    grant = expect(call(base_url, "POST", "/auth/login", body=body), 200, "login")
    access, refresh = field(grant, "access_token", "login"), field(grant, "refresh_token", "login")
    say("ok   POST /auth/login")

    me = expect(call(base_url, "GET", "/auth/me", token=access), 200, "protected call")
    if not isinstance(me, dict) or me.get("email", "").lower() != email.lower():
        raise SmokeFailure("protected call: /auth/me does not return the signed-in user")
    say(f"ok   GET /auth/me ({me.get('role')}, {me.get('type')})")

    rotated = expect(call(base_url, "POST", "/auth/refresh", body={"refresh_token": refresh}), 200, "refresh")
    new_access, new_refresh = (
        field(rotated, "access_token", "refresh"),
        field(rotated, "refresh_token", "refresh"),
    )
    if new_refresh == refresh:
        raise SmokeFailure("refresh: the refresh token was not rotated")
    expect(
        call(base_url, "GET", "/auth/me", token=new_access), 200, "protected call with the refreshed token"
    )
    say("ok   POST /auth/refresh (rotated) and GET /auth/me with the new access token")

    logout = {"refresh_token": new_refresh}
    expect(call(base_url, "POST", "/auth/logout", token=new_access, body=logout), 200, "logout")
    say("ok   POST /auth/logout")

    after = call(base_url, "GET", "/auth/me", token=new_access)
    if after.status != 401:
        raise SmokeFailure(
            f"after logout: the access token still gets HTTP {after.status} from /auth/me, expected 401 "
            "(an authorizer cache TTL above 0 delays revocation by up to that many seconds)"
        )
    say("ok   the logged-out access token is refused (401)")
    expect(call(base_url, "POST", "/auth/refresh", body=logout), 401, "refresh after logout")
    say("ok   the logged-out session's refresh token is refused (401)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m operations.smoke", description=__doc__.split("\n\n")[0])
    parser.add_argument("base_url", help="the API base URL (stack output ApiUrl, or http://127.0.0.1:3000)")
    parser.add_argument("--email", default=os.environ.get("SMOKE_EMAIL", "admin@dealership.example"))
    parser.add_argument("--password", default=os.environ.get("SMOKE_PASSWORD", ""))
    parser.add_argument(
        "--user-type", default=os.environ.get("SMOKE_USER_TYPE", "admin"), choices=("admin", "staff")
    )
    args = parser.parse_args(argv)
    if not args.password:
        parser.error("give --password or set SMOKE_PASSWORD")
    try:
        run(args.base_url, args.email, args.password, args.user_type)
    except SmokeFailure as failure:
        print(f"FAIL {failure}", file=sys.stderr)
        return 1
    print("smoke test passed")
    return 0

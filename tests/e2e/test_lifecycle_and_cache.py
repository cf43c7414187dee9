"""Starting and stopping the local API, and the authorizer result cache (a second instance)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from tests.e2e.conftest import login
from tests.e2e.local_api import REPO, LocalApi, call, start_local_api

CACHE_TTL = 4


@pytest.fixture(scope="module")
def cached_api() -> Iterator[LocalApi]:
    api = start_local_api(AUTHORIZER_CACHE_TTL=str(CACHE_TTL))
    yield api
    api.stop()


def test_with_a_cache_ttl_a_logged_out_token_works_until_the_cached_answer_expires(
    cached_api: LocalApi,
) -> None:
    token = login(cached_api, "admin")["access_token"]
    me = f"{cached_api.base_url}/auth/me"
    before_caching = time.monotonic()
    first = call("GET", me, token=token)
    assert "authorizer=allow" in cached_api.log_line(first.request_id)
    second = call("GET", me, token=token)
    assert "authorizer=cached-allow" in cached_api.log_line(second.request_id)

    assert call("POST", f"{cached_api.base_url}/auth/logout", token=token).status == 200
    still = call("GET", me, token=token)
    assert still.status == 200, "the cached Allow hides the revocation until the TTL runs out"
    assert "authorizer=cached-allow" in cached_api.log_line(still.request_id)

    status, deadline = still.status, before_caching + CACHE_TTL + 5
    while status == 200 and time.monotonic() < deadline:
        time.sleep(0.2)
        status = call("GET", me, token=token).status
    assert status == 401
    assert time.monotonic() - before_caching >= CACHE_TTL


def test_a_cached_answer_is_still_evaluated_against_each_routes_method_arn(cached_api: LocalApi) -> None:
    token = login(cached_api, "staff")["access_token"]
    assert call("GET", f"{cached_api.base_url}/cars", token=token).status == 200
    denied = call("DELETE", f"{cached_api.base_url}/cars/anything", token=token)
    assert denied.status == 403
    assert "authorizer=cached-deny" in cached_api.log_line(denied.request_id)


def test_without_a_cache_ttl_every_request_calls_the_authorizer(local_api: LocalApi) -> None:
    token = login(local_api, "staff")["access_token"]
    labels = [
        local_api.log_line(call("GET", f"{local_api.base_url}/auth/me", token=token).request_id) for _ in "ab"
    ]
    assert all("authorizer=allow" in line for line in labels)


def test_starting_a_second_instance_on_the_same_port_fails_with_a_clear_error(local_api: LocalApi) -> None:
    env = {**os.environ, "PORT": str(local_api.port), "FRONTEND_PORT": str(local_api.frontend_port)}
    result = subprocess.run(
        [sys.executable, "-m", "local"],
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1
    assert f"127.0.0.1:{local_api.port}" in result.stderr and "already in use" in result.stderr
    assert call("GET", f"{local_api.base_url}/.well-known/jwks.json").status == 200


@pytest.mark.parametrize(
    ("sig", "inherit_ignored_sigint"),
    [(signal.SIGINT, False), (signal.SIGTERM, False), (signal.SIGINT, True)],
    ids=["ctrl-c", "sigterm", "ctrl-c-in-a-background-job"],
)
def test_ctrl_c_stops_the_local_api_cleanly_and_frees_its_ports(
    sig: signal.Signals, inherit_ignored_sigint: bool
) -> None:
    api = start_local_api(inherit_ignored_sigint=inherit_ignored_sigint)
    assert call("GET", f"{api.base_url}/.well-known/jwks.json").status == 200
    started = time.monotonic()
    assert api.stop(sig) == 0
    assert time.monotonic() - started < 5
    assert api.output[-1] == "Stopped."
    assert not any("Traceback" in line for line in api.output)
    with pytest.raises(OSError):
        call("GET", f"{api.base_url}/.well-known/jwks.json")

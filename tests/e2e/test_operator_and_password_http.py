"""The user-admin CLI against a running local API's store (`--local`), and a password change over
HTTP, on a private instance so the shared one's users stay as they are."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import pytest

from operations.users import main as users_cli
from shared.core import aws
from tests.e2e.local_api import LocalApi, call, start_local_api


@pytest.fixture(scope="module")
def private_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalApi, Path]]:
    connection = tmp_path_factory.mktemp("local") / "local-api.json"
    api = start_local_api(LOCAL_CONNECTION_FILE=str(connection))
    yield api, connection
    api.stop()
    assert not connection.exists(), "the connection file goes away with the local API"


def _cli(
    connection: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *arguments: str
) -> object:
    monkeypatch.setenv("LOCAL_CONNECTION_FILE", str(connection))
    # `--local` points this process at the private API's moto through AWS_ENDPOINT_URL: recorded here
    # so it is removed afterwards, or every later test would talk to a stopped moto server.
    monkeypatch.setenv("AWS_ENDPOINT_URL", "")
    capsys.readouterr()
    with mock.patch.dict(os.environ):  # the CLI points this process at the local endpoint
        status = users_cli(["--local", "--yes", *arguments])
    aws.reset_clients()
    captured = capsys.readouterr()
    assert status == 0, captured.err
    return json.loads(captured.out)


def _login(api: LocalApi, email: str, password: str) -> tuple[int, dict[str, str]]:
    reply = call(
        "POST", f"{api.base_url}/auth/login", body={"email": email, "password": password, "userType": "staff"}
    )
    return reply.status, reply.json()


def test_an_operator_creates_and_disables_a_user_of_the_running_local_api(
    private_api: tuple[LocalApi, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    api, connection = private_api
    created = _cli(
        connection,
        monkeypatch,
        capsys,
        "create",
        "temp@dealership.example",
        "--type",
        "staff",
        "--name",
        "Temp Worker",
        "--role",
        "sales",
        "--generate-password",
    )
    password = created["password (shown once)"]  # type: ignore[index]
    status, tokens = _login(api, "temp@dealership.example", password)
    assert status == 200
    me = call("GET", f"{api.base_url}/auth/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.status == 200 and me.json()["name"] == "Temp Worker"
    _cli(connection, monkeypatch, capsys, "disable", "temp@dealership.example", "--type", "staff")
    me = call("GET", f"{api.base_url}/auth/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.status == 401
    assert _login(api, "temp@dealership.example", password)[0] == 401


def test_password_change_over_http_answers_with_a_fresh_session_and_retires_the_old_password(
    private_api: tuple[LocalApi, Path],
) -> None:
    api, _ = private_api
    status, tokens = _login(api, "staff@dealership.example", api.password)
    assert status == 200
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    new_password = "copper lighthouse 52 waves"
    reply = call(
        "POST",
        f"{api.base_url}/auth/password",
        headers=bearer,
        body={"current_password": api.password, "new_password": new_password},
    )
    assert reply.status == 200, reply.body
    assert call("GET", f"{api.base_url}/auth/me", headers=bearer).status == 401
    stale = call("POST", f"{api.base_url}/auth/refresh", body={"refresh_token": tokens["refresh_token"]})
    assert stale.status == 401
    fresh = reply.json()
    assert (
        call(
            "GET", f"{api.base_url}/auth/me", headers={"Authorization": f"Bearer {fresh['access_token']}"}
        ).status
        == 200
    )
    renewed = call("POST", f"{api.base_url}/auth/refresh", body={"refresh_token": fresh["refresh_token"]})
    assert renewed.status == 200
    assert _login(api, "staff@dealership.example", api.password)[0] == 401
    assert _login(api, "staff@dealership.example", new_password)[0] == 200

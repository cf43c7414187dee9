"""Secret hygiene (docs/hostile-inputs.md entry 31, the log part): a full flow through the real handlers,
with every log record and every byte written to stdout/stderr captured, contains no access token,
refresh token, password, password hash, signing secret or refresh-derivation key.

The root logger is at DEBUG, as Lambda's log-level control or a debugging session would set it,
and so is the service's own logger. The secrets are read back from moto (Secrets Manager values,
stored password hashes), not assumed. Refresh tokens are also searched for by their secret half
(the session id before the dot is a logged identifier by design), access tokens also by their
signature segment.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest

from local.provision import create_table
from shared.core.observability import logger
from shared.runtime import services as services_module
from shared.store.tables import CARS
from tests.events import body_of
from tests.fixtures import Accounts
from tests.flows import (
    authorize,
    change_password,
    is_authorized,
    login,
    login_ok,
    logout,
    logout_all,
    me,
    protected_call,
    refresh,
    sessions_list,
)

WRONG_PASSWORD = "wrong horse battery staple"
NEW_PASSWORD = "quiet lantern meadow 77"


class Everything(logging.Handler):
    """Every record, formatted and with all of its attributes (extras, exception text, args)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.texts.append(self.format(record))
        self.texts.append(json.dumps(record.__dict__, default=repr))


@dataclass
class Capture:
    records: Everything
    powertools: io.StringIO  # what the Powertools logger writes (CloudWatch's view)
    secrets: dict[str, str] = field(default_factory=dict)  # what -> value

    def add(self, what: str, value: str) -> None:
        assert value, what
        self.secrets[what] = value

    def add_access_token(self, what: str, token: str) -> None:
        self.add(what, token)
        self.add(f"{what} signature", token.rsplit(".", 1)[1])

    def add_refresh_token(self, what: str, token: str) -> None:
        self.add(what, token)
        self.add(f"{what} secret half", token.split(".", 1)[1])


@pytest.fixture
def capture(caplog: pytest.LogCaptureFixture) -> Iterator[Capture]:
    everything = Everything()
    powertools = io.StringIO()
    root, ours = logging.getLogger(), logging.getLogger(logger.name)
    saved = (root.level, ours.level, [(h, getattr(h, "stream", None)) for h in ours.handlers])
    root.addHandler(everything)
    root.setLevel(logging.DEBUG)
    ours.setLevel(logging.DEBUG)
    for handler in ours.handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(powertools)
    try:
        yield Capture(everything, powertools)
    finally:
        root.removeHandler(everything)
        root.setLevel(saved[0])
        ours.setLevel(saved[1])
        for handler, stream in saved[2]:
            if stream is not None:
                handler.setStream(stream)


def leaks(texts: list[str], secrets: dict[str, str]) -> list[str]:
    return sorted({what for what, value in secrets.items() for text in texts if value in text})


def _secrets_manager_values() -> list[str]:
    client = boto3.client("secretsmanager")
    arns = [secret["ARN"] for secret in client.list_secrets()["SecretList"]]
    return [client.get_secret_value(SecretId=arn)["SecretString"] for arn in arns]


def _password_hashes() -> list[str]:
    table = services_module.get_services().settings.users_table
    items = boto3.client("dynamodb").scan(TableName=table)["Items"]
    return [item["password_hash"]["S"] for item in items if "password_hash" in item]


def _with_cars_table(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("CARS_TABLE", create_table(boto3.client("dynamodb"), CARS, "hygiene-cars"))
    services_module.reset()
    from functions.cars.handler import handler

    return handler


@pytest.mark.parametrize("aws_env", ["RS256", "HS256"], indirect=True)
def test_31_a_full_flow_never_logs_a_token_password_hash_or_key(
    aws_env: dict[str, str],
    accounts: Accounts,
    capture: Capture,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cars = _with_cars_table(monkeypatch)
    email = accounts.staff.email
    for index, value in enumerate(_secrets_manager_values()):
        capture.add(f"Secrets Manager value {index} (signing secret or derivation key)", value)
        capture.add(f"Secrets Manager value {index} as hex", value.encode().hex())
    for index, stored in enumerate(_password_hashes()):
        capture.add(f"password hash {index}", stored)
        capture.add(f"password hash {index} digest", stored.rsplit("$", 1)[1])
    capture.add("password", accounts.password)
    capture.add("wrong password", WRONG_PASSWORD)
    capture.add("new password", NEW_PASSWORD)

    # A failed login, a login, a refresh, me, sessions, cars
    assert login(email, WRONG_PASSWORD, "staff")["statusCode"] == 401
    first = login_ok(email, accounts.password, "staff")
    capture.add_access_token("login access token", first["access_token"])
    capture.add_refresh_token("login refresh token", first["refresh_token"])
    rotated = body_of(refresh(first["refresh_token"]))
    capture.add_access_token("refreshed access token", rotated["access_token"])
    capture.add_refresh_token("refreshed refresh token", rotated["refresh_token"])
    assert me(rotated["access_token"])["statusCode"] == 200
    assert sessions_list(rotated["access_token"])["statusCode"] == 200
    assert protected_call(cars, rotated["access_token"], "GET", "/cars")["statusCode"] == 200
    car = {"make": "Saab", "model": "900", "year": 1991, "price": 4500}
    assert protected_call(cars, rotated["access_token"], "POST", "/cars", body=car)["statusCode"] == 201

    # Theft: a second session rotates twice, then its first token is replayed
    other = login_ok(email, accounts.password, "staff")
    capture.add_access_token("theft session access token", other["access_token"])
    capture.add_refresh_token("theft session first refresh token", other["refresh_token"])
    second = body_of(refresh(other["refresh_token"]))
    capture.add_refresh_token("theft session second refresh token", second["refresh_token"])
    third = body_of(refresh(second["refresh_token"]))
    capture.add_refresh_token("theft session third refresh token", third["refresh_token"])
    assert refresh(other["refresh_token"])["statusCode"] == 401
    assert not is_authorized(other["access_token"])

    # Password change (ends every older session, answers with a fresh one), then carry on by refresh
    assert change_password(rotated["access_token"], WRONG_PASSWORD, NEW_PASSWORD)["statusCode"] == 400
    changed = change_password(rotated["access_token"], accounts.password, NEW_PASSWORD)
    assert changed["statusCode"] == 200
    for index, stored in enumerate(_password_hashes()):
        capture.add(f"new password hash {index}", stored)
    fresh = body_of(changed)
    capture.add_access_token("password-change access token", fresh["access_token"])
    capture.add_refresh_token("password-change refresh token", fresh["refresh_token"])
    after = body_of(refresh(fresh["refresh_token"]))
    capture.add_access_token("post-change access token", after["access_token"])
    capture.add_refresh_token("post-change refresh token", after["refresh_token"])

    # Logout with the refresh token, a new login, logout-all, and the authorizer denying both
    assert logout(after["access_token"], after["refresh_token"])["statusCode"] == 200
    last = login_ok(email, NEW_PASSWORD, "staff")
    capture.add_access_token("last access token", last["access_token"])
    capture.add_refresh_token("last refresh token", last["refresh_token"])
    assert logout_all(last["access_token"])["statusCode"] == 200
    assert not is_authorized(after["access_token"])
    assert not is_authorized(last["access_token"] + "x")
    assert refresh(last["refresh_token"])["statusCode"] == 401
    with pytest.raises(Exception, match="Unauthorized"):
        authorize(last["access_token"], "GET", "/cars")

    output = capfd.readouterr()
    texts = [*capture.records.texts, capture.powertools.getvalue(), output.out, output.err]
    # The capture saw the flow (so an empty capture cannot pass): the audit trail is all there.
    seen = capture.powertools.getvalue()
    for event in ("login", "refresh_reuse", "password_changed", "logout", "logout_all", "authorizer_deny"):
        assert f'"event":"{event}"' in seen, event
    assert leaks(texts, capture.secrets) == []


def test_the_leak_finder_flags_a_token_that_reaches_a_log_line(
    aws_env: dict[str, str], accounts: Accounts, capture: Capture
) -> None:
    """The control for the test above: a token written to the log is found, whole or in part."""
    grant = login_ok(accounts.staff.email, accounts.password, "staff")
    capture.add_refresh_token("refresh token", grant["refresh_token"])
    capture.add_access_token("access token", grant["access_token"])

    logger.debug("oops", extra={"presented": grant["refresh_token"].split(".")[1]})
    logger.info("oops %s", grant["access_token"].rsplit(".", 1)[1])

    found = leaks([*capture.records.texts, capture.powertools.getvalue()], capture.secrets)
    assert found == ["access token signature", "refresh token secret half"]

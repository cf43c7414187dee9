"""The authorizer alarm sees every failure that makes the authorizer deny undecided: the metric
filter synthesized into the stack is evaluated against the very log line the authorizer wrote
while DynamoDB, KMS or its configuration failed."""

from __future__ import annotations

import io
import json
import logging
import re
from typing import Any

import pytest
from botocore.exceptions import ReadTimeoutError

from shared.core.observability import logger
from shared.credentials import signing
from shared.runtime import services as services_module
from tests.fixtures import Accounts, FakeClock, Faults
from tests.flows import is_authorized, login, refresh, staff_login
from tests.infra.conftest import Synth

_TERM = re.compile(r'\(\$\.([\w.]+) = "([^"*]*)"\)')


def filter_terms(pattern: str) -> list[tuple[str, str]]:
    """The (JSON path, value) equalities of a CloudWatch JSON filter pattern that is a plain
    conjunction of exact string matches (anything else fails the test: the matcher below would not
    be faithful to CloudWatch)."""
    terms = _TERM.findall(pattern)
    rebuilt = "{ " + " && ".join(f'($.{path} = "{value}")' for path, value in terms) + " }"
    assert pattern == rebuilt, f"not a conjunction of exact matches: {pattern}"
    return terms


def matches(terms: list[tuple[str, str]], line: dict[str, Any]) -> bool:
    for path, value in terms:
        node: Any = line
        for part in path.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if node != value:
            return False
    return True


class LogLines:
    """What the functions' logger writes, as the JSON lines CloudWatch receives."""

    def __init__(self) -> None:
        self.stream = io.StringIO()

    def denials(self) -> list[dict[str, Any]]:
        lines = [json.loads(line) for line in self.stream.getvalue().splitlines() if line.startswith("{")]
        return [line for line in lines if line.get("audit", {}).get("event") == "authorizer_deny"]


@pytest.fixture
def log_lines(monkeypatch: pytest.MonkeyPatch) -> LogLines:
    captured = LogLines()
    for handler in logger.handlers:
        if isinstance(handler, logging.StreamHandler):
            monkeypatch.setattr(handler, "stream", captured.stream)
    return captured


def metric_filters(synth: Synth, metric: str) -> list[dict[str, Any]]:
    return [
        f["Properties"]
        for f in synth.resources("AWS::Logs::MetricFilter").values()
        if f["Properties"]["MetricTransformations"][0]["MetricName"] == metric
    ]


@pytest.fixture
def undecidable_filter(dev: Synth) -> list[tuple[str, str]]:
    (metric_filter,) = metric_filters(dev, "AuthorizerUndecidable")
    return filter_terms(metric_filter["FilterPattern"])


def _dynamodb_throttled(faults: Faults, monkeypatch: pytest.MonkeyPatch) -> None:
    faults.fail("dynamodb.BatchGetItem", "ThrottlingException", times=6)


def _dynamodb_timed_out(faults: Faults, monkeypatch: pytest.MonkeyPatch) -> None:
    timeout = ReadTimeoutError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com")
    faults.fail("dynamodb.BatchGetItem", timeout, times=6)


def _kms_failed(faults: Faults, monkeypatch: pytest.MonkeyPatch) -> None:
    signing.forget_keys()  # a cold container loads the verification keys from KMS
    faults.fail("kms.GetPublicKey", "KMSInternalException", times=6, status=500)


def _configuration_wrong(faults: Faults, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIGNING_ALGORITHM", "ES256")  # the configured key is RSA
    services_module.reset()


@pytest.mark.parametrize(
    "fault", [_dynamodb_throttled, _dynamodb_timed_out, _kms_failed, _configuration_wrong]
)
def test_the_alarm_filter_matches_the_line_logged_for_each_undecidable_denial(
    fault: Any,
    accounts: Accounts,
    faults: Faults,
    monkeypatch: pytest.MonkeyPatch,
    log_lines: LogLines,
    undecidable_filter: list[tuple[str, str]],
) -> None:
    token = staff_login()["access_token"]
    fault(faults, monkeypatch)
    assert not is_authorized(token)
    (line,) = log_lines.denials()
    assert matches(undecidable_filter, line), line["audit"]


def test_an_ordinary_bad_token_is_denied_without_tripping_the_alarm(
    accounts: Accounts, log_lines: LogLines, undecidable_filter: list[tuple[str, str]]
) -> None:
    token = staff_login()["access_token"]
    assert not is_authorized(token[:-4] + "AAAA")
    (line,) = log_lines.denials()
    assert line["audit"]["reason"] == "signature"
    assert not matches(undecidable_filter, line)


def _lines(log_lines: LogLines) -> list[dict[str, Any]]:
    text = log_lines.stream.getvalue()
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_every_security_event_metric_filter_matches_the_line_its_event_writes(
    dev: Synth, accounts: Accounts, clock: FakeClock, log_lines: LogLines
) -> None:
    """Login success and failure, refresh and refresh-token reuse, an authorizer deny: each line the
    code writes is matched by its metric's filter and by no other event's filter."""
    tokens = staff_login()
    login("staff@dealership.example", "wrong password", "staff")
    rotated = refresh(tokens["refresh_token"])
    assert rotated["statusCode"] == 200
    clock.advance(61)  # beyond any grace window: presenting the parent again is reuse
    assert refresh(tokens["refresh_token"])["statusCode"] == 401
    assert not is_authorized(tokens["access_token"][:-4] + "AAAA")
    audited = [line for line in _lines(log_lines) if "audit" in line]
    written = {(line["audit"]["event"], line["audit"]["outcome"]) for line in audited}
    for name in (
        "LoginSuccess",
        "LoginFailure",
        "RefreshSuccess",
        "RefreshReuseDetected",
        "AuthorizerDenied",
    ):
        (metric_filter,) = metric_filters(dev, name)
        terms = filter_terms(metric_filter["FilterPattern"])
        matched = [line for line in audited if matches(terms, line)]
        assert matched, (name, written)
        assert len({(line["audit"]["event"], line["audit"]["outcome"]) for line in matched}) == 1, name


def test_the_kms_unavailable_filter_matches_the_line_login_writes_when_kms_throttles(
    dev: Synth, accounts: Accounts, faults: Faults, log_lines: LogLines
) -> None:
    faults.fail("kms.Sign", "ThrottlingException", times=6)
    response = login("staff@dealership.example", accounts.password, "staff")
    assert response["statusCode"] == 503
    filters = metric_filters(dev, "KmsUnavailable")
    assert filters
    for metric_filter in filters:
        terms = filter_terms(metric_filter["FilterPattern"])
        assert [line for line in _lines(log_lines) if matches(terms, line)], _lines(log_lines)[-3:]

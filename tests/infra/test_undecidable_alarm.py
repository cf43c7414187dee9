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

from shared import services as services_module
from shared import signing
from shared.observability import logger
from tests.fixtures import Accounts, Faults
from tests.flows import is_authorized, login_ok
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


@pytest.fixture
def undecidable_filter(dev: Synth) -> list[tuple[str, str]]:
    (metric_filter,) = dev.resources("AWS::Logs::MetricFilter").values()
    return filter_terms(metric_filter["Properties"]["FilterPattern"])


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
    token = login_ok("staff@dealership.example", accounts.password, "staff")["access_token"]
    fault(faults, monkeypatch)
    assert not is_authorized(token)
    (line,) = log_lines.denials()
    assert matches(undecidable_filter, line), line["audit"]


def test_an_ordinary_bad_token_is_denied_without_tripping_the_alarm(
    accounts: Accounts, log_lines: LogLines, undecidable_filter: list[tuple[str, str]]
) -> None:
    token = login_ok("staff@dealership.example", accounts.password, "staff")["access_token"]
    assert not is_authorized(token[:-4] + "AAAA")
    (line,) = log_lines.denials()
    assert line["audit"]["reason"] == "signature"
    assert not matches(undecidable_filter, line)

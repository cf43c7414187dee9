"""The CloudWatch dashboard the stack builds: what an operator looks at first."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from infra.bundling import REPO_ROOT
from infra.dashboard import WIDGET_TITLES
from tests.infra.conftest import Synth


def body(synth: Synth) -> dict[str, Any]:
    """The dashboard's JSON, with each CloudFormation reference replaced by a placeholder."""
    (dashboard,) = synth.resources("AWS::CloudWatch::Dashboard").values()
    raw = dashboard["Properties"]["DashboardBody"]
    if isinstance(raw, dict):
        raw = "".join(part if isinstance(part, str) else "REF" for part in raw["Fn::Join"][1])
    parsed: dict[str, Any] = json.loads(raw)
    return parsed


def _metrics(widget: dict[str, Any]) -> list[list[Any]]:
    return widget.get("properties", {}).get("metrics", [])


def _names(widget: dict[str, Any]) -> set[str]:
    names = set()
    for row in _metrics(widget):
        if row and isinstance(row[0], dict):  # an expression
            names.add(row[0].get("expression", ""))
            continue
        strings = [item for item in row if isinstance(item, str)]
        if len(strings) >= 2 and strings[0] != "...":
            names.add(strings[1])
    return names


def _by_title(synth: Synth) -> dict[str, dict[str, Any]]:
    return {w["properties"].get("title", ""): w for w in body(synth)["widgets"]}


@pytest.mark.parametrize("variant", ["dev", "prod"])
def test_the_dashboard_is_named_for_its_stage_and_has_every_panel(
    variant: str, request: pytest.FixtureRequest
) -> None:
    synth: Synth = request.getfixturevalue(variant)
    (dashboard,) = synth.resources("AWS::CloudWatch::Dashboard").values()
    assert dashboard["Properties"]["DashboardName"] == f"jwt-auth-{synth.stack.config.stage}"
    assert set(WIDGET_TITLES) <= set(_by_title(synth))


def test_logins_refreshes_and_authorizer_decisions_come_from_the_stages_own_metrics(dev: Synth) -> None:
    widgets = _by_title(dev)
    assert _names(widgets["Logins"]) == {"LoginSuccess", "LoginFailure", "LoginLockoutBlocked"}
    assert _names(widgets["Refreshes and reuse detections"]) == {"RefreshSuccess", "RefreshReuseDetected"}
    decisions = _names(widgets["Authorizer decisions"])
    assert {"AuthorizerDenied", "AuthorizerUndecidable", "Invocations"} <= decisions
    assert any("invocations" in name and "denied" in name for name in decisions)  # allow = calls - denials
    namespaces = {
        row[0]
        for w in (widgets["Logins"], widgets["Refreshes and reuse detections"])
        for row in _metrics(w)
        if isinstance(row[0], str) and row[0] != "..."
    }
    assert namespaces == {"JwtAuth/dev"}


def test_authorizer_latency_is_its_p99_duration(dev: Synth) -> None:
    widget = _by_title(dev)["Authorizer latency"]
    stats = {json.dumps(row) for row in _metrics(widget)}
    assert any('"Duration"' in row and '"p99"' in row for row in stats)


def test_api_4xx_and_5xx(dev: Synth) -> None:
    assert {"4XXError", "5XXError"} <= _names(_by_title(dev)["API responses"])


def test_dynamodb_and_kms_latency_and_throttles(dev: Synth) -> None:
    widgets = _by_title(dev)
    assert "SuccessfulRequestLatency" in _names(widgets["DynamoDB latency"])
    assert {"ReadThrottleEvents", "WriteThrottleEvents"} <= _names(widgets["DynamoDB throttles"])
    kms = _names(widgets["KMS requests, failures and quota"])
    assert "CallCount" in kms and "KmsUnavailable" in kms
    assert {"Duration"} <= _names(widgets["Signing path latency (login, refresh)"])


def test_the_alarms_are_on_the_dashboard(dev: Synth) -> None:
    (status,) = [w for w in body(dev)["widgets"] if w["type"] == "alarm"]
    assert len(status["properties"]["alarms"]) == len(dev.resources("AWS::CloudWatch::Alarm"))


def test_the_readme_shows_what_the_dashboard_contains() -> None:
    readme = (REPO_ROOT / "README.md").read_text()
    section = readme.split("### The dashboard", 1)[1].split("\n## ", 1)[0]
    for title in WIDGET_TITLES:
        assert re.search(re.escape(title), section), title

"""Alarms that cover the failure modes, each with OK actions; WAF logging, WAF rules that let a
password that looks like an attack through, and a rate rule that leaves an office's signed-in
users alone."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.permissions import access_for
from infra.waf import AUTH_RATE_RULE, BODY_RULES, MANAGED_RULE_GROUPS
from tests.infra.conftest import Synth


def _alarms(synth: Synth) -> dict[str, dict[str, Any]]:
    return {
        a["Properties"]["AlarmName"]: a["Properties"]
        for a in synth.resources("AWS::CloudWatch::Alarm").values()
    }


def _id(synth: Synth, construct: Any) -> str:
    return synth.stack.resolve(construct.node.default_child.logical_id)


@pytest.mark.parametrize("variant", ["dev", "prod", "hs256", "canary"])
def test_every_alarm_notifies_the_topic_when_it_fires_and_when_it_clears(
    variant: str, request: pytest.FixtureRequest
) -> None:
    synth: Synth = request.getfixturevalue(variant)
    (topic,) = synth.resources("AWS::SNS::Topic")
    for name, alarm in _alarms(synth).items():
        assert alarm["AlarmActions"] == [{"Ref": topic}], name
        assert alarm.get("OKActions") == [{"Ref": topic}], name


def test_every_function_has_error_throttle_and_near_timeout_alarms(dev: Synth) -> None:
    alarms = _alarms(dev)
    for name, function in dev.stack.functions.by_name.items():
        ref = {"Ref": _id(dev, function)}
        found = {
            alarm["MetricName"]: alarm
            for alarm in alarms.values()
            if alarm.get("Namespace") == "AWS/Lambda"
            and {"Name": "FunctionName", "Value": ref} in alarm["Dimensions"]
            and not alarm["AlarmName"].startswith("jwt-auth-dev-release-")
        }
        expected = {"Throttles", "Duration"} | ({"Errors"} if name != "authorizer" else set())
        assert set(found) == expected, (
            name
        )  # the authorizer's Errors count every 401: its undecidable alarm instead
        timeout_ms = access_for(name).timeout_seconds * 1000
        assert found["Duration"]["Statistic"] == "Maximum"
        assert found["Duration"]["Threshold"] == 0.8 * timeout_ms


@pytest.mark.parametrize("variant", ["dev", "prod"])
def test_every_table_has_a_throttle_alarm(variant: str, request: pytest.FixtureRequest) -> None:
    synth: Synth = request.getfixturevalue(variant)
    alarms = _alarms(synth)
    for name, table in synth.stack.tables.by_name.items():
        alarm = alarms[f"jwt-auth-{synth.stack.config.stage}-dynamodb-{name.lower()}-throttles"]
        metrics = {m["MetricStat"]["Metric"]["MetricName"] for m in alarm["Metrics"] if "MetricStat" in m}
        assert metrics == {"ReadThrottleEvents", "WriteThrottleEvents"}
        for query in alarm["Metrics"]:
            if "MetricStat" in query:
                assert query["MetricStat"]["Metric"]["Dimensions"] == [
                    {"Name": "TableName", "Value": {"Ref": _id(synth, table)}}
                ]


@pytest.mark.parametrize(
    ("variant", "resource"), [("dev", "CryptographicOperationsRsa"), ("prod", "CryptographicOperationsEcc")]
)
def test_kms_signing_is_alarmed_against_its_request_quota(
    variant: str, resource: str, request: pytest.FixtureRequest
) -> None:
    synth: Synth = request.getfixturevalue(variant)
    alarm = _alarms(synth)[f"jwt-auth-{synth.stack.config.stage}-kms-signing-quota"]
    (usage,) = [m for m in alarm["Metrics"] if "MetricStat" in m]
    metric = usage["MetricStat"]["Metric"]
    assert (metric["Namespace"], metric["MetricName"]) == ("AWS/Usage", "CallCount")
    assert {d["Name"]: d["Value"] for d in metric["Dimensions"]} == {
        "Service": "KMS",
        "Type": "API",
        "Resource": resource,
        "Class": "None",
    }
    (expression,) = [m for m in alarm["Metrics"] if "Expression" in m]
    assert "SERVICE_QUOTA(" in expression["Expression"] and "PERIOD(" in expression["Expression"]
    assert alarm["Threshold"] == 80


def test_kms_failures_of_the_token_functions_are_counted_and_alarmed(dev: Synth) -> None:
    filters = [
        f["Properties"]
        for f in dev.resources("AWS::Logs::MetricFilter").values()
        if f["Properties"]["MetricTransformations"][0]["MetricName"] == "KmsUnavailable"
    ]
    groups = {f["LogGroupName"]["Ref"] for f in filters}
    assert groups == {_id(dev, dev.stack.functions.log_groups[name]) for name in ("login", "refresh", "jwks")}
    assert all('$.dependency = "KMS"' in f["FilterPattern"] for f in filters)
    assert _alarms(dev)["jwt-auth-dev-kms-unavailable"]["Threshold"] == 1


def test_hs256_mode_has_no_kms_alarm(hs256: Synth) -> None:
    assert not [name for name in _alarms(hs256) if "-kms-" in name]


# -------------------------------------------------------------------------------------------- WAF
def _acl(synth: Synth) -> dict[str, Any]:
    (acl,) = synth.resources("AWS::WAFv2::WebACL").values()
    return acl["Properties"]


def test_waf_logs_to_its_own_log_group_without_tokens(prod: Synth) -> None:
    (logging,) = prod.resources("AWS::WAFv2::LoggingConfiguration").values()
    properties = logging["Properties"]
    (acl_id,) = prod.resources("AWS::WAFv2::WebACL")
    assert properties["ResourceArn"] == {"Fn::GetAtt": [acl_id, "Arn"]}
    (destination,) = properties["LogDestinationConfigs"]
    assert "log-group:aws-waf-logs-jwt-auth-prod" in json.dumps(destination) and ":*" not in json.dumps(
        destination
    )
    redacted = {field["SingleHeader"]["Name"] for field in properties["RedactedFields"]}
    assert redacted == {"authorization", "cookie"}
    groups = [
        g["Properties"]
        for g in prod.resources("AWS::Logs::LogGroup").values()
        if g["Properties"].get("LogGroupName") == "aws-waf-logs-jwt-auth-prod"
    ]
    assert groups and groups[0]["RetentionInDays"] == 365


def test_a_spike_of_blocked_requests_raises_an_alarm(prod: Synth) -> None:
    alarm = _alarms(prod)["jwt-auth-prod-waf-blocked"]
    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/WAFV2", "BlockedRequests")
    dimensions = {d["Name"]: d["Value"] for d in alarm["Dimensions"]}
    assert dimensions["Rule"] == "ALL" and "Fn::Select" in json.dumps(dimensions["WebACL"])


def _scope_paths(statement: dict[str, Any]) -> set[str]:
    """The URI paths a scope-down statement names (byte matches, however nested)."""
    return {match["SearchString"] for match in _byte_matches(statement)}


def _byte_matches(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        found = [node["ByteMatchStatement"]] if "ByteMatchStatement" in node else []
        return found + [m for value in node.values() for m in _byte_matches(value)]
    if isinstance(node, list):
        return [m for value in node for m in _byte_matches(value)]
    return []


def test_body_inspecting_managed_rules_only_count_on_the_auth_routes(prod: Synth) -> None:
    """A password like `<script>alert(1)</script>` or `../../etc/passwd` must still log in."""
    rules = _acl(prod)["Rules"]
    for group in MANAGED_RULE_GROUPS:
        uses = [r for r in rules if r["Statement"].get("ManagedRuleGroupStatement", {}).get("Name") == group]
        assert len(uses) == 2, group
        auth = next(
            r
            for r in uses
            if "NotStatement" not in r["Statement"]["ManagedRuleGroupStatement"]["ScopeDownStatement"]
        )
        other = next(r for r in uses if r is not auth)
        counted = {
            o["Name"]
            for o in auth["Statement"]["ManagedRuleGroupStatement"]["RuleActionOverrides"]
            if o["ActionToUse"] == {"Count": {}}
        }
        assert counted == set(BODY_RULES[group]) and all(name.endswith("_BODY") for name in counted)
        assert "RuleActionOverrides" not in other["Statement"]["ManagedRuleGroupStatement"]
        assert _scope_paths(auth["Statement"]["ManagedRuleGroupStatement"]["ScopeDownStatement"]) == {
            "/auth/"
        }
        negated = other["Statement"]["ManagedRuleGroupStatement"]["ScopeDownStatement"]["NotStatement"][
            "Statement"
        ]
        assert _scope_paths(negated) == {"/auth/"}


def test_the_rate_rule_counts_only_password_guessing_never_signed_in_calls(prod: Synth) -> None:
    """An office behind one IP: its users' /auth/me, /auth/sessions, logout and refresh calls are
    never counted; only the public routes that take a password are."""
    (rule,) = [r for r in _acl(prod)["Rules"] if r["Name"] == AUTH_RATE_RULE]
    statement = rule["Statement"]["RateBasedStatement"]
    assert statement["AggregateKeyType"] == "IP" and rule["Action"] == {"Block": {}}
    paths = _scope_paths(statement["ScopeDownStatement"])
    # login and its second step, the passkey sign-in (and its challenges: each one is a write), and
    # the links that set a password, reopen code login or send mail (reset flooding)
    assert paths == {
        "/auth/mfa/unlock",
        "/auth/login",
        "/auth/login/mfa",
        "/auth/login/mfa/enrol",
        "/auth/login/passkey",
        "/auth/login/passkey/options",
        "/auth/password/forgot",
        "/auth/password/reset",
        "/auth/invitations/accept",
    }
    assert all(
        m["PositionalConstraint"] == "ENDS_WITH" for m in _byte_matches(statement["ScopeDownStatement"])
    )
    protected = {route.path for route in prod.stack.routes.routes if not route.public}
    assert not any(path.endswith(p) for path in protected for p in paths)

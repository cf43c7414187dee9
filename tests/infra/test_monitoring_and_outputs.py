"""Alarms to SNS on security events and failures; stable outputs."""

from __future__ import annotations

from typing import Any

from tests.infra.conftest import Synth


def _alarms(synth: Synth) -> dict[str, dict[str, Any]]:
    return {
        a["Properties"].get("MetricName", ""): a["Properties"]
        for a in synth.resources("AWS::CloudWatch::Alarm").values()
    }


def test_security_event_alarms_watch_the_stages_event_metrics_and_notify_the_topic(dev: Synth) -> None:
    alarms = _alarms(dev)
    (topic_id,) = dev.resources("AWS::SNS::Topic")
    for metric, threshold in (("RefreshReuseDetected", 1), ("LoginFailure", 50), ("LoginLockoutBlocked", 10)):
        alarm = alarms[metric]
        assert alarm["Namespace"] == "JwtAuth/dev"
        assert "Dimensions" not in alarm
        assert alarm["Threshold"] == threshold and alarm["Statistic"] == "Sum"
        assert alarm["AlarmActions"] == [{"Ref": topic_id}]
        assert alarm["TreatMissingData"] == "notBreaching"


def test_authorizer_errors_are_counted_from_its_undecidable_denials_and_alarmed(dev: Synth) -> None:
    (metric_filter,) = [
        f
        for f in dev.resources("AWS::Logs::MetricFilter").values()
        if f["Properties"]["MetricTransformations"][0]["MetricName"] == "AuthorizerUndecidable"
    ]
    pattern = metric_filter["Properties"]["FilterPattern"]
    assert '$.audit.event = "authorizer_deny"' in pattern and '$.audit.reason = "undecidable"' in pattern
    authorizer_logs = dev.stack.resolve(
        dev.stack.functions.log_groups["authorizer"].node.default_child.logical_id
    )
    assert metric_filter["Properties"]["LogGroupName"] == {"Ref": authorizer_logs}
    assert _alarms(dev)["AuthorizerUndecidable"]["Threshold"] == 1
    assert _alarms(dev)["Throttles"]["Namespace"] == "AWS/Lambda"


def test_api_5xx_responses_raise_an_alarm(dev: Synth) -> None:
    alarm = _alarms(dev)["5XXError"]
    assert alarm["Namespace"] == "AWS/ApiGateway"
    assert {d["Name"] for d in alarm["Dimensions"]} == {"ApiName", "Stage"}


def test_the_alarm_topic_is_encrypted_tls_only_and_subscribes_the_configured_email(
    dev: Synth, prod: Synth
) -> None:
    (topic,) = dev.resources("AWS::SNS::Topic").values()
    assert "KmsMasterKeyId" in topic["Properties"]
    dev.template.resource_count_is("AWS::SNS::TopicPolicy", 1)
    dev.template.resource_count_is("AWS::SNS::Subscription", 0)
    prod.template.has_resource_properties(
        "AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": "security@example.com"}
    )


def test_outputs_have_stable_names(dev: Synth, prod: Synth) -> None:
    common = {"ApiUrl", "JwksUrl", "Issuer", "Audience", "AuthorizerFunctionArn", "AlarmTopicArn"}
    tables = {"UsersTableName", "SessionsTableName", "DenylistTableName"}
    assert common | tables | {"SigningKeyArns", "CarsTableName"} == set(dev.json["Outputs"])
    assert common | tables | {"SigningKeyArns", "CustomDomainTarget"} == set(prod.json["Outputs"])
    assert dev.json["Outputs"]["Audience"]["Value"] == "jwt-auth-dev"
    authorizer = dev.stack.resolve(dev.stack.authorizer_function.node.default_child.logical_id)
    assert dev.json["Outputs"]["AuthorizerFunctionArn"]["Value"] == {"Fn::GetAtt": [authorizer, "Arn"]}
    prod.template.has_output("JwksUrl", {"Value": "https://auth.example.com/.well-known/jwks.json"})


def test_a_cloned_passkey_raises_an_alarm_at_once(dev: Synth) -> None:
    alarm = _alarms(dev)["PasskeyClonedDetected"]
    assert alarm["Threshold"] == 1 and alarm["Namespace"] == "JwtAuth/dev"
    (metric_filter,) = [
        f
        for f in dev.resources("AWS::Logs::MetricFilter").values()
        if f["Properties"]["MetricTransformations"][0]["MetricName"] == "PasskeyClonedDetected"
    ]
    pattern = metric_filter["Properties"]["FilterPattern"]
    assert '$.audit.event = "passkey_cloned"' in pattern and '$.audit.outcome = "detected"' in pattern
    passkey_logs = dev.stack.resolve(
        dev.stack.functions.log_groups["passkey_login"].node.default_child.logical_id
    )
    assert metric_filter["Properties"]["LogGroupName"] == {"Ref": passkey_logs}

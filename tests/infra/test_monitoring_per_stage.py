"""Two stages in one account and region: their metrics and alarms never meet, so a dev test cannot
page prod. CloudWatch keys a custom metric by namespace, name and dimensions, and an alarm by its
name: a stage's alarms read only metrics its own log groups produce, under its own namespace."""

from __future__ import annotations

import json
from typing import Any

from tests.infra.conftest import ORIGINS, Synth, synth_for


def _stage(stage: str) -> Synth:
    return synth_for({"stage": stage, "allowed_origins": ORIGINS})


def _alarms(synth: Synth) -> list[dict[str, Any]]:
    return [alarm["Properties"] for alarm in synth.resources("AWS::CloudWatch::Alarm").values()]


def _custom_metrics(synth: Synth) -> set[str]:
    """(namespace, name, dimensions) of every alarm's metric that is not an AWS service's own (those
    carry the resource's name or id as a dimension, so they are per stage already)."""
    found = set()
    for alarm in _alarms(synth):
        metrics = (
            [alarm]
            if "MetricName" in alarm
            else [m["MetricStat"]["Metric"] for m in alarm.get("Metrics", []) if "MetricStat" in m]
        )
        for metric in metrics:
            if not metric["Namespace"].startswith("AWS/"):
                found.add(
                    json.dumps([metric["Namespace"], metric["MetricName"], metric.get("Dimensions", [])])
                )
    return found


def test_the_custom_metrics_two_stages_alarm_on_are_disjoint() -> None:
    dev, staging = _custom_metrics(_stage("dev")), _custom_metrics(_stage("staging"))
    assert dev and staging
    assert dev.isdisjoint(staging), dev & staging


def test_every_alarm_is_named_after_its_stage() -> None:
    names = {}
    for stage in ("dev", "staging"):
        names[stage] = {alarm.get("AlarmName") for alarm in _alarms(_stage(stage))}
        assert all(isinstance(name, str) and name.startswith(f"jwt-auth-{stage}-") for name in names[stage])
    assert names["dev"].isdisjoint(names["staging"])


def test_custom_metrics_come_only_from_the_stages_own_log_groups_into_its_namespace() -> None:
    for stage in ("dev", "staging"):
        synth = _stage(stage)
        log_groups = set(synth.resources("AWS::Logs::LogGroup"))
        filters = synth.resources("AWS::Logs::MetricFilter").values()
        assert filters
        for metric_filter in filters:
            properties = metric_filter["Properties"]
            assert properties["LogGroupName"]["Ref"] in log_groups
            for transformation in properties["MetricTransformations"]:
                assert transformation["MetricNamespace"] == f"JwtAuth/{stage}"


def test_the_functions_are_told_their_stages_namespace() -> None:
    for stage in ("dev", "staging"):
        for function in _stage(stage).resources("AWS::Lambda::Function").values():
            variables = function["Properties"]["Environment"]["Variables"]
            assert variables["POWERTOOLS_METRICS_NAMESPACE"] == f"JwtAuth/{stage}"

"""Changes reach the stage: two syntheses that differ in one setting are compared.

API Gateway serves a stage from its deployment, a snapshot taken when the deployment resource is
created: a change CloudFormation makes to the authorizer alone is never served until a new
deployment is created, and CDK creates one only when the deployment's logical id changes.
"""

from __future__ import annotations

from typing import Any

import pytest

from infra.bundling import LayerBundling
from tests.infra.conftest import synth_for, synthesize

AUTHORIZER_FLAG = "@aws-cdk/aws-apigateway:authorizerChangeDeploymentLogicalId"


def deployment_id(context: dict[str, Any]) -> str:
    (logical_id,) = synth_for(context).resources("AWS::ApiGateway::Deployment")
    return logical_id


def authorizer(context: dict[str, Any]) -> dict[str, Any]:
    (found,) = synth_for(context).resources("AWS::ApiGateway::Authorizer").values()
    return found["Properties"]


@pytest.mark.parametrize("flag", [True, False], ids=["flag-on", "flag-off"])
@pytest.mark.parametrize(
    ("before", "after"),
    [
        ({}, {"authorizer_cache_ttl": "60"}),  # the cache TTL
        ({}, {"provisioned_concurrency": "2"}),  # the function -> its `live` alias
        ({}, {"snap_start": "true"}),  # the function -> its `live` alias
    ],
    ids=["cache-ttl", "provisioned-concurrency", "snap-start"],
)
def test_any_authorizer_change_creates_a_new_deployment(
    before: dict[str, Any], after: dict[str, Any], flag: bool
) -> None:
    """With or without the feature flag that does it too (the stack does not depend on it)."""
    before, after = {**before, AUTHORIZER_FLAG: flag}, {**after, AUTHORIZER_FLAG: flag}
    assert authorizer(before) != authorizer(after)  # the change is the authorizer's
    assert deployment_id(before) != deployment_id(after)


def test_the_same_settings_keep_the_same_deployment() -> None:
    assert deployment_id({}) == deployment_id({"log_retention_days": "30"})


LAYER_FLAG = "@aws-cdk/aws-lambda:recognizeLayerVersion"


def versions_with_layer(
    context: dict[str, Any], fingerprint: str, monkeypatch: pytest.MonkeyPatch
) -> tuple[str, dict[str, str]]:
    """The layer's S3 key and, by function logical id, the logical id of the version its `live`
    alias points at, with the layer's content standing in as `fingerprint` (in a real synthesis,
    the hash of requirements/layer.txt and the runtime)."""
    monkeypatch.setattr(LayerBundling, "fingerprint", lambda self: fingerprint)
    synth = synthesize(context)
    (layer,) = synth.resources("AWS::Lambda::LayerVersion").values()
    versions = {
        version["Properties"]["FunctionName"]["Ref"]: logical_id
        for logical_id, version in synth.resources("AWS::Lambda::Version").items()
    }
    return layer["Properties"]["Content"]["S3Key"], versions


@pytest.mark.parametrize("flag", [True, False], ids=["flag-on", "flag-off"])
@pytest.mark.parametrize(
    "setting", [{"snap_start": "true"}, {"provisioned_concurrency": "2"}], ids=["snap-start", "provisioned"]
)
def test_a_layer_only_change_publishes_a_new_version_for_the_live_alias(
    setting: dict[str, Any], flag: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    context = {**setting, LAYER_FLAG: flag}
    layer_before, before = versions_with_layer(context, "a" * 64, monkeypatch)
    layer_after, after = versions_with_layer(context, "b" * 64, monkeypatch)
    assert layer_before != layer_after  # only the layer changed
    assert before and set(before) == set(after)
    unchanged = [function for function in before if before[function] == after[function]]
    assert unchanged == []

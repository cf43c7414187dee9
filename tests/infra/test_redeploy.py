"""Changes reach the stage: two syntheses that differ in one setting are compared.

API Gateway serves a stage from its deployment, a snapshot taken when the deployment resource is
created: a change CloudFormation makes to the authorizer alone is never served until a new
deployment is created, and CDK creates one only when the deployment's logical id changes.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.infra.conftest import synth_for

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

"""SnapStart and provisioned concurrency: off in dev, SnapStart on the authorizer alone elsewhere by
default, and when on, API Gateway invokes a published version through the `live` alias."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk.assertions import Match

from tests.infra.conftest import ORIGINS, PROD, synth_for


def test_in_dev_functions_are_invoked_directly_with_no_alias_and_no_snapstart() -> None:
    template = synth_for({"allowed_origins": ORIGINS}).template
    template.resource_count_is("AWS::Lambda::Alias", 0)
    for function in template.find_resources("AWS::Lambda::Function").values():
        assert "SnapStart" not in function["Properties"]


def test_snap_start_publishes_versions_and_the_api_invokes_the_live_alias() -> None:
    synth = synth_for({"snap_start": "true"})
    assert synth.nag_error == ""
    template = synth.template
    functions = template.find_resources("AWS::Lambda::Function")
    assert all(f["Properties"]["SnapStart"] == {"ApplyOn": "PublishedVersions"} for f in functions.values())
    aliases = template.find_resources("AWS::Lambda::Alias")
    assert len(aliases) == len(functions)
    assert all(alias["Properties"]["Name"] == "live" for alias in aliases.values())
    authorizer = template.find_resources("AWS::ApiGateway::Authorizer")
    (only,) = authorizer.values()
    assert "Alias" in str(only["Properties"]["AuthorizerUri"]) or "Live" in str(
        only["Properties"]["AuthorizerUri"]
    )


def test_provisioned_concurrency_keeps_authorizer_environments_warm_on_the_alias() -> None:
    synth = synth_for({"provisioned_concurrency": "2"})
    assert synth.nag_error == ""
    template = synth.template
    template.has_resource_properties(
        "AWS::Lambda::Alias",
        {"Name": "live", "ProvisionedConcurrencyConfig": {"ProvisionedConcurrentExecutions": 2}},
    )
    template.resource_count_is("AWS::Lambda::Alias", 1)
    template.has_resource_properties("AWS::Lambda::Version", Match.any_value())


def _snap_started(template: Any) -> set[str]:
    functions = template.find_resources("AWS::Lambda::Function")
    return {
        function["Properties"]["Description"]
        for function in functions.values()
        if function["Properties"].get("SnapStart") == {"ApplyOn": "PublishedVersions"}
    }


def test_outside_dev_the_authorizer_alone_starts_from_a_snapshot_behind_its_live_alias() -> None:
    """Synthesized twice, the prod default against `snap_start=off`: only the authorizer's SnapStart,
    version and alias, and the API authorizer's target, differ."""
    default = synth_for(PROD)
    assert default.nag_error == ""
    off = synth_for({**PROD, "snap_start": "off"})
    assert _snap_started(default.template) == {"jwt-auth authorizer"}
    assert _snap_started(off.template) == set()
    default.template.resource_count_is("AWS::Lambda::Alias", 1)
    off.template.resource_count_is("AWS::Lambda::Alias", 0)
    (authorizer,) = default.template.find_resources("AWS::ApiGateway::Authorizer").values()
    assert "AuthorizerLive" in json.dumps(authorizer["Properties"]["AuthorizerUri"])
    (unaliased,) = off.template.find_resources("AWS::ApiGateway::Authorizer").values()
    assert "AuthorizerLive" not in json.dumps(unaliased["Properties"]["AuthorizerUri"])
    integrations = [
        method["Properties"]["Integration"]["Uri"]
        for method in default.template.find_resources("AWS::ApiGateway::Method").values()
        if "Integration" in method["Properties"] and "Uri" in method["Properties"]["Integration"]
    ]
    assert integrations and not any("Live" in json.dumps(uri) for uri in integrations)


def test_prod_with_provisioned_concurrency_keeps_its_alias_warm_instead_of_snap_starting() -> None:
    template = synth_for({**PROD, "provisioned_concurrency": "2"}).template
    assert _snap_started(template) == set()
    template.has_resource_properties(
        "AWS::Lambda::Alias", {"ProvisionedConcurrencyConfig": {"ProvisionedConcurrentExecutions": 2}}
    )

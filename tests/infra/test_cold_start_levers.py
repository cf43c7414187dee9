"""SnapStart and provisioned concurrency: off by default, and when on, API Gateway invokes a
published version through the `live` alias."""

from __future__ import annotations

from aws_cdk.assertions import Match

from tests.infra.conftest import ORIGINS, synth_for


def test_by_default_functions_are_invoked_directly_with_no_alias_and_no_snapstart() -> None:
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

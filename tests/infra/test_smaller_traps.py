"""The smaller traps only a real deploy would show, each proven on the synthesized template."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest

from infra.app import build_app
from infra.bundling import REPO_ROOT
from infra.config import ContextError
from infra.permissions import SIGNERS
from tests.infra.conftest import BASE_CONTEXT, PROD, Synth, synth_for

DEPLOY_DOC = (REPO_ROOT / "docs" / "deploy.md").read_text()


def _logical_id(synth: Synth, construct: Any) -> str:
    return synth.stack.resolve(construct.node.default_child.logical_id)


# ------------------------------------------------------------------------------------- throttling
def test_throttling_is_documented_as_what_api_gateway_does_per_method(dev: Synth) -> None:
    """Stage-level throttling settings are applied to each method on its own (a REST API has no
    stage-wide aggregate limit): the docs must say so, not promise a stage-wide limit."""
    (stage,) = dev.resources("AWS::ApiGateway::Stage").values()
    (settings,) = stage["Properties"]["MethodSettings"]
    assert (settings["HttpMethod"], settings["ResourcePath"]) == ("*", "/*")
    row = next(line for line in DEPLOY_DOC.splitlines() if line.startswith("| `throttle_rate`"))
    assert "per method" in row and "stage-wide throttling" not in row


# ------------------------------------------------------------------------- HS256: the public JWKS
def test_in_hs256_mode_no_role_but_the_token_functions_and_the_authorizer_reads_the_signing_secret(
    hs256: Synth,
) -> None:
    secret = {"Ref": _logical_id(hs256, hs256.stack.keys.hs256_secret)}
    readers = set()
    for name, role in hs256.stack.roles.by_name.items():
        role_id = _logical_id(hs256, role)
        for policy in hs256.resources("AWS::IAM::Policy").values():
            if {"Ref": role_id} in policy["Properties"]["Roles"]:
                for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                    if secret in (
                        statement["Resource"]
                        if isinstance(statement["Resource"], list)
                        else [statement["Resource"]]
                    ):
                        readers.add(name)
    assert readers == {*SIGNERS, "authorizer"}  # login and refresh sign; the authorizer verifies


def test_in_hs256_mode_the_jwks_route_answers_an_empty_key_set_from_api_gateway_itself(hs256: Synth) -> None:
    assert "jwks" not in hs256.stack.functions.by_name
    jwks = hs256.stack.api.methods["GET /.well-known/jwks.json"]
    method = hs256.json["Resources"][_logical_id(hs256, jwks)]["Properties"]
    assert method["AuthorizationType"] == "NONE"
    integration = method["Integration"]
    assert integration["Type"] == "MOCK"
    (response,) = integration["IntegrationResponses"]
    assert json.loads(response["ResponseTemplates"]["application/json"]) == {"keys": []}
    headers = response["ResponseParameters"]
    assert headers["method.response.header.Cache-Control"] == "'public, max-age=300'"
    assert headers["method.response.header.X-Content-Type-Options"] == "'nosniff'"


def test_with_kms_keys_the_jwks_function_serves_the_public_keys(dev: Synth) -> None:
    assert "jwks" in dev.stack.functions.by_name


# -------------------------------------------------------------- account-level CloudWatch role
def test_the_account_level_cloudwatch_role_is_written_only_when_asked(dev: Synth) -> None:
    (account,) = dev.resources("AWS::ApiGateway::Account").values()
    assert account["DeletionPolicy"] == "Retain"  # another stack's execution logs may rely on it
    off = synth_for({"api_gateway_cloudwatch_role": "false"})
    assert off.resources("AWS::ApiGateway::Account") == {}
    assert not [r for r in off.resources("AWS::IAM::Role").values() if "apigateway" in json.dumps(r)]
    assert off.nag_error == ""


# --------------------------------------------------------------------- execution-log group
@pytest.mark.parametrize("variant", ["dev", "prod"])
def test_the_execution_log_group_is_the_stacks_with_retention_before_the_stage_exists(
    variant: str, request: pytest.FixtureRequest
) -> None:
    synth: Synth = request.getfixturevalue(variant)
    stage_name = synth.stack.config.stage
    (rest_api_id,) = synth.resources("AWS::ApiGateway::RestApi")
    groups = {
        logical_id: group
        for logical_id, group in synth.resources("AWS::Logs::LogGroup").items()
        if "API-Gateway-Execution-Logs_" in json.dumps(group["Properties"].get("LogGroupName", ""))
    }
    ((group_id, group),) = groups.items()
    assert group["Properties"]["LogGroupName"] == {
        "Fn::Join": ["", ["API-Gateway-Execution-Logs_", {"Ref": rest_api_id}, f"/{stage_name}"]]
    }
    assert group["Properties"]["RetentionInDays"] == synth.stack.config.log_retention_days
    (stage,) = synth.resources("AWS::ApiGateway::Stage").values()
    assert group_id in stage.get("DependsOn", [])


# ------------------------------------------------------------------- certificate region
def _prod_app(monkeypatch: pytest.MonkeyPatch, region: str) -> None:
    monkeypatch.setenv("CDK_DEFAULT_REGION", region)
    monkeypatch.setenv("CDK_DEFAULT_ACCOUNT", "123456789012")
    build_app(cdk.App(context={**BASE_CONTEXT, **PROD, "aws:cdk:bundling-stacks": []}))


def test_a_certificate_from_another_region_stops_synthesis(monkeypatch: pytest.MonkeyPatch) -> None:
    assert ":eu-west-1:" in PROD["certificate_arn"]
    with pytest.raises(ContextError, match=r"certificate_arn.*eu-west-1.*us-east-1"):
        _prod_app(monkeypatch, "us-east-1")


def test_a_certificate_from_the_stacks_region_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    _prod_app(monkeypatch, "eu-west-1")


# ------------------------------------------------------------------ KMS key policy ordering
@pytest.mark.parametrize("variant", ["dev", "prod"])
def test_each_signing_key_is_created_after_the_roles_its_policy_names(
    variant: str, request: pytest.FixtureRequest
) -> None:
    synth: Synth = request.getfixturevalue(variant)
    signers = {_logical_id(synth, synth.stack.roles.by_name[name]) for name in SIGNERS}
    for key in synth.stack.keys.keys:
        resource = synth.json["Resources"][_logical_id(synth, key)]
        assert signers <= set(resource.get("DependsOn", [])), resource.get("DependsOn")

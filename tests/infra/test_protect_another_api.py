"""Another team's RestApi, in its own stack, gets its own authorizer reading its own declaration."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Template
from cdk_nag import AwsSolutionsChecks

from infra.bundling import FunctionBundling
from infra.config import config_from_context
from infra.protect import RouteAuthorizer
from infra.stack import JwtAuthStack
from tests.infra.conftest import BASE_CONTEXT, existing_functions_only, load_routes_document

INVENTORY_ROUTES = {
    "api": "inventory",
    "routes": [
        {"method": "GET", "path": "/inventory", "function": "inventory", "allow": {}},
        {"method": "POST", "path": "/inventory", "function": "inventory", "allow": {"types": ["admin"]}},
        {"method": "GET", "path": "/health", "function": "inventory", "public": True},
    ],
}


@pytest.fixture(scope="module")
def two_stacks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    routes_file = tmp_path_factory.mktemp("inventory") / "routes.json"
    routes_file.write_text(json.dumps(INVENTORY_ROUTES))
    app = cdk.App(context={**BASE_CONTEXT, "aws:cdk:bundling-stacks": []}, outdir=tempfile.mkdtemp())
    config = config_from_context(app.node.try_get_context)
    auth = JwtAuthStack(
        app, "JwtAuth-dev", config=config, routes_document=existing_functions_only(load_routes_document())
    )
    inventory = cdk.Stack(app, "Inventory")
    api = apigw.RestApi(inventory, "InventoryApi", deploy_options=apigw.StageOptions(stage_name="v1"))
    handler = lambda_.Function(
        inventory,
        "InventoryFunction",
        runtime=lambda_.Runtime.PYTHON_3_13,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return {'statusCode': 200}\n"),
    )
    guard = RouteAuthorizer(inventory, "JwtGuard", service=auth.service_reference(), routes_file=routes_file)
    guard.protect(api, {"inventory": handler})
    assembly = app.synth()
    return {
        "template": Template.from_json(assembly.get_stack_by_name("Inventory").template),
        "json": assembly.get_stack_by_name("Inventory").template,
        "guard": guard,
        "stack": inventory,
    }


def test_the_other_api_gets_its_own_request_authorizer_instance(two_stacks: dict[str, Any]) -> None:
    template: Template = two_stacks["template"]
    template.has_resource_properties(
        "AWS::ApiGateway::Authorizer",
        {
            "Type": "REQUEST",
            "IdentitySource": "method.request.header.Authorization",
            "AuthorizerResultTtlInSeconds": 0,
        },
    )
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {"Handler": "functions.authorizer.handler.handler", "Architectures": ["arm64"]},
    )


def test_its_routes_come_from_its_own_declaration_with_the_authorizer_on_non_public_ones(
    two_stacks: dict[str, Any],
) -> None:
    methods = [
        r["Properties"]
        for r in two_stacks["json"]["Resources"].values()
        if r["Type"] == "AWS::ApiGateway::Method"
    ]
    assert sorted((m["HttpMethod"], m["AuthorizationType"]) for m in methods) == [
        ("GET", "CUSTOM"),
        ("GET", "NONE"),
        ("POST", "CUSTOM"),
    ]


def test_its_authorizer_reads_the_bundled_declaration_and_the_service_settings(
    two_stacks: dict[str, Any],
) -> None:
    function = next(
        r["Properties"]
        for r in two_stacks["json"]["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function"
        and r["Properties"].get("Handler") == "functions.authorizer.handler.handler"
    )
    env = function["Environment"]["Variables"]
    assert env["ROUTES_FILE"] == "/var/task/routes.json"
    assert env["AUDIENCE"] == "jwt-auth-dev"
    assert "Fn::GetStackOutput" in json.dumps(env["DENYLIST_TABLE"])  # the service's table, across stacks


def test_its_role_reads_only_the_denylist_and_the_public_keys(two_stacks: dict[str, Any]) -> None:
    guard: RouteAuthorizer = two_stacks["guard"]
    role_id = two_stacks["stack"].resolve(guard.role.node.default_child.logical_id)
    actions = set()
    for resource in two_stacks["json"]["Resources"].values():
        if resource["Type"] == "AWS::IAM::Policy" and {"Ref": role_id} in resource["Properties"]["Roles"]:
            for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
                found = statement["Action"]
                actions |= set(found if isinstance(found, list) else [found])
    assert actions == {
        "dynamodb:BatchGetItem",
        "kms:GetPublicKey",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
    }


def test_the_authorizer_asset_bundles_that_apis_declaration(
    tmp_path: Path, two_stacks: dict[str, Any]
) -> None:
    guard: RouteAuthorizer = two_stacks["guard"]
    FunctionBundling("authorizer", guard.routes_document).try_bundle(str(tmp_path))
    assert json.loads((tmp_path / "routes.json").read_text())["api"] == "inventory"
    assert (tmp_path / "functions" / "authorizer" / "handler.py").is_file()
    assert (tmp_path / "shared" / "authorizer.py").is_file()


def test_cdk_nag_finds_nothing_unacknowledged_in_the_authorizer_construct() -> None:
    """The other team's API is theirs to harden; what RouteAuthorizer adds must pass as is."""
    routes_file = Path(tempfile.mkdtemp()) / "routes.json"
    routes_file.write_text(json.dumps(INVENTORY_ROUTES))
    outdir = tempfile.mkdtemp()
    app = cdk.App(context={**BASE_CONTEXT, "aws:cdk:bundling-stacks": []}, outdir=outdir)
    config = config_from_context(app.node.try_get_context)
    auth = JwtAuthStack(
        app, "JwtAuth-dev", config=config, routes_document=existing_functions_only(load_routes_document())
    )
    other = cdk.Stack(app, "Other")
    api = apigw.RestApi(other, "Api")
    handler = lambda_.Function(
        other,
        "Handler",
        runtime=lambda_.Runtime.PYTHON_3_13,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return {}\n"),
    )
    RouteAuthorizer(other, "JwtGuard", service=auth.service_reference(), routes_file=routes_file).protect(
        api, {"inventory": handler}
    )
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    with pytest.raises(RuntimeError, match=r"Validation failed|ValidationFailed"):
        app.synth()  # the bare test API itself has findings (no access logs, no validators...)
    report = json.loads((Path(outdir) / "validation-report.json").read_text())
    ours = [
        f"{violation['ruleName']} at {construct['constructPath']}"
        for plugin in report["pluginReports"]
        for violation in plugin["violations"]
        for construct in violation["violatingConstructs"]
        if "/JwtGuard/" in construct["constructPath"] or construct["constructPath"].startswith("JwtAuth-dev/")
    ]
    assert ours == []

"""Another team's RestApi, in a CDK app of its own, gets its own authorizer reading its own
declaration, configured from the service's SSM parameters by name alone.

Two apps are synthesized separately (as two teams' pipelines would): the service's, and the
consumer's, which knows nothing of the service but its stage. Everything the consumer reads must
be a parameter the service publishes; nothing is exported or imported.
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_lambda as lambda_
from cdk_nag import AwsSolutionsChecks

from infra.bundling import REPO_ROOT, FunctionBundling
from infra.protect import RouteAuthorizer
from infra.sharing import AUTHORIZER_VARIABLES, UNUSED
from shared.config.settings import settings_from_env
from tests.infra.conftest import BASE_CONTEXT, ORIGINS, Synth, synth_for

INVENTORY_ROUTES = {
    "api": "inventory",
    "audience": "inventory-api",
    "routes": [
        {"method": "GET", "path": "/inventory", "function": "inventory", "allow": {}},
        {"method": "POST", "path": "/inventory", "function": "inventory", "allow": {"types": ["admin"]}},
        {"method": "GET", "path": "/health", "function": "inventory", "public": True},
    ],
}
SSM_PARAMETER_TYPE = "AWS::SSM::Parameter::Value<String>"


class Consumer:
    """The other team's app: its own cdk.App, its own stack, its API, our RouteAuthorizer."""

    def __init__(
        self, routes_file: Path, *, stage: str = "dev", cache_ttl: int = 0, nag: bool = False
    ) -> None:
        self.outdir = Path(tempfile.mkdtemp(prefix="consumer-"))
        app = cdk.App(context={**BASE_CONTEXT, "aws:cdk:bundling-stacks": []}, outdir=str(self.outdir))
        self.stack = cdk.Stack(app, "Inventory")
        api = apigw.RestApi(self.stack, "InventoryApi", deploy_options=apigw.StageOptions(stage_name="v1"))
        handler = lambda_.Function(
            self.stack,
            "InventoryFunction",
            runtime=lambda_.Runtime.PYTHON_3_13,
            handler="index.handler",
            code=lambda_.Code.from_inline("def handler(event, context):\n    return {'statusCode': 200}\n"),
        )
        self.guard = RouteAuthorizer(
            self.stack, "JwtGuard", stage=stage, routes_file=routes_file, cache_ttl_seconds=cache_ttl
        )
        self.guard.protect(api, {"inventory": handler})
        if nag:
            cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
        self.error = ""
        try:
            app.synth()
        except RuntimeError as error:
            self.error = str(error)
        self.json: dict[str, Any] = json.loads((self.outdir / "Inventory.template.json").read_text())

    def resources(self, kind: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.json["Resources"].items() if v["Type"] == kind}

    def parameter_names(self) -> dict[str, str]:
        """CloudFormation parameter id -> the SSM parameter name it reads at deploy."""
        return {
            pid: p["Default"]
            for pid, p in self.json.get("Parameters", {}).items()
            if p["Type"] == SSM_PARAMETER_TYPE and not p["Default"].startswith("/cdk-bootstrap/")
        }

    def authorizer_function(self) -> dict[str, Any]:
        return next(
            r["Properties"]
            for r in self.resources("AWS::Lambda::Function").values()
            if r["Properties"].get("Handler") == "functions.authorizer.handler.handler"
        )


@pytest.fixture(scope="module")
def routes_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("inventory") / "routes.json"
    path.write_text(json.dumps(INVENTORY_ROUTES))
    return path


@pytest.fixture(scope="module")
def consumer(routes_file: Path) -> Consumer:
    return Consumer(routes_file)


def published(service: Synth) -> dict[str, Any]:
    """SSM parameter name -> its value (a literal or a CloudFormation reference)."""
    return {
        p["Properties"]["Name"]: p["Properties"]["Value"]
        for p in service.resources("AWS::SSM::Parameter").values()
    }


def test_the_other_app_reads_only_parameters_the_service_publishes_and_imports_nothing(
    consumer: Consumer, dev: Synth, hs256: Synth
) -> None:
    read = set(consumer.parameter_names().values())
    assert read
    for service in (dev, hs256):
        assert read <= set(published(service)), read - set(published(service))
    text = json.dumps(consumer.json)
    assert "Fn::ImportValue" not in text and "Fn::GetStackOutput" not in text and "JwtAuth-" not in text


def test_the_service_exports_nothing_so_no_consumer_can_block_its_updates(dev: Synth, prod: Synth) -> None:
    for service in (dev, prod):
        assert all("Export" not in output for output in service.json["Outputs"].values())


def test_dropping_a_signing_key_keeps_every_parameter_name() -> None:
    """The documented rotation's last step: the parameter names stay, only values change."""
    both = synth_for({"signing_algorithm": "ES256", "signing_keys": "next,primary"})
    one = synth_for({"signing_algorithm": "ES256", "signing_keys": "next"})
    assert set(published(both)) == set(published(one))
    key_ids = "/jwt-auth/dev/env/SIGNING_KEY_IDS"
    assert json.dumps(published(both)[key_ids]).count("SigningKey") == 2
    assert json.dumps(published(one)[key_ids]).count("SigningKey") == 1


def test_the_names_follow_the_documented_scheme(dev: Synth) -> None:
    deploy = (REPO_ROOT / "docs" / "deploy.md").read_text()
    for name in published(dev):
        assert name.startswith("/jwt-auth/dev/"), name
        documented = re.sub(r"^/jwt-auth/dev/env/[A-Z0-9_]+$", "/jwt-auth/<stage>/env/<VARIABLE>", name)
        documented = documented.replace("/jwt-auth/dev/", "/jwt-auth/<stage>/")
        assert f"`{documented}`" in deploy, documented


@pytest.mark.parametrize("variant", ["dev", "hs256"])
def test_the_authorizer_gets_the_settings_of_the_services_own_functions(
    variant: str, consumer: Consumer, request: pytest.FixtureRequest
) -> None:
    """What the consumer's authorizer resolves at deploy gives the same settings as the service's
    functions have (except its own route declaration, and what no authorizer uses: the origins, the
    demo table, the factor key and the breached-password check, which only a password change runs)."""
    service: Synth = request.getfixturevalue(variant)
    values = published(service)
    parameters = consumer.parameter_names()
    env = consumer.authorizer_function()["Environment"]["Variables"]
    assert {name for name in env if not name.startswith("POWERTOOLS_")} == {
        *AUTHORIZER_VARIABLES,
        "ROUTES_FILE",
    }

    def text(value: Any) -> str:  # a CloudFormation reference stands for the value it resolves to
        return value if isinstance(value, str) else json.dumps(value, sort_keys=True)

    def through_parameter(value: Any) -> str:  # the consumer's SSM parameter -> what the service wrote
        return text(values[parameters[value["Ref"]]] if isinstance(value, dict) else value)

    theirs = settings_from_env({name: through_parameter(value) for name, value in env.items()})
    function = next(iter(service.resources("AWS::Lambda::Function").values()))
    variables = function["Properties"]["Environment"]["Variables"]
    ours = settings_from_env({name: text(value) for name, value in variables.items()})
    differing = {
        field for field in ours.__dataclass_fields__ if getattr(ours, field) != getattr(theirs, field)
    }
    assert differing <= {
        "routes_file",
        "allowed_origins",
        "cars_table",
        "factor_key_id",
        "pwned_passwords",
    }, differing
    assert theirs.routes_file == "/var/task/routes.json"
    assert UNUSED not in (
        theirs.hs256_secret_arn,
        *theirs.signing_key_ids,
    )  # the other mode's value is dropped


def _actions(statements: list[dict[str, Any]]) -> set[str]:
    found: set[str] = set()
    for statement in statements:
        actions = statement["Action"]
        found |= set(actions if isinstance(actions, list) else [actions])
    return found


def test_its_role_logs_and_traces_and_attaches_the_services_read_policy_only(consumer: Consumer) -> None:
    guard = consumer.guard
    role_id = consumer.stack.resolve(guard.role.node.default_child.logical_id)
    role = consumer.json["Resources"][role_id]["Properties"]
    (policy_arn,) = role["ManagedPolicyArns"]
    assert consumer.parameter_names()[policy_arn["Ref"]] == "/jwt-auth/dev/authorizer/policy-arn"
    inline = [
        s
        for r in consumer.resources("AWS::IAM::Policy").values()
        if {"Ref": role_id} in r["Properties"]["Roles"]
        for s in r["Properties"]["PolicyDocument"]["Statement"]
    ]
    assert _actions(inline) == {
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
    }


@pytest.mark.parametrize(
    ("variant", "reads"),
    [
        ("dev", {"dynamodb:BatchGetItem", "kms:GetPublicKey"}),
        ("hs256", {"dynamodb:BatchGetItem", "secretsmanager:GetSecretValue"}),
    ],
)
def test_the_services_read_policy_allows_the_denylist_and_the_verification_keys_only(
    variant: str, reads: set[str], request: pytest.FixtureRequest
) -> None:
    service: Synth = request.getfixturevalue(variant)
    (policy,) = service.resources("AWS::IAM::ManagedPolicy").values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    assert _actions(statements) == reads
    stack = service.stack
    denylist = stack.resolve(stack.tables.by_name["Denylist"].node.default_child.logical_id)
    resources = json.dumps([s["Resource"] for s in statements])
    assert denylist in resources and "*" not in resources


def test_the_other_api_gets_its_own_request_authorizer_instance(consumer: Consumer) -> None:
    (authorizer,) = consumer.resources("AWS::ApiGateway::Authorizer").values()
    assert authorizer["Properties"]["Type"] == "REQUEST"
    assert authorizer["Properties"]["IdentitySource"] == "method.request.header.Authorization"
    assert authorizer["Properties"]["AuthorizerResultTtlInSeconds"] == 0
    function = consumer.authorizer_function()
    assert function["Architectures"] == ["arm64"]
    (layer,) = function["Layers"]
    assert consumer.parameter_names()[layer["Ref"]] == "/jwt-auth/dev/authorizer/layer-arn"


def test_its_routes_come_from_its_own_declaration_with_the_authorizer_on_non_public_ones(
    consumer: Consumer,
) -> None:
    methods = [r["Properties"] for r in consumer.resources("AWS::ApiGateway::Method").values()]
    assert sorted((m["HttpMethod"], m["AuthorizationType"]) for m in methods) == [
        ("GET", "CUSTOM"),
        ("GET", "NONE"),
        ("POST", "CUSTOM"),
    ]


def test_its_cache_ttl_change_creates_a_new_deployment_of_the_other_api(routes_file: Path) -> None:
    def deployment(consumer: Consumer) -> str:
        (logical_id,) = consumer.resources("AWS::ApiGateway::Deployment")
        return logical_id

    assert deployment(Consumer(routes_file)) != deployment(Consumer(routes_file, cache_ttl=60))


def test_the_authorizer_asset_bundles_that_apis_declaration(tmp_path: Path, consumer: Consumer) -> None:
    FunctionBundling("authorizer", consumer.guard.routes_document).try_bundle(str(tmp_path))
    bundled = json.loads((tmp_path / "routes.json").read_text())
    assert (bundled["api"], bundled["audience"]) == ("inventory", "inventory-api")
    assert consumer.guard.routes.audience == "inventory-api"
    assert (tmp_path / "functions" / "authorizer" / "handler.py").is_file()
    assert (tmp_path / "shared" / "authorizer" / "decision.py").is_file()


def test_an_unknown_stage_or_a_cache_ttl_beyond_api_gateways_limit_is_refused(routes_file: Path) -> None:
    with pytest.raises(ValueError, match="stage"):
        Consumer(routes_file, stage="qa")
    with pytest.raises(ValueError, match="cache_ttl_seconds"):
        Consumer(routes_file, cache_ttl=3601)


def test_cdk_nag_finds_nothing_unacknowledged_in_the_authorizer_construct(routes_file: Path) -> None:
    """The other team's API is theirs to harden; what RouteAuthorizer adds must pass as is."""
    consumer = Consumer(routes_file, nag=True)
    assert consumer.error  # the bare test API itself has findings (no access logs, no validators...)
    report = json.loads((consumer.outdir / "validation-report.json").read_text())
    ours = [
        f"{violation['ruleName']} at {construct['constructPath']}"
        for plugin in report["pluginReports"]
        for violation in plugin["violations"]
        for construct in violation["violatingConstructs"]
        if "/JwtGuard/" in construct["constructPath"]
    ]
    assert ours == []


def test_the_service_publishes_the_same_origins_free_environment_in_every_variant(dev: Synth) -> None:
    assert ORIGINS  # dev has origins; they are not shared (no authorizer writes CORS headers)
    assert "/jwt-auth/dev/env/ALLOWED_ORIGINS" not in published(dev)

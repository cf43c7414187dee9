"""Canary releases through CodeDeploy on the `live` alias (context canary_release): traffic shifts
to a new version step by step, rolls back by itself when an alarm fires or the post-traffic smoke
check fails; off by default."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from functions.smoke_hook import handler as smoke_hook
from functions.smoke_hook import smoke
from infra.config import CANARY_RELEASES, ContextError, config_from_context
from infra.lambdas import RELEASED
from infra.release import DEPLOYMENT_CONFIGS, SMOKE_HOOK, HookBundling
from tests.infra.conftest import Synth, synth_for


def _id(synth: Synth, construct: Any) -> str:
    return synth.stack.resolve(construct.node.default_child.logical_id)


def test_off_by_default(dev: Synth) -> None:
    assert dev.resources("AWS::CodeDeploy::DeploymentGroup") == {}
    assert dev.resources("AWS::CodeDeploy::Application") == {}


def test_the_authorizer_and_the_token_functions_are_released_on_their_live_alias(canary: Synth) -> None:
    (application,) = canary.resources("AWS::CodeDeploy::Application").values()
    assert application["Properties"]["ComputePlatform"] == "Lambda"
    groups = canary.resources("AWS::CodeDeploy::DeploymentGroup")
    assert len(groups) == len(RELEASED) == 3
    for group in groups.values():
        properties = group["Properties"]
        assert properties["DeploymentConfigName"] == "CodeDeployDefault.LambdaCanary10Percent5Minutes"
        assert properties["DeploymentStyle"] == {
            "DeploymentOption": "WITH_TRAFFIC_CONTROL",
            "DeploymentType": "BLUE_GREEN",
        }
    aliases = canary.resources("AWS::Lambda::Alias")
    for name in RELEASED:
        alias = aliases[_id(canary, canary.stack.functions.targets[name])]
        assert alias["Properties"]["Name"] == "live"
        update = alias["UpdatePolicy"]["CodeDeployLambdaAliasUpdate"]
        assert update["AfterAllowTrafficHook"] == {"Ref": _id(canary, canary.stack.release.hook)}
        assert update["DeploymentGroupName"]["Ref"] in groups


def test_api_gateway_invokes_the_released_aliases(canary: Synth) -> None:
    (authorizer,) = canary.resources("AWS::ApiGateway::Authorizer").values()
    alias = _id(canary, canary.stack.functions.targets["authorizer"])
    assert alias in json.dumps(authorizer["Properties"]["AuthorizerUri"])


def test_rollback_is_automatic_on_failure_on_stop_and_on_alarm(canary: Synth) -> None:
    for group in canary.resources("AWS::CodeDeploy::DeploymentGroup").values():
        rollback = group["Properties"]["AutoRollbackConfiguration"]
        assert rollback["Enabled"] is True
        assert set(rollback["Events"]) == {
            "DEPLOYMENT_FAILURE",
            "DEPLOYMENT_STOP_ON_REQUEST",
            "DEPLOYMENT_STOP_ON_ALARM",
        }
        assert group["Properties"]["AlarmConfiguration"]["Enabled"] is True


def _group_alarm_names(synth: Synth, function: str) -> set[str]:
    group = synth.json["Resources"][_id(synth, synth.stack.release.groups[function])]
    alarms = synth.resources("AWS::CloudWatch::Alarm")
    names = set()
    for entry in group["Properties"]["AlarmConfiguration"]["Alarms"]:
        names.add(alarms[entry["Name"]["Ref"]]["Properties"]["AlarmName"])
    return names


def test_the_alarms_that_roll_back_cover_errors_5xx_and_latency(canary: Synth) -> None:
    authorizer = _group_alarm_names(canary, "authorizer")
    assert authorizer == {
        "jwt-auth-dev-release-authorizer-undecidable",  # its Errors count every ordinary 401
        "jwt-auth-dev-release-authorizer-latency",
        "jwt-auth-dev-release-api-5xx",
    }
    for name in ("login", "refresh"):
        assert _group_alarm_names(canary, name) == {
            f"jwt-auth-dev-release-{name}-errors",
            f"jwt-auth-dev-release-{name}-latency",
            "jwt-auth-dev-release-api-5xx",
        }
    alarms = {
        a["Properties"]["AlarmName"]: a["Properties"]
        for a in canary.resources("AWS::CloudWatch::Alarm").values()
    }
    errors = alarms["jwt-auth-dev-release-login-errors"]
    assert {
        "Name": "Resource",
        "Value": {"Fn::Join": ["", [{"Ref": _id(canary, canary.stack.functions.by_name["login"])}, ":live"]]},
    } in errors["Dimensions"]
    assert alarms["jwt-auth-dev-release-api-5xx"]["Period"] == 60


def test_the_smoke_check_runs_operations_smoke_against_the_stage_and_reports_to_codedeploy(
    canary: Synth,
) -> None:
    hook = canary.json["Resources"][_id(canary, canary.stack.release.hook)]["Properties"]
    assert hook["Handler"] == f"functions.{SMOKE_HOOK}.handler.handler"
    assert hook["Runtime"] == canary.stack.runtime.name
    env = hook["Environment"]["Variables"]
    assert env["SMOKE_SECRET_ARN"] == {"Ref": _id(canary, canary.stack.release.smoke_secret)}
    assert "execute-api" in json.dumps(env["BASE_URL"]) and "/dev/" in json.dumps(env["BASE_URL"])
    role = _id(canary, canary.stack.release.hook.role)
    actions = {}
    for policy in canary.resources("AWS::IAM::Policy").values():
        if {"Ref": role} in policy["Properties"]["Roles"]:
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                for action in (
                    statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                ):
                    actions[action] = statement["Resource"]
    assert set(actions) == {
        "codedeploy:PutLifecycleEventHookExecutionStatus",
        "secretsmanager:GetSecretValue",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    }
    assert actions["secretsmanager:GetSecretValue"] == {"Ref": _id(canary, canary.stack.release.smoke_secret)}


def test_the_smoke_secret_has_a_known_name_an_output_and_no_credential_in_the_template(canary: Synth) -> None:
    secret = canary.json["Resources"][_id(canary, canary.stack.release.smoke_secret)]["Properties"]
    assert secret["Name"] == "jwt-auth/dev/smoke"
    assert json.loads(secret["SecretString"]) == {"configured": False}  # the operator fills it in
    assert canary.json["Outputs"]["SmokeSecretArn"]["Value"] == {
        "Ref": _id(canary, canary.stack.release.smoke_secret)
    }


def test_the_hook_asset_holds_the_hook_and_the_smoke_test_only(tmp_path: Path) -> None:
    HookBundling().try_bundle(str(tmp_path))
    assert {p.name for p in tmp_path.iterdir()} == {"functions"}
    assert {p.name for p in (tmp_path / "functions").iterdir()} == {"__init__.py", SMOKE_HOOK}
    hook = tmp_path / "functions" / SMOKE_HOOK
    assert {p.name for p in hook.iterdir()} == {"__init__.py", "handler.py", "smoke.py"}


def test_every_canary_setting_maps_to_a_codedeploy_configuration() -> None:
    for value, config in (
        ("linear-10-1min", "CodeDeployDefault.LambdaLinear10PercentEvery1Minute"),
        ("all-at-once", "CodeDeployDefault.LambdaAllAtOnce"),
    ):
        synth = synth_for({"canary_release": value})
        configs = {
            g["Properties"]["DeploymentConfigName"]
            for g in synth.resources("AWS::CodeDeploy::DeploymentGroup").values()
        }
        assert configs == {config}


def test_canary_release_passes_cdk_nag(canary: Synth) -> None:
    assert canary.nag_error == ""


def test_every_context_value_is_a_codedeploy_configuration() -> None:
    assert set(CANARY_RELEASES) == {"off", *DEPLOYMENT_CONFIGS}


def test_an_unknown_canary_setting_stops_synthesis() -> None:
    with pytest.raises(ContextError, match="canary_release"):
        config_from_context({"canary_release": "canary-50-1min"}.get)


class FakeCodeDeploy:
    def __init__(self) -> None:
        self.reported: list[dict[str, str]] = []

    def put_lifecycle_event_hook_execution_status(self, **kwargs: str) -> None:
        self.reported.append(kwargs)


class FakeSecrets:
    def __init__(self, value: str) -> None:
        self.value = value

    def get_secret_value(self, SecretId: str) -> dict[str, str]:  # boto3's name
        return {"SecretString": self.value}


EVENT = {"DeploymentId": "d-1", "LifecycleEventHookExecutionId": "h-1"}
FILLED = json.dumps({"email": "smoke@example.com", "password": "pw", "user_type": "staff"})


@pytest.mark.parametrize(
    ("secret", "smoke_passes", "status"),
    [
        (FILLED, True, "Succeeded"),
        (FILLED, False, "Failed"),
        (json.dumps({"configured": False}), True, "Failed"),  # the operator has not filled it in
        ("not json", True, "Failed"),
    ],
)
def test_the_hook_reports_the_smoke_tests_result_to_codedeploy(
    secret: str, smoke_passes: bool, status: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []

    def run(base_url: str, email: str, password: str, user_type: str, say: Any = print) -> None:
        calls.append((base_url, email, user_type))
        if not smoke_passes:
            raise smoke.SmokeFailure("login: expected HTTP 200, got 500")

    monkeypatch.setattr(smoke, "run", run)
    monkeypatch.setenv("BASE_URL", "https://abc.execute-api.eu-west-1.amazonaws.com/dev/")
    monkeypatch.setenv("SMOKE_SECRET_ARN", "arn:secret")
    codedeploy = FakeCodeDeploy()
    assert smoke_hook.handler(EVENT, None, {"codedeploy": codedeploy, "secrets": FakeSecrets(secret)}) == {
        "status": status
    }
    assert codedeploy.reported == [
        {"deploymentId": "d-1", "lifecycleEventHookExecutionId": "h-1", "status": status}
    ]
    if secret == FILLED:
        assert calls == [
            ("https://abc.execute-api.eu-west-1.amazonaws.com/dev/", "smoke@example.com", "staff")
        ]

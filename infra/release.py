"""Canary releases of the authorizer and the token functions (context `canary_release`).

Each released function is invoked through its `live` alias. When a deploy publishes a new version,
CloudFormation hands the alias update to CodeDeploy, which shifts traffic to the new version by the
configured steps (canary: 10 % first, the rest after N minutes; linear: 10 % more every N minutes)
and rolls the alias back by itself when a deployment alarm fires during the shift, when the
deployment fails or is stopped, or when the post-traffic hook reports a failed smoke test.

Deployment alarms (1-minute periods, so a bad version is caught within the first canary step):
- the authorizer: its undecidable answers (its Lambda `Errors` count every ordinary 401, so they are
  not used) and its p99 duration on the alias;
- login and refresh: Lambda `Errors` and p99 duration on the alias;
- all three: API 5xx responses on the stage.

The post-traffic hook (functions/smoke_hook/, the code of `python -m operations.smoke`) runs
against the stage with the credentials of a dedicated smoke-test user kept in a Secrets Manager
secret the stack creates and the operator fills in.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import jsii
from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_codedeploy as codedeploy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.api import api_metric
from infra.bundling import REPO_ROOT
from infra.config import DeployConfig
from infra.lambdas import AUTHORIZER, retention
from infra.monitoring import UNDECIDABLE_METRIC, Monitoring
from infra.tables import removal_policy

SMOKE_HOOK = "smoke_hook"
ALARM_PERIOD = Duration.minutes(1)
# p99 duration (ms) above which a new version is rolled back: several times what each takes warm
# (docs/benchmarks.md), well under its timeout.
LATENCY_BUDGET_MS = {AUTHORIZER: 1000, "login": 3000, "refresh": 1500}
DEPLOYMENT_CONFIGS = {
    "canary-10-5min": codedeploy.LambdaDeploymentConfig.CANARY_10_PERCENT_5_MINUTES,
    "canary-10-10min": codedeploy.LambdaDeploymentConfig.CANARY_10_PERCENT_10_MINUTES,
    "canary-10-15min": codedeploy.LambdaDeploymentConfig.CANARY_10_PERCENT_15_MINUTES,
    "canary-10-30min": codedeploy.LambdaDeploymentConfig.CANARY_10_PERCENT_30_MINUTES,
    "linear-10-1min": codedeploy.LambdaDeploymentConfig.LINEAR_10_PERCENT_EVERY_1_MINUTE,
    "linear-10-2min": codedeploy.LambdaDeploymentConfig.LINEAR_10_PERCENT_EVERY_2_MINUTES,
    "linear-10-3min": codedeploy.LambdaDeploymentConfig.LINEAR_10_PERCENT_EVERY_3_MINUTES,
    "linear-10-10min": codedeploy.LambdaDeploymentConfig.LINEAR_10_PERCENT_EVERY_10_MINUTES,
    "all-at-once": codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE,
}
HOOK_DIR = REPO_ROOT / "functions" / SMOKE_HOOK


@jsii.implements(cdk.ILocalBundling)
class HookBundling:
    """The hook's asset: functions/smoke_hook/ and the package file above it, nothing else."""

    def try_bundle(self, output_dir: str, options: Any = None, **kwargs: Any) -> bool:
        out = Path(output_dir) / "functions"
        shutil.copytree(
            HOOK_DIR, out / SMOKE_HOOK, ignore=shutil.ignore_patterns("__pycache__"), dirs_exist_ok=True
        )
        shutil.copy2(HOOK_DIR.parent / "__init__.py", out / "__init__.py")
        return True


def hook_code(runtime: lambda_.Runtime) -> lambda_.Code:
    return lambda_.Code.from_asset(
        str(HOOK_DIR),
        asset_hash_type=cdk.AssetHashType.OUTPUT,
        bundling=cdk.BundlingOptions(image=runtime.bundling_image, local=HookBundling()),
    )


class Release(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeployConfig,
        aliases: dict[str, lambda_.Alias],
        base_url: str,
        runtime: lambda_.Runtime,
        monitoring: Monitoring,
    ) -> None:
        super().__init__(scope, construct_id)
        self.config = config
        self.monitoring = monitoring
        self.smoke_secret = secretsmanager.Secret(
            self,
            "SmokeSecret",
            secret_name=f"jwt-auth/{config.stage}/smoke",
            description=f"jwt-auth {config.stage}: the smoke-test user the release hook signs in as; "
            'the operator sets {"email", "password", "user_type"} (docs/deploy.md)',
            secret_string_value=cdk.SecretValue.unsafe_plain_text(json.dumps({"configured": False})),
            removal_policy=removal_policy(config),
        )
        self.hook = self._hook(base_url, runtime)
        self.application = codedeploy.LambdaApplication(
            self, "Application", application_name=f"jwt-auth-{config.stage}"
        )
        self.role = iam.Role(
            self,
            "DeploymentRole",
            assumed_by=iam.ServicePrincipal("codedeploy.amazonaws.com"),
            description=f"jwt-auth {config.stage}: CodeDeploy shifts the live aliases",
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name(
                    "service-role/AWSCodeDeployRoleForLambdaLimited"
                )
            ],
        )
        api_5xx = monitoring.alarm(
            "ReleaseApi5xx",
            api_metric(config, "5XXError", "Sum", ALARM_PERIOD),
            1,
            "During a release: the API answered 5xx. CodeDeploy rolls the live aliases back.",
            name="release-api-5xx",
        )
        self.groups: dict[str, codedeploy.LambdaDeploymentGroup] = {}
        for name, alias in aliases.items():
            alarms = [api_5xx, self._errors_alarm(name, alias), self._latency_alarm(name, alias)]
            self.groups[name] = codedeploy.LambdaDeploymentGroup(
                self,
                f"{name.capitalize()}Group",
                application=self.application,
                deployment_group_name=f"jwt-auth-{config.stage}-{name}",
                alias=alias,
                deployment_config=DEPLOYMENT_CONFIGS[config.canary_release],
                alarms=alarms,
                auto_rollback=codedeploy.AutoRollbackConfig(
                    failed_deployment=True, stopped_deployment=True, deployment_in_alarm=True
                ),
                post_hook=self.hook,
                role=self.role,
            )

    def _hook(self, base_url: str, runtime: lambda_.Runtime) -> lambda_.Function:
        log_group = logs.LogGroup(
            self, "HookLogs", retention=retention(self.config), removal_policy=removal_policy(self.config)
        )
        role = iam.Role(
            self,
            "HookRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"jwt-auth {self.config.stage}: the release smoke check",
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[log_group.log_group_arn]
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["secretsmanager:GetSecretValue"], resources=[self.smoke_secret.secret_arn]
            )
        )
        return lambda_.Function(
            self,
            "SmokeHook",
            description=f"jwt-auth {self.config.stage}: smoke test after a release shifted all traffic",
            runtime=runtime,
            architecture=lambda_.Architecture.ARM_64,
            handler=f"functions.{SMOKE_HOOK}.handler.handler",
            code=hook_code(runtime),
            role=role,
            memory_size=256,
            timeout=Duration.minutes(2),
            environment={"BASE_URL": base_url, "SMOKE_SECRET_ARN": self.smoke_secret.secret_arn},
            log_group=log_group,
            logging_format=lambda_.LoggingFormat.JSON,
        )

    def _errors_alarm(self, name: str, alias: lambda_.Alias) -> cloudwatch.Alarm:
        if name == AUTHORIZER:
            undecidable = self.monitoring.event_metrics[UNDECIDABLE_METRIC].with_(period=ALARM_PERIOD)
            return self.monitoring.alarm(
                "ReleaseAuthorizerUndecidable",
                undecidable,
                1,
                "During a release: the authorizer could not decide (KMS, DynamoDB or configuration). "
                "CodeDeploy rolls the live alias back.",
                name="release-authorizer-undecidable",
            )
        return self.monitoring.alarm(
            f"Release{name.capitalize()}Errors",
            alias.metric_errors(period=ALARM_PERIOD, statistic="Sum"),
            1,
            f"During a release: the {name} function raised errors. CodeDeploy rolls the live alias back.",
            name=f"release-{name}-errors",
        )

    def _latency_alarm(self, name: str, alias: lambda_.Alias) -> cloudwatch.Alarm:
        budget = LATENCY_BUDGET_MS[name]
        return self.monitoring.alarm(
            f"Release{name.capitalize()}Latency",
            alias.metric_duration(period=ALARM_PERIOD, statistic="p99"),
            budget,
            f"During a release: the {name} function's p99 duration reached {budget} ms. "
            "CodeDeploy rolls the live alias back.",
            name=f"release-{name}-latency",
        )

"""The Lambda functions: one role, one log group and one function per declared function name, all
sharing one layer and one environment. Permissions come from infra/permissions.py only."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import aws_cdk as cdk
from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.bundling import (
    LAMBDA_TASK_ROOT,
    ROUTES_ASSET_NAME,
    LayerBundling,
    check_function_folder,
    function_code,
    handler_path,
    layer_code,
    python_version_of,
)
from infra.config import AUTHORIZER, LOG_RETENTION_DAYS, DeployConfig
from infra.permissions import Access, access_for
from infra.tables import removal_policy
from shared.config.tunables import IN_CONTEXT, env_value
from shared.core.observability import SERVICE, metrics_namespace

# Released through CodeDeploy on their `live` alias when context canary_release is on (infra/release.py).
RELEASED = (AUTHORIZER, "login", "refresh")


def function_names(routes: Any) -> tuple[str, ...]:
    """Every function the route declaration names, plus the authorizer, in a stable order."""
    return (*sorted({route.function for route in routes.routes}), AUTHORIZER)


def check_function_folders(names: Iterable[str]) -> None:
    missing = []
    for name in names:
        try:
            check_function_folder(name)
        except FileNotFoundError:
            missing.append(name)
    if missing:
        folders = ", ".join(f"functions/{name}/handler.py" for name in missing)
        raise FileNotFoundError(
            f"the route declaration names functions whose code is missing: {folders}. "
            "Add them, or remove their routes from the declaration."
        )


def settings_environment(config: DeployConfig, *, issuer: str) -> dict[str, str]:
    """The deploy-time settings every function reads (shared/config/settings.py), minus table names, key ids
    and secret ARNs (infra/tables.py, infra/keys.py): one variable per tunable with a context key."""
    return {
        "ISSUER": issuer,
        "AUDIENCE": config.audience_value,
        **{tunable.env: env_value(config.functions[tunable.context]) for tunable in IN_CONTEXT},
        "ROUTES_FILE": f"{LAMBDA_TASK_ROOT}/{ROUTES_ASSET_NAME}",
        "POWERTOOLS_SERVICE_NAME": SERVICE,
        # Powertools reads it when the code names no namespace itself. shared/core/observability.py names
        # one (JwtAuth) today, so the functions' own EMF metrics are not per stage yet; the alarms and
        # the dashboard do not use them (infra/monitoring.py counts from each stage's own logs).
        "POWERTOOLS_METRICS_NAMESPACE": metrics_namespace(config.stage),
        "POWERTOOLS_LOG_LEVEL": "INFO",
    }


class SharedLayer(Construct):
    """The third-party packages every function needs, built locally for arm64."""

    def __init__(self, scope: Construct, construct_id: str, *, runtime: lambda_.Runtime) -> None:
        super().__init__(scope, construct_id)
        # What decides the layer's content (the lock file and the target): functions that publish
        # versions mix it into their version's hash, so a layer-only change publishes a new version.
        self.fingerprint = LayerBundling(python_version_of(runtime)).fingerprint()
        self.layer = lambda_.LayerVersion(
            self,
            "Dependencies",
            code=layer_code(runtime),
            compatible_runtimes=[runtime],
            compatible_architectures=[lambda_.Architecture.ARM_64],
            description="jwt-auth third-party dependencies (requirements/layer.txt: Powertools, PyJWT, "
            "cryptography, argon2-cffi)",
        )


class FunctionRoles(Construct):
    """One role per function, created before the keys (whose policy names the signers)."""

    def __init__(self, scope: Construct, construct_id: str, *, names: Iterable[str]) -> None:
        super().__init__(scope, construct_id)
        self.by_name: dict[str, iam.Role] = {name: self._role(name) for name in names}

    def _role(self, name: str) -> iam.Role:
        return iam.Role(
            self,
            name.capitalize(),
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"jwt-auth {name} function: only what infra/permissions.py declares",
        )

    def signers(self) -> list[iam.IRole]:
        return [self.by_name[name] for name in self.by_name if access_for(name).sign]


class Functions(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeployConfig,
        roles: FunctionRoles,
        layer: SharedLayer,
        runtime: lambda_.Runtime,
        environment: dict[str, str],
        routes_document: dict[str, Any],
        tables: dict[str, Any],
        keys: Any,
    ) -> None:
        super().__init__(scope, construct_id)
        self.config = config
        self.runtime = runtime
        self.layer = layer
        self.environment = environment
        self.routes_document = routes_document
        self.tables = tables
        self.keys = keys
        self.log_groups: dict[str, logs.LogGroup] = {}
        self.by_name: dict[str, lambda_.Function] = {}
        # What API Gateway invokes: the function, or its `live` alias on a published version when
        # SnapStart, provisioned concurrency (the authorizer's) or a canary release (RELEASED) is on.
        self.targets: dict[str, lambda_.IFunction] = {}
        for name, role in roles.by_name.items():
            self.by_name[name] = self._function(name, role)
            self.targets[name] = self._target(name, self.by_name[name])

    def _function(self, name: str, role: iam.Role) -> lambda_.Function:
        access = access_for(name)
        log_group = self._log_group(name)
        snap_start = lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS if self.config.snap_start_for(name) else None
        function = lambda_.Function(
            self,
            name.capitalize(),
            description=f"jwt-auth {name}",
            runtime=self.runtime,
            architecture=lambda_.Architecture.ARM_64,
            handler=handler_path(name),
            code=function_code(name, self.routes_document, self.runtime),
            layers=[self.layer.layer],
            role=role,
            memory_size=access.memory_mb,
            timeout=Duration.seconds(access.timeout_seconds),
            environment=self.environment,
            tracing=lambda_.Tracing.ACTIVE,
            log_group=log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            snap_start=snap_start,
        )
        # The version hash covers code, configuration and (with the recognizeLayerVersion feature flag)
        # the layers; this makes a layer-only change publish a new version whatever the flags say, so
        # the `live` alias (SnapStart, provisioned concurrency) moves to the new dependencies.
        function.invalidate_version_based_on(self.layer.fingerprint)
        self._grant_logs(role, log_group)
        self._grant(role, access)
        return function

    def _target(self, name: str, function: lambda_.Function) -> lambda_.IFunction:
        provisioned = self.config.provisioned_concurrency if name == AUTHORIZER else 0
        released = self.config.canary_release != "off" and name in RELEASED
        if not (self.config.snap_start_for(name) or provisioned or released):
            return function
        return lambda_.Alias(
            self,
            f"{name.capitalize()}Live",
            alias_name="live",
            version=function.current_version,
            provisioned_concurrent_executions=provisioned or None,
        )

    def _log_group(self, name: str) -> logs.LogGroup:
        log_group = logs.LogGroup(
            self,
            f"{name.capitalize()}Logs",
            retention=retention(self.config),
            removal_policy=removal_policy(self.config),
        )
        self.log_groups[name] = log_group
        return log_group

    @staticmethod
    def _grant_logs(role: iam.Role, log_group: logs.LogGroup) -> None:
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[log_group.log_group_arn],
            )
        )

    def _grant(self, role: iam.Role, access: Access) -> None:
        grant_access(role, access, self.tables, self.keys)
        if access.send_mail and self.config.mail_sender:
            role.add_to_principal_policy(mail_statement(self, self.config))


def mail_statement(scope: Construct, config: DeployConfig) -> iam.PolicyStatement:
    """ses:SendEmail from the configured sender only: its address and domain identities (SES checks
    whichever is verified) and the configuration set, if one is named."""
    stack = cdk.Stack.of(scope)
    domain = config.mail_sender.rsplit("@", 1)[1]
    names = [f"identity/{config.mail_sender}", f"identity/{domain}"]
    if config.mail_configuration_set:
        names.append(f"configuration-set/{config.mail_configuration_set}")
    return iam.PolicyStatement(
        actions=["ses:SendEmail"],
        resources=[stack.format_arn(service="ses", resource=name) for name in names],
        conditions={"StringEquals": {"ses:FromAddress": config.mail_sender}},
    )


def grant_access(role: iam.IRole, access: Access, tables: dict[str, Any], keys: Any) -> None:
    """Turn one permissions.py entry into IAM statements on exactly the named resources."""
    for table_name, actions in access.tables.items():
        table = tables.get(table_name)
        if table is None:
            continue  # a table this deployment does not have (the demo cars table, demo off)
        prefixes = access.leading_keys.get(table_name)
        conditions = (
            {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": list(prefixes)}} if prefixes else None
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=list(actions), resources=[table.table_arn], conditions=conditions)
        )
    for table_name, (index, actions) in access.indexes.items():
        table = tables.get(table_name)
        if table is not None:
            role.add_to_principal_policy(
                iam.PolicyStatement(actions=list(actions), resources=[f"{table.table_arn}/index/{index}"])
            )
    if access.sign:
        keys.grant_sign(role)
    if access.read_public_keys:
        keys.grant_read_public_keys(role)
    if access.read_refresh_key:
        keys.grant_read_refresh_key(role)
    if access.encrypt_factors or access.decrypt_factors:
        keys.grant_factors(role, encrypt=access.encrypt_factors, decrypt=access.decrypt_factors)


def retention(config: DeployConfig) -> logs.RetentionDays:
    """Days -> CloudWatch's enum (its members are in the same order as LOG_RETENTION_DAYS)."""
    members = [member for member in logs.RetentionDays if member.name != "INFINITE"]
    return dict(zip(LOG_RETENTION_DAYS, members, strict=True))[config.log_retention_days]

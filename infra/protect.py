"""Protect another team's API with this service's tokens.

`RouteAuthorizer` gives another RestApi (in any stack, of any CDK app, in the account and region of
the service) its own authorizer instance: the same code as ours, reading that API's own route
declaration (same format as shared/routes/routes.json, bundled into its asset as /var/task/routes.json),
configured from the SSM parameters the service publishes (infra/sharing.py) by name alone. Nothing
of the service's stack is imported, so the service deploys, rotates its keys and changes its
settings without ever being blocked by a consumer; a consumer takes the new values at its next
deploy (docs/deploy.md says when one is needed).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from infra.api import redeploy_on_authorizer_change, request_authorizer, wire_routes
from infra.bundling import (
    LAMBDA_TASK_ROOT,
    PYTHON_RUNTIME,
    ROUTES_ASSET_NAME,
    function_code,
    handler_path,
)
from infra.config import STAGES
from infra.lambdas import AUTHORIZER
from infra.nag import acknowledge_xray
from infra.permissions import access_for
from infra.sharing import AUTHORIZER_VARIABLES, LAYER_ARN, POLICY_ARN, parameter_name, variable_parameter
from shared.core.observability import SERVICE, metrics_namespace
from shared.routes.declaration import RouteTable, parse_route_table

MAX_CACHE_TTL = 3600  # API Gateway's limit


def load_declaration(path: str | Path, *, include_demo: bool = False) -> tuple[dict[str, Any], RouteTable]:
    """The raw declaration (what gets bundled) and its parsed, validated form."""
    document = json.loads(Path(path).read_text(encoding="utf-8"))
    if not include_demo:
        document = {**document, "routes": [route for route in document["routes"] if not route.get("demo")]}
    return document, parse_route_table(document)


class RouteAuthorizer(Construct):
    """`stage`: the service's stage, whose parameters (/jwt-auth/<stage>/...) configure it.
    `cache_ttl_seconds`: API Gateway's cache of its answers, 0 (the default) for immediate
    revocation; never more than the service's access-token lifetime."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        routes_file: str | Path,
        cache_ttl_seconds: int = 0,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH,
        layer: lambda_.ILayerVersion | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        if stage not in STAGES:
            raise ValueError(f"stage must be one of {', '.join(STAGES)}, got {stage!r}")
        if not 0 <= cache_ttl_seconds <= MAX_CACHE_TTL:
            raise ValueError(
                f"cache_ttl_seconds must be between 0 and {MAX_CACHE_TTL}, got {cache_ttl_seconds}"
            )
        self.stage = stage
        self.cache_ttl_seconds = cache_ttl_seconds
        self.routes_document, self.routes = load_declaration(routes_file)
        runtime = PYTHON_RUNTIME
        self.layer = layer or lambda_.LayerVersion.from_layer_version_arn(
            self, "Layer", self._parameter(parameter_name(stage, LAYER_ARN))
        )
        self.log_group = logs.LogGroup(self, "Logs", retention=log_retention)
        self.role = self._role()
        access = access_for(AUTHORIZER)
        self.function = lambda_.Function(
            self,
            "Function",
            description=f"jwt-auth {stage} authorizer for API '{self.routes.api}'",
            runtime=runtime,
            architecture=lambda_.Architecture.ARM_64,
            handler=handler_path(AUTHORIZER),
            code=function_code(AUTHORIZER, self.routes_document, runtime),
            layers=[self.layer],
            role=self.role,
            memory_size=access.memory_mb,
            timeout=Duration.seconds(access.timeout_seconds),
            environment=self._environment(),
            tracing=lambda_.Tracing.ACTIVE,
            log_group=self.log_group,
            logging_format=lambda_.LoggingFormat.JSON,
        )
        self.authorizer = request_authorizer(self, "Authorizer", self.function, cache_ttl_seconds)
        acknowledge_xray(self.role)

    def _parameter(self, name: str) -> str:
        """Resolved by CloudFormation at each deploy of the consumer's stack."""
        return ssm.StringParameter.value_for_string_parameter(self, name)

    def _environment(self) -> dict[str, str]:
        environment = {
            variable: self._parameter(variable_parameter(self.stage, variable))
            for variable in AUTHORIZER_VARIABLES
        }
        return {
            **environment,
            "ROUTES_FILE": f"{LAMBDA_TASK_ROOT}/{ROUTES_ASSET_NAME}",
            "POWERTOOLS_SERVICE_NAME": SERVICE,
            "POWERTOOLS_METRICS_NAMESPACE": metrics_namespace(self.stage),
            "POWERTOOLS_LOG_LEVEL": "INFO",
        }

    def _role(self) -> iam.Role:
        """Its log group, X-Ray, and the service's managed policy (the denylist and the verification
        keys, kept current by the service itself): nothing else (see infra/permissions.py)."""
        role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"jwt-auth {self.stage} authorizer for API '{self.routes.api}'",
            managed_policies=[
                iam.ManagedPolicy.from_managed_policy_arn(
                    self, "ServiceReadPolicy", self._parameter(parameter_name(self.stage, POLICY_ARN))
                )
            ],
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[self.log_group.log_group_arn],
            )
        )
        return role

    def protect(
        self, api: apigw.RestApi, handlers: Mapping[str, lambda_.IFunction]
    ) -> dict[str, apigw.Method]:
        """Wire every route of the declaration on `api` to its handler (by the route's `function`
        name), with this authorizer in front of every non-public route."""
        methods = wire_routes(api, self.routes, handlers, self.authorizer)
        redeploy_on_authorizer_change(api, self.function, self.cache_ttl_seconds)
        return methods

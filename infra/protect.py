"""Protect another team's API with this service's tokens.

`RouteAuthorizer` gives another RestApi (in any stack of the same account and region) its own
authorizer instance: the same code and settings as ours, but reading that API's own route
declaration (same format as shared/routes.json), bundled into its asset as /var/task/routes.json.
It may read the denylist and the public keys, nothing else.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.api import redeploy_on_authorizer_change, request_authorizer, wire_routes
from infra.bundling import function_code, handler_path, newest_python_runtime
from infra.lambdas import AUTHORIZER, SharedLayer
from infra.nag import acknowledge_xray
from infra.permissions import access_for
from shared.routes import RouteTable, parse_route_table


@dataclass(frozen=True)
class AuthServiceReference:
    """What an authorizer elsewhere needs from the auth service (values or CDK tokens)."""

    environment: Mapping[str, str]  # the settings every function of the service reads
    denylist_table_arn: str
    signing_key_arns: tuple[str, ...] = ()
    hs256_secret_arn: str = ""
    cache_ttl_seconds: int = 0
    log_retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH


def load_declaration(path: str | Path, *, include_demo: bool = False) -> tuple[dict[str, Any], RouteTable]:
    """The raw declaration (what gets bundled) and its parsed, validated form."""
    document = json.loads(Path(path).read_text(encoding="utf-8"))
    if not include_demo:
        document = {**document, "routes": [route for route in document["routes"] if not route.get("demo")]}
    return document, parse_route_table(document)


class RouteAuthorizer(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        service: AuthServiceReference,
        routes_file: str | Path,
        layer: lambda_.ILayerVersion | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.service = service
        self.routes_document, self.routes = load_declaration(routes_file)
        runtime = newest_python_runtime()
        self.layer = layer or SharedLayer(self, "Layer", runtime=runtime).layer
        self.log_group = logs.LogGroup(self, "Logs", retention=service.log_retention)
        self.role = self._role()
        access = access_for(AUTHORIZER)
        self.function = lambda_.Function(
            self,
            "Function",
            description=f"jwt-auth authorizer for API '{self.routes.api}'",
            runtime=runtime,
            architecture=lambda_.Architecture.ARM_64,
            handler=handler_path(AUTHORIZER),
            code=function_code(AUTHORIZER, self.routes_document, runtime),
            layers=[self.layer],
            role=self.role,
            memory_size=access.memory_mb,
            timeout=Duration.seconds(access.timeout_seconds),
            environment=dict(service.environment),
            tracing=lambda_.Tracing.ACTIVE,
            log_group=self.log_group,
            logging_format=lambda_.LoggingFormat.JSON,
        )
        self.authorizer = request_authorizer(self, "Authorizer", self.function, service.cache_ttl_seconds)
        acknowledge_xray(self.role)

    def _role(self) -> iam.Role:
        """Denylist BatchGetItem and the verification keys: nothing else (see infra/permissions.py)."""
        role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"jwt-auth authorizer for API '{self.routes.api}'",
        )
        (actions,) = access_for(AUTHORIZER).tables.values()
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=list(actions), resources=[self.service.denylist_table_arn])
        )
        if self.service.signing_key_arns:
            role.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=["kms:GetPublicKey"], resources=list(self.service.signing_key_arns)
                )
            )
        if self.service.hs256_secret_arn:
            role.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=["secretsmanager:GetSecretValue"], resources=[self.service.hs256_secret_arn]
                )
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
        redeploy_on_authorizer_change(api, self.function, self.service.cache_ttl_seconds)
        return methods

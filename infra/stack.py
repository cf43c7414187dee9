"""The service's stack: one construct per concern, wired from the route declaration."""

from __future__ import annotations

import json
from typing import Any, cast

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.api import Api
from infra.bundling import PYTHON_RUNTIME, REPO_ROOT
from infra.config import ContextError, DeployConfig
from infra.dashboard import Dashboard
from infra.keys import SigningKeys
from infra.lambdas import (
    AUTHORIZER,
    RELEASED,
    FunctionRoles,
    Functions,
    SharedLayer,
    check_function_folders,
    function_names,
    retention,
    settings_environment,
)
from infra.monitoring import Monitoring
from infra.nag import add_suppressions
from infra.release import Release
from infra.sharing import SharedParameters
from infra.tables import Tables, removal_policy
from infra.waf import Waf
from shared.config.settings import settings_from_env
from shared.core.errors import ConfigurationError
from shared.routes.declaration import parse_route_table

ROUTES_FILE = REPO_ROOT / "shared" / "routes" / "routes.json"
ISSUER_PLACEHOLDER = "https://issuer.placeholder.invalid"
JWKS = "jwks"


def load_routes_document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(ROUTES_FILE.read_text(encoding="utf-8"))
    return document


def effective_document(document: dict[str, Any], demo: bool) -> dict[str, Any]:
    """The declaration this deployment serves: demo routes only when the `demo` flag asks."""
    if demo:
        return document
    return {**document, "routes": [route for route in document["routes"] if not route.get("demo")]}


class JwtAuthStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeployConfig,
        routes_document: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.config = config
        self.routes_document = effective_document(routes_document or load_routes_document(), config.demo)
        self.routes = parse_route_table(self.routes_document)
        # In HS256 mode there is no public key: API Gateway answers the JWKS route with an empty key
        # set, and no JWKS function exists that could read the signing secret.
        self.static_bodies: dict[str, dict[str, Any]] = {} if config.uses_kms else {JWKS: {"keys": []}}
        names = tuple(name for name in function_names(self.routes) if name not in self.static_bodies)
        check_function_folders(names)
        self.runtime = PYTHON_RUNTIME

        self.tables = Tables(self, "Tables", config=config)
        self.roles = FunctionRoles(self, "Roles", names=names)
        self.keys = SigningKeys(self, "Keys", config=config, signers=self.roles.signers())
        self.layer = SharedLayer(self, "Layer", runtime=self.runtime)
        self.function_environment = self._environment()
        self.functions = Functions(
            self,
            "Functions",
            config=config,
            roles=self.roles,
            layer=self.layer,
            runtime=self.runtime,
            environment=self.function_environment,
            routes_document=self.routes_document,
            tables=self.tables.by_name,
            keys=self.keys,
        )
        self.authorizer_function = self.functions.by_name[AUTHORIZER]
        self.api = Api(
            self,
            "Api",
            config=config,
            routes=self.routes,
            handlers={name: fn for name, fn in self.functions.targets.items() if name != AUTHORIZER},
            authorizer_function=self.functions.targets[AUTHORIZER],
            static_bodies=self.static_bodies,
        )
        self.waf = self._waf() if config.waf else None
        self.issuer = self._issuer()
        for function in self.functions.by_name.values():
            function.add_environment("ISSUER", self.issuer)
        self.monitoring = Monitoring(
            self,
            "Monitoring",
            config=config,
            stage=self.api.stage,
            functions=self.functions.by_name,
            log_groups=dict(self.functions.log_groups),
            tables=self.tables.by_name,
            waf=self.waf,
        )
        self.release = self._release() if config.canary_release != "off" else None
        self.dashboard = Dashboard(
            self,
            "Dashboard",
            config=config,
            monitoring=self.monitoring,
            functions=self.functions.by_name,
            tables=self.tables.by_name,
            stage=self.api.stage,
        )
        self.shared = SharedParameters(
            self,
            "Shared",
            stage=config.stage,
            environment={**self.function_environment, "ISSUER": self.issuer},
            denylist_table_arn=self.tables.by_name["Denylist"].table_arn,
            read_keys=self.keys.read_public_keys_statement(),
            layer=self.layer.layer,
            runtime=self.runtime,
            jwks_url=f"{self.base_url}.well-known/jwks.json",
        )
        self._outputs()
        add_suppressions(self)

    def _environment(self) -> dict[str, str]:
        """The one environment every function gets; validated like the functions will at start-up."""
        env = {
            **settings_environment(self.config, issuer=self.config.issuer or ISSUER_PLACEHOLDER),
            **self.tables.environment(),
            **self.keys.environment(),
        }
        try:
            settings_from_env(env)
        except ConfigurationError as error:
            raise ContextError(f"the functions' settings would not start: {error}") from None
        if not self.config.issuer:
            del env["ISSUER"]  # set once the API exists (the default issuer is its URL)
        return env

    def _waf(self) -> Waf:
        # In the API's scope under CDK's hidden id "Default": the logical ids stay those the web ACL
        # had when the API built it, so deployed stages keep their ACL (see infra/waf.py).
        return Waf(
            self.api,
            "Default",
            stage=self.api.stage,
            stage_name=self.config.stage,
            rate_limit=self.config.waf_rate_limit,
            credential_paths=self.credential_paths(),
            log_retention=retention(self.config),
            removal_policy=removal_policy(self.config),
        )

    def credential_paths(self) -> list[str]:
        """The public routes that take a password: every public route with a body, except refresh
        (its token is 256 random bits: nothing to guess)."""
        return sorted(
            {
                route.path
                for route in self.routes.routes
                if route.public and route.body and route.function != "refresh"
            }
        )

    def _release(self) -> Release:
        aliases = {name: self.functions.targets[name] for name in RELEASED if name in self.functions.targets}
        return Release(
            self,
            "Release",
            config=self.config,
            aliases={name: cast(lambda_.Alias, target) for name, target in aliases.items()},
            base_url=self.stage_url,
            runtime=self.runtime,
            monitoring=self.monitoring,
        )

    @property
    def stage_url(self) -> str:
        """The stage's base URL, ending in '/', built without the deployment (which depends on the
        functions' aliases, and so would make a cycle with anything they depend on)."""
        if self.config.domain_name:
            return f"https://{self.config.domain_name}/"
        api_id = self.api.rest_api.rest_api_id
        return f"https://{api_id}.execute-api.{self.region}.{self.url_suffix}/{self.config.stage}/"

    def _issuer(self) -> str:
        if self.config.issuer:
            return self.config.issuer
        if self.config.domain_name:
            return f"https://{self.config.domain_name}"
        # Built from the API id (not api.url, which depends on the deployment and so on the functions).
        return f"https://{self.api.rest_api.rest_api_id}.execute-api.{self.region}.{self.url_suffix}/{self.config.stage}"

    @property
    def base_url(self) -> str:
        if self.config.domain_name:
            return f"https://{self.config.domain_name}/"
        return self.api.rest_api.url

    def _outputs(self) -> None:
        outputs = {
            "ApiUrl": (self.base_url, "Base URL of the API (routes under it, e.g. auth/login)"),
            "JwksUrl": (f"{self.base_url}.well-known/jwks.json", "The public keys that verify access tokens"),
            "Issuer": (self.issuer, "The `iss` of every access token"),
            "Audience": (self.config.audience_value, "The `aud` of every access token"),
            "AuthorizerFunctionArn": (self.authorizer_function.function_arn, "The REQUEST authorizer"),
            "AlarmTopicArn": (self.monitoring.topic.topic_arn, "Alarms are sent here: subscribe to it"),
        }
        for name, table in self.tables.by_name.items():
            outputs[f"{name}TableName"] = (table.table_name, f"The {name.lower()} table")
        if self.config.uses_kms:
            outputs["SigningKeyArns"] = (
                ",".join(key.key_arn for key in self.keys.keys),
                "The KMS signing keys, active first",
            )
        if self.release is not None:
            outputs["SmokeSecretArn"] = (
                self.release.smoke_secret.secret_arn,
                "Fill in the release smoke-test user's credentials here (docs/deploy.md)",
            )
        if self.api.domain is not None:
            outputs["CustomDomainTarget"] = (
                self.api.domain.domain_name_alias_domain_name,
                "Point the custom domain's DNS (CNAME or alias) here",
            )
        for name, (value, description) in outputs.items():
            cdk.CfnOutput(self, name, value=value, description=description)

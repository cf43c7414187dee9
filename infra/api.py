"""The REST API: every route of the route declaration wired to its function, the REQUEST authorizer
in front of every non-public route, validation, logging, throttling, CORS, gateway responses, and
the optional custom domain. The optional WAF web ACL is its own construct (infra/waf.py)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.config import ContextError, DeployConfig
from infra.lambdas import retention
from infra.models import add_model
from infra.tables import removal_policy
from shared.config.settings import CORS_ALLOW_HEADERS
from shared.http import proxy as http
from shared.routes.request_models import INVALID_BODY

# Request headers a browser may send cross-origin (X-Token-Transport opts in to the refresh cookie).
CORS_ALLOW_METHODS = http.CORS_ALLOW_METHODS.split(",")
SECURITY_HEADERS = http.SECURITY_HEADERS
GATEWAY_RESPONSE_TYPES = {
    "Default4xx": apigw.ResponseType.DEFAULT_4_XX,
    "Default5xx": apigw.ResponseType.DEFAULT_5_XX,
    "Unauthorized": apigw.ResponseType.UNAUTHORIZED,
    "AccessDenied": apigw.ResponseType.ACCESS_DENIED,
    "Throttled": apigw.ResponseType.THROTTLED,
    "AuthorizerFailure": apigw.ResponseType.AUTHORIZER_FAILURE,
    "AuthorizerConfigurationError": apigw.ResponseType.AUTHORIZER_CONFIGURATION_ERROR,
}
ACCESS_LOG_FIELDS = {
    "requestId": apigw.AccessLogField.context_request_id(),
    "extendedRequestId": apigw.AccessLogField.context_extended_request_id(),
    "requestTime": apigw.AccessLogField.context_request_time(),
    "ip": apigw.AccessLogField.context_identity_source_ip(),
    "userAgent": apigw.AccessLogField.context_identity_user_agent(),
    "httpMethod": apigw.AccessLogField.context_http_method(),
    "resourcePath": apigw.AccessLogField.context_resource_path(),
    "path": apigw.AccessLogField.context_path(),
    "status": apigw.AccessLogField.context_status(),
    "protocol": apigw.AccessLogField.context_protocol(),
    "responseLength": apigw.AccessLogField.context_response_length(),
    "responseLatency": apigw.AccessLogField.context_response_latency(),
    "integrationLatency": apigw.AccessLogField.context_integration_latency(),
    "principalId": apigw.AccessLogField.context_authorizer_principal_id(),
    "authorizerStatus": apigw.AccessLogField.context_authorizer_integration_status(),
    "authorizerLatency": apigw.AccessLogField.context_authorizer_integration_latency(),
    "authorizerError": apigw.AccessLogField.context_authorizer_error(),
    "errorType": apigw.AccessLogField.context_error_response_type(),
    "errorMessage": apigw.AccessLogField.context_error_message(),
    "wafStatus": apigw.AccessLogField.context_waf_response_code(),
    "xrayTraceId": apigw.AccessLogField.context_xray_trace_id(),
}
# Headers of a response API Gateway makes from a static body (the JWKS in HS256 mode).
STATIC_HEADERS = {"Content-Type": "'application/json'", "Cache-Control": "'public, max-age=300'"}
MESSAGE_TEMPLATE = '{"message": $context.error.messageString}'
NOT_FOUND_TEMPLATE = '{"message": "Not found"}'
BAD_BODY_TEMPLATE = f'{{"message": "{INVALID_BODY}", "detail": "$context.error.validationErrorString"}}'


def quoted(value: str) -> str:
    """A static header value in API Gateway's mapping syntax."""
    return "'" + value + "'"


def gateway_response_headers(allowed_origins: tuple[str, ...]) -> dict[str, str]:
    """CORS and security headers for API Gateway's own responses.

    Gateway responses take static values only (no allow-list check, no conditional echo), so they
    name one origin: the first allowed origin. With several origins, a browser on another origin
    sees gateway-made errors (401 at the authorizer, 403, 429, 5xx) as CORS failures; responses
    from the functions echo any allowed origin. docs/deploy.md explains the options.
    """
    headers = {name: quoted(value) for name, value in SECURITY_HEADERS.items()}
    if allowed_origins:
        headers["Access-Control-Allow-Origin"] = quoted(allowed_origins[0])
        headers["Access-Control-Allow-Credentials"] = quoted("true")
        headers["Vary"] = quoted("Origin")
    return headers


def api_name(config: DeployConfig) -> str:
    return f"jwt-auth-{config.stage}"


def api_metric(config: DeployConfig, metric_name: str, statistic: str, period: Duration) -> cloudwatch.Metric:
    """An API Gateway metric of the stage, by the names it is deployed with (literal dimensions: no
    reference to the stage resource, so alarms on it may be named by the functions' release)."""
    return cloudwatch.Metric(
        namespace="AWS/ApiGateway",
        metric_name=metric_name,
        dimensions_map={"ApiName": api_name(config), "Stage": config.stage},
        statistic=statistic,
        period=period,
    )


class Validators:
    """The request validators of one API: body and parameters, or parameters only."""

    def __init__(self, api: apigw.RestApi) -> None:
        self.api = api
        self._body: apigw.RequestValidator | None = None
        self._params: apigw.RequestValidator | None = None

    def body_and_parameters(self) -> apigw.RequestValidator:
        if self._body is None:
            self._body = self.api.add_request_validator(
                "BodyAndParametersValidator", validate_request_body=True, validate_request_parameters=True
            )
        return self._body

    def parameters(self) -> apigw.RequestValidator:
        if self._params is None:
            self._params = self.api.add_request_validator(
                "ParametersValidator", validate_request_body=False, validate_request_parameters=True
            )
        return self._params


def static_response(body: dict[str, Any], headers: Mapping[str, str]) -> dict[str, Any]:
    """Method options that make API Gateway itself answer 200 with `body` (a mock integration), with
    `headers` (static values, quoted as in gateway_response_headers)."""
    parameters = {f"method.response.header.{name}": value for name, value in headers.items()}
    return {
        "integration": apigw.MockIntegration(
            request_templates={"application/json": '{"statusCode": 200}'},
            integration_responses=[
                apigw.IntegrationResponse(
                    status_code="200",
                    response_templates={"application/json": json.dumps(body)},
                    response_parameters=parameters,
                )
            ],
        ),
        "method_responses": [
            apigw.MethodResponse(status_code="200", response_parameters=dict.fromkeys(parameters, True))
        ],
    }


def wire_routes(
    api: apigw.RestApi,
    routes: Any,
    handlers: Mapping[str, lambda_.IFunction],
    authorizer: apigw.IAuthorizer,
    validators: Validators | None = None,
    static: Mapping[str, dict[str, Any]] | None = None,
) -> dict[str, apigw.Method]:
    """Add every route of `routes` to `api`: its function behind it, the authorizer in front of every
    non-public route, body models and path parameters validated. A function named in `static` is
    not built: API Gateway answers its routes with those options (static_response). Returns methods
    by `METHOD path`."""
    validators = validators or Validators(api)
    integrations: dict[str, apigw.LambdaIntegration] = {}
    methods: dict[str, apigw.Method] = {}
    for route in routes.routes:
        options: dict[str, Any] = {}
        if static and route.function in static:
            methods[f"{route.method} {route.path}"] = api.root.resource_for_path(route.path).add_method(
                route.method, authorization_type=apigw.AuthorizationType.NONE, **static[route.function]
            )
            continue
        handler = handlers.get(route.function)
        if handler is None:
            raise KeyError(
                f"route {route.method} {route.path} names function {route.function!r}, which is not built"
            )
        integration = integrations.setdefault(
            route.function, apigw.LambdaIntegration(handler, proxy=True, allow_test_invoke=False)
        )
        if route.body:
            options["request_models"] = {"application/json": add_model(api, route.body)}
            options["request_validator"] = validators.body_and_parameters()
        if route.parameters:
            options["request_parameters"] = {f"method.request.path.{name}": True for name in route.parameters}
            options.setdefault("request_validator", validators.parameters())
        if route.public:
            options["authorization_type"] = apigw.AuthorizationType.NONE
        else:
            options["authorization_type"] = apigw.AuthorizationType.CUSTOM
            options["authorizer"] = authorizer
        resource = api.root.resource_for_path(route.path)
        methods[f"{route.method} {route.path}"] = resource.add_method(route.method, integration, **options)
    return methods


def request_authorizer(
    scope: Construct, construct_id: str, handler: lambda_.IFunction, cache_ttl: int
) -> apigw.RequestAuthorizer:
    """The REQUEST authorizer: identity source the Authorization header (a request without it is a
    401 that never reaches the function), results cached for `cache_ttl` seconds (0: never)."""
    return apigw.RequestAuthorizer(
        scope,
        construct_id,
        handler=handler,
        identity_sources=[apigw.IdentitySource.header("Authorization")],
        results_cache_ttl=Duration.seconds(cache_ttl),
    )


def redeploy_on_authorizer_change(api: apigw.RestApi, handler: lambda_.IFunction, cache_ttl: int) -> None:
    """Make every change of the authorizer (its function or alias, its cache TTL, its identity source)
    change the deployment's logical id, so CloudFormation creates a new deployment and the stage
    serves the change. A stage keeps serving its deployment's snapshot otherwise: switching the
    authorizer to the `live` alias would leave the stage calling the unqualified function, whose
    invoke permission was just removed (every protected route 500). The feature flag
    @aws-cdk/aws-apigateway:authorizerChangeDeploymentLogicalId does the same; this does not depend on
    it being set."""
    if api.latest_deployment is not None:
        identity = "method.request.header.Authorization"
        api.latest_deployment.add_to_logical_id(
            {"authorizer": {"handler": handler.function_arn, "cacheTtl": cache_ttl, "identity": identity}}
        )


class Api(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeployConfig,
        routes: Any,
        handlers: Mapping[str, lambda_.IFunction],
        authorizer_function: lambda_.IFunction,
        static_bodies: Mapping[str, dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.config = config
        self.access_logs = self._access_log_group()
        self.rest_api = self._rest_api()
        self.rest_api.node.try_remove_child(
            "Endpoint"
        )  # the stack's ApiUrl output replaces CDK's generated one
        self.execution_logs = self._execution_log_group()
        self.authorizer = request_authorizer(
            self, "Authorizer", authorizer_function, config.authorizer_cache_ttl
        )
        static = {
            name: static_response(
                body, {**gateway_response_headers(config.allowed_origins), **STATIC_HEADERS}
            )
            for name, body in (static_bodies or {}).items()
        }
        self.methods = wire_routes(self.rest_api, routes, handlers, self.authorizer, static=static)
        redeploy_on_authorizer_change(self.rest_api, authorizer_function, config.authorizer_cache_ttl)
        self._gateway_responses()
        self.domain = self._custom_domain() if config.domain_name else None

    @property
    def stage(self) -> apigw.Stage:
        return self.rest_api.deployment_stage

    def _access_log_group(self) -> logs.LogGroup:
        return logs.LogGroup(
            self, "AccessLogs", retention=retention(self.config), removal_policy=removal_policy(self.config)
        )

    def _execution_log_group(self) -> logs.LogGroup:
        """The group API Gateway writes execution logs to, under the name it uses: created by the
        stack, with the stack's retention and removal policy, before the stage (otherwise API
        Gateway creates it on first use, kept forever and left behind by `cdk destroy`)."""
        group = logs.LogGroup(
            self,
            "ExecutionLogs",
            log_group_name=f"API-Gateway-Execution-Logs_{self.rest_api.rest_api_id}/{self.config.stage}",
            retention=retention(self.config),
            removal_policy=removal_policy(self.config),
        )
        self.rest_api.deployment_stage.node.add_dependency(group)
        return group

    def _cors(self) -> apigw.CorsOptions | None:
        if not self.config.allowed_origins:
            return None
        return apigw.CorsOptions(
            allow_origins=list(self.config.allowed_origins),
            allow_credentials=True,
            allow_headers=[*CORS_ALLOW_HEADERS, *self.config.cors_extra_headers],
            allow_methods=CORS_ALLOW_METHODS,
            max_age=Duration.hours(1),
        )

    def _rest_api(self) -> apigw.RestApi:
        return apigw.RestApi(
            self,
            "RestApi",
            rest_api_name=api_name(self.config),
            description="JWT auth: login, refresh, logout, JWKS and the routes behind the authorizer",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            # Execution logging needs API Gateway's account-level CloudWatch role (one per account and
            # region, whoever sets it): off when the account already has one (docs/deploy.md).
            cloud_watch_role=self.config.api_gateway_cloudwatch_role,
            cloud_watch_role_removal_policy=(
                cdk.RemovalPolicy.RETAIN if self.config.api_gateway_cloudwatch_role else None
            ),
            disable_execute_api_endpoint=bool(self.config.domain_name),
            default_cors_preflight_options=self._cors(),
            deploy_options=apigw.StageOptions(
                stage_name=self.config.stage,
                access_log_destination=apigw.LogGroupLogDestination(self.access_logs),
                access_log_format=apigw.AccessLogFormat.custom(
                    json.dumps({name: str(field) for name, field in ACCESS_LOG_FIELDS.items()})
                ),
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,  # request bodies hold passwords and tokens
                metrics_enabled=True,
                tracing_enabled=True,
                throttling_rate_limit=self.config.throttle_rate,
                throttling_burst_limit=self.config.throttle_burst,
            ),
        )

    def _gateway_responses(self) -> None:
        headers = gateway_response_headers(self.config.allowed_origins)
        for construct_id, response_type in GATEWAY_RESPONSE_TYPES.items():
            extra = {"WWW-Authenticate": quoted("Bearer")} if construct_id == "Unauthorized" else {}
            template = http.ACCESS_DENIED_TEMPLATE if construct_id == "AccessDenied" else MESSAGE_TEMPLATE
            self.rest_api.add_gateway_response(
                construct_id,
                type=response_type,
                response_headers={**headers, **extra},
                templates={"application/json": template},
            )
        # The same answers as the local API: a route the API does not have is a 404 (not API
        # Gateway's 403 "Missing Authentication Token"), and a body the request model refuses says why.
        self.rest_api.add_gateway_response(
            "NotFound",
            type=apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN,
            status_code="404",
            response_headers=headers,
            templates={"application/json": NOT_FOUND_TEMPLATE},
        )
        self.rest_api.add_gateway_response(
            "BadRequestBody",
            type=apigw.ResponseType.BAD_REQUEST_BODY,
            status_code="400",
            response_headers=headers,
            templates={"application/json": BAD_BODY_TEMPLATE},
        )

    def _custom_domain(self) -> apigw.DomainName:
        """The API at the root of its own domain, so cookie paths like /auth hold."""
        self._check_certificate_region()
        domain = apigw.DomainName(
            self,
            "Domain",
            domain_name=self.config.domain_name,
            certificate=acm.Certificate.from_certificate_arn(
                self, "Certificate", self.config.certificate_arn
            ),
            endpoint_type=apigw.EndpointType.REGIONAL,
            security_policy=apigw.SecurityPolicy.TLS_1_2,
        )
        domain.add_base_path_mapping(self.rest_api, stage=self.stage)
        return domain

    def _check_certificate_region(self) -> None:
        """A regional endpoint takes a certificate of its own region only (CloudFormation would fail
        midway). Checked whenever the stack's region is known, as it is under `cdk deploy`."""
        region = cdk.Stack.of(self).region
        wanted = self.config.certificate_region
        if cdk.Token.is_unresolved(region):
            cdk.Annotations.of(self).add_warning_v2(
                "jwt-auth:certificateRegion",
                f"the stack's region is unknown at synth: certificate_arn must be in its region ({wanted})",
            )
        elif wanted != region:
            raise ContextError(
                f"context 'certificate_arn' is a certificate of {wanted}, but the stack deploys to {region}: "
                "a regional API takes a certificate of its own region. Request or import it in "
                f"{region} (ACM), or deploy to {wanted}."
            )

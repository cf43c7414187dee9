"""REST API: routes from the declaration, authorizer, validation, logging, throttling, CORS,
gateway responses, WAF and custom domain."""

from __future__ import annotations

import json
from typing import Any

from infra.api import GATEWAY_RESPONSE_TYPES
from infra.models import REQUEST_MODELS
from tests.infra.conftest import Synth, synthesize


def _methods(synth: Synth) -> list[dict[str, Any]]:
    return [m["Properties"] for m in synth.resources("AWS::ApiGateway::Method").values()]


def _route_methods(synth: Synth) -> list[dict[str, Any]]:
    return [m for m in _methods(synth) if m["HttpMethod"] != "OPTIONS"]


def test_the_request_authorizer_reads_the_authorization_header_with_caching_off_by_default(
    dev: Synth,
) -> None:
    dev.template.has_resource_properties(
        "AWS::ApiGateway::Authorizer",
        {
            "Type": "REQUEST",
            "IdentitySource": "method.request.header.Authorization",
            "AuthorizerResultTtlInSeconds": 0,
        },
    )


def test_the_authorizer_cache_ttl_comes_from_context(prod: Synth) -> None:
    prod.template.has_resource_properties(
        "AWS::ApiGateway::Authorizer", {"AuthorizerResultTtlInSeconds": 300}
    )


def test_every_declared_route_is_a_method_and_only_public_ones_skip_the_authorizer(dev: Synth) -> None:
    routes = dev.stack.routes.routes
    methods = _route_methods(dev)
    assert len(methods) == len(routes)
    (authorizer_id,) = dev.resources("AWS::ApiGateway::Authorizer")
    public = [m for m in methods if m["AuthorizationType"] == "NONE"]
    protected = [m for m in methods if m["AuthorizationType"] == "CUSTOM"]
    # login, its second step and enrolment during login, refresh, JWKS, discovery, forgot and reset
    # password, accept an invitation, passkey sign-in and its options
    assert len(public) == len([r for r in routes if r.public]) == 12
    assert len(protected) == len([r for r in routes if not r.public])
    assert all(m["AuthorizerId"] == {"Ref": authorizer_id} for m in protected)
    assert all(m["Integration"]["Type"] == "AWS_PROXY" for m in methods)


def test_demo_routes_are_absent_without_the_demo_flag(prod: Synth) -> None:
    assert not any(route.demo for route in prod.stack.routes.routes)
    paths = {r["Properties"]["PathPart"] for r in prod.resources("AWS::ApiGateway::Resource").values()}
    assert "cars" not in paths and "login" in paths


def test_bodies_are_validated_against_their_models(dev: Synth) -> None:
    login = next(m for m in _route_methods(dev) if "RequestModels" in m)
    validator = dev.json["Resources"][login["RequestValidatorId"]["Ref"]]["Properties"]
    assert validator["ValidateRequestBody"] is True
    models = {
        m["Properties"]["Name"]: m["Properties"]["Schema"]
        for m in dev.resources("AWS::ApiGateway::Model").values()
    }
    assert models["LoginRequest"]["required"] == ["email", "password"]  # userType or user_type
    assert models["LoginRequest"]["properties"]["userType"]["type"] == "string"  # the declaration's types
    assert set(REQUEST_MODELS) >= {"LoginRequest", "RefreshRequest", "PasswordChangeRequest", "CarRequest"}
    assert REQUEST_MODELS["CarRequest"]["properties"]["year"]["type"] == "integer"
    assert REQUEST_MODELS["CarRequest"]["properties"]["price"]["type"] == "number"
    assert "required" not in REQUEST_MODELS["RefreshRequest"]  # the cookie may carry the token


def test_access_logs_are_json_and_execution_logging_is_errors_only_without_bodies(dev: Synth) -> None:
    (stage,) = dev.resources("AWS::ApiGateway::Stage").values()
    properties = stage["Properties"]
    access_log = json.loads(properties["AccessLogSetting"]["Format"])
    assert {"requestId", "ip", "status", "principalId", "authorizerError"} <= set(access_log)
    (settings,) = properties["MethodSettings"]
    assert settings["LoggingLevel"] == "ERROR" and settings["DataTraceEnabled"] is False
    assert properties["TracingEnabled"] is True


def test_stage_throttling_comes_from_context(dev: Synth, prod: Synth) -> None:
    for synth, rate, burst in ((dev, 50, 100), (prod, 20, 40)):
        (stage,) = synth.resources("AWS::ApiGateway::Stage").values()
        (settings,) = stage["Properties"]["MethodSettings"]
        assert (settings["ThrottlingRateLimit"], settings["ThrottlingBurstLimit"]) == (rate, burst)


def test_cors_preflight_allows_only_the_configured_origins_with_credentials(dev: Synth) -> None:
    options = [m for m in _methods(dev) if m["HttpMethod"] == "OPTIONS"]
    assert options
    for method in options:
        (response,) = method["Integration"]["IntegrationResponses"]
        parameters = response["ResponseParameters"]
        assert parameters["method.response.header.Access-Control-Allow-Credentials"] == "'true'"
        assert parameters["method.response.header.Access-Control-Allow-Origin"] == "'https://app.example.com'"
        assert "X-Token-Transport" in parameters["method.response.header.Access-Control-Allow-Headers"]
        template = response["ResponseTemplates"]["application/json"]
        assert "https://admin.example.com" in template  # the second origin is echoed only if it matches


def test_gateway_responses_carry_cors_and_security_headers(dev: Synth) -> None:
    responses = {
        r["Properties"]["ResponseType"]: r["Properties"]
        for r in dev.resources("AWS::ApiGateway::GatewayResponse").values()
    }
    own_answers = {"MISSING_AUTHENTICATION_TOKEN", "BAD_REQUEST_BODY"}  # 404 Not found, the model's detail
    assert set(responses) == {t.response_type for t in GATEWAY_RESPONSE_TYPES.values()} | own_answers
    for properties in responses.values():
        headers = properties["ResponseParameters"]
        assert headers["gatewayresponse.header.Access-Control-Allow-Origin"] == "'https://app.example.com'"
        assert headers["gatewayresponse.header.Access-Control-Allow-Credentials"] == "'true'"
        assert headers["gatewayresponse.header.Strict-Transport-Security"].startswith("'max-age=")
        assert headers["gatewayresponse.header.X-Content-Type-Options"] == "'nosniff'"
    assert (
        responses["UNAUTHORIZED"]["ResponseParameters"]["gatewayresponse.header.WWW-Authenticate"]
        == "'Bearer'"
    )


def test_waf_is_on_in_prod_with_a_per_ip_rate_rule_on_the_login_route(dev: Synth, prod: Synth) -> None:
    assert dev.resources("AWS::WAFv2::WebACL") == {}
    (acl,) = prod.resources("AWS::WAFv2::WebACL").values()
    rules = {rule["Name"]: rule for rule in acl["Properties"]["Rules"]}
    rate = rules["AuthRoutesRatePerIp"]["Statement"]["RateBasedStatement"]
    assert rate["AggregateKeyType"] == "IP" and rate["Limit"] == 300
    # which routes it counts: test_alarms_and_waf.py
    assert rules["AuthRoutesRatePerIp"]["Action"] == {"Block": {}}
    prod.template.resource_count_is("AWS::WAFv2::WebACLAssociation", 1)


def test_the_web_acl_keeps_its_logical_ids_so_a_deployed_stage_keeps_its_acl(prod: Synth) -> None:
    # The ids the ACL had when the API construct built it; a new id would replace it on deploy.
    assert list(prod.resources("AWS::WAFv2::WebACL")) == ["ApiWebAcl796CF128"]
    assert list(prod.resources("AWS::WAFv2::WebACLAssociation")) == ["ApiWebAclAssociation8D930937"]


def test_a_custom_domain_serves_the_api_at_its_root_and_disables_the_default_endpoint(prod: Synth) -> None:
    prod.template.has_resource_properties(
        "AWS::ApiGateway::DomainName", {"DomainName": "auth.example.com", "SecurityPolicy": "TLS_1_2"}
    )
    (mapping,) = prod.resources("AWS::ApiGateway::BasePathMapping").values()
    assert "BasePath" not in mapping["Properties"]
    prod.template.has_resource_properties("AWS::ApiGateway::RestApi", {"DisableExecuteApiEndpoint": True})
    prod.template.has_output("ApiUrl", {"Value": "https://auth.example.com/"})


def test_path_parameters_are_required_and_validated() -> None:
    document = {
        "api": "probe",
        "routes": [
            {
                "method": "POST",
                "path": "/auth/login",
                "function": "login",
                "public": True,
                "body": "LoginRequest",
            },
            {"method": "DELETE", "path": "/things/{id}", "function": "me", "allow": {"roles": ["admin"]}},
        ],
    }
    synth = synthesize({}, routes_document=document)
    (method,) = [m for m in _route_methods(synth) if m["HttpMethod"] == "DELETE"]
    assert method["RequestParameters"] == {"method.request.path.id": True}
    validator = synth.json["Resources"][method["RequestValidatorId"]["Ref"]]["Properties"]
    assert validator["ValidateRequestParameters"] is True

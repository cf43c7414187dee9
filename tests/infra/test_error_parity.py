"""The same errors locally and on AWS (issue 14.2): the local API answers a bad body and an unknown
route exactly as the synthesized API Gateway does, from the same request models."""

from __future__ import annotations

import json
from typing import Any

import pytest

from local.gateway import HttpRequest
from shared.routes.request_models import INVALID_BODY
from tests.infra.conftest import Synth
from tests.unit.test_local_gateway import ORIGIN, StandIns, gateway

BAD_LOGIN_BODIES = [
    b"[1, 2]",
    b'{"email": "a@b.c"}',
    b'{"email": 5, "password": "x", "userType": "staff"}',
    b'{"email": "a@b.c", "password": "' + b"x" * 2000 + b'", "userType": "staff"}',
]


def _gateway_response(synth: Synth, response_type: str) -> dict[str, Any]:
    (found,) = [
        resource["Properties"]
        for resource in synth.resources("AWS::ApiGateway::GatewayResponse").values()
        if resource["Properties"]["ResponseType"] == response_type
    ]
    return found


def _local(method: str, path: str, body: bytes = b"") -> Any:
    functions = StandIns()
    headers = [("Origin", ORIGIN), ("Content-Type", "application/json")]
    answer = gateway(functions).handle(HttpRequest(method, path, headers, body, "127.0.0.9"))
    return answer, functions


@pytest.mark.parametrize("body", BAD_LOGIN_BODIES)
def test_a_body_the_model_refuses_gets_the_gateways_answer_locally_and_deployed(
    dev: Synth, body: bytes
) -> None:
    deployed = _gateway_response(dev, "BAD_REQUEST_BODY")
    template = deployed["ResponseTemplates"]["application/json"]
    assert deployed["StatusCode"] == "400"
    assert template == f'{{"message": "{INVALID_BODY}", "detail": "$context.error.validationErrorString"}}'
    answer, functions = _local("POST", "/auth/login", body)
    assert answer.status == 400 and functions.events == [], "the function is never reached"
    local = json.loads(answer.body)
    assert set(local) == {"message", "detail"} and local["message"] == INVALID_BODY and local["detail"]


def test_an_unknown_route_is_404_not_found_locally_and_deployed(dev: Synth) -> None:
    deployed = _gateway_response(dev, "MISSING_AUTHENTICATION_TOKEN")
    assert deployed["StatusCode"] == "404"
    expected = json.loads(deployed["ResponseTemplates"]["application/json"])
    for method, path in (("GET", "/nowhere"), ("PUT", "/cars")):
        answer, _ = _local(method, path)
        assert (answer.status, json.loads(answer.body)) == (404, expected)


def test_a_body_the_model_accepts_reaches_the_function_which_names_the_field() -> None:
    _answer, functions = _local(
        "POST", "/auth/login", b'{"email": "a@b.c", "password": "x", "userType": "nope"}'
    )
    assert [name for name, _ in functions.events] == ["login"]  # the handler decides on the user type


def test_extra_cors_request_headers_are_one_setting_for_the_stack_and_the_local_api() -> None:
    import dataclasses

    from local.gateway import Gateway
    from shared.config.settings import DEFAULT_ROUTES_FILE
    from shared.routes.declaration import load_route_table
    from tests.infra.conftest import ORIGINS, synth_for
    from tests.unit.test_local_gateway import settings

    synth = synth_for({"allowed_origins": ORIGINS, "cors_extra_headers": "traceparent,baggage"})
    preflights = [
        method["Properties"]
        for method in synth.resources("AWS::ApiGateway::Method").values()
        if method["Properties"]["HttpMethod"] == "OPTIONS"
    ]
    allowed = preflights[0]["Integration"]["IntegrationResponses"][0]["ResponseParameters"][
        "method.response.header.Access-Control-Allow-Headers"
    ]
    assert "traceparent" in allowed and "baggage" in allowed and "Authorization" in allowed
    local_settings = dataclasses.replace(settings(), cors_extra_headers=("traceparent", "baggage"))
    local = Gateway(load_route_table(DEFAULT_ROUTES_FILE), StandIns(), local_settings)  # type: ignore[arg-type]
    answer = local.handle(HttpRequest("OPTIONS", "/auth/login", [("Origin", ORIGIN)], b"", "127.0.0.9"))
    headers = dict(answer.headers)
    assert (
        headers["Access-Control-Allow-Headers"]
        == "Authorization,Content-Type,X-Token-Transport,traceparent,baggage"
    )


def test_a_step_up_refusal_is_the_same_403_body_locally_and_deployed(dev: Synth) -> None:
    # The deployed ACCESS_DENIED answer renders the authorizer's `step_up` context into its body;
    # the local API renders the very same template (shared.http.proxy.ACCESS_DENIED_TEMPLATE).
    from shared.http.proxy import ACCESS_DENIED_TEMPLATE

    deployed = _gateway_response(dev, "ACCESS_DENIED")
    assert deployed["ResponseTemplates"]["application/json"] == ACCESS_DENIED_TEMPLATE
    assert "StatusCode" not in deployed  # API Gateway's own 403

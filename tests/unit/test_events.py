"""One builder of API Gateway events (local/events.py): the local API hands the functions the very shape
the handler tests call them with, and the builder keeps API Gateway's header, query and body rules."""

from __future__ import annotations

from typing import Any

from local.events import ApiStage, encoded_body, request_event
from local.gateway import HttpRequest
from tests.events import api_event, authorizer_event
from tests.unit.test_local_gateway import StandIns, gateway

API = ApiStage("eu-west-1", "210987654321", "abc123", "prod")


def shape(event: dict[str, Any]) -> tuple[set[str], set[str], set[str]]:
    context = event["requestContext"]
    return set(event), set(context), set(context["identity"])


def test_the_tests_and_the_local_api_send_the_same_events() -> None:
    functions = StandIns()
    headers = [("Authorization", "Bearer t"), ("User-Agent", "unit/1")]
    gateway(functions).handle(HttpRequest("DELETE", "/cars/42", headers, b"", "127.0.0.9"))
    (from_gateway,) = functions.calls("cars")
    (authorizer_from_gateway,) = functions.calls("authorizer")
    assert shape(api_event("DELETE", "/cars/42", authorizer={"sub": "u"})) == shape(from_gateway)
    assert shape(authorizer_event("Bearer t", "DELETE", "/cars/42")) == shape(authorizer_from_gateway)


def test_headers_keep_every_value_and_the_last_one_of_a_name() -> None:
    sent = [("X-Multi", "a"), ("User-Agent", "one"), ("X-Multi", "b"), ("user-agent", "two")]
    event = request_event(
        API, "GET", "/cars", resource="/cars", headers=sent, source_ip="192.0.2.1", request_id="r"
    )
    assert event["headers"] == {"X-Multi": "b", "User-Agent": "one", "user-agent": "two"}
    assert event["multiValueHeaders"] == {"X-Multi": ["a", "b"], "User-Agent": ["one"], "user-agent": ["two"]}
    assert event["requestContext"]["identity"]["userAgent"] == "two"
    assert event["requestContext"]["domainName"] == "abc123.execute-api.eu-west-1.amazonaws.com"
    assert (event["requestContext"]["accountId"], event["requestContext"]["stage"]) == (
        "210987654321",
        "prod",
    )


def test_the_query_string_and_path_parameters() -> None:
    event = request_event(
        API,
        "GET",
        "/cars/7",
        resource="/cars/{id}",
        headers=[],
        source_ip="192.0.2.1",
        request_id="r",
        query="x=1&x=2&empty=",
        path_parameters={"id": "7"},
    )
    assert event["queryStringParameters"] == {"x": "2", "empty": ""}
    assert event["multiValueQueryStringParameters"] == {"x": ["1", "2"], "empty": [""]}
    assert (event["pathParameters"], event["resource"]) == ({"id": "7"}, "/cars/{id}")
    assert event["requestContext"]["identity"]["userAgent"] is None
    bare = request_event(API, "GET", "/cars", resource="/cars", headers=[], source_ip="", request_id="r")
    assert (bare["queryStringParameters"], bare["pathParameters"]) == (None, None)


def test_a_body_that_is_not_utf8_travels_in_base64() -> None:
    assert encoded_body(b"") == (None, False)
    assert encoded_body('{"é":1}'.encode()) == ('{"é":1}', False)
    assert encoded_body(b"\xff\xfe") == ("//4=", True)


def test_a_method_arn_names_the_stage_of_the_api() -> None:
    assert (
        API.method_arn("DELETE", "/cars/7")
        == "arn:aws:execute-api:eu-west-1:210987654321:abc123/prod/DELETE/cars/7"
    )

"""The local API Gateway's rules, in process with stand-in functions (no moto, no HTTP)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from local.gateway import Gateway, HttpRequest, HttpResponse, method_arn
from local.policy import PolicyError, is_allowed
from shared.config.settings import DEFAULT_ROUTES_FILE, Settings
from shared.routes.declaration import load_route_table

ORIGIN = "http://127.0.0.1:3001"
ARN = method_arn("DELETE", "/cars/42")


def policy(*statements: tuple[str, str | list[str]], action: str = "execute-api:Invoke") -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": effect, "Action": action, "Resource": resource} for effect, resource in statements
        ],
    }


# -- IAM evaluation --------------------------------------------------------------------------------


def test_an_explicit_deny_wins_over_a_matching_allow() -> None:
    assert is_allowed(policy(("Allow", ARN)), ARN)
    assert not is_allowed(policy(("Allow", ARN), ("Deny", ARN)), ARN)
    assert not is_allowed(policy(("Deny", ARN), ("Allow", ARN)), ARN)


def test_a_star_spans_slashes_and_a_question_mark_matches_exactly_one_character() -> None:
    assert is_allowed(policy(("Allow", method_arn("DELETE", "/*"))), ARN)
    assert is_allowed(policy(("Allow", "arn:aws:execute-api:*")), ARN)
    assert is_allowed(policy(("Allow", method_arn("DELETE", "/cars/4?"))), ARN)
    assert not is_allowed(policy(("Allow", method_arn("DELETE", "/cars/?"))), ARN)
    assert not is_allowed(policy(("Allow", method_arn("GET", "/*"))), ARN)


def test_no_matching_statement_denies_and_the_action_must_cover_invoke() -> None:
    assert not is_allowed(policy(("Allow", method_arn("DELETE", "/cars"))), ARN)
    assert is_allowed(policy(("Allow", [method_arn("GET", "/cars"), ARN]), action="EXECUTE-API:*"), ARN)
    assert not is_allowed(policy(("Allow", ARN), action="execute-api:ManageConnections"), ARN)


@pytest.mark.parametrize(
    "document",
    [
        None,
        {},
        {"Statement": "x"},
        {"Statement": [{"Effect": "Maybe", "Action": "*", "Resource": "*"}]},
        {"Statement": [{"Effect": "Allow", "Action": [], "Resource": "*"}]},
    ],
)
def test_a_malformed_policy_is_a_configuration_error(document: object) -> None:
    with pytest.raises(PolicyError):
        is_allowed(document, ARN)


# -- the gateway with stand-in functions -------------------------------------------------------------


class StandIns:
    """Plays functions/: the authorizer's and the functions' answers are set per test."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.authorizer: Any = lambda event: allow_all(event)
        self.function: Any = lambda event: {"statusCode": 200, "headers": {"X-Fn": "1"}, "body": "{}"}

    def invoke(self, name: str, event: dict[str, Any]) -> Any:
        self.events.append((name, event))
        answer = self.authorizer if name == "authorizer" else self.function
        return answer(event)

    def calls(self, name: str) -> list[dict[str, Any]]:
        return [event for called, event in self.events if called == name]


def allow_all(event: dict[str, Any]) -> dict[str, Any]:
    return {
        "principalId": "user-1",
        "policyDocument": policy(("Allow", event["methodArn"].split("/")[0] + "/*")),
        "context": {"role": "admin", "exp": 123, "admin": True},
    }


class Clock:
    now = 1000.0

    def __call__(self) -> float:
        return self.now


def settings() -> Settings:
    return Settings(
        users_table="u",
        sessions_table="s",
        denylist_table="d",
        issuer="http://127.0.0.1:3000",
        audience="a",
        signing_algorithm="RS256",
        signing_key_ids=("k",),
        hs256_secret_arn="",
        refresh_key_secret_arn="r",
        allowed_origins=(ORIGIN,),
    )


@pytest.fixture
def functions() -> StandIns:
    return StandIns()


def gateway(functions: StandIns, cache_ttl: float = 0, clock: Clock | None = None) -> Gateway:
    routes = load_route_table(DEFAULT_ROUTES_FILE)
    return Gateway(routes, functions, settings(), cache_ttl=cache_ttl, clock=clock or Clock())  # type: ignore[arg-type]


def send(
    gw: Gateway, method: str, target: str, *, token: str = "Bearer t", body: bytes = b""
) -> HttpResponse:
    headers = [("Origin", ORIGIN), ("User-Agent", "unit/1"), ("X-Multi", "a"), ("X-Multi", "b")]
    if token:
        headers.append(("Authorization", token))
    return gw.handle(HttpRequest(method, target, headers, body, "127.0.0.9"))


def body(response: HttpResponse) -> Any:
    return json.loads(response.body)


def test_the_authorizer_gets_a_request_event_and_the_function_its_context(functions: StandIns) -> None:
    response = send(gateway(functions), "DELETE", "/cars/42?x=1&x=2")
    assert response.status == 200
    (authorizer_event,) = functions.calls("authorizer")
    assert authorizer_event["type"] == "REQUEST" and authorizer_event["methodArn"] == ARN
    assert authorizer_event["headers"]["Authorization"] == "Bearer t"
    (event,) = functions.calls("cars")
    assert event["pathParameters"] == {"id": "42"} and event["resource"] == "/cars/{id}"
    assert event["multiValueHeaders"]["X-Multi"] == ["a", "b"] and event["headers"]["X-Multi"] == "b"
    assert event["multiValueQueryStringParameters"] == {"x": ["1", "2"]}
    assert event["requestContext"]["identity"]["sourceIp"] == "127.0.0.9"
    assert event["requestContext"]["identity"]["userAgent"] == "unit/1"
    assert event["requestContext"]["authorizer"] == {
        "role": "admin",
        "exp": "123",
        "admin": "true",
        "principalId": "user-1",
    }


def test_a_public_route_never_calls_the_authorizer_and_has_no_authorizer_context(functions: StandIns) -> None:
    response = send(gateway(functions), "GET", "/.well-known/jwks.json", token="", body=b"\xff\xfe")
    assert response.status == 200 and functions.calls("authorizer") == []
    (event,) = functions.calls("jwks")
    assert "authorizer" not in event["requestContext"]
    assert event["isBase64Encoded"] is True and event["body"] == "//4="


def test_an_authorizer_that_fails_otherwise_than_unauthorized_is_a_500_configuration_error(
    functions: StandIns,
) -> None:
    def broken(event: dict[str, Any]) -> Any:
        raise RuntimeError("boom")

    functions.authorizer = broken
    response = send(gateway(functions), "GET", "/auth/me")
    assert (response.status, body(response)) == (500, {"message": None})
    assert ("x-amzn-ErrorType", "AuthorizerConfigurationException") in response.headers
    assert ("Access-Control-Allow-Origin", ORIGIN) in response.headers
    assert functions.calls("me") == []


def test_an_authorizer_context_with_a_nested_value_is_a_500(functions: StandIns) -> None:
    functions.authorizer = lambda event: {**allow_all(event), "context": {"roles": ["a"]}}
    assert send(gateway(functions), "GET", "/auth/me").status == 500


def test_an_authorizer_unauthorized_is_a_401_and_a_deny_policy_a_403(functions: StandIns) -> None:
    def unauthorized(event: dict[str, Any]) -> Any:
        raise Exception("Unauthorized")

    functions.authorizer = unauthorized
    assert (send(gateway(functions), "GET", "/cars").status, functions.calls("cars")) == (401, [])
    functions.authorizer = lambda event: {**allow_all(event), "policyDocument": policy(("Deny", "*"))}
    response = send(gateway(functions), "GET", "/cars")
    assert (response.status, body(response)) == (
        403,
        {"message": "User is not authorized to access this resource"},
    )


@pytest.mark.parametrize(
    "result", [None, {"body": "{}"}, {"statusCode": "nope"}, {"statusCode": 200, "body": {"not": "a string"}}]
)
def test_a_malformed_function_result_is_a_502(functions: StandIns, result: Any) -> None:
    functions.function = lambda event: result
    response = send(gateway(functions), "GET", "/cars")
    assert (response.status, body(response)) == (502, {"message": "Internal server error"})


def test_multi_value_headers_of_the_result_reach_the_client(functions: StandIns) -> None:
    functions.function = lambda event: {
        "statusCode": 201,
        "headers": {"Set-Cookie": "ignored", "X-One": "1"},
        "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
        "body": "",
    }
    response = send(gateway(functions), "GET", "/cars")
    assert [v for k, v in response.headers if k == "Set-Cookie"] == ["a=1", "b=2"]
    assert ("X-One", "1") in response.headers


def test_the_authorizer_cache_is_keyed_by_the_authorization_header_and_expires_after_the_ttl(
    functions: StandIns,
) -> None:
    clock = Clock()
    gw = gateway(functions, cache_ttl=5, clock=clock)
    send(gw, "GET", "/cars")
    send(gw, "DELETE", "/cars/1")
    assert len(functions.calls("authorizer")) == 1
    send(gw, "GET", "/cars", token="Bearer other")
    assert len(functions.calls("authorizer")) == 2
    clock.now += 5
    assert send(gw, "GET", "/cars").authorizer == "allow"
    assert len(functions.calls("authorizer")) == 3


def test_43_two_authorization_headers_differing_in_case_are_refused_before_the_authorizer(
    functions: StandIns,
) -> None:
    """The authorizer would verify one and the cache key on another: one user's cached answer could
    be served for another user's token."""
    gw = gateway(functions, cache_ttl=300)
    send(gw, "GET", "/cars", token="Bearer first")  # cached under "Bearer first"
    headers = [("Origin", ORIGIN), ("Authorization", "Bearer second"), ("authorization", "Bearer first")]
    response = gw.handle(HttpRequest("GET", "/cars", headers, b"", "127.0.0.9"))
    assert response.status == 401 and response.authorizer == "ambiguous"
    assert len(functions.calls("authorizer")) == 1 and not functions.calls("function")[1:]
    swapped = [("Origin", ORIGIN), ("authorization", "Bearer first"), ("Authorization", "Bearer second")]
    assert gw.handle(HttpRequest("GET", "/cars", swapped, b"", "127.0.0.9")).status == 401


def test_a_step_up_refusal_is_the_403_with_the_authorizers_challenge(functions: StandIns) -> None:
    # Given an authorizer that leaves the route out and says the caller must step up
    challenge = ', "error": "insufficient_user_authentication", "max_age": 900'
    functions.authorizer = lambda event: {
        **allow_all(event),
        "policyDocument": policy(("Deny", "*")),
        "context": {"step_up": challenge},
    }
    # When / Then: API Gateway's ACCESS_DENIED body, rendered from its template
    response = send(gateway(functions), "DELETE", "/cars/1")
    assert (response.status, body(response)) == (
        403,
        {
            "message": "User is not authorized to access this resource",
            "error": "insufficient_user_authentication",
            "max_age": 900,
        },
    )
    assert functions.calls("cars") == []

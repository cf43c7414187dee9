"""The HTTP contract over real HTTP against `python -m local` (the local API Gateway + moto)."""

from __future__ import annotations

import concurrent.futures
import json
import os
from collections.abc import Iterator

import jwt
import pytest

from local.app import OPENAPI_FILE
from tests.e2e.conftest import login
from tests.e2e.local_api import LocalApi, call

SECURITY = {"Strict-Transport-Security", "X-Content-Type-Options", "Content-Security-Policy"}


def origin_of(api: LocalApi) -> dict[str, str]:
    return {"Origin": api.frontend_url}


# -- login and the authorizer --------------------------------------------------------------------


@pytest.mark.parametrize(("who", "role"), [("admin", "admin"), ("staff", "sales")])
def test_login_returns_both_tokens_and_the_user_for_each_demo_account(
    local_api: LocalApi, who: str, role: str
) -> None:
    body = login(local_api, who)
    assert body["token_type"] == "Bearer" and body["expires_in"] == 900
    assert body["access_token"] and body["refresh_token"]
    assert body["user"]["email"] == f"{who}@dealership.example"
    assert (body["user"]["role"], body["user"]["type"], body["type"]) == (role, who, who)


def test_wrong_password_gets_the_generic_401(local_api: LocalApi) -> None:
    reply = call(
        "POST",
        f"{local_api.base_url}/auth/login",
        body={"email": "staff@dealership.example", "password": "wrong password", "userType": "staff"},
    )
    assert (reply.status, reply.json()) == (401, {"message": "Invalid credentials"})


def test_me_passes_the_authorizer_and_gets_its_context(local_api: LocalApi) -> None:
    tokens = login(local_api, "staff")
    reply = call("GET", f"{local_api.base_url}/auth/me", token=tokens["access_token"])
    assert reply.status == 200
    me = reply.json()
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert me == {
        "id": tokens["user"]["id"],
        "email": "staff@dealership.example",
        "name": tokens["user"]["name"],
        "role": "sales",
        "type": "staff",
        "session_id": claims["sid"],
    }
    assert "authorizer=allow function=me" in local_api.log_line(reply.request_id)


@pytest.mark.parametrize("authorization", [None, "", "   "], ids=["absent", "empty", "blank"])
def test_missing_authorization_is_401_without_calling_the_authorizer(
    local_api: LocalApi, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    reply = call("GET", f"{local_api.base_url}/auth/me", headers=headers)
    assert (reply.status, reply.json()) == (401, {"message": "Unauthorized"})
    assert reply.header("x-amzn-ErrorType") == "UnauthorizedException"
    assert "authorizer=none function=-" in local_api.log_line(reply.request_id)


@pytest.mark.parametrize("authorization", ["Bearer not-a-jwt", "Basic YWRtaW46YWRtaW4=", "Bearer a.b.c"])
def test_a_bad_token_is_401_from_the_authorizer(local_api: LocalApi, authorization: str) -> None:
    reply = call("GET", f"{local_api.base_url}/auth/me", headers={"Authorization": authorization})
    assert (reply.status, reply.json()) == (401, {"message": "Unauthorized"})
    assert "authorizer=unauthorized function=-" in local_api.log_line(reply.request_id)


# -- the demo /cars routes: RBAC through the authorizer's policy -----------------------------------


def test_staff_lists_and_adds_cars_but_gets_403_on_delete(local_api: LocalApi) -> None:
    token = login(local_api, "staff")["access_token"]
    listed = call("GET", f"{local_api.base_url}/cars", token=token)
    assert listed.status == 200 and isinstance(listed.json()["cars"], list)
    car = {"make": "Saab", "model": "900 Turbo", "year": 1987, "price": 12500.5}
    added = call("POST", f"{local_api.base_url}/cars", token=token, body=car)
    assert added.status == 201
    created = added.json()
    assert {k: created[k] for k in car} == car and created["id"]
    assert created["id"] in [
        c["id"] for c in call("GET", f"{local_api.base_url}/cars", token=token).json()["cars"]
    ]

    denied = call("DELETE", f"{local_api.base_url}/cars/{created['id']}", token=token)
    assert (denied.status, denied.json()) == (
        403,
        {"message": "User is not authorized to access this resource"},
    )
    assert "authorizer=deny function=-" in local_api.log_line(denied.request_id)


def test_admin_deletes_a_car_and_a_second_delete_is_404(local_api: LocalApi) -> None:
    token = login(local_api, "admin")["access_token"]
    car = {"make": "Lada", "model": "Niva", "year": 1990, "price": 3000}
    car_id = call("POST", f"{local_api.base_url}/cars", token=token, body=car).json()["id"]
    deleted = call("DELETE", f"{local_api.base_url}/cars/{car_id}", token=token)
    assert deleted.status == 204 and deleted.body == b""
    listed = call("GET", f"{local_api.base_url}/cars", token=token).json()["cars"]
    assert car_id not in [c["id"] for c in listed]
    again = call("DELETE", f"{local_api.base_url}/cars/{car_id}", token=token)
    assert (again.status, again.json()) == (404, {"message": "Not found"})


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"model": "X", "year": 2020, "price": 1}, "make"),
        ({"make": "Kia", "model": "", "year": 2020, "price": 1}, "model"),
        ({"make": "Kia", "model": "Rio", "year": "2020", "price": 1}, "year"),
        ({"make": "Kia", "model": "Rio", "year": 1500, "price": 1}, "year"),
        ({"make": "Kia", "model": "Rio", "year": 2020, "price": -5}, "price"),
        ({"make": "Kia", "model": "Rio", "year": 2020, "price": True}, "price"),
    ],
)
def test_adding_a_car_with_bad_input_is_400_naming_the_field(
    local_api: LocalApi, body: dict, field: str
) -> None:
    """Each of these breaks the request model, so the gateway answers (as deployed), naming the field
    in its detail."""
    token = login(local_api, "staff")["access_token"]
    reply = call("POST", f"{local_api.base_url}/cars", token=token, body=body)
    assert reply.status == 400
    assert reply.json()["message"] == "Invalid request body" and f"{field}:" in reply.json()["detail"]


def test_concurrent_writes_through_the_threaded_api_are_all_kept(local_api: LocalApi) -> None:
    token = login(local_api, "admin")["access_token"]
    cars = [{"make": "Fiat", "model": f"Panda {n}", "year": 2021, "price": 9000 + n} for n in range(12)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=12) as pool:
        replies = list(
            pool.map(lambda car: call("POST", f"{local_api.base_url}/cars", token=token, body=car), cars)
        )
    assert [reply.status for reply in replies] == [201] * len(cars)
    listed = {c["id"] for c in call("GET", f"{local_api.base_url}/cars", token=token).json()["cars"]}
    assert {reply.json()["id"] for reply in replies} <= listed


# -- refresh, rotation, theft, logout --------------------------------------------------------------


def refresh(api: LocalApi, refresh_token: str) -> tuple[int, dict]:
    reply = call("POST", f"{api.base_url}/auth/refresh", body={"refresh_token": refresh_token})
    return reply.status, reply.json()


def test_refresh_rotates_the_refresh_token_and_issues_a_working_access_token(local_api: LocalApi) -> None:
    first = login(local_api, "staff")
    status, second = refresh(local_api, first["refresh_token"])
    assert status == 200
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert call("GET", f"{local_api.base_url}/auth/me", token=second["access_token"]).status == 200


def test_reusing_a_rotated_refresh_token_revokes_the_whole_family(local_api: LocalApi) -> None:
    first = login(local_api, "staff")
    _, second = refresh(local_api, first["refresh_token"])
    status, third = refresh(local_api, second["refresh_token"])
    assert status == 200
    status, body = refresh(local_api, first["refresh_token"])  # a grandparent: theft
    assert (status, body) == (401, {"message": "Invalid refresh token"})
    assert refresh(local_api, third["refresh_token"])[0] == 401
    assert call("GET", f"{local_api.base_url}/auth/me", token=third["access_token"]).status == 401


def test_logout_rejects_the_access_token_and_the_refresh_token(local_api: LocalApi) -> None:
    tokens = login(local_api, "admin")
    assert call("GET", f"{local_api.base_url}/auth/me", token=tokens["access_token"]).status == 200
    reply = call(
        "POST",
        f"{local_api.base_url}/auth/logout",
        token=tokens["access_token"],
        body={"refresh_token": tokens["refresh_token"]},
    )
    assert (reply.status, reply.json()) == (200, {"message": "Successfully logged out"})
    after = call("GET", f"{local_api.base_url}/auth/me", token=tokens["access_token"])
    assert (after.status, after.json()) == (401, {"message": "Unauthorized"})
    assert refresh(local_api, tokens["refresh_token"])[0] == 401


def test_jwks_verifies_the_access_token_with_pyjwkclient(
    local_api: LocalApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    token = login(local_api, "admin")["access_token"]
    client = jwt.PyJWKClient(f"{local_api.base_url}/.well-known/jwks.json", cache_keys=False, timeout=5)
    key = client.get_signing_key_from_jwt(token)
    claims = jwt.decode(
        token, key.key, algorithms=["RS256"], audience="jwt-auth-local", issuer=local_api.base_url
    )
    assert claims["email"] == "admin@dealership.example" and claims["role"] == "admin"


# -- cookie mode (browsers) ------------------------------------------------------------------------

COOKIE_MODE = {"X-Token-Transport": "cookie"}


def refresh_cookie(reply_headers: object) -> str:
    cookies = [value for value in reply_headers.get_all("Set-Cookie") or []]  # type: ignore[attr-defined]
    assert len(cookies) == 1, cookies
    return cookies[0]


def test_cookie_mode_login_sets_an_httponly_secure_strict_host_prefixed_cookie(local_api: LocalApi) -> None:
    email, password = "admin@dealership.example", local_api.password
    reply = call(
        "POST",
        f"{local_api.base_url}/auth/login",
        body={"email": email, "password": password, "userType": "admin"},
        headers={**COOKIE_MODE, **origin_of(local_api)},
    )
    assert reply.status == 200
    assert "refresh_token" not in reply.json()
    cookie = refresh_cookie(reply.headers)
    attributes = [part.strip() for part in cookie.split(";")]
    assert attributes[0].startswith("__Host-refresh_token=") and len(attributes[0]) > 40
    assert {"HttpOnly", "Secure", "SameSite=Strict", "Path=/"} <= set(attributes)
    assert not any(attribute.lower().startswith("domain") for attribute in attributes)
    assert reply.header("Access-Control-Allow-Origin") == local_api.frontend_url
    assert reply.header("Access-Control-Allow-Credentials") == "true"


def test_cookie_refresh_needs_the_transport_header_so_a_cross_site_form_cannot_use_it(
    local_api: LocalApi,
) -> None:
    reply = call(
        "POST",
        f"{local_api.base_url}/auth/login",
        body={"email": "staff@dealership.example", "password": local_api.password, "userType": "staff"},
        headers=COOKIE_MODE,
    )
    cookie = refresh_cookie(reply.headers).split(";")[0]
    forged = call("POST", f"{local_api.base_url}/auth/refresh", headers={"Cookie": cookie})
    assert forged.status == 400 and forged.json()["field"] == "refresh_token"  # the cookie is ignored
    real = call("POST", f"{local_api.base_url}/auth/refresh", headers={"Cookie": cookie, **COOKIE_MODE})
    assert real.status == 200
    assert "refresh_token" not in real.json()
    assert refresh_cookie(real.headers).split(";")[0] != cookie


# -- CORS and API Gateway's own answers ------------------------------------------------------------


def test_preflight_from_the_frontend_origin_allows_credentials_and_the_custom_headers(
    local_api: LocalApi,
) -> None:
    reply = call(
        "OPTIONS",
        f"{local_api.base_url}/auth/refresh",
        headers={
            **origin_of(local_api),
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-token-transport",
        },
    )
    assert reply.status == 204
    assert reply.header("Access-Control-Allow-Origin") == local_api.frontend_url
    assert reply.header("Access-Control-Allow-Credentials") == "true"
    allowed = {h.strip().lower() for h in reply.header("Access-Control-Allow-Headers").split(",")}
    assert {"authorization", "content-type", "x-token-transport"} <= allowed
    assert "DELETE" in reply.header("Access-Control-Allow-Methods")


def test_preflight_from_another_origin_is_not_allowed(local_api: LocalApi) -> None:
    reply = call(
        "OPTIONS",
        f"{local_api.base_url}/cars",
        headers={"Origin": "http://127.0.0.1:9", "Access-Control-Request-Method": "GET"},
    )
    assert reply.header("Access-Control-Allow-Origin") == ""
    assert reply.header("Access-Control-Allow-Credentials") == ""


@pytest.mark.parametrize(
    ("method", "path", "token", "status"),
    [("GET", "/auth/me", False, 401), ("DELETE", "/cars/x", True, 403), ("GET", "/nowhere", False, 404)],
    ids=["401", "403-policy", "404-unknown"],
)
def test_gateway_error_responses_carry_cors_and_security_headers(
    local_api: LocalApi, method: str, path: str, token: bool, status: int
) -> None:
    access = login(local_api, "staff")["access_token"] if token else None
    reply = call(method, f"{local_api.base_url}{path}", token=access, headers=origin_of(local_api))
    assert reply.status == status
    assert reply.header("Access-Control-Allow-Origin") == local_api.frontend_url
    assert reply.header("Access-Control-Allow-Credentials") == "true"
    assert all(reply.header(name) for name in SECURITY)


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/nowhere"), ("PUT", "/cars"), ("GET", "/cars/1/photos")]
)
def test_an_undeclared_route_is_404_not_found(local_api: LocalApi, method: str, path: str) -> None:
    reply = call(method, f"{local_api.base_url}{path}", headers={"Authorization": "Bearer x"})
    assert (reply.status, reply.json()) == (404, {"message": "Not found"})


def test_openapi_json_is_served_exactly_when_docs_openapi_json_exists(local_api: LocalApi) -> None:
    reply = call("GET", f"{local_api.base_url}/openapi.json")
    if OPENAPI_FILE.is_file():
        assert reply.status == 200 and reply.json() == json.loads(OPENAPI_FILE.read_text())
    else:
        assert reply.status == 403


def test_the_demo_password_is_printed_once_and_no_handler_log_line_contains_it(local_api: LocalApi) -> None:
    login(local_api, "admin")
    call(
        "POST",
        f"{local_api.base_url}/auth/login",
        body={"email": "admin@dealership.example", "password": local_api.password, "userType": "staff"},
    )
    output = list(local_api.output)
    assert any("DEBUG" in line or '"level"' in line for line in output), "handler logs were not captured"
    assert sum(line.count(local_api.password) for line in output) == 1
    assert os.environ.get("DEMO_PASSWORD") != local_api.password


def test_sessions_list_the_callers_devices_with_the_gateway_source_ip_and_user_agent(
    local_api: LocalApi,
) -> None:
    tokens = login(local_api, "admin", headers={"User-Agent": "e2e-agent/1.0"})
    reply = call("GET", f"{local_api.base_url}/auth/sessions", token=tokens["access_token"])
    assert reply.status == 200
    (current,) = [s for s in reply.json()["sessions"] if s["current"]]
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert current["id"] == claims["sid"]
    assert (current["user_agent"], current["source_ip"]) == ("e2e-agent/1.0", "127.0.0.1")


# -- step-up (issue 16): a route of the declaration demands a fresh second factor -------------------


@pytest.fixture(scope="module")
def step_up_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalApi]:
    from tests.e2e.local_api import start_local_api
    from tests.fixtures import step_up_declaration

    routes_file = tmp_path_factory.mktemp("step-up") / "routes.json"
    routes_file.write_text(json.dumps(step_up_declaration(900)), encoding="utf-8")
    api = start_local_api(ROUTES_FILE=str(routes_file))
    yield api
    api.stop()


def test_a_step_up_route_refuses_a_password_login_with_the_challenge_over_http(step_up_api: LocalApi) -> None:
    token = login(step_up_api, "admin")["access_token"]
    assert call("GET", f"{step_up_api.base_url}/cars", token=token).status == 200
    refused = call("DELETE", f"{step_up_api.base_url}/cars/some-car", token=token)
    assert (refused.status, refused.json()) == (
        403,
        {
            "message": "User is not authorized to access this resource",
            "error": "insufficient_user_authentication",
            "max_age": 900,
        },
    )
    assert "authorizer=step-up function=-" in step_up_api.log_line(refused.request_id)
    staff = login(step_up_api, "staff")["access_token"]
    plain = call("DELETE", f"{step_up_api.base_url}/cars/some-car", token=staff)
    assert (plain.status, plain.json()) == (
        403,
        {"message": "User is not authorized to access this resource"},
    )

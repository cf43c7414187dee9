"""The HTTP contract, route by route, through the real handlers under moto."""

from __future__ import annotations

import json

import jwt
import pytest

from functions.jwks.handler import handler as jwks_handler
from tests.events import LambdaContext, api_event, body_of
from tests.fixtures import Accounts
from tests.flows import (
    CONTEXT,
    admin_login,
    authorize,
    is_authorized,
    login,
    login_ok,
    logout,
    me,
    refresh,
    staff_login,
)


def test_login_returns_the_contract_token_response(accounts: Accounts) -> None:
    response = login("admin@dealership.example", accounts.password, "admin")
    assert response["statusCode"] == 200
    assert response["headers"]["Cache-Control"] == "no-store"
    body = body_of(response)
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    assert body["type"] == "admin"
    assert body["user"] == {
        "id": accounts.admin.user_id,
        "email": "admin@dealership.example",
        "name": "Avery Admin",
        "role": "admin",
        "type": "admin",
    }
    assert body["refresh_token"] and body["access_token"]


def test_access_token_verifies_with_the_published_jwks_and_carries_every_claim(accounts: Accounts) -> None:
    body = staff_login()
    jwks = body_of(jwks_handler(api_event("GET", "/.well-known/jwks.json"), CONTEXT))
    header = jwt.get_unverified_header(body["access_token"])
    assert header["typ"] == "at+jwt" and header["alg"] == "RS256"
    (key,) = [k for k in jwks["keys"] if k["kid"] == header["kid"]]
    claims = jwt.decode(
        body["access_token"],
        jwt.PyJWK(key).key,
        algorithms=["RS256"],
        audience="jwt-auth-tests",
        issuer="https://auth.test.example",
    )
    assert claims["sub"] == accounts.staff.user_id
    assert claims["exp"] - int(claims["iat"]) == 900
    assert {"jti", "sid", "email", "name", "role", "type"} <= claims.keys()
    assert claims["role"] == "sales" and claims["type"] == "staff"


def test_me_returns_the_callers_identity_and_session(accounts: Accounts) -> None:
    body = admin_login()
    response = me(body["access_token"])
    assert response["statusCode"] == 200
    identity = body_of(response)
    assert identity["id"] == accounts.admin.user_id
    assert (
        identity["session_id"] == jwt.decode(body["access_token"], options={"verify_signature": False})["sid"]
    )


def test_me_shows_the_user_in_the_shape_login_does(accounts: Accounts) -> None:
    body = login_ok("staff@dealership.example", accounts.password, "staff")
    identity = body_of(me(body["access_token"]))
    staff = accounts.staff
    assert body["user"] == {
        "id": staff.user_id,
        "email": staff.email,
        "name": staff.name,
        "role": "sales",
        "type": "staff",
    }
    assert list(identity) == [*body["user"], "session_id"]
    assert {key: identity[key] for key in body["user"]} == body["user"]


def test_refresh_rotates_the_refresh_token_and_issues_a_working_access_token(accounts: Accounts) -> None:
    first = staff_login()
    response = refresh(first["refresh_token"])
    assert response["statusCode"] == 200
    assert response["headers"]["Cache-Control"] == "no-store"
    second = body_of(response)
    assert set(second) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert second["refresh_token"] != first["refresh_token"]
    assert is_authorized(second["access_token"])
    third = body_of(refresh(second["refresh_token"]))
    assert third["refresh_token"] not in (first["refresh_token"], second["refresh_token"])


def test_logout_denies_the_access_token_and_ends_the_session(accounts: Accounts) -> None:
    body = staff_login()
    response = logout(body["access_token"])
    assert response["statusCode"] == 200
    assert body_of(response) == {"message": "Successfully logged out"}
    assert not is_authorized(body["access_token"])
    assert refresh(body["refresh_token"])["statusCode"] == 401


def test_logout_leaves_the_users_other_sessions_working(accounts: Accounts) -> None:
    laptop = staff_login()
    phone = staff_login()
    logout(laptop["access_token"])
    assert is_authorized(phone["access_token"])
    assert refresh(phone["refresh_token"])["statusCode"] == 200


@pytest.mark.parametrize(
    ("user", "method", "path", "allowed"),
    [
        ("staff", "GET", "/cars", True),
        ("staff", "POST", "/cars", True),
        ("staff", "DELETE", "/cars/42", False),
        ("admin", "DELETE", "/cars/42", True),
    ],
)
def test_authorizer_policy_lists_exactly_the_routes_the_role_allows(
    accounts: Accounts, user: str, method: str, path: str, allowed: bool
) -> None:
    body = login_ok(f"{user}@dealership.example", accounts.password, user)
    policy = authorize(body["access_token"], method, path)
    resources = policy["policyDocument"]["Statement"][0]["Resource"]
    wanted = f"arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/test/{method}/cars" + (
        "/*" if method == "DELETE" else ""
    )
    assert (wanted in resources) is allowed
    assert all(statement["Effect"] == "Allow" for statement in policy["policyDocument"]["Statement"])
    assert all(isinstance(value, str) for value in policy["context"].values())


def test_logout_with_someone_elses_refresh_token_ends_only_the_callers_session(accounts: Accounts) -> None:
    staff = staff_login()
    admin = admin_login()
    assert logout(staff["access_token"], admin["refresh_token"])["statusCode"] == 200
    assert refresh(staff["refresh_token"])["statusCode"] == 401
    assert is_authorized(admin["access_token"])
    assert refresh(admin["refresh_token"])["statusCode"] == 200


def test_logout_with_another_own_refresh_token_ends_that_session(accounts: Accounts) -> None:
    laptop = staff_login()
    phone = staff_login()
    assert logout(laptop["access_token"], phone["refresh_token"])["statusCode"] == 200
    assert refresh(phone["refresh_token"])["statusCode"] == 401
    assert not is_authorized(laptop["access_token"])


def test_login_accepts_user_type_as_well_as_user_type_camel_case(accounts: Accounts) -> None:
    from functions.login.handler import handler as login_handler

    body = {"email": "staff@dealership.example", "password": accounts.password, "user_type": "staff"}
    answer = login_handler(api_event("POST", "/auth/login", body=body), LambdaContext())
    assert answer["statusCode"] == 200
    wrong = login_handler(
        api_event("POST", "/auth/login", body={**body, "user_type": "root"}), LambdaContext()
    )
    assert wrong["statusCode"] == 400 and json.loads(wrong["body"])["field"] == "user_type"


def test_refresh_with_no_token_at_all_is_400_naming_it_and_an_invalid_one_stays_401(
    accounts: Accounts,
) -> None:
    from functions.refresh.handler import handler as refresh_handler

    for event in (
        api_event("POST", "/auth/refresh", body={}),
        api_event("POST", "/auth/refresh", body={"refreshToken": "misspelt"}),
        api_event(
            "POST", "/auth/refresh", headers={"Cookie": "__Host-refresh_token=x"}
        ),  # no transport header
    ):
        answer = refresh_handler(event, LambdaContext())
        assert answer["statusCode"] == 400 and json.loads(answer["body"])["field"] == "refresh_token"
    invalid = refresh_handler(
        api_event("POST", "/auth/refresh", body={"refresh_token": "nope"}), LambdaContext()
    )
    assert invalid["statusCode"] == 401


def test_a_body_over_the_limit_is_413(accounts: Accounts) -> None:
    from functions.login.handler import handler as login_handler

    answer = login_handler(api_event("POST", "/auth/login", raw_body="x" * 20_000), LambdaContext())
    assert answer["statusCode"] == 413 and json.loads(answer["body"])["field"] == "body"

"""Calls into the real handlers with real-shaped events, as API Gateway would make them."""

from __future__ import annotations

from typing import Any

import pytest

from functions.authorizer.handler import handler as authorizer_handler
from functions.login.handler import handler as login_handler
from functions.logout.handler import handler as logout_handler
from functions.me.handler import handler as me_handler
from functions.refresh.handler import handler as refresh_handler
from tests.events import LambdaContext, api_event, authorizer_event, body_of

CONTEXT = LambdaContext()


def login(email: str, password: str, user_type: str, **kwargs: Any) -> dict[str, Any]:
    event = api_event(
        "POST", "/auth/login", body={"email": email, "password": password, "userType": user_type}, **kwargs
    )
    return login_handler(event, CONTEXT)


def login_ok(email: str, password: str, user_type: str, **kwargs: Any) -> dict[str, Any]:
    response = login(email, password, user_type, **kwargs)
    assert response["statusCode"] == 200, response
    body: dict[str, Any] = body_of(response)
    return body


STAFF = "staff@dealership.example"
ADMIN = "admin@dealership.example"
SEEDED_PASSWORD = "plum orbit caravan 42"  # tests/fixtures.py's accounts


def staff_login(**kwargs: Any) -> dict[str, Any]:
    """The seeded staff user's successful login (the `accounts` fixture): its token response."""
    return login_ok(STAFF, SEEDED_PASSWORD, "staff", **kwargs)


def admin_login(**kwargs: Any) -> dict[str, Any]:
    """The seeded admin's successful login (the `accounts` fixture): its token response."""
    return login_ok(ADMIN, SEEDED_PASSWORD, "admin", **kwargs)


def refresh(refresh_token: str, **kwargs: Any) -> dict[str, Any]:
    return refresh_handler(
        api_event("POST", "/auth/refresh", body={"refresh_token": refresh_token}, **kwargs), CONTEXT
    )


def authorize(access_token: str, method: str = "GET", path: str = "/auth/me") -> dict[str, Any]:
    """The authorizer's policy; raises the handler's exception (Unauthorized) when denied."""
    return authorizer_handler(authorizer_event(f"Bearer {access_token}", method, path), CONTEXT)


def is_authorized(access_token: str, method: str = "GET", path: str = "/auth/me") -> bool:
    try:
        authorize(access_token, method, path)
    except Exception as error:
        assert str(error) == "Unauthorized"
        return False
    return True


def assert_unauthorized(authorization: str | None, method: str = "GET", path: str = "/auth/me") -> None:
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorizer_handler(authorizer_event(authorization, method, path), CONTEXT)


def protected_call(handler: Any, access_token: str, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
    """The authorizer first, then the function with the policy's context, as API Gateway does."""
    policy = authorize(access_token, method, path)
    event = api_event(method, path, authorizer=policy["context"], **kwargs)
    result: dict[str, Any] = handler(event, CONTEXT)
    return result


def logout(access_token: str, refresh_token: str | None = None) -> dict[str, Any]:
    body = {"refresh_token": refresh_token} if refresh_token else None
    return protected_call(logout_handler, access_token, "POST", "/auth/logout", body=body)


def me(access_token: str) -> dict[str, Any]:
    return protected_call(me_handler, access_token, "GET", "/auth/me")


def sessions_list(access_token: str) -> dict[str, Any]:
    from functions.sessions.handler import handler

    return protected_call(handler, access_token, "GET", "/auth/sessions")


def session_delete(access_token: str, session_id: str) -> dict[str, Any]:
    from functions.sessions.handler import handler

    return protected_call(
        handler, access_token, "DELETE", f"/auth/sessions/{session_id}", path_parameters={"id": session_id}
    )


def logout_all(access_token: str) -> dict[str, Any]:
    from functions.sessions.handler import handler

    return protected_call(handler, access_token, "POST", "/auth/logout-all")


def change_password(access_token: str, current: str, new: str) -> dict[str, Any]:
    from functions.password.handler import handler

    return protected_call(
        handler,
        access_token,
        "POST",
        "/auth/password",
        body={"current_password": current, "new_password": new},
    )


# ---------------------------------------------------------------------- TOTP second factors (issue 16)


def totp_code(secret: str, clock: Any, seconds_ahead: float = 0) -> str:
    import pyotp

    return pyotp.TOTP(secret).at(clock.now_ms() / 1000 + seconds_ahead)


def enrol_totp(access_token: str) -> dict[str, Any]:
    from functions.mfa.handler import handler

    answer = protected_call(handler, access_token, "POST", "/auth/mfa/totp")
    assert answer["statusCode"] == 201, answer
    body: dict[str, Any] = body_of(answer)
    return body


def verify_totp(access_token: str, code: str) -> dict[str, Any]:
    from functions.mfa.handler import handler

    return protected_call(handler, access_token, "POST", "/auth/mfa/totp/verify", body={"code": code})


def second_step(token: str, code: str, **kwargs: Any) -> dict[str, Any]:
    event = api_event("POST", "/auth/login/mfa", body={"mfa_token": token, "code": code}, **kwargs)
    result: dict[str, Any] = login_handler(event, CONTEXT)
    return result


def active_totp(accounts: Any, clock: Any) -> tuple[str, list[str]]:
    """The admin with a proven TOTP factor: its secret and recovery codes. The clock moves on one
    step, since the proving code's step is used up."""
    tokens = login_ok(ADMIN, accounts.password, "admin")
    enrolment = enrol_totp(tokens["access_token"])
    assert verify_totp(tokens["access_token"], totp_code(enrolment["secret"], clock))["statusCode"] == 200
    clock.advance(30)
    return enrolment["secret"], enrolment["recovery_codes"]

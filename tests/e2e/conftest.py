"""One local API for the whole e2e session, started as `python -m local` on free loopback ports."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.local_api import LocalApi, call, start_local_api

USERS = {
    "admin": ("admin@dealership.example", "admin"),
    "staff": ("staff@dealership.example", "staff"),
}


@pytest.fixture(scope="session")
def local_api() -> Iterator[LocalApi]:
    api = start_local_api()
    yield api
    api.stop()


def login(api: LocalApi, who: str, *, headers: dict[str, str] | None = None) -> dict[str, Any]:
    email, user_type = USERS[who]
    reply = call(
        "POST",
        f"{api.base_url}/auth/login",
        body={"email": email, "password": api.password, "userType": user_type},
        headers=headers,
    )
    assert reply.status == 200, reply.body
    result: dict[str, Any] = reply.json()
    return result

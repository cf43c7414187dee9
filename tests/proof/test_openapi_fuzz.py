"""Schemathesis against the local API, driven by docs/openapi.json: no input makes it answer 5xx,
and every answer conforms to the document (status declared, content type, body schema, headers).

Bounded: a few dozen generated cases per operation (examples, fuzzing and coverage phases) on a
local API of its own (password-change attempts feed the lockout counters, logouts revoke tokens).
Protected routes get a real bearer token; logout and logout-all get a fresh one per case.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.e2e.local_api import LocalApi
from tests.proof.support import dedicated_local_api, login

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
MAX_EXAMPLES = 30

CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": 20260528,  # reproducible in CI; change it locally to explore other inputs
        # Failures print the real request (local, throw-away tokens) so it can be replayed with curl.
        "output": {"sanitization": {"enabled": False}},
        "suppress-health-check": ["too_slow", "filter_too_much", "data_too_large"],
        "generation": {"max-examples": MAX_EXAMPLES, "database": "none", "mode": "all"},
    }
)
schema = schemathesis.openapi.from_path(DOCUMENT, config=CONFIG)

# What every response is checked against. Left out on purpose:
# - positive_data_acceptance: schema-valid input may still break a business rule the schema cannot
#   state (a wrong current password, a year after next year, a common new password) -> 400.
# - unsupported_method: an undeclared method is a 404 Not found (API Gateway's MISSING_AUTHENTICATION_TOKEN)
#   (documented), not 405.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection,
    ignored_auth,
]
REVOKES_THE_CALLERS_TOKEN = {("POST", "/auth/logout"), ("POST", "/auth/logout-all")}


@pytest.fixture(scope="module")
def fuzz_api() -> Iterator[LocalApi]:
    with dedicated_local_api() as (api, _tables):
        yield api


@pytest.fixture(scope="module")
def tokens(fuzz_api: LocalApi) -> dict[str, str]:
    # Admin may use every route; password changes use staff, so their lockout never blocks the
    # admin logins the logout cases need.
    return {who: str(login(fuzz_api, who)["access_token"]) for who in ("admin", "staff")}


def _token_for(case: Any, api: LocalApi, tokens: dict[str, str]) -> str:
    key = (case.method.upper(), case.path)
    if key in REVOKES_THE_CALLERS_TOKEN:
        return str(login(api, "admin")["access_token"])
    if key == ("POST", "/auth/password"):
        return tokens["staff"]
    return tokens["admin"]


@pytest.mark.slow
@schema.parametrize()
def test_no_input_gets_a_5xx_and_every_answer_matches_the_document(
    case: Any, fuzz_api: LocalApi, tokens: dict[str, str]
) -> None:
    headers: dict[str, str] = {}
    if case.operation.definition.raw.get("security"):
        headers["Authorization"] = f"Bearer {_token_for(case, fuzz_api, tokens)}"
    case.call_and_validate(base_url=fuzz_api.base_url, headers=headers, checks=CHECKS, timeout=15)

"""Fault injection: DynamoDB and KMS failing under every handler. The authorizer denies; login and
refresh answer 503, issue no token whose record was not stored and leave nothing half-written.

Faults are injected at the HTTP layer, below botocore's retry loop (so every retry attempt sees
them), and, for the authorizer, through botocore's Stubber on the DynamoDB client it uses."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from botocore.exceptions import ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError
from botocore.stub import Stubber

from shared.core import aws
from shared.credentials.refresh_tokens import session_id_of, token_hash
from shared.runtime.services import Services, build_services
from tests.events import body_of
from tests.fixtures import Accounts, Faults
from tests.flows import is_authorized, login, logout, refresh, staff_login

STAFF = "staff@dealership.example"
RETRIED = 3  # botocore standard mode: every attempt of one call must fail for the call to fail


@pytest.fixture
def stubbed(services: Services, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    """The handlers' DynamoDB client answered by botocore's Stubber (KMS still reaches moto)."""
    import boto3

    services.keys  # noqa: B018 - keys are loaded once per container, before the faults
    client = boto3.client("dynamodb", config=aws.CLIENT_CONFIG)
    stubbed_services = build_services(services.settings, client)
    import functions.authorizer.handler as authorizer_module
    import shared.http.endpoint as endpoint_module

    monkeypatch.setattr(authorizer_module, "get_services", lambda: stubbed_services)
    monkeypatch.setattr(endpoint_module, "get_services", lambda: stubbed_services)
    with Stubber(client) as stubber:
        yield stubber


@pytest.fixture
def staff_tokens(accounts: Accounts) -> dict[str, str]:
    return staff_login()


@pytest.mark.parametrize(
    "code",
    [
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
    ],
)
def test_18_authorizer_denies_when_the_denylist_is_throttled_or_failing(
    staff_tokens: dict[str, str], stubbed: Stubber, code: str
) -> None:
    stubbed.add_client_error("batch_get_item", service_error_code=code, http_status_code=400)
    assert not is_authorized(staff_tokens["access_token"])
    stubbed.assert_no_pending_responses()


@pytest.mark.parametrize(
    "code", ["ResourceNotFoundException", "ValidationException", "AccessDeniedException"]
)
def test_18_authorizer_denies_when_the_table_is_missing_or_the_request_invalid(
    staff_tokens: dict[str, str], stubbed: Stubber, code: str
) -> None:
    stubbed.add_client_error("batch_get_item", service_error_code=code, http_status_code=400)
    assert not is_authorized(staff_tokens["access_token"])


def test_18_authorizer_retries_unprocessed_keys_once_then_denies(
    services: Services, staff_tokens: dict[str, str], stubbed: Stubber
) -> None:
    table = services.settings.denylist_table
    unprocessed = {table: {"Keys": [{"pk": {"S": "JTI#x"}}], "ConsistentRead": True}}
    for _ in range(2):
        stubbed.add_response("batch_get_item", {"Responses": {table: []}, "UnprocessedKeys": unprocessed})
    assert not is_authorized(staff_tokens["access_token"])
    stubbed.assert_no_pending_responses()


def test_18_authorizer_allows_when_the_one_retry_of_unprocessed_keys_succeeds(
    services: Services, staff_tokens: dict[str, str], stubbed: Stubber
) -> None:
    table = services.settings.denylist_table
    unprocessed = {table: {"Keys": [{"pk": {"S": "JTI#x"}}], "ConsistentRead": True}}
    stubbed.add_response("batch_get_item", {"Responses": {table: []}, "UnprocessedKeys": unprocessed})
    stubbed.add_response("batch_get_item", {"Responses": {table: []}, "UnprocessedKeys": {}})
    assert is_authorized(staff_tokens["access_token"])


def test_18_authorizer_denies_when_a_revocation_entry_is_found_by_the_stub(
    services: Services, staff_tokens: dict[str, str], stubbed: Stubber
) -> None:
    import jwt

    jti = jwt.decode(staff_tokens["access_token"], options={"verify_signature": False})["jti"]
    item = {"pk": {"S": f"JTI#{jti}"}, "ttl": {"N": "9999999999"}}
    stubbed.add_response("batch_get_item", {"Responses": {services.settings.denylist_table: [item]}})
    assert not is_authorized(staff_tokens["access_token"])


@pytest.mark.parametrize(
    "error",
    [
        ReadTimeoutError(endpoint_url="https://dynamodb"),
        ConnectTimeoutError(endpoint_url="https://dynamodb"),
        EndpointConnectionError(endpoint_url="https://dynamodb"),
    ],
)
def test_18_authorizer_denies_on_timeouts_and_unreachable_dynamodb(
    staff_tokens: dict[str, str], faults: Faults, error: Exception
) -> None:
    faults.fail("dynamodb.BatchGetItem", error, times=RETRIED)
    assert not is_authorized(staff_tokens["access_token"])


def test_authorizer_denies_when_kms_cannot_give_the_public_keys_on_a_cold_start(
    staff_tokens: dict[str, str], faults: Faults
) -> None:
    from shared.credentials import signing

    signing.forget_keys()
    faults.fail("kms.GetPublicKey", "ThrottlingException", times=RETRIED)
    assert not is_authorized(staff_tokens["access_token"])
    assert is_authorized(staff_tokens["access_token"]), "the next invocation loads the keys and recovers"


def _session_rows(services: Services) -> list[dict[str, object]]:
    items: list[dict[str, object]] = services.sessions.dynamodb.scan(TableName=services.sessions.table)[
        "Items"
    ]
    return items


@pytest.mark.parametrize(
    ("operation", "error", "times"),
    [
        ("dynamodb.BatchGetItem", "ProvisionedThroughputExceededException", RETRIED),
        ("dynamodb.BatchGetItem", ReadTimeoutError(endpoint_url="https://dynamodb"), RETRIED),
        ("dynamodb.TransactWriteItems", "ThrottlingException", RETRIED),
        ("dynamodb.TransactWriteItems", "ResourceNotFoundException", 1),
        ("dynamodb.UpdateItem", "ProvisionedThroughputExceededException", RETRIED),
    ],
)
def test_login_answers_503_and_stores_nothing_when_dynamodb_fails(
    services: Services, accounts: Accounts, faults: Faults, operation: str, error: str | Exception, times: int
) -> None:
    password = accounts.password if operation != "dynamodb.UpdateItem" else "a wrong password"
    faults.fail(operation, error, times=times)
    response = login(STAFF, password, "staff")
    assert response["statusCode"] == 503
    assert body_of(response) == {"message": "Service temporarily unavailable, try again"}
    assert response["headers"]["Retry-After"] == "1"
    assert "access_token" not in response["body"]
    assert _session_rows(services) == []


def test_login_retries_a_transaction_conflict_and_succeeds(
    services: Services, accounts: Accounts, faults: Faults
) -> None:
    reasons = [{"Code": "TransactionConflict"}, {"Code": "None"}, {"Code": "None"}]
    faults.fail("dynamodb.TransactWriteItems", "TransactionCanceledException", CancellationReasons=reasons)
    assert login(STAFF, accounts.password, "staff")["statusCode"] == 200


def test_login_answers_503_when_kms_cannot_sign_and_gives_out_no_token(
    services: Services, accounts: Accounts, faults: Faults
) -> None:
    services.keys  # noqa: B018
    faults.fail("kms.Sign", "ThrottlingException", times=RETRIED)
    response = login(STAFF, accounts.password, "staff")
    assert response["statusCode"] == 503
    assert "token" not in response["body"]


def test_refresh_conflicts_are_retried_with_backoff_then_503_with_the_token_still_usable(
    services: Services, staff_tokens: dict[str, str], faults: Faults
) -> None:
    reasons = [{"Code": "TransactionConflict"}] * 5
    faults.fail(
        "dynamodb.TransactWriteItems", "TransactionCanceledException", times=3, CancellationReasons=reasons
    )
    response = refresh(staff_tokens["refresh_token"])
    assert response["statusCode"] == 503
    record = services.sessions.refresh_token(token_hash(staff_tokens["refresh_token"]))
    assert record is not None and record.status == "active", "nothing half-written"
    assert refresh(staff_tokens["refresh_token"])["statusCode"] == 200


@pytest.mark.parametrize(
    ("operation", "error"),
    [
        ("dynamodb.BatchGetItem", "ThrottlingException"),
        ("dynamodb.TransactWriteItems", "ThrottlingException"),
    ],
)
def test_refresh_answers_503_and_leaves_the_token_unrotated_when_dynamodb_fails(
    services: Services, staff_tokens: dict[str, str], faults: Faults, operation: str, error: str
) -> None:
    faults.fail(operation, error, times=RETRIED)
    assert refresh(staff_tokens["refresh_token"])["statusCode"] == 503
    record = services.sessions.refresh_token(token_hash(staff_tokens["refresh_token"]))
    assert record is not None and record.status == "active"
    assert refresh(staff_tokens["refresh_token"])["statusCode"] == 200


def test_refresh_after_a_kms_failure_past_the_commit_is_answered_by_the_grace_retry(
    services: Services, staff_tokens: dict[str, str], faults: Faults
) -> None:
    """The commit happened, the response was lost (KMS failed): the client retries the same
    token and gets the child that was committed, never a second successor."""
    faults.fail("kms.Sign", "ThrottlingException", times=RETRIED)
    assert refresh(staff_tokens["refresh_token"])["statusCode"] == 503
    retried = refresh(staff_tokens["refresh_token"])
    assert retried["statusCode"] == 200
    sid = session_id_of(staff_tokens["refresh_token"])
    rows = [r for r in _session_rows(services) if r["pk"]["S"].startswith("RT#")]  # type: ignore[index]
    assert len(rows) == 2
    assert all(r["sid"]["S"] == sid for r in rows)  # type: ignore[index]
    assert is_authorized(body_of(retried)["access_token"])


def test_logout_answers_503_and_the_token_keeps_working_when_dynamodb_fails(
    staff_tokens: dict[str, str], faults: Faults
) -> None:
    assert is_authorized(staff_tokens["access_token"])
    faults.fail("dynamodb.TransactWriteItems", "ThrottlingException", times=RETRIED)
    response = logout(staff_tokens["access_token"])
    assert response["statusCode"] == 503
    assert is_authorized(staff_tokens["access_token"])
    assert logout(staff_tokens["access_token"])["statusCode"] == 200
    assert not is_authorized(staff_tokens["access_token"])


def test_jwks_answers_503_when_kms_is_unavailable(services: Services, faults: Faults) -> None:
    from functions.jwks.handler import handler
    from shared.credentials import signing
    from tests.events import api_event
    from tests.flows import CONTEXT

    signing.forget_keys()
    faults.fail("kms.GetPublicKey", "ThrottlingException", times=RETRIED)
    assert handler(api_event("GET", "/.well-known/jwks.json"), CONTEXT)["statusCode"] == 503


def test_every_aws_client_gives_up_well_inside_the_lambda_timeouts() -> None:
    from infra.permissions import PERMISSIONS

    config = aws.CLIENT_CONFIG
    attempts = config.retries["total_max_attempts"]
    backoff = sum(2**attempt for attempt in range(attempts - 1))  # standard mode: up to 2^n s each
    worst_case = attempts * (config.connect_timeout + config.read_timeout) + backoff
    shortest = min(access.timeout_seconds for access in PERMISSIONS.values())
    assert config.retries["mode"] == "standard", "exponential backoff with jitter"
    assert worst_case <= 0.6 * shortest, (worst_case, shortest)
    assert config.retries["mode"] == "standard", "exponential backoff with jitter"

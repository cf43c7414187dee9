"""Input that would make a DynamoDB key invalid (over 2048 bytes) must be a 4xx, never the 503 that
DynamoDB's ValidationException becomes (docs/hostile-inputs.md entries 27 and 33, found by fuzzing)."""

from __future__ import annotations

import unicodedata

from shared.runtime.services import Services
from tests.events import body_of
from tests.fixtures import Accounts
from tests.flows import login, login_ok, session_delete

# U+FDFA is one character that NFKC expands to 18: 254 of them pass the handler's 254-character
# limit but normalise to an email of 4,572 characters, far past DynamoDB's 2048-byte key limit.
EXPANDING = "\ufdfa"


def test_27_an_email_that_nfkc_expands_past_254_characters_is_400_not_503(
    services: Services, accounts: Accounts
) -> None:
    email = EXPANDING * 254
    assert len(unicodedata.normalize("NFKC", email)) > 2048

    response = login(email, "any password at all", "staff")

    assert response["statusCode"] == 400, response
    assert body_of(response) == {"message": "email is too long (at most 254 characters)", "field": "email"}
    # the real account is untouched and still logs in
    login_ok(accounts.staff.email, accounts.password, "staff")


def test_33_a_malformed_session_id_in_the_path_is_404_without_any_dynamodb_lookup(
    services: Services, accounts: Accounts, aws_calls: list[str]
) -> None:
    tokens = login_ok(accounts.staff.email, accounts.password, "staff")
    for hostile in ("A" * 3000, "x" * 21, "../../etc", "SESSION#x", "a" * 22 + "=", " " * 22):
        aws_calls.clear()
        response = session_delete(tokens["access_token"], hostile)
        assert response["statusCode"] == 404, hostile
        lookups = [call for call in aws_calls if call == "dynamodb.GetItem"]
        assert lookups == [], f"{hostile[:30]!r} reached DynamoDB as a key"

"""No hot key (issue 13): no item is touched by the authorizer or the refresh of every user. One
DynamoDB item lives in one partition, which serves about 3,000 strongly consistent reads a second:
an item every request reads would cap the whole service there."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from typing import Any

from shared.accounts import actions as account_actions
from shared.runtime.services import Services
from shared.store.denylist import GLOBAL_SHARDS, global_key
from tests.fixtures import PASSWORD, around_aws_calls
from tests.flows import authorize, login_ok, refresh

USERS = 40


@contextlib.contextmanager
def keys_touched() -> Iterator[list[str]]:
    """Every DynamoDB key a request reads, writes or condition-checks, as `table/pk`."""
    keys: list[str] = []

    def recording(client: Any, operation: str, params: Any, call: Callable[[], Any]) -> Any:
        if operation == "BatchGetItem":
            for table, request in params["RequestItems"].items():
                keys.extend(f"{table}/{json.dumps(key, sort_keys=True)}" for key in request["Keys"])
        if operation == "TransactWriteItems":
            for item in params["TransactItems"]:
                ((_, action),) = item.items()
                key = action.get("Key") or {"pk": action["Item"]["pk"]}
                keys.append(f"{action['TableName']}/{json.dumps(key, sort_keys=True)}")
        return call()

    with around_aws_calls(recording):
        yield keys


def test_no_key_is_touched_by_every_users_authorizer_call_or_refresh(services: Services) -> None:
    sessions = []
    for number in range(USERS):
        email = f"hot{number}@dealership.example"
        account_actions.create_account(services, email, PASSWORD, name="Hot", role="sales", user_type="staff")
        sessions.append(login_ok(email, PASSWORD, "staff"))
    per_request: list[set[str]] = []
    for tokens in sessions:
        with keys_touched() as authorizer_keys:
            authorize(tokens["access_token"])
        with keys_touched() as refresh_keys:
            assert refresh(tokens["refresh_token"])["statusCode"] == 200
        per_request += [set(authorizer_keys), set(refresh_keys)]
    assert all(per_request), "the recorder saw no keys"
    shared_by_all = set.intersection(*per_request)
    assert shared_by_all == set()


def test_the_emergency_switch_is_spread_over_its_shards_and_still_ends_everything(
    services: Services,
) -> None:
    shards = {global_key(f"session-{number:04d}") for number in range(2000)}
    assert len(shards) == GLOBAL_SHARDS
    account_actions.create_account(
        services, "a@dealership.example", PASSWORD, name="A", role="sales", user_type="staff"
    )
    before = [login_ok("a@dealership.example", PASSWORD, "staff") for _ in range(8)]
    account_actions.revoke_all_tokens_of_everyone(services)
    for tokens in before:
        assert refresh(tokens["refresh_token"])["statusCode"] == 401
    after = login_ok("a@dealership.example", PASSWORD, "staff")
    assert refresh(after["refresh_token"])["statusCode"] == 200

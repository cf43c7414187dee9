"""Several Regions, simulated (docs/capacity.md, "Several Regions"): a second moto Region stands in
for a global table's second replica, and `replicate` copies items to it when the test says so, as
DynamoDB's asynchronous replication would some time after the write.

What it proves: Region B's authorizer accepts a token revoked in Region A exactly until the
revocation's item reaches B, then refuses it (the replication lag is the only window); the emergency
switch's shards arrive one by one, so for that window it holds for some sessions and not others;
and a rotated refresh token replayed in B past the grace window, before the rotation arrives, is
rotated again instead of ending the session as theft (conditions and transactions hold within one
Region only), which is why refresh must stay in the session's home Region. What it cannot show:
real replication latency, DynamoDB's last-writer-wins conflict resolution, multi-Region strong
consistency, failover."""

from __future__ import annotations

from collections.abc import Callable

import botocore.session
import pytest

from shared.accounts import actions as account_actions
from shared.authorizer.decision import authorize as decide
from shared.core.clock import Clock
from shared.core.errors import InvalidAccessToken, InvalidRefreshToken
from shared.core.observability import Client
from shared.runtime.services import Services, build_services
from shared.sessions.rotation import refresh as rotate
from shared.store.denylist import GLOBAL_SHARDS, global_key
from shared.store.tables import TABLES, create_table_arguments
from tests.events import method_arn
from tests.fixtures import PASSWORD, Accounts
from tests.flows import login_ok, logout, refresh, staff_login

STAFF = "staff@dealership.example"
SECOND_REGION = "eu-west-1"
Replicate = Callable[..., int]


@pytest.fixture
def region_b(services: Services) -> tuple[Services, Replicate]:
    """Region B's services over its own replica of every table, and the replicator A -> B."""
    region_a = services.users.dynamodb
    client = botocore.session.get_session().create_client("dynamodb", region_name=SECOND_REGION)
    settings = services.settings
    names = [settings.users_table, settings.sessions_table, settings.denylist_table]
    for table, name in zip(TABLES, names, strict=True):
        client.create_table(**create_table_arguments(table, name))

    def replicate(table: str = "", only: Callable[[str], bool] = lambda pk: True) -> int:
        """Copy every item of `table` (all tables when empty) whose pk passes `only`; returns how many."""
        copied = 0
        for name in [table] if table else names:
            for item in region_a.scan(TableName=name)["Items"]:
                if only(item["pk"]["S"]):
                    client.put_item(TableName=name, Item=item)
                    copied += 1
        return copied

    return build_services(settings, dynamodb=client), replicate


def allowed(services: Services, access_token: str) -> bool:
    try:
        decide(services, f"Bearer {access_token}", method_arn("GET", "/auth/me"))
    except InvalidAccessToken:
        return False
    return True


def test_a_logout_in_region_a_is_seen_by_region_bs_authorizer_once_it_is_replicated(
    accounts: Accounts, region_b: tuple[Services, Replicate]
) -> None:
    services_b, replicate = region_b
    tokens = staff_login()
    replicate()
    assert allowed(services_b, tokens["access_token"])

    assert logout(tokens["access_token"])["statusCode"] == 200  # in Region A
    assert allowed(services_b, tokens["access_token"])  # the lag: B has not heard of it

    assert replicate(services_b.settings.denylist_table) > 0
    assert not allowed(services_b, tokens["access_token"])


def test_the_emergency_switch_reaches_region_b_shard_by_shard(
    services: Services, accounts: Accounts, region_b: tuple[Services, Replicate]
) -> None:
    services_b, replicate = region_b
    for number in range(12):
        account_actions.create_account(
            services, f"r{number}@dealership.example", PASSWORD, name="R", role="sales", user_type="staff"
        )
    sessions = [login_ok(f"r{number}@dealership.example", PASSWORD, "staff") for number in range(12)]
    replicate()
    account_actions.revoke_all_tokens_of_everyone(services)  # in Region A: all 32 shards at once

    arrived = {f"NBF#*#{shard}" for shard in range(0, GLOBAL_SHARDS, 2)}  # half the shards so far
    replicate(services_b.settings.denylist_table, only=arrived.__contains__)
    for tokens in sessions:
        sid = tokens["refresh_token"].split(".")[0]
        assert allowed(services_b, tokens["access_token"]) == (global_key(sid) not in arrived)

    replicate(services_b.settings.denylist_table)
    assert not any(allowed(services_b, tokens["access_token"]) for tokens in sessions)


class LaterClock(Clock):
    """This Region's clock, `seconds` ahead: a replay after the grace window."""

    def __init__(self, seconds: int) -> None:
        self.offset_ms = seconds * 1000

    def now_ms(self) -> int:
        return super().now_ms() + self.offset_ms


def test_a_rotated_refresh_token_replayed_in_region_b_before_replication_is_not_seen_as_theft(
    services: Services, accounts: Accounts, region_b: tuple[Services, Replicate]
) -> None:
    services_b, replicate = region_b
    tokens = staff_login()
    replicate()
    assert refresh(tokens["refresh_token"])["statusCode"] == 200  # rotated in Region A
    client = Client(source_ip="203.0.113.10", user_agent="replayer")
    after_grace = services.settings.refresh_grace_seconds + 1

    # Region B has not seen the rotation: past the grace window it still rotates the parent (the
    # same deterministic child, a fresh access token), where Region A calls the same replay theft
    services_b.clock = LaterClock(after_grace)
    replayed = rotate(services_b, tokens["refresh_token"], client)
    assert replayed.access_token

    services.clock = LaterClock(after_grace)
    with pytest.raises(InvalidRefreshToken):
        rotate(services, tokens["refresh_token"], client)

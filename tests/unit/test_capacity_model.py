"""The capacity model's arithmetic (tests/capacity/model.py), on hand-made work."""

from __future__ import annotations

import pytest

from tests.capacity.model import Usage, peak_rates, scenario
from tests.capacity.shapes import Work, item_size, key_class

WORK = {
    "authorizer": Work(
        calls=["dynamodb.BatchGetItem"],
        read_units={"denylist": 4},
        keys=[("denylist", "switch shard", "r", 1), ("denylist", "user", "r", 1)],
    ),
    "login": Work(read_units={"users": 3}, write_units={"users": 10}, kms_sign=1),
    "login failure": Work(read_units={"users": 3}, write_units={"users": 5}),
    "refresh": Work(
        read_units={"sessions": 3},
        write_units={"sessions": 6},
        kms_sign=1,
        keys=[("denylist", "switch shard", "w", 2)],
    ),
    "logout": Work(read_units={"sessions": 1}, write_units={"sessions": 2}),
}


def _load(found: object, key: str) -> float:
    return next(load.load for load in found.loads if load.key == key)  # type: ignore[attr-defined]


def test_every_load_is_proportional_to_the_user_count() -> None:
    small, large = scenario(100_000, WORK, Usage(), 32), scenario(1_000_000, WORK, Usage(), 32)
    for before, after in zip(small.loads, large.loads, strict=True):
        assert after.load == pytest.approx(10 * before.load)
    assert small.mau_at_which(small.binding) == pytest.approx(large.mau_at_which(large.binding), rel=1e-6)


def test_kms_sign_load_is_one_per_login_and_refresh_and_the_key_type_picks_the_quota() -> None:
    rates = peak_rates(1_000_000, Usage())
    rsa = scenario(1_000_000, WORK, Usage(signing="RS256"), 32)
    ecc = scenario(1_000_000, WORK, Usage(signing="ES256"), 32)
    assert _load(rsa, "kms") == pytest.approx(rates["login"] + rates["refresh"])
    assert (
        next(load for load in rsa.loads if load.key == "kms").quota
        > next(load for load in ecc.loads if load.key == "kms").quota
    )


def test_the_switch_shards_divide_the_hottest_items_reads() -> None:
    one, many = scenario(1_000_000, WORK, Usage(), 1), scenario(1_000_000, WORK, Usage(), 32)
    assert _load(many, "partition-read") == pytest.approx(_load(one, "partition-read") / 32)
    assert _load(one, "partition-read") == pytest.approx(peak_rates(1_000_000, Usage())["authorizer"])


def test_binding_is_the_steady_state_limit_nearest_its_quota() -> None:
    found = scenario(10_000_000, WORK, Usage(), 32)
    steady = [load for load in found.loads if not load.surge]
    assert found.binding == max(steady, key=lambda load: load.share)
    assert found.surge_binding.surge


def test_item_sizes_follow_dynamodbs_rules() -> None:
    assert item_size({"pk": {"S": "JTI#abc"}}) == 2 + 7
    assert item_size({"ttl": {"N": "1700000000"}}) == 3 + 6
    assert key_class("NBF#*#7") == "switch shard"
    assert key_class("NBF#user-1") == "user"

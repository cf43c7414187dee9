"""Lockout rules at their exact bounds (a pinned clock): when the lock ends, when the failure count
starts again, and how long the counter is kept. The hostile-login tests cover the shapes."""

from __future__ import annotations

import time

import pytest

from shared.services import Services
from tests.clocks import PinnedClock, pin_clock
from tests.fixtures import Accounts
from tests.flows import login, login_ok

STAFF = "staff@dealership.example"
GHOST = "ghost@dealership.example"
WRONG = "wrong password entirely"


def _start(services: Services, monkeypatch: pytest.MonkeyPatch) -> PinnedClock:
    return pin_clock(services, monkeypatch, time.time_ns() // 1_000_000_000 * 1000 + 500)


def _fail(email: str, times: int) -> None:
    for _ in range(times):
        assert login(email, WRONG, "staff")["statusCode"] == 401


def test_a_success_under_the_threshold_resets_the_failure_count(
    services: Services, accounts: Accounts
) -> None:
    below = services.settings.lockout_threshold - 1
    _fail(STAFF, below)
    login_ok(STAFF, accounts.password, "staff")
    _fail(STAFF, below)
    login_ok(STAFF, accounts.password, "staff")


def test_the_lock_ends_at_its_exact_millisecond_and_retry_after_rounds_up(
    services: Services, accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = _start(services, monkeypatch)
    failed_at = clock.now_ms()
    _fail(STAFF, services.settings.lockout_threshold)
    lock_ms = services.settings.lockout_base_seconds * 1000
    clock.set(failed_at + lock_ms - 1001)
    assert login(STAFF, accounts.password, "staff")["headers"]["Retry-After"] == "2"
    clock.set(failed_at + lock_ms - 1)
    locked = login(STAFF, accounts.password, "staff")
    assert (locked["statusCode"], locked["headers"]["Retry-After"]) == (429, "1")
    clock.set(failed_at + lock_ms)
    login_ok(STAFF, accounts.password, "staff")


def test_the_threshold_is_exact(services: Services, accounts: Accounts) -> None:
    _fail(STAFF, services.settings.lockout_threshold - 1)
    assert login(STAFF, WRONG, "staff")["statusCode"] == 401  # the threshold-th failure is still checked
    assert login(STAFF, accounts.password, "staff")["statusCode"] == 429


def test_failures_are_counted_again_from_one_only_after_a_whole_window(
    services: Services, accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = _start(services, monkeypatch)
    window_ms = services.settings.lockout_window_seconds * 1000
    below = services.settings.lockout_threshold - 1
    started = clock.now_ms()
    _fail(STAFF, below)
    _fail(GHOST, below)
    clock.set(started + window_ms)  # not yet a whole window since the last failure: one more locks
    _fail(STAFF, 1)
    assert login(STAFF, accounts.password, "staff")["statusCode"] == 429
    clock.set(started + window_ms + 1)  # past the window: the count starts again at one
    _fail(GHOST, 1)
    assert login(GHOST, WRONG, "staff")["statusCode"] == 401


def test_the_failure_counter_is_kept_at_least_a_window_past_the_last_failure(
    services: Services, accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = _start(services, monkeypatch)
    _fail(STAFF, 2)
    items = services.users.dynamodb.scan(TableName=services.users.table)["Items"]
    (counter,) = [item for item in items if item["pk"]["S"].startswith("LOCK#")]
    kept_until = int(counter["ttl"]["N"])
    assert kept_until >= clock.now_ms() // 1000 + services.settings.lockout_window_seconds


LIGATURE = "\ufb00"  # one character that NFKC normalisation turns into two ("ff")


@pytest.mark.parametrize(
    ("email", "status"),
    [
        (LIGATURE + "a" * 240 + "@example.com", 401),  # 254 characters once normalised: the limit
        (LIGATURE * 2 + "a" * 239 + "@example.com", 400),  # 255 once normalised
    ],
)
def test_the_email_length_limit_applies_to_the_normalised_email(
    accounts: Accounts, email: str, status: int
) -> None:
    assert len(email) <= 254
    assert login(email, WRONG, "staff")["statusCode"] == status

"""Lockout rules at their exact bounds (a pinned clock): when the lock ends, when the failure count
starts again, and how long the counter is kept. The hostile-login tests cover the shapes."""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Iterator

import pytest

from local.provision import create_user
from shared.core import aws
from shared.core.errors import InvalidCredentials, Reason
from shared.core.observability import Client
from shared.credentials import passwords
from shared.login.flow import LoginRequest
from shared.login.flow import login as shared_login
from shared.runtime.services import Services
from shared.store.user_items import Attempts, lock_key
from shared.store.users import UserStore
from tests.clocks import PinnedClock, pin_clock
from tests.events import body_of
from tests.fixtures import PASSWORD, Accounts, FakeClock, audit_events
from tests.flows import admin_login, login, staff_login

STAFF = "staff@dealership.example"
GHOST = "ghost@dealership.example"
ADMIN = "admin@dealership.example"
WRONG = "wrong password entirely"


NUMBER = re.compile(r"-?\d+(\.\d+)?")


def _numbers(value: object) -> Iterator[object]:
    if isinstance(value, dict):
        if set(value) == {"N"}:
            yield value["N"]
        for inner in value.values():
            yield from _numbers(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _numbers(inner)


@pytest.fixture(autouse=True)
def dynamodb_numbers_are_numbers(services: Services) -> Iterator[None]:
    """DynamoDB refuses a number attribute value that is not a number; moto stores it. Refuse it here."""

    def check(params: dict[str, object], **_: object) -> None:
        bad = [
            value for value in _numbers(params) if not (isinstance(value, str) and NUMBER.fullmatch(value))
        ]
        if bad:
            raise ValueError(f"ValidationException: not numbers {bad}")

    events = aws.dynamodb().meta.events
    events.register("before-parameter-build.dynamodb.*", check)
    yield
    events.unregister("before-parameter-build.dynamodb.*", check)


def _start(services: Services, monkeypatch: pytest.MonkeyPatch) -> PinnedClock:
    return pin_clock(services, monkeypatch, time.time_ns() // 1_000_000_000 * 1000 + 500)


def _fail(email: str, times: int, user_type: str = "staff") -> None:
    for _ in range(times):
        assert login(email, WRONG, user_type)["statusCode"] == 401


def test_a_success_under_the_threshold_resets_the_failure_count(
    services: Services, accounts: Accounts
) -> None:
    below = services.settings.lockout_threshold - 1
    _fail(STAFF, below)
    staff_login()
    _fail(STAFF, below)
    staff_login()


def test_the_lock_ends_at_its_exact_millisecond_and_retry_after_rounds_up(
    services: Services, accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = _start(services, monkeypatch)
    failed_at = clock.now_ms()
    _fail(STAFF, services.settings.lockout_threshold)
    _fail(ADMIN, services.settings.lockout_threshold, "admin")
    lock_ms = services.settings.lockout_base_seconds * 1000
    clock.set(failed_at + lock_ms - 1001)
    assert login(STAFF, accounts.password, "staff")["headers"]["Retry-After"] == "2"
    clock.set(failed_at + lock_ms - 1)
    locked = login(STAFF, accounts.password, "staff")
    assert (locked["statusCode"], locked["headers"]["Retry-After"]) == (429, "1")
    clock.set(failed_at + lock_ms)
    staff_login()
    clock.set(failed_at + lock_ms + 1500)  # and well after the lock, still within the window
    admin_login()


def test_past_the_window_a_lock_is_forgotten(
    services: Services, accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = _start(services, monkeypatch)
    failed_at = clock.now_ms()
    _fail(STAFF, services.settings.lockout_threshold)
    clock.set(failed_at + services.settings.lockout_window_seconds * 1000 + 1)
    staff_login()


def test_a_failure_counted_meanwhile_is_counted_on_top(services: Services, accounts: Accounts) -> None:
    """Another failed login reserves between this one's read and its reservation: this one counts
    on top (one atomic add below the threshold, whatever it read)."""
    nested: list[int] = []

    def fail_first(**_: object) -> None:
        if not nested:
            nested.append(0)
            nested[0] = login(GHOST, WRONG, "staff")["statusCode"]

    events = aws.dynamodb().meta.events
    events.register("before-call.dynamodb.UpdateItem", fail_first)
    try:
        assert login(GHOST, WRONG, "staff")["statusCode"] == 401
    finally:
        events.unregister("before-call.dynamodb.UpdateItem", fail_first)
    assert nested == [401]
    items = services.users.dynamodb.scan(TableName=services.users.table)["Items"]
    counters = [item for item in items if item["pk"]["S"].startswith("LOCK#")]
    assert {counter["failures"]["N"] for counter in counters} == {"2"}  # account-wide and per IP


def test_the_threshold_is_exact(services: Services, accounts: Accounts) -> None:
    _fail(STAFF, services.settings.lockout_threshold - 1)
    assert login(STAFF, WRONG, "staff")["statusCode"] == 401  # the threshold-th failure is still checked
    assert login(STAFF, accounts.password, "staff")["statusCode"] == 429


def test_each_further_failure_doubles_the_lock_up_to_the_longest(
    services: Services, accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = _start(services, monkeypatch)
    settings = services.settings
    _fail(STAFF, settings.lockout_threshold)
    waits = []
    while not waits or waits[-1] < settings.lockout_max_seconds:
        locked = login(STAFF, accounts.password, "staff")
        assert locked["statusCode"] == 429 and len(waits) < 10
        waits.append(int(locked["headers"]["Retry-After"]))
        clock.advance(waits[-1])
        _fail(STAFF, 1)  # the lock over, one more failure: a lock twice as long
    base, longest = settings.lockout_base_seconds, settings.lockout_max_seconds
    assert waits == [min(base * 2**number, longest) for number in range(len(waits))]
    assert len(waits) > 2 and waits[-2] < longest  # doubled more than once before the cap


def test_the_per_ip_lock_is_of_one_email_under_one_user_type(
    services: Services, accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    _start(services, monkeypatch)
    _fail(STAFF, services.settings.lockout_threshold)
    assert login(STAFF, accounts.password, "staff")["statusCode"] == 429
    assert login(STAFF, WRONG, "admin")["statusCode"] == 401  # the same email under another type
    assert login(GHOST, WRONG, "staff")["statusCode"] == 401  # another email under the same type


def test_the_account_wide_lock_is_of_one_email_under_one_user_type(
    services: Services, accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    _start(services, monkeypatch)
    ceiling = services.settings.lockout_threshold + 1
    monkeypatch.setattr(
        services, "settings", dataclasses.replace(services.settings, lockout_account_threshold=ceiling)
    )
    for number in range(ceiling):  # one failure from each IP: no IP reaches its own threshold
        assert login(STAFF, WRONG, "staff", source_ip=f"192.0.2.{number}")["statusCode"] == 401
    at_ceiling = login(STAFF, accounts.password, "staff", source_ip="203.0.113.9")
    assert body_of(at_ceiling)["challenge"] == "email_code"  # a new address: an emailed code first
    assert login(STAFF, WRONG, "admin", source_ip="203.0.113.9")["statusCode"] == 401
    assert login(GHOST, WRONG, "staff", source_ip="203.0.113.9")["statusCode"] == 401


def test_a_locked_login_is_refused_on_its_one_read(
    services: Services, accounts: Accounts, aws_calls: list[str]
) -> None:
    """The counters come with the account, in one request, as they are: a lock is seen there, and
    nothing is written (no reservation tried against a counter read as absent)."""
    _fail(STAFF, services.settings.lockout_threshold)
    aws_calls.clear()
    assert login(STAFF, accounts.password, "staff")["statusCode"] == 429
    assert aws_calls == ["dynamodb.BatchGetItem"]


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


@pytest.mark.parametrize(
    "quiet", [False, True], ids=["counted by an atomic add", "a restart, written as read"]
)
def test_the_failure_counter_is_kept_at_least_a_window_past_the_last_failure(
    services: Services, accounts: Accounts, monkeypatch: pytest.MonkeyPatch, quiet: bool
) -> None:
    """Each write sets the ttl: the second failure comes 10 s after the first, or a whole window
    after it (the count starts again), and the counter is kept a window past the second."""
    clock = _start(services, monkeypatch)
    _fail(STAFF, 1)
    window_ms = services.settings.lockout_window_seconds * 1000
    clock.set(clock.now_ms() + (window_ms + 1000 if quiet else 10_000))
    _fail(STAFF, 1)
    items = services.users.dynamodb.scan(TableName=services.users.table)["Items"]
    counters = [item for item in items if item["pk"]["S"].startswith("LOCK#")]
    assert counters
    for counter in counters:
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
    response = login(email, WRONG, "staff")
    assert response["statusCode"] == status
    if status == 400:
        assert body_of(response) == {
            "message": "email is too long (at most 254 characters)",
            "field": "email",
        }


def test_a_login_records_the_session_it_began_and_its_method(
    accounts: Accounts, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.clear()
    tokens = staff_login()
    (event,) = [e for e in audit_events(caplog) if e["event"] == "login"]
    assert (event["outcome"], event["reason"]) == ("success", "pwd")
    assert event["session_id"] == tokens["refresh_token"].split(".")[0]


def test_a_stored_identity_that_cannot_go_into_a_token_is_only_said_once_the_password_is_right(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    create_user(
        services.users, "odd@dealership.example", PASSWORD, name="Odd", role="no spaces!", user_type="staff"
    )
    caplog.clear()
    assert login("odd@dealership.example", WRONG, "staff")["statusCode"] == 401
    assert login("odd@dealership.example", PASSWORD, "staff")["statusCode"] == 401
    reasons = [e["reason"] for e in audit_events(caplog) if e["event"] == "login"]
    assert reasons == ["wrong_password", "invalid_identity"]


def test_the_same_email_under_each_user_type_counts_as_two_accounts_for_stuffing(
    services: Services, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """On a fixed clock: the real one may cross a stuffing window's edge between the logins."""
    half = services.settings.stuffing_threshold // 2
    caplog.clear()
    for number in range(half):
        for user_type in ("admin", "staff"):
            login(f"victim{number}@dealership.example", WRONG, user_type, source_ip="192.0.2.66")
    assert [e["event"] for e in audit_events(caplog)].count("credential_stuffing") == 1


def test_a_reservation_that_keeps_losing_races_is_tried_three_times_then_told_to_retry_in_a_second(
    services: Services, accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another request counts first every time: the counters are read again and the reservation
    tried again, three times in all, then 429 with Retry-After 1; the password is never checked."""
    tried: list[str] = []
    checked: list[str] = []

    def always_lost(self: UserStore, counts: list[tuple[Attempts, Attempts]], keep_seconds: int) -> bool:
        tried.extend(seen.key for seen, _following in counts)
        return False

    def add_always_lost(self: UserStore, pk: str, *_: int) -> bool:
        tried.append(pk)
        return False

    monkeypatch.setattr(UserStore, "reserve_attempts", always_lost)
    monkeypatch.setattr(UserStore, "add_attempt", add_always_lost)
    monkeypatch.setattr(passwords, "verify_password", lambda stored, given: checked.append(given) or True)
    refused = login(STAFF, accounts.password, "staff")
    assert (refused["statusCode"], refused["headers"]["Retry-After"]) == (429, "1")
    assert len(tried) == 3 and tried[0] == tried[1] == tried[2] == lock_key("staff", STAFF, "203.0.113.10")
    assert checked == []


def test_each_refused_login_raises_its_own_reason_and_an_unknown_email_names_no_user(
    services: Services, accounts: Accounts, caplog: pytest.LogCaptureFixture
) -> None:
    """The reason travels on the error (the endpoint logs it), not only in the audit record; a
    failure for an email that has no account is audited with no user id."""
    client = Client(source_ip="198.51.100.7", user_agent="reasons/1.0")
    caplog.clear()
    for email, password, expected in (
        (GHOST, WRONG, Reason.UNKNOWN_USER),
        (STAFF, WRONG, Reason.WRONG_PASSWORD),
    ):
        with pytest.raises(InvalidCredentials) as refused:
            shared_login(services, LoginRequest(email, password, "staff"), client)
        assert refused.value.reason == expected
    users = [(e["reason"], e["user_id"]) for e in audit_events(caplog) if e["event"] == "login"]
    assert users[0] == ("unknown_user", "")
    assert users[1][0] == "wrong_password" and users[1][1] != ""


def test_a_lockout_is_audited_with_the_accounts_id_and_none_for_an_unknown_email(
    services: Services, accounts: Accounts, caplog: pytest.LogCaptureFixture
) -> None:
    _fail(STAFF, services.settings.lockout_threshold)
    _fail(GHOST, services.settings.lockout_threshold)
    caplog.clear()
    assert login(STAFF, WRONG, "staff")["statusCode"] == 429
    assert login(GHOST, WRONG, "staff")["statusCode"] == 429
    locked = [e["user_id"] for e in audit_events(caplog) if e["event"] == "login_lockout"]
    assert locked == [accounts.staff.user_id, ""]


def test_a_login_across_an_account_change_raises_account_changed(
    services: Services, accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = UserStore.login_state

    def read_then_changed(self: UserStore, *args: str) -> tuple[object, list[Attempts]]:
        found = real(self, *args)
        user = self.get("staff", STAFF)
        assert user is not None
        self.dynamodb.transact_write_items(TransactItems=[self.update_operation(user, name="Renamed")])
        return found

    monkeypatch.setattr(UserStore, "login_state", read_then_changed)
    with pytest.raises(InvalidCredentials) as refused:
        shared_login(services, LoginRequest(STAFF, accounts.password, "staff"), Client())
    assert refused.value.reason == Reason.ACCOUNT_CHANGED


def test_after_a_whole_window_a_single_earlier_failure_is_forgotten(
    services: Services, accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first failure after a quiet window counts from one again, even when one failure was
    counted before it: a whole threshold of failures is needed for the lock."""
    clock = _start(services, monkeypatch)
    started = clock.now_ms()
    _fail(STAFF, 1)
    clock.set(started + services.settings.lockout_window_seconds * 1000 + 1)
    _fail(STAFF, services.settings.lockout_threshold - 1)
    staff_login()


def _one_more_failure_before_the_write(operation: str) -> tuple[list[int], object]:
    """A hook: the first `operation` write of a LOCK# counter is preceded by one more failed login
    from the same address, run whole."""
    landed: list[int] = []

    def fail_first(params: dict[str, object], **_: object) -> None:
        if not landed and "LOCK#" in str(params):
            landed.append(0)  # before the nested login's own writes come here
            landed[0] = login(STAFF, WRONG, "staff")["statusCode"]

    return landed, fail_first


@pytest.mark.parametrize(
    ("operation", "seen", "status"),
    [
        # the attempt read 3 failures, 4 were there when it added: it must not add past the lock
        ("UpdateItem", 3, 401),
        # the attempt read 4 and writes the 5th with the lock; the 5th landed first, with the lock
        ("TransactWriteItems", 4, 429),
    ],
    ids=["the atomic add finds the threshold reached", "the lock's write loses its race"],
)
def test_a_failure_that_lands_between_the_read_and_the_write_is_counted_under_it(
    services: Services,
    accounts: Accounts,
    monkeypatch: pytest.MonkeyPatch,
    operation: str,
    seen: int,
    status: int,
) -> None:
    """The counter moves between an attempt's read and its write: the attempt reads it again and
    the lock falls where the threshold says, never past it (an admitted attempt is a 401 here)."""
    _start(services, monkeypatch)
    _fail(STAFF, seen)
    landed, fail_first = _one_more_failure_before_the_write(operation)
    events = aws.dynamodb().meta.events
    events.register(f"before-parameter-build.dynamodb.{operation}", fail_first)
    try:
        answer = login(STAFF, WRONG, "staff")
    finally:
        events.unregister(f"before-parameter-build.dynamodb.{operation}", fail_first)
    assert landed == [401] and answer["statusCode"] == status
    assert login(STAFF, accounts.password, "staff")["statusCode"] == 429


def test_with_a_threshold_of_one_the_first_failure_locks(
    services: Services, accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    _start(services, monkeypatch)
    monkeypatch.setattr(services, "settings", dataclasses.replace(services.settings, lockout_threshold=1))
    assert login(STAFF, WRONG, "staff")["statusCode"] == 401
    assert login(STAFF, accounts.password, "staff")["statusCode"] == 429


def test_an_address_is_known_by_the_first_64_characters_it_was_remembered_by(
    services: Services, accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Addresses are remembered cut to 64 characters (as the counters' keys are): one that long
    signs in past the account-wide ceiling as any known address does."""
    _start(services, monkeypatch)
    long_address = "2001:db8:" + "1" * 70
    staff_login(source_ip=long_address)
    ceiling = services.settings.lockout_threshold + 1
    monkeypatch.setattr(
        services, "settings", dataclasses.replace(services.settings, lockout_account_threshold=ceiling)
    )
    for number in range(ceiling):
        assert login(STAFF, WRONG, "staff", source_ip=f"192.0.2.{number}")["statusCode"] == 401
    assert "access_token" in body_of(login(STAFF, accounts.password, "staff", source_ip=long_address))

"""Single-use links, rule by rule (issue 30, rule 4): the self-service reset applies the password
policy (and a refused password leaves the link usable); forgotten-password requests from one
address are limited across accounts; a link is shaped, live, of its purpose and of the account's
version, to the second; what is stored of it is its hash."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import pytest

from shared.accounts.links import is_token_shaped, links_of, new_link
from shared.runtime.services import Services
from shared.store.links import INVITATION, RESET, Link, token_hash
from tests.clocks import pin_clock
from tests.events import body_of
from tests.fixtures import Accounts
from tests.flows import admin_login, is_authorized, login, staff_login
from tests.integration.test_account_lifecycle import (  # noqa: F401 (fixtures)
    NEW_PASSWORD,
    STAFF,
    accept,
    assert_invalid_link,
    forgot,
    invite,
    last_mail,
    link_items,
    mails_to,
    no_waiting,
    reset,
    token_of,
)


@pytest.fixture
def admin_token(accounts: Accounts) -> str:
    token: str = admin_login()["access_token"]
    return token


def reset_token(email: str = STAFF) -> str:
    assert forgot(email)["statusCode"] == 202
    return token_of(last_mail(email), "reset")


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short1!", "at least 12"),
        ("Password123!", "too common"),
        ("goatgoatgoat", "too common"),
        ("staff@dealership.example", "email address"),
        ("SamStaff2024!", "built from"),
    ],
)
def test_30_4_the_reset_applies_the_password_policy_and_the_link_survives_a_refusal(
    accounts: Accounts, password: str, message: str
) -> None:
    token = reset_token()
    refused = reset(token, password)
    assert refused["statusCode"] == 400, refused
    assert body_of(refused)["field"] == "new_password" and message in body_of(refused)["message"]
    assert login(STAFF, password, "staff")["statusCode"] == 401  # the password was not set
    assert reset(token)["statusCode"] == 200  # and the link still works, once


def test_30_4_forgotten_password_requests_from_one_address_are_limited_across_accounts(
    accounts: Accounts, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One address asking for many accounts (each under its own limits) is stopped at the address's
    limit; another address is not."""
    relaxed = dataclasses.replace(services.settings, forgot_password_ip_threshold=5)
    monkeypatch.setattr(services, "settings", relaxed)
    attacker = "203.0.113.66"
    answers = [forgot(f"user{n}@dealership.example", source_ip=attacker)["statusCode"] for n in range(6)]
    assert answers == [202] * 5 + [429]
    assert forgot(STAFF, source_ip=attacker)["statusCode"] == 429  # a real account alike
    assert forgot(STAFF, source_ip="198.51.100.9")["statusCode"] == 202


def test_30_4_the_address_limit_holds_at_its_default(accounts: Accounts, services: Services) -> None:
    limit = services.settings.forgot_password_ip_threshold
    assert limit > services.settings.forgot_password_threshold
    answers = [
        forgot(f"u{n}@dealership.example", source_ip="203.0.113.77")["statusCode"] for n in range(limit + 1)
    ]
    assert answers == [202] * limit + [429]


def test_a_reset_link_lives_until_its_second_and_not_one_more(
    accounts: Accounts, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = pin_clock(services, monkeypatch, time.time_ns() // 1_000_000_000 * 1000 + 500)
    first = reset_token()
    end_ms = (clock.now_ms() // 1000 + services.settings.reset_link_ttl) * 1000
    clock.set(end_ms - 1)
    assert reset(first)["statusCode"] == 200
    second = reset_token()
    clock.set((clock.now_ms() // 1000 + services.settings.reset_link_ttl) * 1000)
    assert_invalid_link(reset(second))


def test_a_link_is_live_before_its_expiry_second_only() -> None:
    link = Link("h", RESET, "staff", STAFF, 1, 1000)
    assert link.is_live(999_999) and not link.is_live(1_000_000) and not link.is_live(1_000_001)


@pytest.mark.parametrize(
    "token",
    ["", "a" * 42, "a" * 44, "a" * 42 + "=", "a" * 42 + "é", "a" * 42 + "+", "a" * 42 + "/", "a" * 42 + " "],
)
def test_only_a_43_character_base64url_token_is_shaped_as_a_link(token: str) -> None:
    assert not is_token_shaped(token)


def test_a_real_token_is_shaped_as_a_link(accounts: Accounts) -> None:
    token, link = new_link(RESET, accounts.staff, 0)
    assert (
        is_token_shaped(token)
        and is_token_shaped("-" * 21 + "_" * 22)
        and is_token_shaped("aZ09" * 10 + "abc")
    )
    assert link.hashed == token_hash(token) and link.user_version == accounts.staff.version
    assert len({new_link(RESET, accounts.staff, 0)[0] for _ in range(5)}) == 5


def test_a_malformed_token_is_refused_before_any_lookup(accounts: Accounts) -> None:
    assert_invalid_link(reset("x" * 43 + "!"))
    assert_invalid_link(reset("short"))


def test_only_the_hash_of_a_link_is_stored(accounts: Accounts, services: Services) -> None:
    token = reset_token()
    items = link_items(services)
    assert token not in repr(items) and token_hash(token) in repr(items)
    found = links_of(services).find(token_hash(token))
    assert found is not None and found.purpose == RESET and found.email == STAFF
    assert links_of(services).current(RESET, "staff", STAFF) == token_hash(token)


def test_a_link_of_another_account_version_is_refused(accounts: Accounts, services: Services) -> None:
    token = reset_token()
    services.users.dynamodb.update_item(
        TableName=services.users.table,
        Key={"pk": {"S": f"USER#staff#{STAFF}"}},
        UpdateExpression="SET version = version + :one",
        ExpressionAttributeValues={":one": {"N": "1"}},
    )
    assert_invalid_link(reset(token))


def test_a_used_reset_link_ends_the_old_sessions_and_signs_in(accounts: Accounts) -> None:
    old = staff_login()
    answer = reset(reset_token())
    assert answer["statusCode"] == 200
    assert not is_authorized(old["access_token"])
    assert is_authorized(body_of(answer)["access_token"])
    assert login(STAFF, NEW_PASSWORD, "staff")["statusCode"] == 200


def test_an_invitation_link_accepts_once_and_a_reset_link_cannot_accept(admin_token: str) -> None:
    assert invite(admin_token)["statusCode"] == 201
    token = token_of(last_mail("new.hire@dealership.example"), "invitation")
    assert accept(token)["statusCode"] == 200
    assert_invalid_link(accept(token))
    assert_invalid_link(reset(token))


def test_a_current_link_pointer_names_the_newest_link(accounts: Accounts, services: Services) -> None:
    first = reset_token()
    second = reset_token()
    assert links_of(services).current(RESET, "staff", STAFF) == token_hash(second)
    assert links_of(services).find(token_hash(first)) is None  # the older link was deleted
    assert links_of(services).current(INVITATION, "staff", STAFF) == ""


# --- invitations: who may be invited again, what an accepted one yields ----------------------------


def _invitation_call(admin_token: str, action: str, email: str) -> dict[str, Any]:
    from tests.integration.test_account_lifecycle import admin_call

    return admin_call(admin_token, f"/auth/invitations/{action}", {"email": email, "user_type": "staff"})


def test_a_disabled_account_is_never_invited_again(
    admin_token: str, accounts: Accounts, services: Services
) -> None:
    """Resending or revoking needs a pending invitation: a disabled account (no link) or an enabled
    one is refused, so an invitation can never re-enable an account an administrator disabled."""
    from shared.accounts import actions as account_actions

    account_actions.disable_user(services, accounts.staff)
    for action in ("resend", "revoke"):
        answer = _invitation_call(admin_token, action, STAFF)
        assert answer["statusCode"] == 400, answer
        assert body_of(answer) == {"field": "email", "message": f"{STAFF} has no pending invitation"}
    assert not mails_to(STAFF)


def test_an_enabled_account_with_a_link_left_is_not_a_pending_invitation(
    admin_token: str, accounts: Accounts, services: Services
) -> None:
    reset_token()  # the account has a current reset link, not an invitation
    answer = _invitation_call(admin_token, "resend", STAFF)
    assert answer["statusCode"] == 400 and body_of(answer)["field"] == "email"


def test_a_resent_invitation_lives_its_whole_lifetime_from_the_resend(
    admin_token: str, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = pin_clock(services, monkeypatch, time.time_ns() // 1_000_000_000 * 1000 + 500)
    assert invite(admin_token)["statusCode"] == 201
    clock.advance(3600)
    resent = _invitation_call(admin_login()["access_token"], "resend", "new.hire@dealership.example")
    assert resent["statusCode"] == 200, resent
    from shared.core.clock import iso_time

    expires = clock.now_ms() // 1000 + services.settings.invitation_ttl
    assert body_of(resent)["expires_at"] == iso_time(expires * 1000)
    token = token_of(last_mail("new.hire@dealership.example"), "invitation")
    found = links_of(services).find(token_hash(token))
    assert found is not None and found.expires == expires and isinstance(found.expires, int)


def test_an_accepted_invitation_signs_in_as_of_its_use(
    admin_token: str, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    import jwt

    clock = pin_clock(services, monkeypatch, time.time_ns() // 1_000_000_000 * 1000 + 500)
    assert invite(admin_token)["statusCode"] == 201
    clock.advance(600)
    answer = accept(token_of(last_mail("new.hire@dealership.example"), "invitation"))
    assert answer["statusCode"] == 200, answer
    claims = jwt.decode(body_of(answer)["access_token"], options={"verify_signature": False})
    assert claims["auth_time"] == claims["iat"] == clock.now_ms() // 1000 and claims["amr"] == ["pwd"]


def test_an_invitation_with_a_name_too_long_for_a_token_names_the_name(
    services: Services, accounts: Accounts
) -> None:
    from shared.accounts.invitations import invite as invite_account
    from shared.core.errors import BadRequest
    from shared.core.observability import Client

    with pytest.raises(BadRequest) as refused:
        invite_account(
            services,
            "long.name@dealership.example",
            name="N" * 300,
            role="sales",
            user_type="staff",
            actor=Client(),
        )
    assert (refused.value.field, refused.value.message) == ("name", "invalid email or name")
    assert services.users.get("staff", "long.name@dealership.example") is None


@pytest.mark.parametrize("use", ["accept", "reset"])
def test_a_link_checks_the_breached_password_list_when_it_is_on(
    use: str, admin_token: str, accounts: Accounts, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared.credentials import breached_passwords

    monkeypatch.setattr(
        services, "settings", dataclasses.replace(services.settings, pwned_passwords="fail-open")
    )
    monkeypatch.setattr(breached_passwords, "pwned", lambda password, settings: password == NEW_PASSWORD)
    if use == "accept":
        assert invite(admin_token)["statusCode"] == 201
        token = token_of(last_mail("new.hire@dealership.example"), "invitation")
        answer = accept(token)
    else:
        token = reset_token()
        answer = reset(token)
    assert answer["statusCode"] == 400, answer
    assert "breaches" in body_of(answer)["message"]


def test_a_revoked_invitation_leaves_no_account_and_no_link(admin_token: str, services: Services) -> None:
    assert invite(admin_token)["statusCode"] == 201
    token = token_of(last_mail("new.hire@dealership.example"), "invitation")
    assert _invitation_call(admin_token, "revoke", "new.hire@dealership.example")["statusCode"] in (200, 204)
    assert services.users.get("staff", "new.hire@dealership.example") is None
    assert links_of(services).current(INVITATION, "staff", "new.hire@dealership.example") == ""
    assert_invalid_link(accept(token))


# --- what a used reset link changes ----------------------------------------------------------------


def test_a_reset_clears_the_accounts_own_lock_not_only_the_one_of_its_address(
    accounts: Accounts, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The account locked by failures from many addresses (none locked itself): after a reset the
    owner signs in from yet another address."""
    settings = dataclasses.replace(services.settings, lockout_threshold=1000, lockout_account_threshold=3)
    monkeypatch.setattr(services, "settings", settings)
    for n in range(4):
        login(STAFF, "wrong password 1234", "staff", source_ip=f"203.0.113.{n + 1}")
    at_ceiling = body_of(login(STAFF, "amber lighthouse rowing 31", "staff", source_ip="192.0.2.50"))
    assert at_ceiling["challenge"] == "email_code"  # past the ceiling a new address is asked for a code
    assert reset(reset_token())["statusCode"] == 200
    assert "access_token" in body_of(login(STAFF, NEW_PASSWORD, "staff", source_ip="192.0.2.51"))


def test_a_reset_ends_the_old_sessions_as_a_reset_and_signs_in_as_of_its_use(
    accounts: Accounts, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    import jwt

    from shared.credentials.refresh_tokens import session_id_of

    clock = pin_clock(services, monkeypatch, time.time_ns() // 1_000_000_000 * 1000 + 500)
    old = staff_login()
    token = reset_token()
    clock.advance(120)
    answer = reset(token)
    assert answer["statusCode"] == 200
    claims = jwt.decode(body_of(answer)["access_token"], options={"verify_signature": False})
    assert claims["auth_time"] == claims["iat"] == clock.now_ms() // 1000 and claims["amr"] == ["pwd"]
    sid = session_id_of(old["refresh_token"])
    item = services.sessions.dynamodb.get_item(
        TableName=services.sessions.table, Key={"pk": {"S": f"SESSION#{sid}"}}
    )["Item"]
    assert item["status"]["S"] == "revoked" and item["revoked_reason"]["S"] == "password_reset"


# --- the link store ---------------------------------------------------------------------------------


def _link(services: Services, accounts: Accounts, expires: int = 2_000_000_000) -> tuple[str, Link]:
    return new_link(RESET, accounts.staff, expires)


def test_a_link_is_issued_only_over_the_link_it_replaces(services: Services, accounts: Accounts) -> None:
    from shared.store.dynamo import TransactionRejected, transact_write

    store = links_of(services)
    _token, first = _link(services, accounts)
    transact_write(store.dynamodb, store.issue_operations(first, ""))
    assert store.current(RESET, "staff", STAFF) == first.hashed
    _token, second = _link(services, accounts)
    for replaced in ("", "0" * 64):  # none, or another one: someone issued a link meanwhile
        with pytest.raises(TransactionRejected):
            transact_write(store.dynamodb, store.issue_operations(second, replaced))
    transact_write(store.dynamodb, store.issue_operations(second, first.hashed))
    assert store.current(RESET, "staff", STAFF) == second.hashed
    assert store.find(first.hashed) is None
    found = store.find(second.hashed)
    assert found == second
    items = {item["pk"]["S"]: item for item in link_items(services)}
    assert items[f"LINK#{second.hashed}"]["ttl"] == {"N": str(second.expires)}
    assert items[f"LINKOF#reset#staff#{STAFF}"]["ttl"] == {"N": str(second.expires)}
    with pytest.raises(TransactionRejected):  # a link hash is never issued twice
        transact_write(store.dynamodb, store.issue_operations(second, ""))


def test_a_stored_link_is_found_only_by_its_own_hash(services: Services, accounts: Accounts) -> None:
    store = links_of(services)
    _token, link = _link(services, accounts)
    assert store.find(link.hashed) is None and store.current(RESET, "staff", STAFF) == ""
    from shared.store.dynamo import transact_write

    transact_write(store.dynamodb, store.issue_operations(link, ""))
    store.dynamodb.update_item(
        TableName=store.table,
        Key={"pk": {"S": f"LINK#{link.hashed}"}},
        UpdateExpression="SET #hash = :other",
        ExpressionAttributeNames={"#hash": "hash"},
        ExpressionAttributeValues={":other": {"S": "f" * 64}},
    )
    assert store.find(link.hashed) is None


def test_the_daily_mail_count_stops_at_its_limit_and_starts_again_the_next_day(
    services: Services, accounts: Accounts
) -> None:
    from shared.store.dynamo import TransactionRejected, transact_write

    store = links_of(services)
    day_ms = 86_400_000
    at = 20_000 * day_ms + 3_600_000
    for _ in range(2):
        transact_write(store.dynamodb, [store.count_mail_operation("staff", STAFF, at, 2)])
    with pytest.raises(TransactionRejected):
        transact_write(store.dynamodb, [store.count_mail_operation("staff", STAFF, at + 3_600_000, 2)])
    transact_write(store.dynamodb, [store.count_mail_operation("staff", STAFF, at + day_ms, 2)])
    item = store.dynamodb.get_item(
        TableName=store.table, Key={"pk": {"S": f"RESETMAIL#staff#{STAFF}#20000"}}
    )["Item"]
    assert item["count"] == {"N": "2"} and item["ttl"] == {"N": str(20_002 * 86_400)}


def test_the_forgotten_password_counters_and_their_keys() -> None:
    from shared.store.links import mail_counter_key, request_counter_keys

    ip = "2001:db8::" + "a" * 70
    assert request_counter_keys("staff", STAFF, ip) == [
        f"RESETLOCK#staff#{STAFF}",
        f"RESETLOCK#staff#{STAFF}#{ip[:64]}",
        f"RESETIP#{ip[:64]}",
    ]
    assert mail_counter_key("staff", STAFF, 7) == f"RESETMAIL#staff#{STAFF}#7"


def test_a_token_hash_is_the_sha256_of_its_text() -> None:
    import hashlib

    assert token_hash("abc") == hashlib.sha256(b"abc").hexdigest()
    assert token_hash("é") == hashlib.sha256("é".encode()).hexdigest()


def test_an_invitation_replaces_a_link_left_by_an_account_deleted_meanwhile(
    admin_token: str, services: Services, accounts: Accounts
) -> None:
    from shared.store.dynamo import transact_write

    email = "new.hire@dealership.example"
    leftover = Link("e" * 64, INVITATION, "staff", email, 1, 2_000_000_000)
    store = links_of(services)
    transact_write(store.dynamodb, store.issue_operations(leftover, ""))  # its account is gone
    assert invite(admin_token, email)["statusCode"] == 201
    assert (
        store.current(INVITATION, "staff", email) != leftover.hashed and store.find(leftover.hashed) is None
    )
    answer = invite(admin_token, STAFF)
    assert answer["statusCode"] == 400
    assert body_of(answer) == {"field": "email", "message": f"a staff user with email {STAFF} already exists"}


def test_links_are_read_strongly_consistent(services: Services, accounts: Accounts) -> None:
    token = reset_token()
    store = links_of(services)
    reads: list[dict[str, Any]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        reads.append(params)

    events = store.dynamodb.meta.events
    events.register("provide-client-params.dynamodb.GetItem", record)
    try:
        store.find(token_hash(token))
        store.current(RESET, "staff", STAFF)
    finally:
        events.unregister("provide-client-params.dynamodb.GetItem", record)
    assert len(reads) == 2 and all(read.get("ConsistentRead") is True for read in reads)

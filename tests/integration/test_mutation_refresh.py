"""Refresh-rotation rules that other checks used to mask: a not-before passed since the session began
is refused on the rotation path too (401, not a retry loop ending in 503) though the session row
still says active; every lifetime and the grace window end at their exact millisecond; a rotation
that loses a race to another answers with the same child."""

from __future__ import annotations

import secrets
import time

import jwt
import pytest

from shared.core import aws
from shared.core.errors import Reason
from shared.credentials import signing
from shared.credentials.refresh_tokens import session_id_of
from shared.runtime.services import Services
from tests.clocks import PinnedClock, pin_clock
from tests.events import body_of
from tests.fixtures import Accounts, Faults
from tests.flows import is_authorized, logout, refresh, session_delete, sessions_list, staff_login


def test_refresh_after_a_not_before_is_refused_while_the_session_row_is_active(
    services: Services, accounts: Accounts
) -> None:
    tokens = staff_login()
    services.denylist.set_not_before(accounts.staff.user_id, services.clock.now_ms())
    response = refresh(tokens["refresh_token"])
    assert response["statusCode"] == 401, response
    assert body_of(response) == {"message": "Invalid refresh token"}


# --- lifetimes and the grace window, to the millisecond (a pinned clock) ----------------------------

DAY = 24 * 3600


def _start(services: Services, monkeypatch: pytest.MonkeyPatch) -> PinnedClock:
    """Half a second into a second, so whole-second roundings show."""
    return pin_clock(services, monkeypatch, time.time_ns() // 1_000_000_000 * 1000 + 500)


def _two_sessions(accounts: Accounts) -> tuple[dict[str, str], dict[str, str]]:
    return (
        staff_login(),
        staff_login(),
    )


def _rotate(token: str) -> dict[str, str]:
    response = refresh(token)
    assert response["statusCode"] == 200, response
    body: dict[str, str] = body_of(response)
    return body


def test_a_refresh_token_is_usable_until_the_second_its_idle_lifetime_ends(
    services: Services, accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = _start(services, monkeypatch)
    first, second = _two_sessions(accounts)
    idle_end_ms = (clock.now_ms() // 1000 + services.settings.refresh_idle_ttl) * 1000
    clock.set(idle_end_ms - 1)
    assert _rotate(first["refresh_token"])
    clock.set(idle_end_ms)
    assert refresh(second["refresh_token"])["statusCode"] == 401


def test_a_session_refreshes_until_the_second_its_absolute_lifetime_ends(
    services: Services, accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = _start(services, monkeypatch)
    start_ms = clock.now_ms()
    first, second = _two_sessions(accounts)
    absolute_end_ms = (start_ms // 1000 + services.settings.session_max_ttl) * 1000
    current = [first["refresh_token"], second["refresh_token"]]
    for days in range(6, services.settings.session_max_ttl // DAY, 6):  # used often enough never to idle
        clock.set(start_ms + days * DAY * 1000)
        current = [_rotate(token)["refresh_token"] for token in current]
    clock.set(absolute_end_ms - 1)
    last = _rotate(current[0])
    assert last["refresh_token"] != current[0]
    assert len(body_of(sessions_list(last["access_token"]))["sessions"]) == 2
    clock.set(absolute_end_ms)
    assert refresh(current[1])["statusCode"] == 401
    assert refresh(last["refresh_token"])["statusCode"] == 401
    assert body_of(sessions_list(last["access_token"]))["sessions"] == []  # neither is live any more


def test_the_grace_window_ends_to_the_millisecond(
    services: Services, accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = _start(services, monkeypatch)
    first, second = _two_sessions(accounts)
    rotated_at = clock.now_ms()
    first_child, second_child = _rotate(first["refresh_token"]), _rotate(second["refresh_token"])
    grace_ms = services.settings.refresh_grace_seconds * 1000
    clock.set(rotated_at + grace_ms)
    assert _rotate(first["refresh_token"])["refresh_token"] == first_child["refresh_token"]
    clock.set(rotated_at + grace_ms + 1)
    assert refresh(second["refresh_token"])["statusCode"] == 401
    assert refresh(second_child["refresh_token"])["statusCode"] == 401  # theft: the session ended


def test_the_sessions_list_drops_a_session_the_millisecond_it_idles_out(
    services: Services, accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = _start(services, monkeypatch)
    _, used = _two_sessions(accounts)
    idle_end_ms = clock.now_ms() + services.settings.refresh_idle_ttl * 1000  # the first one's
    clock.set(idle_end_ms - 600_000)
    renewed = _rotate(used["refresh_token"])
    clock.set(idle_end_ms - 1)
    assert len(body_of(sessions_list(renewed["access_token"]))["sessions"]) == 2
    clock.set(idle_end_ms)
    (listed,) = body_of(sessions_list(renewed["access_token"]))["sessions"]
    assert listed["current"]


def test_the_sessions_list_leaves_out_a_revoked_session(accounts: Accounts) -> None:
    kept, ended = _two_sessions(accounts)
    ended_sid = ended["refresh_token"].split(".")[0]
    assert session_delete(kept["access_token"], ended_sid)["statusCode"] in (200, 204)
    (listed,) = body_of(sessions_list(kept["access_token"]))["sessions"]
    assert listed["current"] and listed["id"] != ended_sid


# --- a rotation racing another ----------------------------------------------------------------------


def test_a_token_rotated_between_the_read_and_the_write_gets_the_same_child(accounts: Accounts) -> None:
    """Another request rotates the token after this one read it: this one's transaction fails on the
    parent, it reads again and, within the grace window, answers with the very same child."""
    start = staff_login()
    competing: list[dict[str, object]] = []

    def rotate_first(**_: object) -> None:
        if not competing:
            competing.append({})
            competing[0] = refresh(start["refresh_token"])

    events = aws.dynamodb().meta.events
    events.register("before-call.dynamodb.TransactWriteItems", rotate_first)
    try:
        response = refresh(start["refresh_token"])
    finally:
        events.unregister("before-call.dynamodb.TransactWriteItems", rotate_first)
    assert competing[0]["statusCode"] == 200, competing[0]
    assert response["statusCode"] == 200, response
    assert body_of(response)["refresh_token"] == body_of(competing[0])["refresh_token"]
    assert is_authorized(body_of(response)["access_token"])


def test_a_session_begun_after_a_not_before_refreshes(
    services: Services, accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = _start(services, monkeypatch)
    services.denylist.set_not_before(accounts.staff.user_id, clock.now_ms())
    clock.advance(0.001)
    tokens = staff_login()
    assert _rotate(tokens["refresh_token"])["refresh_token"] != tokens["refresh_token"]


def test_a_revoked_session_records_when_and_why(
    services: Services, accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = _start(services, monkeypatch)
    parent = staff_login()
    _rotate(_rotate(parent["refresh_token"])["refresh_token"])
    clock.advance(1)
    assert refresh(parent["refresh_token"])["statusCode"] == 401  # a replay: theft
    sid = parent["refresh_token"].split(".")[0]
    item = services.sessions.dynamodb.get_item(
        TableName=services.sessions.table, Key={"pk": {"S": f"SESSION#{sid}"}}, ConsistentRead=True
    )["Item"]
    assert item["status"]["S"] != "active"
    assert int(item["revoked_at"]["N"]) == clock.now_ms()
    assert item["revoked_reason"]["S"] == "refresh_token_reuse"


LOST_RACE = [{"Code": "ConditionalCheckFailed"}, {"Code": "None"}, {"Code": "None"}, {"Code": "None"}]


@pytest.mark.parametrize(("lost", "status"), [(2, 200), (3, 503)])
def test_a_rotation_that_keeps_losing_races_reads_again_three_times_then_answers_503(
    accounts: Accounts, faults: Faults, lost: int, status: int
) -> None:
    tokens = staff_login()
    faults.fail(
        "dynamodb.TransactWriteItems",
        "TransactionCanceledException",
        times=lost,
        CancellationReasons=LOST_RACE,
    )
    assert refresh(tokens["refresh_token"])["statusCode"] == status  # never taken for theft
    assert _rotate(tokens["refresh_token"])  # and nothing was half-written


def test_a_refresh_token_whose_session_row_is_gone_is_401(services: Services, accounts: Accounts) -> None:
    """DynamoDB's TTL deletes rows late and in any order: a token row may outlive its session's row."""
    tokens = staff_login()
    sid = tokens["refresh_token"].split(".")[0]
    services.sessions.dynamodb.delete_item(
        TableName=services.sessions.table, Key={"pk": {"S": f"SESSION#{sid}"}}
    )
    assert refresh(tokens["refresh_token"])["statusCode"] == 401


def test_a_refresh_derives_its_successor_with_the_cached_keys(
    services: Services, accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The derivation keys are read again only when a successor was derived under a key this
    container has not read yet: an ordinary rotation, or a retry within the grace window, costs no
    Secrets Manager call."""
    tokens = staff_login()
    services.refresh_keys()  # the container has read the keys already
    reads: list[str] = []
    real = signing.secret_versions

    def counted(secret_id: str, setting: str) -> tuple[bytes, ...]:
        reads.append(secret_id)
        return real(secret_id, setting)

    monkeypatch.setattr(signing, "secret_versions", counted)
    child = refresh(tokens["refresh_token"])
    assert child["statusCode"] == 200
    grandchild = refresh(body_of(child)["refresh_token"])
    assert grandchild["statusCode"] == 200
    retry = refresh(body_of(child)["refresh_token"])  # a retry within the grace window
    assert body_of(retry)["refresh_token"] == body_of(grandchild)["refresh_token"]
    assert reads == []
    signing.forget_keys()  # a container that has not read them yet reads them, once
    assert refresh(body_of(grandchild)["refresh_token"])["statusCode"] == 200
    assert reads == [services.settings.refresh_key_secret_arn]


def test_a_replayed_refresh_token_ends_its_sessions_access_tokens_at_once(
    services: Services, accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reuse revokes the session and denies its access tokens in the same transaction: the thief's
    and the owner's access tokens stop at the authorizer, before they expire."""
    clock = _start(services, monkeypatch)
    first = staff_login()
    child = _rotate(first["refresh_token"])
    clock.advance(services.settings.refresh_grace_seconds + 1)  # past the grace window: a replay is theft
    assert is_authorized(child["access_token"])
    assert refresh(first["refresh_token"])["statusCode"] == 401
    assert not is_authorized(child["access_token"])
    assert not is_authorized(first["access_token"])


def test_a_token_not_shaped_as_a_refresh_token_is_logged_as_malformed(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    """The reason the log keeps (the answer is the same 401 for every bad token)."""
    caplog.clear()
    assert refresh("not-shaped-as-a-refresh-token")["statusCode"] == 401
    reasons = [getattr(r, "reason", None) for r in caplog.records if r.getMessage() == "refresh rejected"]
    assert reasons == ["malformed"]


def test_a_retry_on_a_container_still_on_the_old_key_reads_the_keys_again(
    services: Services, accounts: Accounts
) -> None:
    """The parent's child was derived under a key this container has not read yet: it reads the keys
    again and answers the same child (neither a theft nor an error)."""
    old_keys = services.refresh_keys()
    tokens = staff_login()
    arn = services.settings.refresh_key_secret_arn
    aws.secrets_manager().put_secret_value(SecretId=arn, SecretString=secrets.token_urlsafe(48))
    signing.forget_keys()  # a new container: it derives the child under the new key
    child = _rotate(tokens["refresh_token"])
    signing._refresh_keys[arn] = (old_keys, time.monotonic())  # a container that read the old key only
    retried = refresh(tokens["refresh_token"])
    assert retried["statusCode"] == 200
    assert body_of(retried)["refresh_token"] == child["refresh_token"]


def test_a_well_shaped_refresh_token_nobody_issued_is_401(services: Services, accounts: Accounts) -> None:
    """Of a real session, shaped right, but never issued: no record, the plain 401."""
    tokens = staff_login()
    sid = tokens["refresh_token"].split(".")[0]
    response = refresh(f"{sid}.{'A' * 43}")
    assert response["statusCode"] == 401, response
    assert body_of(response) == {"message": "Invalid refresh token"}


@pytest.mark.parametrize("value", [None, 42, ["a"], "", "no-dot-at-all", "a" * 22 + "." + "b" * 42])
def test_anything_not_shaped_as_a_refresh_token_has_no_session_id(value: object) -> None:
    assert session_id_of(value) is None


def test_a_grace_retry_losing_to_a_logout_is_refused_as_revoked(
    services: Services, accounts: Accounts, caplog: pytest.LogCaptureFixture
) -> None:
    """The logout lands between the retry's read and its check that the session still lives."""
    first = staff_login()
    _rotate(first["refresh_token"])  # used: a retry within the grace window answers its child
    events = aws.dynamodb().meta.events

    def logout_first(**_: object) -> None:
        events.unregister("before-call.dynamodb.TransactWriteItems", logout_first)
        assert logout(first["access_token"])["statusCode"] == 200

    events.register("before-call.dynamodb.TransactWriteItems", logout_first)
    caplog.clear()
    try:
        assert refresh(first["refresh_token"])["statusCode"] == 401
    finally:
        events.unregister("before-call.dynamodb.TransactWriteItems", logout_first)
    reasons = [getattr(r, "reason", None) for r in caplog.records if r.getMessage() == "refresh rejected"]
    assert reasons == [str(Reason.SESSION_REVOKED)]


# --- issue 30: the rules an audit found unguarded by the refresh group's own tests ------------------


@pytest.fixture
def relying_party(aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Passkeys on (their relying party), before the services are built."""
    from shared.runtime import services as services_module

    monkeypatch.setenv("WEBAUTHN_RP_ID", "app.example.com")
    services_module.reset()


def test_30_1_a_refresh_keeps_the_sessions_auth_time_so_an_old_login_stays_old(
    step_up_routes: str,
    relying_party: None,
    services: Services,
    accounts: Accounts,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A refreshed access token carries the session's `auth_time` (the last real proof), never the
    refresh's own moment: otherwise a stolen refresh token would make itself a fresh login, pass the
    step-up `max_age` and register its own passkey."""
    from functions.passkeys.handler import handler as passkeys_handler
    from shared.authorizer.decision import STEP_UP_ERROR
    from tests.flows import ADMIN, active_totp, authorize, login_ok, protected_call, second_step, totp_code

    clock = _start(services, monkeypatch)
    secret, _codes = active_totp(accounts, clock)
    mfa_token = login_ok(ADMIN, accounts.password, "admin")["mfa_token"]
    proven_s = clock.now_ms() // 1000
    strong = body_of(second_step(mfa_token, totp_code(secret, clock)))
    fresh = authorize(strong["access_token"], "DELETE", "/cars/car-1")
    assert fresh["context"]["step_up"] == ""  # a fresh second factor: the step-up route is granted
    clock.advance(max(900, services.settings.factor_change_max_age) + 60)  # the proof is now too old
    refreshed = _rotate(strong["refresh_token"])
    claims = jwt.decode(refreshed["access_token"], options={"verify_signature": False})
    assert claims["auth_time"] == proven_s and claims["iat"] > proven_s + 900
    # the step-up rule: a route demanding a proof within max_age is refused to the refreshed token
    stale = authorize(refreshed["access_token"], "DELETE", "/cars/car-1")
    assert STEP_UP_ERROR in stale["context"]["step_up"], stale["context"]
    # the factor-change rule: registering a passkey needs a fresh proof
    path = "/auth/passkeys/register/options"
    answer = protected_call(passkeys_handler, refreshed["access_token"], "POST", path)
    assert answer["statusCode"] == 403, answer
    assert body_of(answer)["error"] == "insufficient_user_authentication"


def test_30_2_two_containers_on_two_derivation_keys_never_fork_a_session(
    services: Services, accounts: Accounts
) -> None:
    """During a rotation of the refresh-derivation key, container A (the old key only) and container
    B (the new key first) both read the same active parent; A commits its child first. B's child is
    another token (another key), so its `attribute_not_exists(pk)` passes: only the parent's own
    `#status = :active` refuses B's transaction. B then reads again and answers A's very child, so the
    session has one refresh chain, never two."""
    import copy

    from shared.core.observability import Client
    from shared.sessions import rotation

    parent = staff_login()["refresh_token"]
    old_keys = services.refresh_keys()
    new_key = secrets.token_bytes(32)
    container_a = copy.copy(services)
    container_a.refresh_keys = lambda *, reload=False: old_keys  # type: ignore[method-assign]
    container_b = copy.copy(services)
    container_b.refresh_keys = lambda *, reload=False: (new_key, *old_keys)  # type: ignore[method-assign]
    container_b.sessions = copy.copy(services.sessions)
    b_rotate = container_b.sessions.rotate
    first: list[str] = []

    def a_commits_first(*args: object, **kwargs: object) -> None:
        if not first:  # between B's read and B's write
            first.append(rotation.refresh(container_a, parent, Client()).refresh_token)
        b_rotate(*args, **kwargs)  # type: ignore[arg-type]

    container_b.sessions.rotate = a_commits_first  # type: ignore[method-assign]
    second = rotation.refresh(container_b, parent, Client()).refresh_token
    assert first and second == first[0], "one parent, two live children: the session forked"
    # and the one chain goes on
    assert _rotate(second)["refresh_token"] != second


def test_30_3_a_rotation_losing_to_a_revocation_between_its_read_and_write_is_refused(
    services: Services, accounts: Accounts, caplog: pytest.LogCaptureFixture
) -> None:
    """The session is revoked after the rotation read it as active: the rotation's transaction (its
    condition that the session is still active) refuses, and no child exists."""
    first = staff_login()
    events = aws.dynamodb().meta.events

    def revoke_first(**_: object) -> None:
        events.unregister("before-call.dynamodb.TransactWriteItems", revoke_first)
        assert session_delete(first["access_token"], session_id_of(first["refresh_token"]) or "")[
            "statusCode"
        ] in (200, 204)

    events.register("before-call.dynamodb.TransactWriteItems", revoke_first)
    caplog.clear()
    try:
        assert refresh(first["refresh_token"])["statusCode"] == 401
    finally:
        events.unregister("before-call.dynamodb.TransactWriteItems", revoke_first)
    reasons = [getattr(r, "reason", None) for r in caplog.records if r.getMessage() == "refresh rejected"]
    assert reasons == [str(Reason.SESSION_REVOKED)]


def test_30_3_the_grace_window_never_applies_once_the_child_was_used(
    services: Services, accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Within the grace window, the parent replayed after its child was rotated is theft."""
    _start(services, monkeypatch)
    first = staff_login()
    child = _rotate(first["refresh_token"])
    grandchild = _rotate(child["refresh_token"])
    assert refresh(first["refresh_token"])["statusCode"] == 401  # same millisecond: within the window
    assert refresh(grandchild["refresh_token"])["statusCode"] == 401  # the session was ended
    assert not is_authorized(grandchild["access_token"])


def test_30_3_an_expired_refresh_token_is_refused_on_the_read(
    services: Services, accounts: Accounts, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Past its idle lifetime a token is refused as expired at once (401), not by the transaction
    after three reads (503)."""
    clock = _start(services, monkeypatch)
    tokens = staff_login()
    clock.advance(services.settings.refresh_idle_ttl + 1)
    caplog.clear()
    assert refresh(tokens["refresh_token"])["statusCode"] == 401
    reasons = [getattr(r, "reason", None) for r in caplog.records if r.getMessage() == "refresh rejected"]
    assert reasons == [str(Reason.TOKEN_EXPIRED)]


def test_30_3_a_token_of_an_ended_session_is_refused_as_ended_not_as_theft(
    services: Services, accounts: Accounts, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A token of a session past its absolute lifetime is refused on the read as the session's end:
    never rotated, never reported as a replay (a false theft alarm) nor as a revocation."""
    clock = _start(services, monkeypatch)
    tokens = staff_login()
    clock.set((clock.now_ms() // 1000 + services.settings.session_max_ttl) * 1000)
    caplog.clear()
    assert refresh(tokens["refresh_token"])["statusCode"] == 401
    reasons = [getattr(r, "reason", None) for r in caplog.records if r.getMessage() == "refresh rejected"]
    assert reasons == [str(Reason.SESSION_ENDED)]

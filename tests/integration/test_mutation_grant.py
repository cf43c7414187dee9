"""Session grant and the refresh cookie, rule by rule (issue 30, rule 4): what a new session and its
tokens carry and when they end, to the second; the cookie's every attribute, and that a token
travels in the cookie or the body, never both; the assurance model's fresh-proof rule at its
boundary; which of the user's sessions are listed and ended; the notification emails' settings."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import jwt
import pytest

from local.outbox import messages
from shared.config.settings import Settings
from shared.core.errors import NotFound, StepUpRequired
from shared.core.observability import Client
from shared.credentials.identity import Identity
from shared.http.endpoint import link_reply, session_reply, token_reply
from shared.http.proxy import clear_refresh_cookie, parse_event, refresh_cookie
from shared.http.reply import IssuedRefresh, Reply, render
from shared.mail import notifications
from shared.runtime.services import Services
from shared.sessions import assurance, lifecycle
from shared.sessions.lifecycle import TokenGrant, start_session
from tests.clocks import PinnedClock, pin_clock
from tests.fixtures import Accounts

CLIENT = Client(source_ip="198.51.100.23", user_agent="Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0")


def _pinned(services: Services, monkeypatch: pytest.MonkeyPatch) -> PinnedClock:
    return pin_clock(services, monkeypatch, time.time_ns() // 1_000_000_000 * 1000 + 500)


def _start(services: Services, accounts: Accounts, at: int, **kwargs: Any) -> TokenGrant:
    user = accounts.staff
    options: dict[str, Any] = {"amr": ("pwd",), "auth_time": at // 1000, **kwargs}
    return start_session(services, Identity.of(user), CLIENT, [], at=at, user_version=user.version, **options)


def _claims(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


# --------------------------------------------------------------------------------- the grant


def test_a_new_session_grant_dates_from_its_read_and_ends_to_the_second(
    services: Services, accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = _pinned(services, monkeypatch)
    at = clock.now_ms() - 250  # read a quarter second before the signing
    granted = _start(services, accounts, at, amr=("pwd", "otp", "mfa"), auth_time=at // 1000 - 7)
    settings = services.settings
    claims = _claims(granted.access_token)
    assert claims["iat"] == at // 1000 and claims["exp"] == at // 1000 + settings.access_token_ttl
    assert claims["auth_time"] == at // 1000 - 7 and claims["amr"] == ["pwd", "otp", "mfa"]
    assert claims["sid"] == granted.refresh_token.split(".")[0] == granted.claims.sid
    assert granted.expires_in == settings.access_token_ttl
    assert granted.refresh_expires_in == min(settings.refresh_idle_ttl, settings.session_max_ttl)
    assert granted.identity == Identity.of(accounts.staff)
    session = services.sessions.get(granted.claims.sid)
    assert session is not None and session.created_at == at == session.last_used
    assert session.abs_expires == at // 1000 + settings.session_max_ttl
    assert session.amr == ("pwd", "otp", "mfa") and session.auth_time == at // 1000 - 7
    assert session.status == "active" and session.user_agent == CLIENT.user_agent
    assert session.source_ip == CLIENT.source_ip and session.new_device is False
    assert session.user_version == accounts.staff.version
    bumped = start_session(
        services,
        Identity.of(accounts.staff),
        CLIENT,
        [],
        at=at,
        user_version=5,
        amr=("pwd",),
        auth_time=at // 1000,
    )
    stored = services.sessions.get(bumped.claims.sid)
    assert stored is not None and stored.user_version == 5


def test_the_refresh_lifetime_is_the_nearer_of_idle_and_absolute_ends(
    services: Services, accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = _pinned(services, monkeypatch)
    short = dataclasses.replace(services.settings, session_max_ttl=3600, refresh_idle_ttl=7200)
    monkeypatch.setattr(services, "settings", short)
    granted = _start(services, accounts, clock.now_ms())
    assert granted.refresh_expires_in == 3600
    session = services.sessions.get(granted.claims.sid)
    assert session is not None
    late = lifecycle.grant(services, session, granted.refresh_token, 10**12, clock.now_ms() + 3_599_000)
    assert late.refresh_expires_in == 1
    gone = lifecycle.grant(services, session, granted.refresh_token, 10**12, clock.now_ms() + 3_700_000)
    assert gone.refresh_expires_in == 0


def test_a_session_needs_what_was_proven_and_when(services: Services, accounts: Accounts) -> None:
    at = services.clock.now_ms()
    for options in ({"amr": ()}, {"auth_time": 0}, {"auth_time": -1}):
        with pytest.raises(ValueError):
            _start(services, accounts, at, **options)
    assert _start(services, accounts, at, auth_time=1).claims.auth_time == 1


def test_a_session_keeps_a_bounded_user_agent_and_ip_and_its_new_device_flag(
    services: Services, accounts: Accounts
) -> None:
    client = Client(source_ip="2001:db8::" + "f" * 80, user_agent="A" * 600)
    user = accounts.staff
    granted = start_session(
        services,
        Identity.of(user),
        client,
        [],
        at=services.clock.now_ms(),
        user_version=user.version,
        amr=("pwd",),
        auth_time=services.clock.now_ms() // 1000,
        new_device=True,
    )
    session = services.sessions.get(granted.claims.sid)
    assert session is not None and session.new_device is True
    assert session.user_agent == "A" * 512 and session.source_ip == client.source_ip[:64]


# ------------------------------------------------------------------------ sessions of a user


def _revoked_reason(services: Services, sid: str) -> str:
    item = services.sessions.dynamodb.get_item(
        TableName=services.sessions.table, Key={"pk": {"S": f"SESSION#{sid}"}}
    )["Item"]
    return str(item["revoked_reason"]["S"])


def test_logout_everywhere_moves_the_not_before_forward_whatever_the_clock(
    services: Services, accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A container whose clock is behind the user's current not-before still writes one after it:
    a token issued a millisecond after the current not-before is ended too."""
    clock = _pinned(services, monkeypatch)
    start = clock.now_ms()
    user = accounts.staff.user_id
    services.denylist.set_not_before(user, start)
    clock.set(start + 1)
    later = _start(services, accounts, clock.now_ms())
    clock.set(start)  # logout everywhere, from a container whose clock is a millisecond behind
    lifecycle.logout_all(services, later.claims, CLIENT)
    assert services.denylist.not_before(user) == start + 1


def test_the_clean_up_goes_on_past_a_session_it_could_not_end(
    services: Services, accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared.core.errors import ServiceUnavailable

    grants = [_start(services, accounts, services.clock.now_ms() + n) for n in range(3)]
    real = lifecycle.revoke_session

    def first_fails(services_: Services, session: Any, *args: Any, **kwargs: Any) -> None:
        if session.sid == grants[0].claims.sid:
            raise ServiceUnavailable("DynamoDB")
        real(services_, session, *args, **kwargs)

    monkeypatch.setattr(lifecycle, "revoke_session", first_fails)
    assert lifecycle.clean_up_sessions(services, accounts.staff.user_id, "test", CLIENT) == 2
    assert [s.sid for s in lifecycle.live_sessions(services, accounts.staff.user_id)] == [
        grants[0].claims.sid
    ]


def test_the_sessions_list_is_the_live_ones_oldest_first(
    services: Services, accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = _pinned(services, monkeypatch)
    first = _start(services, accounts, clock.now_ms())
    clock.advance(1)
    second = _start(services, accounts, clock.now_ms())
    clock.advance(1)
    third = _start(services, accounts, clock.now_ms())
    user = accounts.staff.user_id
    assert [s.sid for s in lifecycle.live_sessions(services, user)] == [
        first.claims.sid,
        second.claims.sid,
        third.claims.sid,
    ]
    caller = second.claims
    listed = lifecycle.list_sessions(services, caller)
    assert [(v.session.sid, v.current) for v in listed] == [
        (first.claims.sid, False),
        (second.claims.sid, True),
        (third.claims.sid, False),
    ]
    lifecycle.end_session(services, caller, first.claims.sid, CLIENT)
    assert [s.sid for s in lifecycle.live_sessions(services, user)] == [second.claims.sid, third.claims.sid]
    # idle: not used for the idle lifetime, to the millisecond
    clock.set(third.claims.iat_ms + services.settings.refresh_idle_ttl * 1000 - 1)
    assert len(lifecycle.live_sessions(services, user)) == 1  # only the third is not idle yet
    clock.advance(0.001)
    assert lifecycle.live_sessions(services, user) == []


def test_a_user_ends_only_their_own_live_sessions(services: Services, accounts: Accounts) -> None:
    mine = _start(services, accounts, services.clock.now_ms())
    admin = accounts.admin
    theirs = start_session(
        services,
        Identity.of(admin),
        CLIENT,
        [],
        at=services.clock.now_ms(),
        user_version=admin.version,
        amr=("pwd",),
        auth_time=services.clock.now_ms() // 1000,
    )
    for sid in (theirs.claims.sid, "x" * 22, "not a session id", "", "x" * 300, "x" * 3000):
        with pytest.raises(NotFound):
            lifecycle.end_session(services, mine.claims, sid, CLIENT)
    lifecycle.end_session(services, mine.claims, mine.claims.sid, CLIENT)
    with pytest.raises(NotFound):  # ended already: not live
        lifecycle.end_session(services, mine.claims, mine.claims.sid, CLIENT)
    ended = services.sessions.get(mine.claims.sid)
    assert ended is not None and ended.status == "revoked"
    assert _revoked_reason(services, mine.claims.sid) == "revoked_by_user"


def test_logout_everywhere_ends_every_session_and_counts_them(services: Services, accounts: Accounts) -> None:
    grants = [_start(services, accounts, services.clock.now_ms()) for _ in range(3)]
    assert lifecycle.logout_all(services, grants[0].claims, CLIENT) == 3
    assert lifecycle.live_sessions(services, accounts.staff.user_id) == []
    assert {_revoked_reason(services, g.claims.sid) for g in grants} == {"logout_all"}
    assert services.denylist.not_before(accounts.staff.user_id) >= grants[-1].claims.iat_ms


def test_the_clean_up_keeps_the_session_it_is_told_to(services: Services, accounts: Accounts) -> None:
    kept, other = (_start(services, accounts, services.clock.now_ms()) for _ in range(2))
    user = accounts.staff.user_id
    assert lifecycle.clean_up_sessions(services, user, "test", CLIENT, keep=kept.claims.sid) == 1
    assert [s.sid for s in lifecycle.live_sessions(services, user)] == [kept.claims.sid]
    assert other.claims.sid != kept.claims.sid


# ------------------------------------------------------------------------- the assurance model


def test_a_fresh_proof_is_fresh_until_max_age_inclusive(
    services: Services, accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = _pinned(services, monkeypatch)
    user = accounts.staff.user_id
    max_age = services.settings.factor_change_max_age
    now_s = clock.now_ms() // 1000
    assurance.require_fresh_proof(services, user, ("pwd",), now_s - max_age)
    for amr, auth_time in ((("pwd",), now_s - max_age - 1), ((), now_s), (("pwd",), 0)):
        with pytest.raises(StepUpRequired) as refused:
            assurance.require_fresh_proof(services, user, amr, auth_time)
        assert refused.value.max_age == max_age


def test_with_a_factor_only_a_factor_is_proof_enough(
    services: Services, accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = _pinned(services, monkeypatch)
    user = accounts.staff.user_id
    monkeypatch.setattr(services.passkeys, "has_any", lambda user_id: user_id == user)
    now_s = clock.now_ms() // 1000
    assert assurance.has_factor(services, user) and not assurance.has_factor(services, "someone-else")
    with pytest.raises(StepUpRequired):
        assurance.require_fresh_proof(services, user, ("pwd",), now_s)
    assurance.require_fresh_proof(services, user, ("hwk", "mfa", "user"), now_s)
    assert assurance.factor_due(services, accounts.staff)


def test_an_active_totp_factor_is_a_factor(
    services: Services, accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = accounts.staff.user_id
    monkeypatch.setattr(services.factors, "has_active_totp", lambda user_id: user_id == user)
    assert assurance.has_factor(services, user) and not assurance.has_factor(services, "someone-else")


def test_a_factor_is_due_for_a_type_that_must_have_one(
    services: Services, accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert not assurance.factor_due(services, accounts.staff)
    strict = dataclasses.replace(services.settings, mfa_required_types=("staff",))
    monkeypatch.setattr(services, "settings", strict)
    assert assurance.factor_due(services, accounts.staff) and not assurance.factor_due(
        services, accounts.admin
    )


def test_the_no_factor_checks_are_the_totp_and_passkey_conditions(
    services: Services, accounts: Accounts
) -> None:
    user = accounts.staff.user_id
    checks = assurance.no_factor_checks(services, user)
    assert checks == [services.factors.no_active_totp_check(user), services.passkeys.none_check(user)]


# --------------------------------------------------------------------- the cookie and replies

SETTINGS = Settings(
    users_table="users",
    sessions_table="sessions",
    denylist_table="denylist",
    issuer="https://auth.test.example",
    audience="jwt-auth-tests",
    signing_algorithm="RS256",
    signing_key_ids=("key",),
    hs256_secret_arn="",
    refresh_key_secret_arn="secret",
    allowed_origins=("https://app.example.com",),
)


def _request(cookie_mode: bool) -> Any:
    headers = {"Origin": "https://app.example.com"}
    if cookie_mode:
        headers["X-Token-Transport"] = "cookie"
    return parse_event({"httpMethod": "POST", "path": "/auth/refresh", "headers": headers})


def test_the_refresh_cookie_has_every_attribute() -> None:
    name = SETTINGS.refresh_cookie_name
    assert refresh_cookie("tok", 600, SETTINGS) == (
        f"{name}=tok; Max-Age=600; Path={SETTINGS.refresh_cookie_path}; HttpOnly; Secure; "
        f"SameSite={SETTINGS.cookie_same_site}"
    )
    assert clear_refresh_cookie(SETTINGS) == (
        f"{name}=; Max-Age=0; Path={SETTINGS.refresh_cookie_path}; HttpOnly; Secure; "
        f"SameSite={SETTINGS.cookie_same_site}"
    )
    host = dataclasses.replace(SETTINGS, refresh_cookie_name="__Host-refresh", cookie_same_site="Lax")
    assert (
        refresh_cookie("t", 1, host) == "__Host-refresh=t; Max-Age=1; Path=/; HttpOnly; Secure; SameSite=Lax"
    )


def test_in_cookie_mode_the_refresh_token_travels_only_in_the_cookie() -> None:
    reply = Reply(200, {"access_token": "a"}, refresh=IssuedRefresh("r.t", 60))
    cookie = render(reply, _request(True), SETTINGS)
    assert cookie["multiValueHeaders"] == {"Set-Cookie": [refresh_cookie("r.t", 60, SETTINGS)]}
    assert "r.t" not in cookie["body"] and cookie["headers"]["Content-Type"] == "application/json"
    assert cookie["headers"]["Access-Control-Allow-Origin"] == "https://app.example.com"
    body = render(reply, _request(False), SETTINGS)
    assert "multiValueHeaders" not in body
    assert body["body"] == '{"access_token":"a","refresh_token":"r.t"}'


def test_the_cookie_is_cleared_in_cookie_mode_only() -> None:
    reply = Reply(200, {"message": "bye"}, clear_refresh=True)
    assert render(reply, _request(True), SETTINGS)["multiValueHeaders"] == {
        "Set-Cookie": [clear_refresh_cookie(SETTINGS)]
    }
    assert "multiValueHeaders" not in render(reply, _request(False), SETTINGS)
    empty = render(Reply(204), _request(False), SETTINGS)
    assert empty["body"] == "" and "Content-Type" not in empty["headers"] and empty["statusCode"] == 204


def test_a_token_reply_carries_the_grant(services: Services, accounts: Accounts) -> None:
    granted = _start(services, accounts, services.clock.now_ms())
    reply = session_reply(granted)
    assert reply.status == 200 and reply.refresh == IssuedRefresh(
        granted.refresh_token, granted.refresh_expires_in
    )
    assert reply.body == {
        "access_token": granted.access_token,
        "token_type": "Bearer",
        "expires_in": granted.expires_in,
        "type": "staff",
        "user": granted.identity.as_json(),
    }
    assert token_reply({"x": 1}, granted).body == {"x": 1}
    assert link_reply(granted, "done") == reply
    assert link_reply(None, "Password set") == Reply(
        200, {"message": "Password set: sign in to continue", "sign_in": True}
    )


# ---------------------------------------------------------------------------- notifications


def _sent(email: str) -> list[dict[str, Any]]:
    return [m for m in messages() if email in m["to"]]


def test_a_notification_is_sent_only_when_it_is_a_setting_and_mail_is_on(
    services: Services, accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = accounts.staff
    notifications.notify_password_changed(services, user, CLIENT)
    assert len(_sent(user.email)) == 1
    off = dataclasses.replace(services.settings, notifications=())
    monkeypatch.setattr(services, "settings", off)
    notifications.notify_password_changed(services, user, CLIENT)
    no_sender = dataclasses.replace(off, notifications=("password_changed",), mail_sender="")
    monkeypatch.setattr(services, "settings", no_sender)
    notifications.notify_password_changed(services, user, CLIENT)
    assert len(_sent(user.email)) == 1


def test_a_sign_in_notification_names_the_device_and_ip_never_the_user_agent(
    services: Services, accounts: Accounts
) -> None:
    user = accounts.staff
    notifications.notify_new_device(services, user, CLIENT)
    notifications.notify_recovery_code_used(services, user, Client())
    new_device, recovery = reversed(_sent(user.email))
    assert "198.51.100.23" in new_device["body"] and "Firefox" in new_device["body"]
    assert "Mozilla/5.0" not in new_device["body"]
    assert "IP address 198.51.100.23." in new_device["body"]
    assert "IP address unknown." in recovery["body"] and new_device["subject"] != recovery["subject"]


def test_a_factor_change_notification_names_the_passkey_inertly(
    services: Services, accounts: Accounts
) -> None:
    user = accounts.staff
    notifications.notify_passkey_added(services, user.email, user.name, "<a href='x'>Laptop</a>", CLIENT)
    notifications.notify_passkey_added(services, user.email, user.name, "", CLIENT)
    named, unnamed = reversed(_sent(user.email))
    assert "<a href" not in named["body"] and "Laptop" in named["body"]
    assert "<strong>unnamed</strong>" in unnamed["body"]
    assert named["subject"] == "A passkey was added to your account"
    assert "Firefox" in named["body"] and "IP address 198.51.100.23." in named["body"]
    notifications.notify_factor_changed(services, user.email, user.name, "totp_added", Client())
    assert "IP address unknown." in _sent(user.email)[0]["body"]


def test_a_notification_that_cannot_be_sent_is_logged_not_raised(
    services: Services, accounts: Accounts, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from shared.mail.sending import MailNotSent

    def fail(*_: object) -> None:
        raise MailNotSent("throttled")

    monkeypatch.setattr(notifications, "send", fail)
    caplog.clear()
    notifications.notify_factor_changed(services, "x@example.com", "X", "totp_added", CLIENT)
    assert [r.getMessage() for r in caplog.records] == ["notification not sent"]


def test_a_malformed_session_id_is_never_looked_up(services: Services, accounts: Accounts) -> None:
    """DynamoDB refuses a key over 2048 bytes (a 503, where moto answers nothing): an id that is not
    a session id's shape is not found without a read."""
    mine = _start(services, accounts, services.clock.now_ms())
    reads: list[dict[str, Any]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        reads.append(params)

    events = services.sessions.dynamodb.meta.events
    events.register("provide-client-params.dynamodb.GetItem", record)
    try:
        for sid in ("x" * 3000, "not a session id", ""):
            with pytest.raises(NotFound):
                lifecycle.end_session(services, mine.claims, sid, CLIENT)
    finally:
        events.unregister("provide-client-params.dynamodb.GetItem", record)
    assert reads == []

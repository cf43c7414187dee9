"""Suspicious-activity signals: each an audit event with a metric (and an alarm in the stack)."""

from __future__ import annotations

import pytest

from shared.runtime.services import Services
from tests.events import body_of
from tests.fixtures import Accounts, audit_events
from tests.flows import admin_login, login, sessions_list, staff_login

STAFF = "staff@dealership.example"
LAPTOP = "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0"
TABLET = "Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 Chrome/130.0.0.0 Safari/537.36"
PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"


def _events(caplog: pytest.LogCaptureFixture, name: str) -> list[dict[str, str]]:
    return [event for event in audit_events(caplog) if event["event"] == name]


def test_a_first_login_is_not_flagged_but_a_new_device_and_ip_later_is(
    accounts: Accounts, caplog: pytest.LogCaptureFixture
) -> None:
    staff_login(user_agent=LAPTOP, source_ip="198.51.100.1")
    assert _events(caplog, "login_new_device") == []
    staff_login(user_agent=LAPTOP, source_ip="198.51.100.99")
    staff_login(user_agent=PHONE, source_ip="198.51.100.1")
    assert _events(caplog, "login_new_device") == [], "a known device or a known IP is not flagged"
    tokens = staff_login(user_agent=TABLET, source_ip="203.0.113.77")
    flagged = _events(caplog, "login_new_device")
    assert len(flagged) == 1 and flagged[0]["source_ip"] == "203.0.113.77"
    listed = body_of(sessions_list(tokens["access_token"]))["sessions"]
    assert [s["new_device"] for s in listed if s["current"]] == [True]
    assert sum(s["new_device"] for s in listed) == 1


def test_failures_for_many_accounts_from_one_ip_are_flagged_once_as_credential_stuffing(
    services: Services, accounts: Accounts, caplog: pytest.LogCaptureFixture
) -> None:
    threshold = services.settings.stuffing_threshold
    for number in range(threshold + 3):
        response = login(
            f"victim{number}@dealership.example", "guessed password", "staff", source_ip="192.0.2.66"
        )
        assert response["statusCode"] == 401
    flagged = _events(caplog, "credential_stuffing")
    assert len(flagged) == 1
    assert flagged[0]["source_ip"] == "192.0.2.66" and flagged[0]["outcome"] == "suspected"


def test_many_failures_on_one_account_from_one_ip_are_a_lockout_not_stuffing(
    services: Services, accounts: Accounts, caplog: pytest.LogCaptureFixture
) -> None:
    for _ in range(services.settings.lockout_threshold + 2):
        login(STAFF, "guessed password", "staff", source_ip="192.0.2.67")
    assert _events(caplog, "credential_stuffing") == []
    assert len(_events(caplog, "login_lockout")) == 2


def test_lockouts_and_refresh_reuse_are_counted_as_metrics(
    services: Services, accounts: Accounts, capfd: pytest.CaptureFixture[str]
) -> None:
    from tests.flows import refresh

    for _ in range(services.settings.lockout_threshold + 1):
        login(STAFF, "guessed password", "staff")
    tokens = admin_login()
    refresh(tokens["refresh_token"])
    refresh(tokens["refresh_token"])  # within grace: fine
    child = body_of(refresh(tokens["refresh_token"]))["refresh_token"]
    refresh(child)
    refresh(tokens["refresh_token"])  # the child was used: theft
    emitted = capfd.readouterr().out
    assert '"LoginLockoutBlocked":[1.0]' in emitted
    assert '"RefreshReuseDetected":[1.0]' in emitted


def test_authorizer_denials_are_counted_and_allows_record_no_metric(
    accounts: Accounts, capfd: pytest.CaptureFixture[str]
) -> None:
    from tests.flows import is_authorized

    tokens = staff_login()
    capfd.readouterr()
    assert is_authorized(tokens["access_token"])
    assert "CloudWatchMetrics" not in capfd.readouterr().out
    assert not is_authorized(tokens["access_token"] + "x")
    assert '"AuthorizerDenyDenied":[1.0]' in capfd.readouterr().out

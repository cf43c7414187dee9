"""Common and breached passwords: the ten-thousand list with its normalisation, loaded only where a
password is set, and the optional Pwned Passwords range check (against a stub on 127.0.0.1)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from shared.config.settings import Settings, get_settings
from shared.core.errors import BadRequest, ServiceUnavailable
from shared.credentials import breached_passwords
from shared.credentials.passwords import check_password_policy

REPO = Path(__file__).resolve().parents[2]


def listed_passwords() -> list[str]:
    lines = (
        (REPO / "shared" / "credentials" / "data" / "common-passwords.txt")
        .read_text(encoding="utf-8")
        .splitlines()
    )
    return [line for line in lines if line and not line.startswith("#")]


def test_the_list_holds_the_ten_thousand_most_common_passwords_from_the_package() -> None:
    listed = listed_passwords()
    assert len(listed) == 10_000 and len(set(listed)) == 10_000
    zxcvbn = pytest.importorskip("zxcvbn.frequency_lists")
    assert listed == zxcvbn.FREQUENCY_LISTS["passwords"][:10_000], "stale: run `make lock`"


@pytest.mark.parametrize(
    "password",
    ["Password123!", "PASSWORD1234", "P@ssw0rd2024!", "!!Dragon2024!!", "passwordpassword", "Qwerty123456"],
)
def test_a_listed_password_with_its_case_changed_or_decorated_is_refused(password: str) -> None:
    with pytest.raises(BadRequest) as refused:
        check_password_policy(password, "new_password")
    assert refused.value.field == "new_password" and "too common" in refused.value.message


def test_a_sample_of_the_list_is_refused_however_it_is_padded_to_length() -> None:
    sample = listed_passwords()[::250]
    assert len(sample) == 40
    for entry in sample:
        assert breached_passwords.is_common(entry), entry
        padded = entry.capitalize() + "1" * max(0, 11 - len(entry)) + "!"
        with pytest.raises(BadRequest):
            check_password_policy(padded, "password")


@pytest.mark.parametrize(
    "password",
    [
        "plum orbit caravan 42",
        "violet kettle across 9 moons",
        "Über die Brücke gehen wir, 🌉 à Paris et à Tōkyō, sous la pluie!!",
        "correct-horse-battery-staple",
    ],
)
def test_passphrases_are_accepted(password: str) -> None:
    check_password_policy(password, "password")


def test_login_refresh_and_the_authorizer_never_load_the_list() -> None:
    probe = (
        "import sys, tests.conftest\n"
        "import functions.login.handler, functions.refresh.handler, functions.authorizer.handler\n"
        "print(sorted(m for m in sys.modules if 'breached' in m or 'zxcvbn' in m))\n"
    )
    found = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True, timeout=120
    )
    assert json.loads(found.stdout.strip().replace("'", '"')) == []


def test_the_list_loads_in_a_few_milliseconds() -> None:
    breached_passwords.common_passwords.cache_clear()
    started = time.perf_counter()
    assert len(breached_passwords.common_passwords()) > 10_000
    assert time.perf_counter() - started < 0.5  # measured: about 10 ms; generous for a busy machine


# ---------------------------------------------------------------------------- Pwned Passwords


class RangeApi(BaseHTTPRequestHandler):
    """A stand-in for the range API: answers the suffixes it was given, with padding entries."""

    suffixes: dict[str, int] = {}
    prefixes: list[str] = []
    delay = 0.0

    def do_GET(self) -> None:
        type(self).prefixes.append(self.path.rsplit("/", 1)[-1])
        time.sleep(self.delay)
        lines = [f"{suffix}:{count}" for suffix, count in self.suffixes.items()] + ["0" * 35 + ":0"]
        body = "\r\n".join(lines).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def range_api() -> Iterator[str]:
    RangeApi.suffixes, RangeApi.prefixes, RangeApi.delay = {}, [], 0.0
    server = HTTPServer(("127.0.0.1", 0), RangeApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/range/"
    server.shutdown()
    server.server_close()


def checking(url: str, mode: str = "fail-closed", timeout_ms: int = 1500) -> Settings:
    return dataclasses.replace(
        get_settings(), pwned_passwords=mode, pwned_passwords_url=url, pwned_passwords_timeout_ms=timeout_ms
    )


def breached(password: str, count: int = 7) -> None:
    digest = hashlib.sha1(password.encode(), usedforsecurity=False).hexdigest().upper()
    RangeApi.suffixes[digest[5:]] = count


def test_pwned_check_refuses_a_breached_password_sending_only_a_five_character_prefix(
    range_api: str,
) -> None:
    settings = checking(range_api)
    breached("leaked somewhere 2019")
    with pytest.raises(BadRequest) as refused:
        check_password_policy("leaked somewhere 2019", "new_password", settings=settings)
    assert "breaches" in refused.value.message
    check_password_policy("never leaked, I hope 77", "new_password", settings=settings)
    assert [len(prefix) for prefix in RangeApi.prefixes] == [5, 5]


def test_a_padding_entry_with_a_zero_count_is_not_a_breach(range_api: str) -> None:
    settings = checking(range_api)
    breached("only padding here 2019", count=0)
    check_password_policy("only padding here 2019", "new_password", settings=settings)


def test_23_7_the_breached_password_check_is_fail_open_where_deployed_and_off_locally() -> None:
    """Deployed, the functions reach the internet (no VPC), so every stage asks the range API and
    accepts the password if it cannot answer; unset (the local API, the tests) it is off: they have no
    network but loopback."""
    from infra.config import config_from_context
    from shared.config.settings import settings_from_env
    from tests.unit.test_settings import BASE

    for stage in ("dev", "staging", "prod"):
        assert config_from_context({"stage": stage}.get).functions["pwned_passwords"] == "fail-open", stage
    assert config_from_context({"pwned_passwords": "off"}.get).functions["pwned_passwords"] == "off"
    assert settings_from_env(BASE).pwned_passwords == "off"
    assert Settings("u", "s", "d", "i", "a", "RS256", ("k",), "", "r").pwned_passwords == "off"
    assert get_settings().pwned_passwords == "off"


def test_pwned_check_is_off_when_unset_as_in_local_runs_and_tests(range_api: str) -> None:
    settings = dataclasses.replace(get_settings(), pwned_passwords_url=range_api)
    assert settings.pwned_passwords == "off"
    breached("leaked somewhere 2019")
    check_password_policy("leaked somewhere 2019", "new_password", settings=settings)
    assert RangeApi.prefixes == []


def test_a_slow_range_api_is_fail_open_or_fail_closed_as_configured(range_api: str) -> None:
    RangeApi.delay = 1.0
    breached("leaked somewhere 2019")
    check_password_policy("leaked somewhere 2019", "p", settings=checking(range_api, "fail-open", 100))
    with pytest.raises(ServiceUnavailable):
        check_password_policy("leaked somewhere 2019", "p", settings=checking(range_api, "fail-closed", 100))

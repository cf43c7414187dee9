"""One integer reader (shared/config/parsing.py `whole_number`) behind the functions' settings, the
stack's context and the local API's ports: the same values pass, the same refusals name each source."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from infra.config import ContextError, config_from_context
from local import app
from shared.config.parsing import ENVIRONMENT, InvalidTunable, parse, whole_number
from shared.config.tunables import BY_FIELD


def refusal(error: type[Exception], call: Callable[[], object]) -> str:
    with pytest.raises(error) as refused:
        call()
    return str(refused.value)


@pytest.mark.parametrize(("raw", "number"), [("7", 7), (" 7 ", 7), (7, 7), ("0", 0), ("10", 10), ("-0", 0)])
def test_text_or_numbers_in_range_are_read(raw: object, number: int) -> None:
    assert whole_number("N", raw, 0, 10) == number


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("seven", "N must be a whole number, got 'seven'"),
        ("1.5", "N must be a whole number, got '1.5'"),
        (True, "N must be a whole number, got True"),
        ("", "N must be a whole number, got ''"),
        ("11", "N must be between 0 and 10, got 11"),
        (-1, "N must be between 0 and 10, got -1"),
    ],
)
def test_anything_else_is_refused_naming_the_subject(raw: object, message: str) -> None:
    assert refusal(InvalidTunable, lambda: whole_number("N", raw, 0, 10)) == message


def test_the_functions_settings_read_their_integers_with_it() -> None:
    tunable = BY_FIELD["access_token_ttl"]
    assert parse(tunable, " 600 ", ENVIRONMENT) == 600
    assert refusal(InvalidTunable, lambda: parse(tunable, "x", ENVIRONMENT)) == (
        "ACCESS_TOKEN_TTL_SECONDS must be a whole number, got 'x'"
    )


def test_the_stacks_context_reads_its_integers_with_it() -> None:
    assert config_from_context({"throttle_rate": " 70 "}.get).throttle_rate == 70
    assert refusal(ContextError, lambda: config_from_context({"throttle_rate": "x"}.get)) == (
        "context 'throttle_rate' must be a whole number, got 'x'"
    )
    assert refusal(ContextError, lambda: config_from_context({"throttle_rate": 0}.get)) == (
        "context 'throttle_rate' must be between 1 and 10000, got 0"
    )


def test_the_local_api_reads_its_ports_with_it(monkeypatch: pytest.MonkeyPatch) -> None:
    def port() -> int:
        return app._number("PORT", 3000, 1, 65535)

    monkeypatch.setenv("PORT", "  ")
    assert port() == 3000
    monkeypatch.setenv("PORT", " 3100 ")
    assert port() == 3100
    monkeypatch.setenv("PORT", " http ")
    assert refusal(app.StartupError, port) == "PORT must be a whole number, got 'http'"
    monkeypatch.setenv("PORT", "70000")
    assert refusal(app.StartupError, port) == "PORT must be between 1 and 65535, got 70000"

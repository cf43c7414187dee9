"""A clock pinned to a chosen millisecond, for rules decided at one exact moment (a boundary, or two
events in the same second). It moves only when advanced; tests/fixtures.py's FakeClock also ticks."""

from __future__ import annotations

import pytest

from shared.runtime.services import Services
from tests.fixtures import FakeClock


class PinnedClock(FakeClock):
    def __init__(self, at_ms: int) -> None:
        super().__init__()
        self.at_ms = at_ms

    def now_ms(self) -> int:
        return self.at_ms + self.offset_ms

    def set(self, at_ms: int) -> None:
        self.at_ms, self.offset_ms = at_ms, 0


def pin_clock(services: Services, monkeypatch: pytest.MonkeyPatch, at_ms: int) -> PinnedClock:
    """Every part of the service reads this clock for the rest of the test."""
    clock = PinnedClock(at_ms)
    monkeypatch.setattr(services, "clock", clock)
    return clock

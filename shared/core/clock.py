"""The clock, a dependency of all domain logic (Services carries it; tests set a fake one)."""

from __future__ import annotations

import datetime
import time


def iso_time(ms: int) -> str:
    """The one timestamp format of HTTP and CLI output: ISO 8601, UTC, whole seconds."""
    return datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.UTC).isoformat(timespec="seconds")


class Clock:
    """Wall-clock time in milliseconds since the epoch."""

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000

    def now(self) -> float:
        """Seconds since the epoch, to the millisecond."""
        return self.now_ms() / 1000

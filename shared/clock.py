"""The clock, a dependency of all domain logic (Services carries it; tests set a fake one)."""

from __future__ import annotations

import time


class Clock:
    """Wall-clock time in milliseconds since the epoch."""

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000

    def now(self) -> float:
        """Seconds since the epoch, to the millisecond."""
        return self.now_ms() / 1000

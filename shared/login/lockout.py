"""Attempt counters that cannot be raced: an attempt is counted (reserved) before the password is
checked, by one write conditional on the counters as read, so parallel guesses serialise and at
most the threshold of them ever reach a password check. Used for logins (per account and source
IP, with a higher account-wide ceiling) and for authenticated password changes (per session).
"""

from __future__ import annotations

import math

from shared.config.settings import Settings
from shared.core.errors import TooManyAttempts
from shared.runtime.services import Services
from shared.store.user_items import Attempts

RESERVATION_ATTEMPTS = 3


def lock_seconds(failures: int, threshold: int, settings: Settings) -> int:
    """The lock after `failures` counted attempts: none below the threshold, then the base,
    doubling per further attempt, capped."""
    if failures < threshold:
        return 0
    exponent = min(failures - threshold, 20)
    return int(min(settings.lockout_base_seconds * 2**exponent, settings.lockout_max_seconds))


def retry_after(counter: Attempts, at_ms: int) -> int:
    """Seconds until the counter lets another attempt through (0: now)."""
    remaining_ms = counter.locked_until_ms - at_ms
    return math.ceil(remaining_ms / 1000) if remaining_ms > 0 else 0


def counted(counter: Attempts, threshold: int, at_ms: int, settings: Settings) -> Attempts:
    """The counter with one more attempt at `at_ms` (starting again once the window has passed)."""
    idle = at_ms - counter.last_ms > settings.lockout_window_seconds * 1000
    failures = 1 if not counter.exists or idle else counter.failures + 1
    lock = lock_seconds(failures, threshold, settings)
    return Attempts(counter.key, failures, at_ms, at_ms + lock * 1000 if lock else 0, True)


def reserve_attempt(services: Services, counters: list[Attempts], thresholds: list[int], at_ms: int) -> None:
    """Count one attempt on every counter, or raise TooManyAttempts (with the longest wait) when
    any is locked. A counter changed by a parallel request is read again; after a few lost races
    the caller is told to retry in a second."""
    settings = services.settings
    keep = 2 * settings.lockout_window_seconds
    for _attempt in range(RESERVATION_ATTEMPTS):
        wait = max(retry_after(counter, at_ms) for counter in counters)
        if wait:
            raise TooManyAttempts(wait)
        following = [
            counted(counter, threshold, at_ms, settings)
            for counter, threshold in zip(counters, thresholds, strict=True)
        ]
        if services.users.reserve_attempts(list(zip(counters, following, strict=True)), keep):
            return
        counters = services.users.attempts([counter.key for counter in counters])
    raise TooManyAttempts(1)

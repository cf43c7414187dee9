"""Attempt counters that cannot be raced: an attempt is counted (reserved) before the password is
checked, by a write conditional on the counter, so at most the threshold of parallel guesses ever
reach a password check, and correct attempts at the same time below it are never refused. Used for
logins (per account and source IP, with a higher account-wide ceiling), forgotten-password requests
and authenticated password changes (per session).
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


def reserve_attempt(services: Services, counters: list[Attempts], thresholds: list[int], at_ms: int) -> bool:
    """Count one attempt on every counter, in order, or raise TooManyAttempts (with the wait) at
    the first that is locked. Below its threshold a counter takes one atomic add, so attempts at
    the same time never refuse each other; the attempt that reaches the threshold (it sets the
    lock), one past it and the first after a quiet window are written on the condition that the
    counter is still as read, and read again when another request counted first. True when this
    attempt reached a counter's threshold (its first lock)."""
    reached = [
        _reserve(services, counter, threshold, at_ms)
        for counter, threshold in zip(counters, thresholds, strict=True)
    ]
    return any(reached)


def _reserve(services: Services, counter: Attempts, threshold: int, at_ms: int) -> bool:
    settings = services.settings
    keep = 2 * settings.lockout_window_seconds
    for _attempt in range(RESERVATION_ATTEMPTS):
        wait = retry_after(counter, at_ms)
        if wait:
            raise TooManyAttempts(wait)
        following = counted(counter, threshold, at_ms, settings)
        # one more on a counter still in its window, with no lock yet: an atomic add (its last
        # attempt can only have moved later since the read, so it is still in its window)
        below_threshold = not following.locked_until_ms and following.failures > counter.failures
        if below_threshold:
            if services.users.add_attempt(counter.key, threshold - 1, at_ms, keep):
                return False
        elif services.users.reserve_attempts([(counter, following)], keep):
            return following.failures == threshold
        (counter,) = services.users.attempts([counter.key])
    raise TooManyAttempts(1)

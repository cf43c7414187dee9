"""Timing helpers: paired, interleaved samples and their medians / p99."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Sample:
    """Durations in seconds."""

    values: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def p99(self) -> float:
        ordered = sorted(self.values)
        return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]

    def __len__(self) -> int:
        return len(self.values)


def paired(
    subject: Callable[[], object],
    floor: Callable[[], object],
    rounds: int,
    before_each: Callable[[], object] | None = None,
) -> tuple[Sample, Sample]:
    """Time `subject` and `floor` alternately, `rounds` times each, so drift hits both alike.
    `before_each` (untimed) runs before every timed call (e.g. to queue a stubbed answer)."""
    clock = time.perf_counter
    measured: list[float] = []
    reference: list[float] = []
    gc.collect()
    for index in range(rounds):
        order = (
            ((subject, measured), (floor, reference))
            if index % 2
            else ((floor, reference), (subject, measured))
        )
        for call, sink in order:
            if before_each is not None:
                before_each()
            start = clock()
            call()
            sink.append(clock() - start)
    return Sample(tuple(measured)), Sample(tuple(reference))


def timed(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def ms(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 0.01:
        return f"{seconds * 1000:.1f} ms"
    if seconds >= 0.001:
        return f"{seconds * 1000:.2f} ms"
    return f"{seconds * 1e6:.0f} us"


def ratio(value: float, floor: float) -> str:
    return f"{value / floor:.2f}" if floor > 0 else "-"

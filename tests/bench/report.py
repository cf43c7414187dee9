"""One table: printed to the terminal and written to docs/benchmarks.md with the machine it ran on."""

from __future__ import annotations

import datetime
import os
import platform
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Row:
    section: str
    measure: str
    value: str
    floor: str = ""
    ratio: str = ""
    target: str = ""
    verdict: str = ""


@dataclass
class Table:
    rows: list[Row] = field(default_factory=list)

    def add(self, *args: str, **kwargs: str) -> None:
        self.rows.append(Row(*args, **kwargs))

    HEADERS = ("Section", "Measure", "Value", "Floor", "Ratio", "Target", "Verdict")

    def _cells(self) -> list[tuple[str, ...]]:
        return [
            (row.section, row.measure, row.value, row.floor, row.ratio, row.target, row.verdict)
            for row in self.rows
        ]

    def text(self) -> str:
        cells = [self.HEADERS, *self._cells()]
        widths = [max(len(line[index]) for line in cells) for index in range(len(self.HEADERS))]
        lines = []
        previous = None
        for number, line in enumerate(cells):
            if number == 1 or (number > 1 and line[0] != previous):
                lines.append("-+-".join("-" * width for width in widths))
            shown = list(line)
            if number > 1 and line[0] == previous:
                shown[0] = ""
            previous = line[0]
            lines.append(
                " | ".join(cell.ljust(width) for cell, width in zip(shown, widths, strict=True)).rstrip()
            )
        return "\n".join(lines)

    def markdown(self) -> str:
        escape = lambda cell: cell.replace("|", "\\|")  # noqa: E731
        lines = ["| " + " | ".join(self.HEADERS) + " |", "|" + "---|" * len(self.HEADERS)]
        for line in self._cells():
            lines.append("| " + " | ".join(escape(cell) for cell in line) + " |")
        return "\n".join(lines)


def verdict(ratio: float, target: float) -> str:
    if ratio <= target:
        return "ok"
    return f"MISS by {(ratio / target - 1) * 100:.0f}%"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict[str, str]:
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {
        "Date (UTC)": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M"),
        "CPU": cpu_model(),
        "Cores": str(os.cpu_count()),
        "Machine": f"{platform.system()} {platform.release()} {platform.machine()}",
        "Python": f"{platform.python_implementation()} {platform.python_version()}",
        "Load average at start (1/5/15 min)": " / ".join(f"{value:.2f}" for value in load),
    }

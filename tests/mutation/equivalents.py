"""Surviving mutants that no test can kill, each with the reason.

Matched by the function and the code the mutant changes (the stripped lines it removes and adds), so
an entry keeps matching when the code around it moves, and stops matching (and is reported as
unused) when the code it names changes.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Equivalent:
    function: str  # module.Class.function
    removed: str  # the lines the mutant removes, stripped, joined by "\n"
    added: str  # the lines it adds
    reason: str


CASE_FREE_HEADER = "Request.header lower-cases the name it is given: any case names the same header"

EQUIVALENTS: tuple[Equivalent, ...] = (
    Equivalent(
        "shared.http.Request.cookie",
        'jar.load(self.header("cookie"))',
        'jar.load(self.header("COOKIE"))',
        CASE_FREE_HEADER,
    ),
)

_used: set[Equivalent] = set()


def find(function: str, removed: tuple[str, ...], added: tuple[str, ...]) -> Equivalent | None:
    for entry in EQUIVALENTS:
        if (
            entry.function == function
            and entry.removed == "\n".join(removed)
            and entry.added == "\n".join(added)
        ):
            _used.add(entry)
            return entry
    return None


def unused() -> list[Equivalent]:
    return [entry for entry in EQUIVALENTS if entry not in _used]

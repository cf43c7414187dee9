"""README's configuration table and docs/deploy.md's tables of the context keys, generated from
shared/config/tunables.py (the functions' settings) and shared/config/deploy_tunables.py (the stack's).

    python -m operations.configuration_docs           # rewrite every table (`make docs`)
    python -m operations.configuration_docs --check   # exit 1 when one differs (tests/unit runs this)

Each table sits between its BEGIN line and the END after it; everything else in the files is left as
written.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from shared.config.deploy_tunables import DEPLOY_TUNABLES
from shared.config.parsing import Tunable
from shared.config.tunables import BY_FIELD, DAY, HOUR, IN_CONTEXT, MINUTE, RULES, TUNABLES

REPO_ROOT = Path(__file__).resolve().parent.parent
README = REPO_ROOT / "README.md"
DEPLOY = REPO_ROOT / "docs" / "deploy.md"
BEGIN = "<!-- generated from shared/config/tunables.py by `make docs`: edit the table there, not here -->"
DEPLOY_BEGIN = (
    "<!-- generated from shared/config/deploy_tunables.py by `make docs`: edit the table there, not here -->"
)
END = "<!-- end of the generated table -->"


def _duration(seconds: int) -> str:
    for size, unit in ((DAY, "day"), (HOUR, "hour"), (MINUTE, "minute")):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return f"{seconds} s"


def default_text(tunable: Tunable) -> str:
    if tunable.shown_default:
        return tunable.shown_default
    if tunable.required:
        return "required"
    if tunable.kind == "bool":
        return str(tunable.default).lower()
    if tunable.kind == "int":
        if tunable.seconds and tunable.default >= MINUTE:
            return f"{tunable.default} ({_duration(tunable.default)})"
        return str(tunable.default)
    if not tunable.default:
        return "none"
    return f"`{tunable.default}`"


def _accepted(tunable: Tunable) -> str:
    if tunable.kind == "bool":
        return "true or false"
    if tunable.kind == "int":
        if tunable.shape:
            return tunable.shape
        if not tunable.seconds:
            return f"{tunable.low}-{tunable.high}"
        if tunable.high <= HOUR:
            return f"{tunable.low}-{tunable.high} s"
        return f"{_duration(tunable.low)} to {_duration(tunable.high)}"
    if tunable.kind == "choice":
        *rest, last = (f"`{choice}`" for choice in tunable.choices)
        return f"{', '.join(rest)} or {last}"
    return tunable.shape


def meaning(tunable: Tunable, name: Callable[[Tunable], str]) -> str:
    """The doc line, what is accepted, and the rules it must keep (naming others with `name`)."""
    text = tunable.doc
    accepted = _accepted(tunable)
    if accepted:
        text += f" ({accepted})"
    for rule in RULES:
        if rule.field == tunable.field:
            text += f"; {rule.verb} {name(BY_FIELD[rule.other])}"
    return text.replace("|", "\\|")


def _variable(tunable: Tunable) -> str:
    return f"`{tunable.env}`"


def _context_key(tunable: Tunable) -> str:
    return f"`{tunable.context}`"


def _rows(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = [f"| {' | '.join(header)} |", f"| {' | '.join('---' for _ in header)} |"]
    lines += [f"| {' | '.join(row)} |" for row in rows]
    return "\n".join(lines)


def readme_table() -> str:
    """Every variable the functions read."""
    return _rows(
        ("variable", "default", "context key", "meaning"),
        [
            (
                _variable(tunable),
                default_text(tunable),
                _context_key(tunable) if tunable.context else "set by the stack",
                meaning(tunable, _variable),
            )
            for tunable in TUNABLES
        ],
    )


def context_table() -> str:
    """The context keys that become the functions' settings."""
    return _rows(
        ("context key", "default", "what it does", "variable"),
        [
            (_context_key(tunable), default_text(tunable), meaning(tunable, _context_key), _variable(tunable))
            for tunable in IN_CONTEXT
        ],
    )


def stack_table() -> str:
    """The stack's own context keys."""
    return _rows(
        ("context key", "default", "what it does"),
        [
            (_context_key(tunable), default_text(tunable), meaning(tunable, _context_key))
            for tunable in DEPLOY_TUNABLES
        ],
    )


# Each file, and in it each table: its BEGIN line and what goes between that and the END after it.
TARGETS: dict[Path, tuple[tuple[str, Callable[[], str]], ...]] = {
    README: ((BEGIN, readme_table),),
    DEPLOY: ((DEPLOY_BEGIN, stack_table), (BEGIN, context_table)),
}


def render(text: str, table: str, begin: str = BEGIN) -> str:
    """`text` with the part between `begin` and the END after it replaced by `table`."""
    if text.count(begin) != 1 or END not in text.split(begin, 1)[1]:
        raise ValueError(f"expected one {begin!r} line followed by an {END!r} line")
    before, rest = text.split(begin, 1)
    _, after = rest.split(END, 1)
    return f"{before}{begin}\n{table}\n{END}{after}"


def _rendered(path: Path) -> str:
    text = path.read_text("utf-8")
    for begin, table in TARGETS[path]:
        text = render(text, table(), begin)
    return text


def stale() -> list[Path]:
    """The files whose generated tables differ from the tables of tunables."""
    return [path for path in TARGETS if _rendered(path) != path.read_text("utf-8")]


def main(argv: Sequence[str]) -> int:
    if "--check" in argv:
        differing = stale()
        for path in differing:
            name = path.relative_to(REPO_ROOT)
            print(f"{name}: a configuration table differs from shared/config/*tunables.py; run make docs")
        return 1 if differing else 0
    for path in TARGETS:
        path.write_text(_rendered(path), "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

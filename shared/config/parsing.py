"""What a tunable is, and how one raw value becomes its typed value.

shared/config/tunables.py declares every tunable with these types; `parse` turns the raw value from the
functions' environment or from CDK context into the typed one, and `Source` decides how a message
names the setting (the variable, or the context key). Standard library only: every function imports
this at cold start.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

MINUTE = 60
HOUR = 3600
DAY = 24 * HOUR

Kind = Literal["int", "bool", "choice", "origins", "list", "text"]

_ORIGIN = re.compile(r"https://[A-Za-z0-9.-]+(:\d+)?|http://(localhost|127\.0\.0\.1)(:\d+)?")


class InvalidTunable(ValueError):
    """A value of the wrong kind, out of range, or breaking a rule between tunables. The message
    names the setting the way its source does (the variable, or the context key)."""


@dataclass(frozen=True)
class Tunable:
    env: str  # the environment variable the functions read
    field: str  # the Settings field (and DeployConfig field, when it has a context key)
    kind: Kind
    default: (
        Any  # int for "int"; bool for "bool"; str for "choice", "text"; tuple[str, ...] for "origins", "list"
    )
    doc: str
    context: str = ""  # the CDK context key; "" when the stack sets the variable itself
    low: int = 0  # "int": the accepted range, both ends included
    high: int = 0  # ... and for "list", when set, the most entries
    choices: tuple[str, ...] = ()  # "choice"
    pattern: str = ""  # "text": the whole value must match ...
    shape: str = ""  # ... and this says what that means, in messages and docs
    required: bool = False  # empty or missing is an error rather than the default
    shown_default: str = ""  # the docs' default column, when the default itself says too little
    example: Any = None  # a valid value other than the default, where a generic one would not fit
    deployed: Any = None  # the stack's default, where it differs from `default` (the variable unset:
    # the local API and the tests); None: the same

    @property
    def seconds(self) -> bool:
        return self.env.endswith("_SECONDS")


@dataclass(frozen=True)
class Rule:
    """Between two int tunables: `field` must not exceed `other` ("<="), or must exceed it (">")."""

    field: str
    relation: Literal["<=", ">"]
    other: str
    why: str

    def holds(self, value: int, other: int) -> bool:
        return value <= other if self.relation == "<=" else value > other

    @property
    def verb(self) -> str:
        return "must not exceed" if self.relation == "<=" else "must exceed"


class Source:
    """Where values come from, which decides how a message names a tunable. (A plain class: each
    dataclass costs its module's import about half a millisecond, at every cold start.)"""

    __slots__ = ("context",)

    def __init__(self, *, context: bool) -> None:
        self.context = context

    def name(self, tunable: Tunable) -> str:
        return f"'{tunable.context}'" if self.context else tunable.env

    def subject(self, tunable: Tunable) -> str:
        return f"context {self.name(tunable)}" if self.context else tunable.env


ENVIRONMENT = Source(context=False)
CONTEXT = Source(context=True)


def _is_empty(raw: object) -> bool:
    if raw is None:
        return True
    if isinstance(raw, str):
        return not raw.strip()
    return isinstance(raw, list | tuple) and not raw


def _items(raw: object) -> tuple[str, ...]:
    items = raw if isinstance(raw, list | tuple) else str(raw).split(",")
    return tuple(str(item).strip() for item in items if str(item).strip())


def _origins(subject: str, raw: object) -> tuple[str, ...]:
    origins = _items(raw)
    for origin in origins:
        if "*" in origin:
            raise InvalidTunable(
                f"{subject} must list exact origins: credentials are on, so '*' is never allowed"
            )
        if not _ORIGIN.fullmatch(origin):
            raise InvalidTunable(
                f"{subject} entry {origin!r} must be https://host[:port] (http only for localhost), "
                "with no path or trailing '/'"
            )
    return origins


def whole_number(subject: str, raw: object, low: int, high: int) -> int:
    """`raw` (text or a number, never a bool) as an integer from `low` to `high`, both included; else
    InvalidTunable naming `subject`. The functions' settings, the stack's context and the local API's
    ports all read their integers here."""
    if isinstance(raw, bool):
        raise InvalidTunable(f"{subject} must be a whole number, got {raw!r}")
    try:
        number = int(str(raw).strip())
    except ValueError:
        raise InvalidTunable(f"{subject} must be a whole number, got {raw!r}") from None
    if not low <= number <= high:
        raise InvalidTunable(f"{subject} must be between {low} and {high}, got {number}")
    return number


def _boolean(subject: str, raw: object) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    raise InvalidTunable(f"{subject} must be true or false, got {raw!r}")


def parse(tunable: Tunable, raw: object, source: Source, *, blank_is_default: bool = True) -> Any:
    """One raw value (a string from the environment; a string, number, bool or list from CDK
    context) -> its typed value. Missing or blank is the default, or an error when required. With
    `blank_is_default` false only a missing value (None or "") is: white space or an empty list is
    parsed, and refused where it is not a valid value (the stack's own context keys)."""
    subject = source.subject(tunable)
    if (raw is None or raw == "") if not blank_is_default else _is_empty(raw):
        if tunable.required:
            raise InvalidTunable(f"{subject} is required but not set")
        return tunable.default
    if tunable.kind == "int":
        return whole_number(subject, raw, tunable.low, tunable.high)
    if tunable.kind == "bool":
        return _boolean(subject, raw)
    if tunable.kind == "origins":
        return _origins(subject, raw)
    if tunable.kind == "list":
        items = _items(raw)
        if tunable.high and len(items) > tunable.high:
            raise InvalidTunable(f"{subject} takes at most {tunable.high} entries, got {len(items)}")
        for item in items:
            if tunable.pattern and not re.fullmatch(tunable.pattern, item):
                raise InvalidTunable(f"{subject} entries must be {tunable.shape}, got {item!r}")
        return items
    text = str(raw).strip()
    if tunable.kind == "choice" and text not in tunable.choices:
        raise InvalidTunable(f"{subject} must be one of {', '.join(tunable.choices)}, got {text!r}")
    if tunable.pattern and not re.fullmatch(tunable.pattern, text):
        raise InvalidTunable(f"{subject} must be {tunable.shape}, got {text!r}")
    return text


def int_tunable(env: str, field: str, default: int, low: int, high: int, doc: str) -> Tunable:
    return Tunable(env, field, "int", default, doc, context=field, low=low, high=high)


def from_stack(
    env: str, field: str, doc: str, *, kind: Kind = "text", required: bool = True, shown: str = ""
) -> Tunable:
    """A variable the stack sets from its own resources (tables, keys, secrets, the API's URL)."""
    default: Any = () if kind == "list" else ""
    return Tunable(env, field, kind, default, doc, required=required, shown_default=shown)

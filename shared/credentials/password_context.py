"""Refusing a password built from names an attacker tries first (issue 23, finding 7): the service's
own (PASSWORD_CONTEXT_WORDS: company, product, brand), the user's name and the parts of their email
(the local part and its pieces, each domain label).

A password is refused when, case-folded and NFKC-normalised, nothing but digits, punctuation,
symbols and spaces is left once every such name is taken out of it: `Dealership2024!`,
`sam.staff1980!!`, `NorthwindMotors-1`, `dealershipdealership`. The same holds with the common
character swaps undone (`d3al3rsh1p#1`: shared/credentials/breached_passwords.py's swaps). A passphrase
that only mentions a name (`dealership plum orbit caravan`) is accepted: its other words carry it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

MIN_NAME_LENGTH = 3  # shorter pieces ("jo", "x") are left out: they say little and match too much
_PIECES = re.compile(r"[^\W_]+")
_LETTERS = re.compile(r"[^\W\d_]")
_TAKEN = "\0"  # marks a name's characters (a NUL in a password counts as taken: only ever a refusal)
_SWAPS = (
    str.maketrans({"@": "a", "4": "a", "3": "e", "1": "i", "0": "o", "$": "s", "5": "s", "7": "t"}),
    str.maketrans({"@": "a", "4": "a", "3": "e", "1": "l", "0": "o", "$": "s", "5": "s", "7": "t"}),
)


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def context_names(words: Iterable[str], name: str, email: str) -> list[str]:
    """Every name to take out of a password, longest first: each context word and the user's name,
    whole (its punctuation and spaces dropped) and piece by piece; the email's local part and
    domain labels likewise."""
    local, _, domain = _fold(email).partition("@")
    sources = [*(_fold(word) for word in words), _fold(name), local, *domain.split(".")]
    found: set[str] = set()
    for source in sources:
        pieces = _PIECES.findall(source)
        found.update(piece for piece in [*pieces, "".join(pieces)] if len(piece) >= MIN_NAME_LENGTH)
    return sorted(found, key=lambda piece: (-len(piece), piece))


def is_built_from(password: str, names: list[str]) -> bool:
    """Whether only digits, punctuation, symbols and spaces are left of `password` without `names`
    (taken out of the password as written, or with the swaps undone: what is left is judged as
    written, so `d3al3rsh1p#2025` leaves `#2025`)."""
    folded = _fold(password)
    for form in (folded, *(folded.translate(swaps) for swaps in _SWAPS)):
        for piece in names:
            form = form.replace(piece, _TAKEN * len(piece))  # same length: positions hold
        left = "".join(char for char, mark in zip(folded, form, strict=True) if mark != _TAKEN)
        if len(left) < len(folded) and not _LETTERS.search(left):
            return True
    return False

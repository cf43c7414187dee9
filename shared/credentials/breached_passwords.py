"""Refusing common and breached passwords. Imported only where a password is set (password change,
reset, invitation, the operator's create and reset): login, refresh and the authorizer never load
the list (a test proves it).

The list: the ten thousand most common passwords (data/common-passwords.txt beside this file, from the
zxcvbn package's ranked list by `make lock`) and the project's own additions
(common-passwords-local.txt). A password is refused when any of these forms of it is listed:
- the password itself, NFKC-normalised and case-folded (`PASSWORD` is `password`);
- the password without the digits, punctuation, symbols and spaces at its start, and without any
  part of those at its end (`Password123!` -> `password123`, `password`; `!!dragon2024` -> `dragon`);
- the same with common character swaps undone (`P@ssw0rd1!` -> `password`: @ 4 -> a, 3 -> e,
  1 -> i or l, 0 -> o, $ 5 -> s, 7 -> t);
- a unit any of those only repeats (`passwordpassword`, `qwertyqwerty`).
So a listed password cannot pass by changing its case or adding the usual decoration.

With PWNED_PASSWORDS on (the stack deploys `fail-open`: the functions reach the internet; unset, as
in the local API and the tests, which have no network but loopback, it is off) the Pwned Passwords
range API is asked, by k-anonymity: only the first five hex characters of the password's SHA-1
leave the function, with padding requested so the answer's size says nothing either. A timeout or
error either lets the password through (`fail-open`, logged) or refuses to decide (`fail-closed`:
503, try again).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import unicodedata
import urllib.error
import urllib.request
from pathlib import Path

from shared.config.settings import Settings
from shared.core.errors import BadRequest, ServiceUnavailable
from shared.core.observability import logger

DATA = Path(__file__).with_name("data")
LIST_FILES = (DATA / "common-passwords.txt", DATA / "common-passwords-local.txt")
_LEADING = re.compile(r"^[\W\d_]+")
_TRAILING = re.compile(r"[\W\d_]+$")
_SWAPS = ({"@": "a", "4": "a", "3": "e", "1": "i", "0": "o", "$": "s", "5": "s", "7": "t"}, {"1": "l"})
PWNED_DEPENDENCY = "Pwned Passwords"


@functools.cache
def common_passwords() -> frozenset[str]:
    """Every listed password, case-folded (read once per container, on first use)."""
    entries: set[str] = set()
    for path in LIST_FILES:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                entries.add(_fold(line.strip()))
    return frozenset(entries)


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def _repeated_unit(text: str) -> str:
    """The shortest unit `text` repeats (`abcabc` -> `abc`), or `text` itself."""
    for size in range(1, len(text) // 2 + 1):
        if len(text) % size == 0 and text[:size] * (len(text) // size) == text:
            return text[:size]
    return text


def _undecorated(folded: str) -> set[str]:
    """The password without the digits, punctuation, symbols and spaces at its start, and without
    any part of those at its end (`abc123456!` -> `abc123456`, `abc123`, `abc`, ...)."""
    lead = len(folded) - len(_LEADING.sub("", folded))
    found = set()
    for start in {0, lead}:
        rest = folded[start:]
        end = len(_TRAILING.sub("", rest))
        found |= {rest[:cut] for cut in range(end, len(rest) + 1)}
    return found


def forms(password: str) -> set[str]:
    """The forms of a password that are looked up in the list (see the module's docstring)."""
    folded = _fold(password)
    found = _undecorated(folded)
    for swaps in (str.maketrans(_SWAPS[0]), str.maketrans(_SWAPS[0] | _SWAPS[1])):
        found |= {form.translate(swaps) for form in found}
    found |= {_repeated_unit(form) for form in found}
    found.discard("")
    return found


def is_common(password: str) -> bool:
    listed = common_passwords()
    return any(form in listed for form in forms(password))


def check_not_breached(password: str, field: str, settings: Settings | None) -> None:
    """Refuse a common password, and, when PWNED_PASSWORDS is on, one the range API knows."""
    if is_common(password):
        raise BadRequest(field, f"{field} is too common: choose another")
    if settings is not None and settings.pwned_passwords != "off" and pwned(password, settings):
        raise BadRequest(field, f"{field} appears in known data breaches: choose another")


def pwned(password: str, settings: Settings) -> bool:
    """Whether the range API lists the password (k-anonymity: only a 5-character prefix is sent)."""
    digest = hashlib.sha1(password.encode("utf-8"), usedforsecurity=False).hexdigest().upper()
    prefix, suffix = digest[:5], digest[5:]
    request = urllib.request.Request(  # noqa: S310  # the URL is a checked setting (https, or loopback)
        settings.pwned_passwords_url + prefix,
        headers={"Add-Padding": "true", "User-Agent": "jwt-auth-password-check"},
    )
    try:
        with urllib.request.urlopen(  # noqa: S310  # the URL is a checked setting
            request, timeout=settings.pwned_passwords_timeout_ms / 1000
        ) as answer:
            body = answer.read(4_000_000).decode("ascii", "replace")
    except (urllib.error.URLError, OSError, ValueError) as error:
        if settings.pwned_passwords == "fail-closed":
            raise ServiceUnavailable(PWNED_DEPENDENCY) from error
        logger.warning("pwned passwords check skipped", extra={"detail": type(error).__name__})
        return False
    for line in body.splitlines():
        candidate, _, count = line.strip().partition(":")
        listed = hmac.compare_digest(candidate.upper().encode("ascii", "replace"), suffix.encode())
        if listed and count.strip() not in ("", "0"):  # a padding entry has a count of 0
            return True
    return False

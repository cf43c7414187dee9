"""Text from outside (a User-Agent header, a name someone chose) made safe to put in an email: what
is left cannot be turned into a link by a mail client, cannot be markup, and is short. Issue 23,
finding 7: a notification must never carry an attacker's link to the very person it warns.

A word that is or holds a URL, a `www.` host, a bare domain (`evil-bank.com`) or an address is
dropped whole; tags are dropped; what remains keeps only ASCII letters, digits, spaces and
`-_()+,`, so no '.', ':', '/', '@' or '<' survives to form a link; then it is cut at a word boundary.
"""

from __future__ import annotations

import re
import unicodedata

MAX_PART = 40  # each part of a device description (browser, OS, device), in characters
UNKNOWN_DEVICE = "an unknown device"

_TAG = re.compile(r"<[^<>]{0,200}>")
_LINKISH = re.compile(r"://|^www\.|@|[A-Za-z0-9-]\.[A-Za-z0-9-]", re.IGNORECASE)
_UNSAFE = re.compile(r"[^A-Za-z0-9 ()+,_-]")
_SPACES = re.compile(r"\s+")
_VAGUE = ("", "Other", "Unknown", "Generic Feature Phone")  # the parser's words for "not recognised"


def inert(text: str, limit: int) -> str:
    """`text` without links, markup or control characters, at most `limit` characters ("" if
    nothing is left)."""
    normalised = unicodedata.normalize("NFKC", text[: limit * 20])
    visible = "".join(" " if unicodedata.category(char)[0] in "CZ" else char for char in normalised)
    words = [word for word in _TAG.sub(" ", visible).split() if not _LINKISH.search(word)]
    kept = _SPACES.sub(" ", _UNSAFE.sub(" ", " ".join(words))).strip()
    if len(kept) > limit:
        kept = kept[: limit + 1].rsplit(" ", 1)[0] if " " in kept[:limit] else kept[:limit]
    return kept.strip()


def device_text(user_agent: str) -> str:
    """How an email names the device a request came from: the parsed browser, OS and device
    (`Chrome Mobile on Android, Samsung SM-G991B`), never the header's own text."""
    from shared.sessions.devices import describe_device  # parsed only when a mail names a device

    device = describe_device(user_agent)
    browser, os_name, model = (inert(part, MAX_PART) for part in (device.browser, device.os, device.device))
    named = list(dict.fromkeys(part for part in (browser, os_name) if part not in _VAGUE))
    text = " on ".join(named)
    if model not in _VAGUE and model not in named:
        text = f"{text}, {model}" if text else model
    return text or UNKNOWN_DEVICE

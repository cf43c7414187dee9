"""IAM's wildcards, as API Gateway applies an authorizer's policy to a methodArn: `*` matches any run
of characters (`/` included, so `GET/cars/*` also covers `GET/cars/1/photos`), `?` exactly one, and
everything else only itself. The route declaration checks its rules with them and the local API
evaluates policies with them."""

from __future__ import annotations

import re

_WILDCARD = re.compile(r"([*?])")


def wildcard_matches(pattern: str, text: str, *, ignore_case: bool = False) -> bool:
    parts = _WILDCARD.split(pattern)
    regex = "".join("." if part == "?" else ".*" if part == "*" else re.escape(part) for part in parts)
    flags = re.DOTALL | re.IGNORECASE if ignore_case else re.DOTALL
    return re.fullmatch(regex, text, flags) is not None

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

CODEC_NAMES = "codec names are case-insensitive: 'UTF-8' and 'ASCII' name the same codecs"
PYJWT_REQUIRE = (
    "our own claim checks require every claim, with its type, before PyJWT runs: PyJWT's own list of "
    "required claims can never be the one that refuses"
)
STRICT_AUD = (
    "our type check admits only a string `aud`, which PyJWT compares with ours the same way, strict or not"
)
PYJWT_DEFAULT = "PyJWT ignores an option name it does not know, and verifies the signature by default"

EQUIVALENTS: tuple[Equivalent, ...] = (
    Equivalent(
        "shared.authorizer.bearer_token",
        'match = _BEARER.fullmatch(authorization or "")',
        'match = _BEARER.fullmatch(authorization or "XXXX")',
        "a missing header becomes another string that does not match `Bearer <token>`: refused alike",
    ),
    Equivalent(
        "shared.tokens._strict_json_segment",
        'raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))',
        'raw = base64.urlsafe_b64decode(segment + "=" * (+len(segment) % 4))',
        "the decoder stops at the first '=': '===' where '=' is due decodes the same bytes, and a length "
        "of 1 modulo 4 is undecodable with any padding",
    ),
    Equivalent(
        "shared.tokens._strict_json_segment",
        'value = json.loads(raw.decode("utf-8"), object_pairs_hook=_reject_duplicates)',
        'value = json.loads(raw.decode("UTF-8"), object_pairs_hook=_reject_duplicates)',
        CODEC_NAMES,
    ),
    Equivalent(
        "shared.tokens.verify_access_token",
        '"require": _REQUIRED_CLAIMS,',
        '"XXrequireXX": _REQUIRED_CLAIMS,',
        PYJWT_REQUIRE,
    ),
    Equivalent(
        "shared.tokens.verify_access_token",
        '"require": _REQUIRED_CLAIMS,',
        '"REQUIRE": _REQUIRED_CLAIMS,',
        PYJWT_REQUIRE,
    ),
    *(
        Equivalent("shared.tokens.verify_access_token", '"strict_aud": True,', added, STRICT_AUD)
        for added in ('"XXstrict_audXX": True,', '"STRICT_AUD": True,', '"strict_aud": False,')
    ),
    *(
        Equivalent("shared.tokens.verify_access_token", '"verify_signature": True,', added, PYJWT_DEFAULT)
        for added in ('"XXverify_signatureXX": True,', '"VERIFY_SIGNATURE": True,')
    ),
    Equivalent(
        "shared.tokens.verify_access_token",
        'if payload["iat"] > now + leeway or payload.get("nbf", 0) > now + leeway:',
        'if payload["iat"] > now + leeway or payload.get("nbf", 1) > now + leeway:',
        "a missing `nbf` reads as 1 instead of 0 (seconds since 1970): both are long past",
    ),
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

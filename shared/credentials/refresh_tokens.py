"""The refresh-token format: `<session id>.<secret>`, 22 + 43 base64url characters (16 and 32
random bytes). Only its SHA-256 is stored. The successor of a token is derived from it with a
server-side key (HMAC-SHA256), so a retry within the grace window gets the very same child back
and no second successor can ever exist."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from shared.credentials.signing import b64url

REFRESH_TOKEN = re.compile(r"([A-Za-z0-9_-]{22})\.[A-Za-z0-9_-]{43}")
SESSION_ID = re.compile(r"[A-Za-z0-9_-]{22}")


def new_session_id() -> str:
    """16 random bytes, redrawn when the id would begin with '-': operators paste session ids into
    the admin CLI, where such an argument reads as an option (costs 0.02 of a bit)."""
    while True:
        sid = b64url(secrets.token_bytes(16))
        if not sid.startswith("-"):
            return sid


def new_refresh_token(sid: str) -> str:
    return f"{sid}.{b64url(secrets.token_bytes(32))}"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def session_id_of(token: object) -> str | None:
    match = REFRESH_TOKEN.fullmatch(token) if isinstance(token, str) else None
    return match.group(1) if match else None


def derive_child(token: str, key: bytes) -> str:
    sid = token.split(".", 1)[0]
    return f"{sid}.{b64url(hmac.new(key, token.encode('ascii'), hashlib.sha256).digest())}"

"""Who a token is issued to, and the shape every claim about them must have.

The same limits hold when a token is issued (`check_identity`, from the users table at login or
refresh) and when one is verified (shared/credentials/access_tokens.py reads each claim with them),
and they keep the signing input within what KMS signs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

IDENTIFIER = re.compile(r"[A-Za-z0-9_-]{1,128}")
NAME_TOKEN = re.compile(r"[A-Za-z0-9_.-]{1,64}")
MAX_EMAIL_LENGTH = 254
MAX_NAME_LENGTH = 256


@dataclass(frozen=True)
class Identity:
    """Who a token is issued to (from the users table, at login or refresh)."""

    user_id: str
    email: str
    name: str
    role: str
    user_type: str


class InvalidIdentity(ValueError):
    """The identity cannot go into a token: a malformed claim, or too large for KMS to sign (4096
    bytes of signing input)."""


def check_identity(identity: Identity) -> None:
    if not IDENTIFIER.fullmatch(identity.user_id):
        raise InvalidIdentity("user id")
    if not 0 < len(identity.email) <= MAX_EMAIL_LENGTH or len(identity.name) > MAX_NAME_LENGTH:
        raise InvalidIdentity("email or name")
    if not NAME_TOKEN.fullmatch(identity.role) or not NAME_TOKEN.fullmatch(identity.user_type):
        raise InvalidIdentity("role or type")

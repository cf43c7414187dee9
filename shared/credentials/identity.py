"""Who a token is issued to: the shape every claim about them must have, and the one JSON shape every
answer shows a user in.

The same limits hold when a token is issued (`check_identity`, from the users table at login or
refresh) and when one is verified (shared/credentials/access_tokens.py reads each claim with them),
and they keep the signing input within what KMS signs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

IDENTIFIER = re.compile(r"[A-Za-z0-9_-]{1,128}")
NAME_TOKEN = re.compile(r"[A-Za-z0-9_.-]{1,64}")
MAX_EMAIL_LENGTH = 254
MAX_NAME_LENGTH = 256


class UserRecord(Protocol):
    """Anything that names a user the way the users table does (a user, a session)."""

    @property
    def user_id(self) -> str: ...

    @property
    def email(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def role(self) -> str: ...

    @property
    def user_type(self) -> str: ...


@dataclass(frozen=True)
class Identity:
    """Who a token is issued to (from the users table, at login or refresh)."""

    user_id: str
    email: str
    name: str
    role: str
    user_type: str

    @classmethod
    def of(cls, record: UserRecord) -> Identity:
        return cls(record.user_id, record.email, record.name, record.role, record.user_type)

    def as_json(self) -> dict[str, str]:
        """The user as the API shows it: login's `user`, /auth/me, the users CLI."""
        return {
            "id": self.user_id,
            "email": self.email,
            "name": self.name,
            "role": self.role,
            "type": self.user_type,
        }


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

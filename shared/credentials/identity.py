"""Who a token is issued to, and the one JSON shape every answer shows a user in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


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

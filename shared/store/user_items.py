"""The Users table's items: their keys and what each reads as.

USER#<type>#<email>         the account; `version` is bumped by every change that must end its
                            sessions (password, role, disable), and every issuing commit is
                            conditional on the version it read
LOCK#<type>#<email>         the account's login-attempt counter, from every source IP
LOCK#<type>#<email>#<ip>    the account's login-attempt counter from one source IP
PWLOCK#<session id>         one session's password-change attempt counter
CODELOCK#<user id>          consecutive wrong second-factor codes (reset only by a proven factor or
                            the emailed unlock link, never by time)
IPFAIL#<ip>#<bucket>        the accounts that failed to log in from one IP in one window
LINK#..., LINKOF#..., RESETLOCK#..., RESETIP#...   invitation and reset links: shared/store/links.py

The reads and writes are shared/store/users.py's.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.store.dynamo import Item, boolean, number, strings, text


def user_key(user_type: str, email: str) -> str:
    return f"USER#{user_type}#{email}"


def lock_key(user_type: str, email: str, source_ip: str | None = None) -> str:
    account = f"LOCK#{user_type}#{email}"
    return account if source_ip is None else f"{account}#{source_ip[:64]}"


def password_lock_key(session_id: str) -> str:
    return f"PWLOCK#{session_id}"


def code_lock_key(user_id: str) -> str:
    return f"CODELOCK#{user_id}"


@dataclass(frozen=True)
class User:
    user_id: str
    email: str
    name: str
    role: str
    user_type: str
    password_hash: str
    disabled: bool
    created_at: int
    known_agents: tuple[str, ...] = ()  # digests of the user agents that logged in before
    known_ips: tuple[str, ...] = ()  # source IPs that logged in before

    version: int = 0


@dataclass(frozen=True)
class Attempts:
    """One attempt counter as read: `failures` counted attempts (reserved, not yet reset by a
    success), the last one at `last_ms`, refused until `locked_until_ms`."""

    key: str
    failures: int = 0
    last_ms: int = 0
    locked_until_ms: int = 0
    exists: bool = False


def attempts_from_item(pk: str, item: Item | None) -> Attempts:
    if item is None:
        return Attempts(pk)
    return Attempts(
        pk, number(item, "failures"), number(item, "last_failure"), number(item, "locked_until"), True
    )


def user_from_item(item: Item) -> User:
    return User(
        user_id=text(item, "user_id"),
        email=text(item, "email"),
        name=text(item, "name"),
        role=text(item, "role"),
        user_type=text(item, "user_type"),
        password_hash=text(item, "password_hash"),
        disabled=boolean(item, "disabled"),
        created_at=number(item, "created_at"),
        known_agents=strings(item, "known_agents"),
        known_ips=strings(item, "known_ips"),
        version=number(item, "version"),
    )

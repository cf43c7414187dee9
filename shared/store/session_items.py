"""The Sessions table's items: their keys and what each reads as.

SESSION#<sid>        one per login: owner, identity snapshot and the account version it was read
                     at, device, IP, times, status (index by_owner on owner, created_at)
RT#<sha256(token)>   one per refresh token of the session, rotated on every use

The reads and writes are shared/store/sessions.py's.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.store.dynamo import Item, boolean, number, text


def session_key(sid: str) -> str:
    return f"SESSION#{sid}"


def refresh_key(token_hash: str) -> str:
    return f"RT#{token_hash}"


@dataclass(frozen=True)
class Session:
    sid: str
    user_id: str
    email: str
    name: str
    role: str
    user_type: str
    status: str
    created_at: int
    last_used: int
    abs_expires: int
    user_agent: str
    source_ip: str
    new_device: bool = False
    user_version: int = 0  # the account's version when the session's identity was read
    amr: tuple[str, ...] = ()  # what the proof that started the session proved (RFC 8176)
    auth_time: int = 0  # epoch seconds of that proof (a password change keeps the caller's)

    def is_live(self, at_ms: int, idle_ttl_seconds: int | None = None) -> bool:
        if idle_ttl_seconds is not None and self.last_used + idle_ttl_seconds * 1000 <= at_ms:
            return False
        return self.status == "active" and self.abs_expires * 1000 > at_ms


@dataclass(frozen=True)
class RefreshRecord:
    token_hash: str
    sid: str
    status: str
    issued_at: int
    idle_expires: int
    abs_expires: int
    used_at: int
    child_hash: str

    def is_usable(self, at_ms: int) -> bool:
        return (
            self.status == "active" and self.idle_expires * 1000 > at_ms and self.abs_expires * 1000 > at_ms
        )


@dataclass(frozen=True)
class RefreshView:
    """What one strongly consistent read tells about a presented refresh token: its record, its
    possible successors' records by hash (one per derivation key), and its session."""

    presented: RefreshRecord | None
    children: dict[str, RefreshRecord]
    session: Session | None


def session_from_item(item: Item) -> Session:
    return Session(
        sid=text(item, "sid"),
        user_id=text(item, "owner"),
        email=text(item, "email"),
        name=text(item, "name"),
        role=text(item, "role"),
        user_type=text(item, "user_type"),
        status=text(item, "status"),
        created_at=number(item, "created_at"),
        last_used=number(item, "last_used"),
        abs_expires=number(item, "abs_expires"),
        user_agent=text(item, "user_agent"),
        source_ip=text(item, "source_ip"),
        new_device=boolean(item, "new_device"),
        user_version=number(item, "user_version"),
        amr=tuple(value["S"] for value in item["amr"]["L"]) if "amr" in item else ("pwd",),
        auth_time=number(item, "auth_time", number(item, "created_at") // 1000),
    )


def refresh_from_item(item: Item) -> RefreshRecord:
    return RefreshRecord(
        token_hash=item["pk"]["S"].removeprefix("RT#"),
        sid=text(item, "sid"),
        status=text(item, "status"),
        issued_at=number(item, "issued_at"),
        idle_expires=number(item, "idle_expires"),
        abs_expires=number(item, "abs_expires"),
        used_at=number(item, "used_at"),
        child_hash=text(item, "child_hash"),
    )

"""The Sessions table.

SESSION#<sid>        one per login: owner, identity snapshot and the account version it was read
                     at, device, IP, times, status (index by_owner on owner, created_at)
RT#<sha256(token)>   one per refresh token of the session, rotated on every use
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shared.store.denylist import DenylistStore
from shared.store.dynamo import (
    Item,
    Operation,
    batch_get,
    boolean,
    dynamodb_call,
    key,
    n,
    number,
    s,
    text,
    transact_write,
)
from shared.store.tables import SESSIONS_BY_OWNER
from shared.store.users import UserStore

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


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
    amr: tuple[str, ...] = ("pwd",)  # how the login that started the session was made (RFC 8176)

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


def _session_from_item(item: Item) -> Session:
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
    )


def _refresh_from_item(item: Item) -> RefreshRecord:
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


class SessionStore:
    def __init__(
        self, table: str, dynamodb: DynamoDBClient, users: UserStore, denylist: DenylistStore
    ) -> None:
        self.table = table
        self.dynamodb = dynamodb
        self.users = users
        self.denylist = denylist

    def _refresh_item(
        self, token_hash: str, sid: str, issued_at: int, idle_expires: int, abs_expires: int
    ) -> Item:
        return {
            "pk": s(refresh_key(token_hash)),
            "sid": s(sid),
            "status": s("active"),
            "issued_at": n(issued_at),
            "idle_expires": n(idle_expires),
            "abs_expires": n(abs_expires),
            "ttl": n(abs_expires),
        }

    def _put_new(self, item: Item) -> Operation:
        return {
            "Put": {"TableName": self.table, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}
        }

    def create(self, session: Session, token_hash: str, idle_expires: int, extra: list[Operation]) -> None:
        """Store a new session and its first refresh token (plus `extra` operations) atomically."""
        session_item = {
            "pk": s(session_key(session.sid)),
            "sid": s(session.sid),
            "owner": s(session.user_id),
            "email": s(session.email),
            "name": s(session.name),
            "role": s(session.role),
            "user_type": s(session.user_type),
            "status": s("active"),
            "created_at": n(session.created_at),
            "last_used": n(session.last_used),
            "abs_expires": n(session.abs_expires),
            "ttl": n(session.abs_expires),
            "user_agent": s(session.user_agent[:512]),
            "source_ip": s(session.source_ip[:64]),
            "new_device": {"BOOL": session.new_device},
            "user_version": n(session.user_version),
            "amr": {"L": [s(value) for value in session.amr]},
        }
        refresh_item = self._refresh_item(
            token_hash, session.sid, session.created_at, idle_expires, session.abs_expires
        )
        transact_write(self.dynamodb, [self._put_new(session_item), self._put_new(refresh_item), *extra])

    def view(self, token_hash: str, child_hashes: list[str], sid: str) -> RefreshView:
        names = [refresh_key(token_hash), *(refresh_key(child) for child in child_hashes), session_key(sid)]
        items = batch_get(self.dynamodb, {self.table: [key(name) for name in dict.fromkeys(names)]})[
            self.table
        ]
        by_key = {item["pk"]["S"]: item for item in items}
        presented = by_key.get(refresh_key(token_hash))
        session = by_key.get(session_key(sid))
        children = {
            child: _refresh_from_item(by_key[refresh_key(child)])
            for child in child_hashes
            if refresh_key(child) in by_key
        }
        return RefreshView(
            presented=_refresh_from_item(presented) if presented else None,
            children=children,
            session=_session_from_item(session) if session else None,
        )

    def _session_still_valid(self, session: Session, at_ms: int) -> list[Operation]:
        """Touch the session only if it is active, and check that no not-before has reached it and
        that the account is still at the version the session was issued from."""
        touch = {
            "Update": {
                "TableName": self.table,
                "Key": key(session_key(session.sid)),
                "UpdateExpression": "SET last_used = :now",
                "ConditionExpression": "#status = :active AND abs_expires > :now_s",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": {
                    ":now": n(at_ms),
                    ":now_s": n(at_ms // 1000),
                    ":active": s("active"),
                },
            }
        }
        return [
            touch,
            *self.denylist.session_not_revoked_checks(session.user_id, session.sid, session.created_at),
            self.users.account_unchanged_check(session.user_type, session.email, session.user_version),
        ]

    def rotate(
        self, session: Session, parent_hash: str, child_hash: str, at_ms: int, idle_expires: int
    ) -> None:
        """Mark the parent used and store its one child, in one conditional transaction.

        Raises TransactionRejected with per-item reasons when a condition fails: parent first,
        child second, then the session and not-before checks.
        """
        use_parent = {
            "Update": {
                "TableName": self.table,
                "Key": key(refresh_key(parent_hash)),
                "UpdateExpression": "SET #status = :used, used_at = :now, child_hash = :child",
                "ConditionExpression": "#status = :active AND idle_expires > :now_s AND abs_expires > :now_s",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": {
                    ":used": s("used"),
                    ":active": s("active"),
                    ":now": n(at_ms),
                    ":now_s": n(at_ms // 1000),
                    ":child": s(child_hash),
                },
            }
        }
        child = self._refresh_item(child_hash, session.sid, at_ms, idle_expires, session.abs_expires)
        transact_write(
            self.dynamodb, [use_parent, self._put_new(child), *self._session_still_valid(session, at_ms)]
        )

    def confirm_live(self, session: Session, at_ms: int) -> None:
        """Check (and touch) the session without rotating: the grace-window path."""
        transact_write(self.dynamodb, self._session_still_valid(session, at_ms))

    def revoke(
        self, session_id: str, abs_expires: int, reason: str, at_ms: int, extra: list[Operation]
    ) -> None:
        """Revoke a session: its refresh tokens stop rotating and its access tokens are denied."""
        mark_revoked = {
            "Update": {
                "TableName": self.table,
                "Key": key(session_key(session_id)),
                "UpdateExpression": "SET #status = :revoked, revoked_at = :now, revoked_reason = :reason",
                "ConditionExpression": "attribute_exists(pk)",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": {
                    ":revoked": s("revoked"),
                    ":now": n(at_ms),
                    ":reason": s(reason),
                },
            }
        }
        deny = self.denylist.deny_session_operation(session_id, abs_expires, reason)
        transact_write(self.dynamodb, [mark_revoked, deny, *extra])

    def get(self, sid: str) -> Session | None:
        item = self._get(session_key(sid))
        return _session_from_item(item) if item else None

    def refresh_token(self, token_hash: str) -> RefreshRecord | None:
        item = self._get(refresh_key(token_hash))
        return _refresh_from_item(item) if item else None

    def _get(self, pk: str) -> Item | None:
        response = dynamodb_call(
            lambda: self.dynamodb.get_item(TableName=self.table, Key=key(pk), ConsistentRead=True)
        )
        return response.get("Item")

    def sessions_of(self, user_id: str) -> Iterator[Session]:
        paginator = self.dynamodb.get_paginator("query")
        pages = paginator.paginate(
            TableName=self.table,
            IndexName=SESSIONS_BY_OWNER.name,
            KeyConditionExpression="#owner = :owner",
            ExpressionAttributeNames={"#owner": SESSIONS_BY_OWNER.partition_key},
            ExpressionAttributeValues={":owner": s(user_id)},
        )
        listed: list[Any] = dynamodb_call(lambda: list(pages))
        for page in listed:
            for item in page.get("Items", []):
                yield _session_from_item(item)

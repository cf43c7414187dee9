"""The Sessions table: a session per login and its refresh tokens, written only in conditional
transactions (their keys and item shapes: shared/store/session_items.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from shared.store.denylist import DenylistStore
from shared.store.dynamo import (
    Item,
    Operation,
    batch_get,
    dynamodb_call,
    key,
    n,
    s,
    transact_write,
)
from shared.store.session_items import (
    RefreshRecord,
    RefreshView,
    Session,
    refresh_from_item,
    refresh_key,
    session_from_item,
    session_key,
)
from shared.store.tables import SESSIONS_BY_OWNER
from shared.store.users import UserStore

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


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
            "auth_time": n(session.auth_time),
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
            child: refresh_from_item(by_key[refresh_key(child)])
            for child in child_hashes
            if refresh_key(child) in by_key
        }
        return RefreshView(
            presented=refresh_from_item(presented) if presented else None,
            children=children,
            session=session_from_item(session) if session else None,
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
        return session_from_item(item) if item else None

    def refresh_token(self, token_hash: str) -> RefreshRecord | None:
        item = self._get(refresh_key(token_hash))
        return refresh_from_item(item) if item else None

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
                yield session_from_item(item)

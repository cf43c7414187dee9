"""The Denylist table: everything that can revoke an access token or a session.

JTI#<jti>       a logged-out access token, until its exp (plus leeway)
SID#<sid>       a revoked session, until the last access token it could have issued expires
NBF#<user id>   per-user "not before" (ms): every access token issued and every session created
                at or before it is refused. Never expires: it must outlive every session.
NBF#*#<shard>   the same for every user (the emergency switch), written to GLOBAL_SHARDS items
                at once; each session reads the one its id hashes to, so no item is read by all.

Items that expire carry `ttl` (epoch seconds) = the moment they stop mattering. DynamoDB deletes
such items late and moto never does, so readers compare expiry themselves.
"""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from shared.store.dynamo import (
    Operation,
    TransactionRejected,
    batch_get,
    dynamodb_call,
    key,
    n,
    number,
    s,
    transact_write,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

GLOBAL_SUBJECT = "*"
GLOBAL_SHARDS = 32  # the switch writes them all in one transaction; reads spread over them


def global_key(sid: str) -> str:
    """The emergency switch's item a session reads (its id is random, so reads spread evenly)."""
    return f"NBF#{GLOBAL_SUBJECT}#{hashlib.sha256(sid.encode()).digest()[0] % GLOBAL_SHARDS}"


def user_key(subject: str) -> str:
    return f"NBF#{subject}"


@dataclass(frozen=True)
class Revocations:
    jti_denied: bool
    session_revoked: bool
    not_before_ms: int  # the later of the user's and the switch's


class DenylistStore:
    def __init__(self, table: str, dynamodb: DynamoDBClient) -> None:
        self.table = table
        self.dynamodb = dynamodb

    def revocations(self, jti: str, sid: str, subject: str, at_ms: int) -> Revocations:
        """Everything that can revoke one access token, in one strongly consistent request."""
        names = [f"JTI#{jti}", f"SID#{sid}", user_key(subject), global_key(sid)]
        items = batch_get(self.dynamodb, {self.table: [key(name) for name in names]})[self.table]
        now_s = at_ms // 1000
        live = {item["pk"]["S"]: item for item in items if number(item, "ttl", now_s + 1) > now_s}
        return Revocations(
            jti_denied=names[0] in live,
            session_revoked=names[1] in live,
            not_before_ms=max(number(live.get(name, {}), "not_before") for name in names[2:]),
        )

    def deny_token_operation(self, jti: str, expires: int) -> Operation:
        """A logged-out access token, denied until `expires` (for a transaction)."""
        return {"Put": {"TableName": self.table, "Item": {"pk": s(f"JTI#{jti}"), "ttl": n(expires)}}}

    def deny_token(self, jti: str, expires: int) -> None:
        put = self.deny_token_operation(jti, expires)["Put"]
        dynamodb_call(lambda: self.dynamodb.put_item(TableName=put["TableName"], Item=put["Item"]))

    def deny_session_operation(self, sid: str, expires: int, reason: str) -> Operation:
        """A revoked session, its access tokens denied until `expires` (for a transaction)."""
        item = {"pk": s(f"SID#{sid}"), "reason": s(reason), "ttl": n(expires)}
        return {"Put": {"TableName": self.table, "Item": item}}

    def session_not_revoked_checks(self, subject: str, sid: str, created_at: int) -> list[Operation]:
        """Condition checks (for a transaction): no user or global not-before has reached a
        session created at `created_at`."""
        return [self._not_reached_check(name, created_at) for name in (user_key(subject), global_key(sid))]

    def switch_not_reached_check(self, sid: str, since: int) -> Operation:
        """A condition check (for a transaction): the emergency switch has not been thrown, for the
        session `sid`, since `since`."""
        return self._not_reached_check(global_key(sid), since)

    def _not_reached_check(self, name: str, created_at: int) -> Operation:
        return {
            "ConditionCheck": {
                "TableName": self.table,
                "Key": key(name),
                "ConditionExpression": "attribute_not_exists(not_before) OR not_before < :created",
                "ExpressionAttributeValues": {":created": n(created_at)},
            }
        }

    def not_before_operation(self, subject: str, at_ms: int) -> Operation:
        """Refuse every token and session of `subject` from `at_ms` or earlier (for a transaction).
        A not-before never moves back: a later one already there wins (the condition fails)."""
        return _not_before_update(self.table, user_key(subject), at_ms)

    def set_not_before(self, subject: str, at_ms: int) -> None:
        """Write the not-before now (every shard of the switch for GLOBAL_SUBJECT, in one
        transaction); when a later one is already there, it stands."""
        operations = (
            [
                _not_before_update(self.table, f"NBF#{GLOBAL_SUBJECT}#{shard}", at_ms)
                for shard in range(GLOBAL_SHARDS)
            ]
            if subject == GLOBAL_SUBJECT
            else [self.not_before_operation(subject, at_ms)]
        )
        with contextlib.suppress(TransactionRejected):
            transact_write(self.dynamodb, operations)

    def not_before(self, subject: str) -> int:
        response = dynamodb_call(
            lambda: self.dynamodb.get_item(
                TableName=self.table, Key=key(user_key(subject)), ConsistentRead=True
            )
        )
        return number(response.get("Item", {}), "not_before")


def _not_before_update(table: str, pk: str, at_ms: int) -> Operation:
    return {
        "Update": {
            "TableName": table,
            "Key": key(pk),
            "UpdateExpression": "SET not_before = :at",
            "ConditionExpression": "attribute_not_exists(not_before) OR not_before < :at",
            "ExpressionAttributeValues": {":at": n(at_ms)},
        }
    }

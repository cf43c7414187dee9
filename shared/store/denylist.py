"""The Denylist table: everything that can revoke an access token or a session.

JTI#<jti>       a logged-out access token, until its exp
SID#<sid>       a revoked session, until its absolute expiry
NBF#<user id>   per-user "not before" (ms) for access tokens and sessions
NBF#*           the same, for every user (the emergency switch)

Every item carries `ttl` (epoch seconds) = the moment it stops mattering. DynamoDB deletes such
items late and moto never does, so readers compare expiry themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from shared.store.dynamo import Operation, batch_get, dynamodb_call, key, n, number, s

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

GLOBAL_SUBJECT = "*"


@dataclass(frozen=True)
class Revocations:
    jti_denied: bool
    session_revoked: bool
    tokens_not_before_ms: int
    sessions_not_before_ms: int


class DenylistStore:
    def __init__(self, table: str, dynamodb: DynamoDBClient) -> None:
        self.table = table
        self.dynamodb = dynamodb

    def revocations(self, jti: str, sid: str, subject: str, at_ms: int) -> Revocations:
        """Everything that can revoke one access token, in one strongly consistent request."""
        keys = [key(f"JTI#{jti}"), key(f"SID#{sid}"), key(f"NBF#{subject}"), key(f"NBF#{GLOBAL_SUBJECT}")]
        items = batch_get(self.dynamodb, {self.table: keys})[self.table]
        now_s = at_ms // 1000
        live = {item["pk"]["S"]: item for item in items if number(item, "ttl", now_s + 1) > now_s}
        user_nbf = live.get(f"NBF#{subject}", {})
        global_nbf = live.get(f"NBF#{GLOBAL_SUBJECT}", {})
        return Revocations(
            jti_denied=f"JTI#{jti}" in live,
            session_revoked=f"SID#{sid}" in live,
            tokens_not_before_ms=max(number(user_nbf, "tokens_nbf"), number(global_nbf, "tokens_nbf")),
            sessions_not_before_ms=max(number(user_nbf, "sessions_nbf"), number(global_nbf, "sessions_nbf")),
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

    def session_not_revoked_checks(self, subject: str, created_at: int) -> list[Operation]:
        """Condition checks (for a transaction): no user or global not-before has passed a session
        created at `created_at`."""
        return [
            {
                "ConditionCheck": {
                    "TableName": self.table,
                    "Key": key(f"NBF#{name}"),
                    "ConditionExpression": "attribute_not_exists(sessions_nbf) OR sessions_nbf < :created",
                    "ExpressionAttributeValues": {":created": n(created_at)},
                }
            }
            for name in (subject, GLOBAL_SUBJECT)
        ]

    def set_not_before(self, subject: str, at_ms: int, *, sessions: bool, keep_seconds: int) -> None:
        """Deny every access token (and, with `sessions`, every session) of `subject` issued before now."""
        expression = "SET tokens_nbf = :at, #ttl = :ttl" + (", sessions_nbf = :at" if sessions else "")
        dynamodb_call(
            lambda: self.dynamodb.update_item(
                TableName=self.table,
                Key=key(f"NBF#{subject}"),
                UpdateExpression=expression,
                ExpressionAttributeNames={"#ttl": "ttl"},
                ExpressionAttributeValues={":at": n(at_ms), ":ttl": n(at_ms // 1000 + keep_seconds)},
            )
        )

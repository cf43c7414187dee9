"""Login challenges between the password and the second factor, in the Users table (new keys only).

MFACHALLENGE#<SHA-256 of the token>   who passed the password step (user type, email, user id, the
                                      account version read), what is asked next (`purpose`: verify
                                      an active factor, enrol one first, or `email`: a code emailed
                                      past the account-wide lockout ceiling, kept as `code_hash`,
                                      with `tries` counted), when it expires (ms),
                                      and `ttl` for DynamoDB's clean-up (readers compare expiry
                                      themselves). Completing a login deletes it in the session's
                                      transaction, conditional on it being there: once, ever.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from shared.store.dynamo import Operation, conditional, dynamodb_call, key, n, number, s, text

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

Purpose = Literal["verify", "enrol", "email"]
PURPOSES: tuple[Purpose, ...] = ("verify", "enrol", "email")


def challenge_key(token: str) -> str:
    return f"MFACHALLENGE#{hashlib.sha256(token.encode('utf-8')).hexdigest()}"


@dataclass(frozen=True)
class Challenge:
    user_type: str
    email: str
    user_id: str
    version: int
    purpose: Purpose
    expires_ms: int
    code_hash: str = ""  # purpose `email`: the emailed code's digest (shared/login/step_up.py)


class ChallengeStore:
    def __init__(self, table: str, dynamodb: DynamoDBClient) -> None:
        self.table = table
        self.dynamodb = dynamodb

    def create(self, token: str, challenge: Challenge) -> None:
        item = {
            "pk": s(challenge_key(token)),
            "user_type": s(challenge.user_type),
            "email": s(challenge.email),
            "user_id": s(challenge.user_id),
            "version": n(challenge.version),
            "purpose": s(challenge.purpose),
            "expires_ms": n(challenge.expires_ms),
            "ttl": n(challenge.expires_ms // 1000 + 1),
            **({"code_hash": s(challenge.code_hash)} if challenge.code_hash else {}),
        }
        # a random 256-bit token never collides; the condition only keeps a bug from overwriting one
        conditional(
            lambda: self.dynamodb.put_item(
                TableName=self.table, Item=item, ConditionExpression="attribute_not_exists(pk)"
            )
        )

    def get(self, token: str) -> Challenge | None:
        response = dynamodb_call(
            lambda: self.dynamodb.get_item(
                TableName=self.table, Key=key(challenge_key(token)), ConsistentRead=True
            )
        )
        item = response.get("Item")
        if not item:
            return None
        purpose = text(item, "purpose")
        return Challenge(
            user_type=text(item, "user_type"),
            email=text(item, "email"),
            user_id=text(item, "user_id"),
            version=number(item, "version"),
            purpose=next((known for known in PURPOSES if known == purpose), "verify"),
            expires_ms=number(item, "expires_ms"),
            code_hash=text(item, "code_hash"),
        )

    def count_try(self, token: str, limit: int) -> bool:
        """Count one code tried against the challenge, on the condition that fewer than `limit`
        were: False once they were (or the challenge is gone)."""
        return conditional(
            lambda: self.dynamodb.update_item(
                TableName=self.table,
                Key=key(challenge_key(token)),
                UpdateExpression="ADD tries :one",
                ConditionExpression="attribute_exists(pk) AND "
                "(attribute_not_exists(tries) OR tries < :limit)",
                ExpressionAttributeValues={":one": n(1), ":limit": n(limit)},
            )
        )

    def consume_operation(self, token: str) -> Operation:
        """Delete the challenge in a transaction, which fails if it is already gone (used twice)."""
        return {
            "Delete": {
                "TableName": self.table,
                "Key": key(challenge_key(token)),
                "ConditionExpression": "attribute_exists(pk)",
            }
        }

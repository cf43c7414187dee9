"""Invitation, password-reset and code-unlock links: their items in the Users table (beside the accounts they
belong to, so one transaction can use a link and change its account), and the forgotten-password
request counters.

LINK#<sha256 of the token>             one link: its purpose, the account (type and email), the
                                       account version it was issued for, when it expires
LINKOF#<purpose>#<type>#<email>        the account's current link of that purpose (its hash): a newer
                                       link replaces it, and a link that is not current is dead
RESETLOCK#<type>#<email>[#<ip>]        forgotten-password requests for an account (from one IP)
RESETIP#<ip>                           forgotten-password requests from one IP, any account
RESETMAIL#<type>#<email>#<day>[#known] reset emails the account was sent on that UTC day (days since
                                       the epoch), apart for addresses it signed in from: counted in
                                       the transaction that issues the link

Only hashes of tokens are stored. A link is used by one transaction that deletes both of its items
on the condition that they are still there and current, so of two requests with one link exactly
one succeeds. Items carry `ttl` (epoch seconds); readers compare `expires` themselves.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from shared.store.dynamo import Operation, dynamodb_call, key, n, number, s, text

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

INVITATION = "invitation"
RESET = "reset"
UNLOCK = "unlock"  # reopens code login after MFA_FAILURE_LIMIT wrong codes (shared/mfa/login_step.py)
TOKEN_BYTES = 32


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def link_key(hashed: str) -> str:
    return f"LINK#{hashed}"


def current_link_key(purpose: str, user_type: str, email: str) -> str:
    return f"LINKOF#{purpose}#{user_type}#{email}"


def request_counter_keys(user_type: str, email: str, source_ip: str) -> list[str]:
    """The forgotten-password counters one request counts on: the account from every IP, the
    account from this IP, and this IP for any account."""
    account = f"RESETLOCK#{user_type}#{email}"
    return [account, f"{account}#{source_ip[:64]}", f"RESETIP#{source_ip[:64]}"]


def mail_counter_key(user_type: str, email: str, day: int) -> str:
    return f"RESETMAIL#{user_type}#{email}#{day}"


@dataclass(frozen=True)
class Link:
    hashed: str
    purpose: str
    user_type: str
    email: str
    user_version: int
    expires: int  # epoch seconds

    def is_live(self, at_ms: int) -> bool:
        return at_ms // 1000 < self.expires


class LinkStore:
    def __init__(self, table: str, dynamodb: DynamoDBClient) -> None:
        self.table = table
        self.dynamodb = dynamodb

    def find(self, hashed: str) -> Link | None:
        """The link with this token hash, as stored (live or not), in one strongly consistent read."""
        response = dynamodb_call(
            lambda: self.dynamodb.get_item(
                TableName=self.table, Key=key(link_key(hashed)), ConsistentRead=True
            )
        )
        item = response.get("Item")
        if not item or not hmac.compare_digest(text(item, "hash"), hashed):
            return None
        return Link(
            hashed=hashed,
            purpose=text(item, "purpose"),
            user_type=text(item, "user_type"),
            email=text(item, "email"),
            user_version=number(item, "user_version"),
            expires=number(item, "expires"),
        )

    def current(self, purpose: str, user_type: str, email: str) -> str:
        """The hash of the account's current link of that purpose ("" when there is none)."""
        response = dynamodb_call(
            lambda: self.dynamodb.get_item(
                TableName=self.table,
                Key=key(current_link_key(purpose, user_type, email)),
                ConsistentRead=True,
            )
        )
        return text(response.get("Item", {}), "hash")

    def issue_operations(self, link: Link, replaced: str) -> list[Operation]:
        """Store `link` as the account's current one, replacing the link `replaced` ("" for none),
        which dies with it. Fails (TransactionRejected) when another link was issued meanwhile."""
        current = key(current_link_key(link.purpose, link.user_type, link.email))
        if replaced:
            condition, values = "#hash = :replaced", {":replaced": s(replaced)}
        else:
            condition, values = "attribute_not_exists(pk)", {}
        operations: list[Operation] = [
            {
                "Put": {
                    "TableName": self.table,
                    "Item": {
                        **key(link_key(link.hashed)),
                        "hash": s(link.hashed),
                        "purpose": s(link.purpose),
                        "user_type": s(link.user_type),
                        "email": s(link.email),
                        "user_version": n(link.user_version),
                        "expires": n(link.expires),
                        "ttl": n(link.expires),
                    },
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {
                "Put": {
                    "TableName": self.table,
                    "Item": {**current, "hash": s(link.hashed), "ttl": n(link.expires)},
                    "ConditionExpression": condition,
                    **({"ExpressionAttributeNames": {"#hash": "hash"}} if replaced else {}),
                    **({"ExpressionAttributeValues": values} if values else {}),
                }
            },
        ]
        if replaced:
            operations.append({"Delete": {"TableName": self.table, "Key": key(link_key(replaced))}})
        return operations

    def count_mail_operation(
        self, user_type: str, email: str, at_ms: int, limit: int, *, known: bool = False
    ) -> Operation:
        """Count one more reset email to the account today (UTC), on the condition that fewer than
        `limit` were sent: past it the transaction is rejected at this operation. Requests from an
        address the account signed in from before (`known`) are counted apart."""
        day = at_ms // 86_400_000
        counter = mail_counter_key(user_type, email, day) + ("#known" if known else "")
        return {
            "Update": {
                "TableName": self.table,
                "Key": key(counter),
                "UpdateExpression": "ADD #count :one SET #ttl = :ttl",
                "ConditionExpression": "attribute_not_exists(#count) OR #count < :limit",
                "ExpressionAttributeNames": {"#count": "count", "#ttl": "ttl"},
                "ExpressionAttributeValues": {
                    ":one": n(1),
                    ":limit": n(limit),
                    ":ttl": n((day + 2) * 86_400),
                },
            }
        }

    def use_operations(self, link: Link) -> list[Operation]:
        """Delete the link and its account's pointer to it, on the condition that both are still
        there and it is still the current one: a link is used once, ever."""
        return [
            {
                "Delete": {
                    "TableName": self.table,
                    "Key": key(link_key(link.hashed)),
                    "ConditionExpression": "attribute_exists(pk)",
                }
            },
            {
                "Delete": {
                    "TableName": self.table,
                    "Key": key(current_link_key(link.purpose, link.user_type, link.email)),
                    "ConditionExpression": "#hash = :hash",
                    "ExpressionAttributeNames": {"#hash": "hash"},
                    "ExpressionAttributeValues": {":hash": s(link.hashed)},
                }
            },
        ]


def new_link(purpose: str, user_type: str, email: str, version: int, expires: int) -> tuple[str, Link]:
    """A link's token (256 random bits: only its hash is stored) and the link it opens."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, Link(token_hash(token), purpose, user_type, email, version, expires)

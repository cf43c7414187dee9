"""The Users table: accounts, and the attempt counters that guard them (their keys and item shapes:
shared/store/user_items.py).

Counters exist whether or not the account does, and an attempt is counted (reserved) before the
password is checked, by a write conditional on the counter as read: parallel guesses serialise.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from shared.store.dynamo import (
    Item,
    Operation,
    TransactionRejected,
    batch_get,
    conditional,
    dynamodb_call,
    key,
    n,
    s,
    scan_all,
    transact_write,
)
from shared.store.user_items import (
    Attempts,
    User,
    attempts_from_item,
    code_lock_key,
    lock_key,
    user_from_item,
    user_key,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class UserStore:
    def __init__(self, table: str, dynamodb: DynamoDBClient) -> None:
        self.table = table
        self.dynamodb = dynamodb

    def login_state(self, user_type: str, email: str, source_ip: str) -> tuple[User | None, list[Attempts]]:
        """The account and its two attempt counters (account-wide, then from this IP), in one
        strongly consistent request."""
        counters = [lock_key(user_type, email), lock_key(user_type, email, source_ip)]
        keys = [key(user_key(user_type, email)), *(key(pk) for pk in counters)]
        by_key = {item["pk"]["S"]: item for item in batch_get(self.dynamodb, {self.table: keys})[self.table]}
        found = by_key.get(user_key(user_type, email))
        user = user_from_item(found) if found else None
        return user, [attempts_from_item(pk, by_key.get(pk)) for pk in counters]

    def attempts(self, pks: list[str]) -> list[Attempts]:
        by_key = {
            item["pk"]["S"]: item
            for item in batch_get(self.dynamodb, {self.table: [key(pk) for pk in pks]})[self.table]
        }
        return [attempts_from_item(pk, by_key.get(pk)) for pk in pks]

    def reserve_attempts(self, counts: list[tuple[Attempts, Attempts]], keep_seconds: int) -> bool:
        """Write each counter's next state (`(seen, next)` pairs) in one transaction, conditional on
        the counter still being as seen. False when another request counted first: read again."""
        operations: list[Operation] = []
        for seen, following in counts:
            if seen.exists:
                condition = "failures = :seen AND last_failure = :seen_last"
                values = {":seen": n(seen.failures), ":seen_last": n(seen.last_ms)}
            else:
                condition, values = "attribute_not_exists(pk)", {}
            operations.append(
                {
                    "Update": {
                        "TableName": self.table,
                        "Key": key(following.key),
                        "UpdateExpression": "SET failures = :failures, last_failure = :now, "
                        "locked_until = :until, #ttl = :ttl",
                        "ConditionExpression": condition,
                        "ExpressionAttributeNames": {"#ttl": "ttl"},
                        "ExpressionAttributeValues": {
                            **values,
                            ":failures": n(following.failures),
                            ":now": n(following.last_ms),
                            ":until": n(following.locked_until_ms),
                            ":ttl": n(following.last_ms // 1000 + keep_seconds),
                        },
                    }
                }
            )
        try:
            transact_write(self.dynamodb, operations)
        except TransactionRejected:
            return False
        return True

    def add_attempt(self, pk: str, below: int, at_ms: int, keep_seconds: int) -> bool:
        """Count one attempt on counter `pk` with one atomic add, on the condition that it counts
        fewer than `below` attempts (or does not exist): requests at the same time all count, none
        is refused for racing. False when it reached `below` meanwhile: read it again."""

        def add() -> None:
            self.dynamodb.update_item(
                TableName=self.table,
                Key=key(pk),
                UpdateExpression="SET failures = if_not_exists(failures, :zero) + :one, "
                "last_failure = :now, locked_until = :zero, #ttl = :ttl",
                ConditionExpression="attribute_not_exists(failures) OR failures < :below",
                ExpressionAttributeNames={"#ttl": "ttl"},
                ExpressionAttributeValues={
                    ":zero": n(0),
                    ":one": n(1),
                    ":now": n(at_ms),
                    ":below": n(below),
                    ":ttl": n(at_ms // 1000 + keep_seconds),
                },
            )

        return conditional(add)

    def count_code_attempt(self, user_id: str, limit: int) -> int | None:
        """Count one second-factor code tried (before it is checked, so parallel guesses count too)
        on the condition that fewer than `limit` were since the last proven factor: how many now,
        or None when code login is closed. No expiry: only a proven factor or the unlock link
        (a delete) resets it."""
        counted: dict[str, Any] = {}

        def add() -> None:
            response = self.dynamodb.update_item(
                TableName=self.table,
                Key=key(code_lock_key(user_id)),
                UpdateExpression="ADD failures :one",
                ConditionExpression="attribute_not_exists(failures) OR failures < :limit",
                ExpressionAttributeValues={":one": n(1), ":limit": n(limit)},
                ReturnValues="UPDATED_NEW",
            )
            counted.update(response["Attributes"])

        if not conditional(add):
            return None
        return int(counted["failures"]["N"])

    def reset_attempts_operations(self, pks: list[str]) -> list[Operation]:
        return [{"Delete": {"TableName": self.table, "Key": key(pk)}} for pk in pks]

    def unlock(self, user_type: str, email: str) -> int:
        """Delete every attempt counter of the account (account-wide and per IP); how many."""
        prefix = lock_key(user_type, email)
        items = scan_all(
            self.dynamodb,
            self.table,
            FilterExpression="pk = :whole OR begins_with(pk, :prefix)",
            ExpressionAttributeValues={":whole": s(prefix), ":prefix": s(prefix + "#")},
        )
        for item in items:
            counter = key(item["pk"]["S"])
            dynamodb_call(functools.partial(self.dynamodb.delete_item, TableName=self.table, Key=counter))
        return len(items)

    def account_unchanged_check(self, user_type: str, email: str, version: int) -> Operation:
        """A transaction's condition: the account still exists at the version that was read."""
        account = key(user_key(user_type, email))
        return {"ConditionCheck": {"TableName": self.table, "Key": account, **_at_version(version)}}

    def get(self, user_type: str, email: str) -> User | None:
        response = dynamodb_call(
            lambda: self.dynamodb.get_item(
                TableName=self.table, Key=key(user_key(user_type, email)), ConsistentRead=True
            )
        )
        item = response.get("Item")
        return user_from_item(item) if item else None

    def create(self, user: User) -> bool:
        """Store a new account; False when the email is already taken for that user type."""
        return conditional(lambda: self.dynamodb.put_item(**self.create_operation(user)["Put"]))

    def create_operation(self, user: User) -> Operation:
        """A new account (for a transaction), only if the email is not taken for that user type."""
        item: Item = {
            "pk": s(user_key(user.user_type, user.email)),
            "user_id": s(user.user_id),
            "email": s(user.email),
            "name": s(user.name),
            "role": s(user.role),
            "user_type": s(user.user_type),
            "password_hash": s(user.password_hash),
            "disabled": {"BOOL": user.disabled},
            "created_at": n(user.created_at),
            "version": n(max(user.version, 1)),
        }
        return {
            "Put": {"TableName": self.table, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}
        }

    def update_password_hash(self, user: User, old_hash: str, new_hash: str) -> None:
        """Replace the hash only if nobody changed it meanwhile (a lost race keeps the newer one)."""
        conditional(
            lambda: self.dynamodb.update_item(
                TableName=self.table,
                Key=key(user_key(user.user_type, user.email)),
                UpdateExpression="SET password_hash = :new",
                ConditionExpression="password_hash = :old",
                ExpressionAttributeValues={":new": s(new_hash), ":old": s(old_hash)},
            )
        )

    def update_operation(self, user: User, **changes: str | bool) -> Operation:
        """Set attributes (role, name, disabled, password_hash) of the account as read, and bump its
        version: every session and token issued from an older version stops being honoured."""
        names = {f"#{name}": name for name in changes}
        values: dict[str, Any] = {
            f":{name}": ({"BOOL": v} if isinstance(v, bool) else s(v)) for name, v in changes.items()
        }
        condition = _at_version(user.version)
        return {
            "Update": {
                "TableName": self.table,
                "Key": key(user_key(user.user_type, user.email)),
                "UpdateExpression": "SET "
                + ", ".join([*(f"#{name} = :{name}" for name in changes), "version = :next"]),
                "ConditionExpression": condition["ConditionExpression"],
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": {
                    **values,
                    **condition.get("ExpressionAttributeValues", {}),
                    ":next": n(user.version + 1),
                },
            }
        }

    def delete_operation(self, user: User) -> Operation:
        return {"Delete": {"TableName": self.table, "Key": key(user_key(user.user_type, user.email))}}

    def delete_at_version_operation(self, user: User) -> Operation:
        """Delete the account only if it is still at the version that was read."""
        return {"Delete": {**self.delete_operation(user)["Delete"], **_at_version(user.version)}}

    def all(self) -> list[User]:
        items = scan_all(
            self.dynamodb,
            self.table,
            FilterExpression="begins_with(pk, :prefix)",
            ExpressionAttributeValues={":prefix": s("USER#")},
        )
        return [user_from_item(item) for item in items]

    def record_ip_failure(
        self, source_ip: str, account: str, at_ms: int, window_seconds: int, cap: int
    ) -> int:
        """Add `account` (a digest) to the accounts that failed to log in from `source_ip` in the
        current window; returns how many distinct accounts that is, or `cap + 1` once the set
        is full (it stops growing at `cap`)."""
        bucket = at_ms // (window_seconds * 1000)
        updated: dict[str, Any] = {}

        def add() -> None:
            response = self.dynamodb.update_item(
                TableName=self.table,
                Key=key(f"IPFAIL#{source_ip[:64]}#{bucket}"),
                UpdateExpression="ADD accounts :account SET #ttl = :ttl",
                ConditionExpression="attribute_not_exists(accounts) OR size(accounts) < :cap",
                ExpressionAttributeNames={"#ttl": "ttl"},
                ExpressionAttributeValues={
                    ":account": {"SS": [account]},
                    ":ttl": n((bucket + 2) * window_seconds),
                    ":cap": n(cap),
                },
                ReturnValues="UPDATED_NEW",
            )
            updated.update(response.get("Attributes", {}))

        if not conditional(add):
            return cap + 1
        return len(updated.get("accounts", {}).get("SS", []))

    def remember_device_operation(self, user: User, agents: list[str], ips: list[str]) -> Operation:
        """Remember the device, only if the account is still at the version that was read (the
        login's commit condition)."""
        condition = _at_version(user.version)
        return {
            "Update": {
                "TableName": self.table,
                "Key": key(user_key(user.user_type, user.email)),
                "UpdateExpression": "SET known_agents = :agents, known_ips = :ips",
                "ConditionExpression": condition["ConditionExpression"],
                "ExpressionAttributeValues": {
                    ":agents": {"L": [s(agent) for agent in agents]},
                    ":ips": {"L": [s(ip) for ip in ips]},
                    **condition.get("ExpressionAttributeValues", {}),
                },
            }
        }


def _at_version(version: int) -> dict[str, Any]:
    """The condition that the account exists at `version` (0: an account stored before versions)."""
    if version == 0:
        return {"ConditionExpression": "attribute_exists(pk) AND attribute_not_exists(version)"}
    return {
        "ConditionExpression": "version = :version",
        "ExpressionAttributeValues": {":version": n(version)},
    }

"""The Users table.

USER#<type>#<email>     the account
LOCK#<type>#<email>     its login-failure counter, kept whether or not the account exists
IPFAIL#<ip>#<bucket>    the accounts that failed to log in from one IP in one window
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shared.store.dynamo import (
    Item,
    Operation,
    batch_get,
    boolean,
    conditional,
    dynamodb_call,
    key,
    n,
    number,
    s,
    scan_all,
    strings,
    text,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def user_key(user_type: str, email: str) -> str:
    return f"USER#{user_type}#{email}"


def lock_key(user_type: str, email: str) -> str:
    return f"LOCK#{user_type}#{email}"


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


@dataclass(frozen=True)
class LoginFailures:
    failures: int
    last_failure_ms: int


def _user_from_item(item: Item) -> User:
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
    )


class UserStore:
    def __init__(self, table: str, dynamodb: DynamoDBClient) -> None:
        self.table = table
        self.dynamodb = dynamodb

    def login_state(self, user_type: str, email: str) -> tuple[User | None, LoginFailures]:
        """The account and its failure counter, in one strongly consistent request."""
        keys = [key(user_key(user_type, email)), key(lock_key(user_type, email))]
        items = batch_get(self.dynamodb, {self.table: keys})[self.table]
        user = failures = None
        for item in items:
            if item["pk"]["S"].startswith("USER#"):
                user = _user_from_item(item)
            else:
                failures = LoginFailures(number(item, "failures"), number(item, "last_failure"))
        return user, failures or LoginFailures(0, 0)

    def record_failure(
        self, user_type: str, email: str, seen: LoginFailures, at_ms: int, window_seconds: int
    ) -> None:
        """Count one failure in one write. `seen` is the counter as read at the start of the request:
        absent or idle for longer than the window, it starts again at one (only if nobody wrote it
        meanwhile); otherwise it is incremented atomically."""
        stale = seen.failures == 0 or at_ms - seen.last_failure_ms > window_seconds * 1000
        values = {":now": n(at_ms), ":ttl": n(at_ms // 1000 + 2 * window_seconds), ":one": n(1)}

        def update(restart: bool) -> None:
            arguments: dict[str, Any] = {
                "TableName": self.table,
                "Key": key(lock_key(user_type, email)),
                "UpdateExpression": "SET last_failure = :now, #ttl = :ttl ADD failures :one",
                "ExpressionAttributeNames": {"#ttl": "ttl"},
                "ExpressionAttributeValues": dict(values),
            }
            if restart:
                arguments["UpdateExpression"] = "SET last_failure = :now, #ttl = :ttl, failures = :one"
                arguments["ConditionExpression"] = (
                    "attribute_not_exists(last_failure) OR last_failure = :seen"
                )
                arguments["ExpressionAttributeValues"][":seen"] = n(seen.last_failure_ms)
            self.dynamodb.update_item(**arguments)

        if not conditional(lambda: update(restart=stale)):  # counted meanwhile: count this one on top
            dynamodb_call(lambda: update(restart=False))

    def get(self, user_type: str, email: str) -> User | None:
        response = dynamodb_call(
            lambda: self.dynamodb.get_item(
                TableName=self.table, Key=key(user_key(user_type, email)), ConsistentRead=True
            )
        )
        item = response.get("Item")
        return _user_from_item(item) if item else None

    def create(self, user: User) -> bool:
        """Store a new account; False when the email is already taken for that user type."""
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
        }
        return conditional(
            lambda: self.dynamodb.put_item(
                TableName=self.table, Item=item, ConditionExpression="attribute_not_exists(pk)"
            )
        )

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

    def update(self, user: User, **changes: str | bool) -> None:
        """Set attributes (role, name, disabled, password_hash) of an existing account."""
        names = {f"#{name}": name for name in changes}
        values = {f":{name}": ({"BOOL": v} if isinstance(v, bool) else s(v)) for name, v in changes.items()}
        dynamodb_call(
            lambda: self.dynamodb.update_item(
                TableName=self.table,
                Key=key(user_key(user.user_type, user.email)),
                UpdateExpression="SET " + ", ".join(f"#{name} = :{name}" for name in changes),
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        )

    def delete(self, user: User) -> None:
        dynamodb_call(
            lambda: self.dynamodb.delete_item(
                TableName=self.table, Key=key(user_key(user.user_type, user.email))
            )
        )

    def all(self) -> list[User]:
        items = scan_all(
            self.dynamodb,
            self.table,
            FilterExpression="begins_with(pk, :prefix)",
            ExpressionAttributeValues={":prefix": s("USER#")},
        )
        return [_user_from_item(item) for item in items]

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
        return {
            "Update": {
                "TableName": self.table,
                "Key": key(user_key(user.user_type, user.email)),
                "UpdateExpression": "SET known_agents = :agents, known_ips = :ips",
                "ConditionExpression": "attribute_exists(pk)",
                "ExpressionAttributeValues": {
                    ":agents": {"L": [s(agent) for agent in agents]},
                    ":ips": {"L": [s(ip) for ip in ips]},
                },
            }
        }

    def reset_failures_operation(self, user_type: str, email: str) -> Operation:
        return {"Delete": {"TableName": self.table, "Key": key(lock_key(user_type, email))}}

"""DynamoDB access: the only code that knows table item shapes and key prefixes.

Users table:     USER#<type>#<email>  the account (GSI by_id on user_id)
                 LOCK#<type>#<email>  login failure counter, kept whether or not the account exists
Sessions table:  SESSION#<sid>        one per login (device, IP, times, status; GSI by_user on owner)
                 RT#<sha256(token)>   one per refresh token of the session, rotated on every use
Denylist table:  JTI#<jti>            a logged-out access token, until its exp
                 SID#<sid>            a revoked session, until its absolute expiry
                 NBF#<user id>        per-user "not before" (ms) for access tokens and sessions
                 NBF#*                the same, for every user (emergency switch)

Every item carries `ttl` (epoch seconds) = the moment it stops mattering. DynamoDB deletes such
items late and moto never does, so readers compare expiry themselves.
"""

from __future__ import annotations

import contextlib
import functools
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from shared import aws
from shared.errors import ServiceUnavailable
from shared.settings import Settings

GLOBAL_SUBJECT = "*"
T = TypeVar("T")


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _n(value: int) -> dict[str, str]:
    return {"N": str(value)}


def _key(pk: str) -> dict[str, dict[str, str]]:
    return {"pk": _s(pk)}


def _str(item: dict[str, Any], name: str, default: str = "") -> str:
    value = item.get(name)
    return value["S"] if value and "S" in value else default


def _int(item: dict[str, Any], name: str, default: int = 0) -> int:
    value = item.get(name)
    return int(value["N"]) if value and "N" in value else default


def _strings(item: dict[str, Any], name: str) -> tuple[str, ...]:
    value = item.get(name)
    return tuple(entry["S"] for entry in value["L"] if "S" in entry) if value and "L" in value else ()


def _bool(item: dict[str, Any], name: str) -> bool:
    value = item.get(name)
    return bool(value and value.get("BOOL"))


def error_code(error: Exception) -> str:
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code", ""))
    return ""


def cancellation_reasons(error: ClientError) -> list[str]:
    return [str(reason.get("Code", "None")) for reason in error.response.get("CancellationReasons", [])]


def dynamodb_call(operation: Callable[[], T]) -> T:
    """Run one DynamoDB request; an AWS failure becomes ServiceUnavailable (nothing was written)."""
    try:
        return operation()
    except ClientError as error:
        if error_code(error) in ("ConditionalCheckFailedException", "TransactionCanceledException"):
            raise
        raise ServiceUnavailable("DynamoDB") from error
    except BotoCoreError as error:
        raise ServiceUnavailable("DynamoDB") from error


# ---------------------------------------------------------------------------------------- users


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


def _user_from_item(item: dict[str, Any]) -> User:
    return User(
        user_id=_str(item, "user_id"),
        email=_str(item, "email"),
        name=_str(item, "name"),
        role=_str(item, "role"),
        user_type=_str(item, "user_type"),
        password_hash=_str(item, "password_hash"),
        disabled=_bool(item, "disabled"),
        created_at=_int(item, "created_at"),
        known_agents=_strings(item, "known_agents"),
        known_ips=_strings(item, "known_ips"),
    )


class UserStore:
    def __init__(self, settings: Settings, dynamodb: Any = None) -> None:
        self.table = settings.users_table
        self.dynamodb = dynamodb or aws.client("dynamodb")

    def login_state(self, user_type: str, email: str) -> tuple[User | None, LoginFailures]:
        """The account and its failure counter, in one strongly consistent request."""
        keys = [_key(user_key(user_type, email)), _key(lock_key(user_type, email))]
        items = batch_get(self.dynamodb, {self.table: keys})[self.table]
        user = failures = None
        for item in items:
            if item["pk"]["S"].startswith("USER#"):
                user = _user_from_item(item)
            else:
                failures = LoginFailures(_int(item, "failures"), _int(item, "last_failure"))
        return user, failures or LoginFailures(0, 0)

    def record_failure(
        self, user_type: str, email: str, seen: LoginFailures, at_ms: int, window_seconds: int
    ) -> None:
        """Count one failure in one write. `seen` is the counter as read at the start of the request:
        absent or idle for longer than the window, it starts again at one (only if nobody wrote it
        meanwhile); otherwise it is incremented atomically."""
        stale = seen.failures == 0 or at_ms - seen.last_failure_ms > window_seconds * 1000
        values = {":now": _n(at_ms), ":ttl": _n(at_ms // 1000 + 2 * window_seconds), ":one": _n(1)}

        def update(restart: bool) -> None:
            arguments: dict[str, Any] = {
                "TableName": self.table,
                "Key": _key(lock_key(user_type, email)),
                "UpdateExpression": "SET last_failure = :now, #ttl = :ttl ADD failures :one",
                "ExpressionAttributeNames": {"#ttl": "ttl"},
                "ExpressionAttributeValues": dict(values),
            }
            if restart:
                arguments["UpdateExpression"] = "SET last_failure = :now, #ttl = :ttl, failures = :one"
                arguments["ConditionExpression"] = (
                    "attribute_not_exists(last_failure) OR last_failure = :seen"
                )
                arguments["ExpressionAttributeValues"][":seen"] = _n(seen.last_failure_ms)
            self.dynamodb.update_item(**arguments)

        try:
            dynamodb_call(lambda: update(restart=stale))
        except ClientError:  # another failure was counted meanwhile: count this one on top
            dynamodb_call(lambda: update(restart=False))

    def get(self, user_type: str, email: str) -> User | None:
        response = dynamodb_call(
            lambda: self.dynamodb.get_item(
                TableName=self.table, Key=_key(user_key(user_type, email)), ConsistentRead=True
            )
        )
        item = response.get("Item")
        return _user_from_item(item) if item else None

    def create(self, user: User) -> bool:
        """Store a new account; False when the email is already taken for that user type."""
        item = {
            "pk": _s(user_key(user.user_type, user.email)),
            "user_id": _s(user.user_id),
            "email": _s(user.email),
            "name": _s(user.name),
            "role": _s(user.role),
            "user_type": _s(user.user_type),
            "password_hash": _s(user.password_hash),
            "disabled": {"BOOL": user.disabled},
            "created_at": _n(user.created_at),
        }
        try:
            dynamodb_call(
                lambda: self.dynamodb.put_item(
                    TableName=self.table, Item=item, ConditionExpression="attribute_not_exists(pk)"
                )
            )
        except ClientError:
            return False
        return True

    def update_password_hash(self, user: User, old_hash: str, new_hash: str) -> None:
        """Replace the hash only if nobody changed it meanwhile (a lost race keeps the newer one)."""
        with contextlib.suppress(ClientError):
            dynamodb_call(
                lambda: self.dynamodb.update_item(
                    TableName=self.table,
                    Key=_key(user_key(user.user_type, user.email)),
                    UpdateExpression="SET password_hash = :new",
                    ConditionExpression="password_hash = :old",
                    ExpressionAttributeValues={":new": _s(new_hash), ":old": _s(old_hash)},
                )
            )

    def update(self, user: User, **changes: str | bool) -> None:
        """Set attributes (role, name, disabled, password_hash) of an existing account."""
        names = {f"#{name}": name for name in changes}
        values = {f":{name}": ({"BOOL": v} if isinstance(v, bool) else _s(v)) for name, v in changes.items()}
        dynamodb_call(
            lambda: self.dynamodb.update_item(
                TableName=self.table,
                Key=_key(user_key(user.user_type, user.email)),
                UpdateExpression="SET " + ", ".join(f"#{name} = :{name}" for name in changes),
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        )

    def delete(self, user: User) -> None:
        dynamodb_call(
            lambda: self.dynamodb.delete_item(
                TableName=self.table, Key=_key(user_key(user.user_type, user.email))
            )
        )

    def all(self) -> list[User]:
        paginator = self.dynamodb.get_paginator("scan")
        pages = paginator.paginate(
            TableName=self.table,
            FilterExpression="begins_with(pk, :prefix)",
            ExpressionAttributeValues={":prefix": _s("USER#")},
        )
        return [
            _user_from_item(item) for page in dynamodb_call(lambda: list(pages)) for item in page["Items"]
        ]

    def record_ip_failure(
        self, source_ip: str, account: str, at_ms: int, window_seconds: int, cap: int
    ) -> int:
        """Add `account` (a digest) to the accounts that failed to log in from `source_ip` in the
        current window; returns how many distinct accounts that is, or `cap + 1` once the set
        is full (it stops growing at `cap`)."""
        bucket = at_ms // (window_seconds * 1000)
        try:
            response = dynamodb_call(
                lambda: self.dynamodb.update_item(
                    TableName=self.table,
                    Key=_key(f"IPFAIL#{source_ip[:64]}#{bucket}"),
                    UpdateExpression="ADD accounts :account SET #ttl = :ttl",
                    ConditionExpression="attribute_not_exists(accounts) OR size(accounts) < :cap",
                    ExpressionAttributeNames={"#ttl": "ttl"},
                    ExpressionAttributeValues={
                        ":account": {"SS": [account]},
                        ":ttl": _n((bucket + 2) * window_seconds),
                        ":cap": _n(cap),
                    },
                    ReturnValues="UPDATED_NEW",
                )
            )
        except ClientError:
            return cap + 1
        return len(response.get("Attributes", {}).get("accounts", {}).get("SS", []))

    def remember_device_operation(self, user: User, agents: list[str], ips: list[str]) -> dict[str, Any]:
        return {
            "Update": {
                "TableName": self.table,
                "Key": _key(user_key(user.user_type, user.email)),
                "UpdateExpression": "SET known_agents = :agents, known_ips = :ips",
                "ConditionExpression": "attribute_exists(pk)",
                "ExpressionAttributeValues": {
                    ":agents": {"L": [_s(agent) for agent in agents]},
                    ":ips": {"L": [_s(ip) for ip in ips]},
                },
            }
        }

    def reset_failures_operation(self, user_type: str, email: str) -> dict[str, Any]:
        return {"Delete": {"TableName": self.table, "Key": _key(lock_key(user_type, email))}}


# ------------------------------------------------------------------------------------- sessions


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


def _session_from_item(item: dict[str, Any]) -> Session:
    return Session(
        sid=_str(item, "sid"),
        user_id=_str(item, "owner"),
        email=_str(item, "email"),
        name=_str(item, "name"),
        role=_str(item, "role"),
        user_type=_str(item, "user_type"),
        status=_str(item, "status"),
        created_at=_int(item, "created_at"),
        last_used=_int(item, "last_used"),
        abs_expires=_int(item, "abs_expires"),
        user_agent=_str(item, "user_agent"),
        source_ip=_str(item, "source_ip"),
        new_device=_bool(item, "new_device"),
    )


def _refresh_from_item(item: dict[str, Any]) -> RefreshRecord:
    return RefreshRecord(
        token_hash=item["pk"]["S"].removeprefix("RT#"),
        sid=_str(item, "sid"),
        status=_str(item, "status"),
        issued_at=_int(item, "issued_at"),
        idle_expires=_int(item, "idle_expires"),
        abs_expires=_int(item, "abs_expires"),
        used_at=_int(item, "used_at"),
        child_hash=_str(item, "child_hash"),
    )


@dataclass(frozen=True)
class RefreshView:
    """What one strongly consistent read tells about a presented refresh token."""

    presented: RefreshRecord | None
    child: RefreshRecord | None
    session: Session | None


class RotationRejected(Exception):
    """The rotation transaction's conditions failed: `reasons` per item, in request order."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__(",".join(reasons))
        self.reasons = reasons


class SessionStore:
    def __init__(self, settings: Settings, dynamodb: Any = None) -> None:
        self.table = settings.sessions_table
        self.denylist = settings.denylist_table
        self.users = settings.users_table
        self.dynamodb = dynamodb or aws.client("dynamodb")

    def _refresh_item(
        self, token_hash: str, sid: str, issued_at: int, idle_expires: int, abs_expires: int
    ) -> dict[str, Any]:
        return {
            "pk": _s(refresh_key(token_hash)),
            "sid": _s(sid),
            "status": _s("active"),
            "issued_at": _n(issued_at),
            "idle_expires": _n(idle_expires),
            "abs_expires": _n(abs_expires),
            "ttl": _n(abs_expires),
        }

    def create(
        self, session: Session, token_hash: str, idle_expires: int, extra: list[dict[str, Any]]
    ) -> None:
        """Store a new session and its first refresh token (plus `extra` operations) atomically."""
        session_item = {
            "pk": _s(session_key(session.sid)),
            "sid": _s(session.sid),
            "owner": _s(session.user_id),
            "email": _s(session.email),
            "name": _s(session.name),
            "role": _s(session.role),
            "user_type": _s(session.user_type),
            "status": _s("active"),
            "created_at": _n(session.created_at),
            "last_used": _n(session.last_used),
            "abs_expires": _n(session.abs_expires),
            "ttl": _n(session.abs_expires),
            "user_agent": _s(session.user_agent[:512]),
            "source_ip": _s(session.source_ip[:64]),
            "new_device": {"BOOL": session.new_device},
        }
        refresh_item = self._refresh_item(
            token_hash, session.sid, session.created_at, idle_expires, session.abs_expires
        )
        operations = [
            {
                "Put": {
                    "TableName": self.table,
                    "Item": session_item,
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {
                "Put": {
                    "TableName": self.table,
                    "Item": refresh_item,
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            *extra,
        ]
        transact_write(self.dynamodb, operations)

    def view(self, token_hash: str, child_hash: str, sid: str) -> RefreshView:
        keys = [_key(refresh_key(token_hash)), _key(refresh_key(child_hash)), _key(session_key(sid))]
        items = batch_get(self.dynamodb, {self.table: keys})[self.table]
        by_key = {item["pk"]["S"]: item for item in items}
        presented = by_key.get(refresh_key(token_hash))
        child = by_key.get(refresh_key(child_hash))
        session = by_key.get(session_key(sid))
        return RefreshView(
            presented=_refresh_from_item(presented) if presented else None,
            child=_refresh_from_item(child) if child else None,
            session=_session_from_item(session) if session else None,
        )

    def _session_still_valid(self, session: Session, at_ms: int) -> list[dict[str, Any]]:
        """Condition checks: the session is active and no user/global not-before has passed it."""
        not_before = "attribute_not_exists(sessions_nbf) OR sessions_nbf < :created"
        return [
            {
                "Update": {
                    "TableName": self.table,
                    "Key": _key(session_key(session.sid)),
                    "UpdateExpression": "SET last_used = :now",
                    "ConditionExpression": "#status = :active AND abs_expires > :now_s",
                    "ExpressionAttributeNames": {"#status": "status"},
                    "ExpressionAttributeValues": {
                        ":now": _n(at_ms),
                        ":now_s": _n(at_ms // 1000),
                        ":active": _s("active"),
                    },
                }
            },
            *(
                {
                    "ConditionCheck": {
                        "TableName": self.denylist,
                        "Key": _key(f"NBF#{subject}"),
                        "ConditionExpression": not_before,
                        "ExpressionAttributeValues": {":created": _n(session.created_at)},
                    }
                }
                for subject in (session.user_id, GLOBAL_SUBJECT)
            ),
        ]

    def rotate(
        self,
        session: Session,
        parent_hash: str,
        child_hash: str,
        at_ms: int,
        idle_expires: int,
    ) -> None:
        """Mark the parent used and store its one child, in one conditional transaction.

        Raises RotationRejected with per-item reasons when a condition fails: parent first,
        child second, then the session and not-before checks.
        """
        operations = [
            {
                "Update": {
                    "TableName": self.table,
                    "Key": _key(refresh_key(parent_hash)),
                    "UpdateExpression": "SET #status = :used, used_at = :now, child_hash = :child",
                    "ConditionExpression": (
                        "#status = :active AND idle_expires > :now_s AND abs_expires > :now_s"
                    ),
                    "ExpressionAttributeNames": {"#status": "status"},
                    "ExpressionAttributeValues": {
                        ":used": _s("used"),
                        ":active": _s("active"),
                        ":now": _n(at_ms),
                        ":now_s": _n(at_ms // 1000),
                        ":child": _s(child_hash),
                    },
                }
            },
            {
                "Put": {
                    "TableName": self.table,
                    "Item": self._refresh_item(
                        child_hash, session.sid, at_ms, idle_expires, session.abs_expires
                    ),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            *self._session_still_valid(session, at_ms),
        ]
        transact_write(self.dynamodb, operations)

    def confirm_live(self, session: Session, at_ms: int) -> None:
        """Check (and touch) the session without rotating: the grace-window path."""
        transact_write(self.dynamodb, self._session_still_valid(session, at_ms))

    def revoke(
        self, session_id: str, abs_expires: int, reason: str, at_ms: int, extra: list[dict[str, Any]]
    ) -> None:
        """Revoke a session: its refresh tokens stop rotating and its access tokens are denied."""
        operations = [
            {
                "Update": {
                    "TableName": self.table,
                    "Key": _key(session_key(session_id)),
                    "UpdateExpression": "SET #status = :revoked, revoked_at = :now, revoked_reason = :reason",
                    "ConditionExpression": "attribute_exists(pk)",
                    "ExpressionAttributeNames": {"#status": "status"},
                    "ExpressionAttributeValues": {
                        ":revoked": _s("revoked"),
                        ":now": _n(at_ms),
                        ":reason": _s(reason),
                    },
                }
            },
            {
                "Put": {
                    "TableName": self.denylist,
                    "Item": {
                        "pk": _s(f"SID#{session_id}"),
                        "reason": _s(reason),
                        "ttl": _n(abs_expires),
                    },
                }
            },
            *extra,
        ]
        transact_write(self.dynamodb, operations)

    def get(self, sid: str) -> Session | None:
        response = dynamodb_call(
            lambda: self.dynamodb.get_item(
                TableName=self.table, Key=_key(session_key(sid)), ConsistentRead=True
            )
        )
        item = response.get("Item")
        return _session_from_item(item) if item else None

    def get_refresh(self, token_hash: str) -> RefreshRecord | None:
        response = dynamodb_call(
            lambda: self.dynamodb.get_item(
                TableName=self.table, Key=_key(refresh_key(token_hash)), ConsistentRead=True
            )
        )
        item = response.get("Item")
        return _refresh_from_item(item) if item else None

    def set_role(self, sid: str, role: str) -> None:
        """Refresh issues tokens from the session's snapshot of the user: keep its role current."""
        dynamodb_call(
            lambda: self.dynamodb.update_item(
                TableName=self.table,
                Key=_key(session_key(sid)),
                UpdateExpression="SET #role = :role",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeNames={"#role": "role"},
                ExpressionAttributeValues={":role": _s(role)},
            )
        )

    def sessions_of(self, user_id: str) -> Iterator[Session]:
        paginator = self.dynamodb.get_paginator("query")
        pages = paginator.paginate(
            TableName=self.table,
            IndexName="by_owner",
            KeyConditionExpression="#owner = :owner",
            ExpressionAttributeNames={"#owner": "owner"},
            ExpressionAttributeValues={":owner": _s(user_id)},
        )
        for page in dynamodb_call(lambda: list(pages)):
            for item in page.get("Items", []):
                yield _session_from_item(item)


# ------------------------------------------------------------------------------------- denylist


@dataclass(frozen=True)
class Revocations:
    jti_denied: bool
    session_revoked: bool
    tokens_not_before_ms: int
    sessions_not_before_ms: int


class DenylistStore:
    def __init__(self, settings: Settings, dynamodb: Any = None) -> None:
        self.table = settings.denylist_table
        self.dynamodb = dynamodb or aws.client("dynamodb")

    def revocations(self, jti: str, sid: str, subject: str, at_ms: int) -> Revocations:
        """Everything that can revoke one access token, in one strongly consistent request."""
        keys = [_key(f"JTI#{jti}"), _key(f"SID#{sid}"), _key(f"NBF#{subject}"), _key(f"NBF#{GLOBAL_SUBJECT}")]
        items = batch_get(self.dynamodb, {self.table: keys})[self.table]
        now_s = at_ms // 1000
        live = {item["pk"]["S"]: item for item in items if _int(item, "ttl", now_s + 1) > now_s}
        user_nbf = live.get(f"NBF#{subject}", {})
        global_nbf = live.get(f"NBF#{GLOBAL_SUBJECT}", {})
        return Revocations(
            jti_denied=f"JTI#{jti}" in live,
            session_revoked=f"SID#{sid}" in live,
            tokens_not_before_ms=max(_int(user_nbf, "tokens_nbf"), _int(global_nbf, "tokens_nbf")),
            sessions_not_before_ms=max(_int(user_nbf, "sessions_nbf"), _int(global_nbf, "sessions_nbf")),
        )

    def deny_token_operation(self, jti: str, expires: int) -> dict[str, Any]:
        """A logged-out access token, denied until `expires` (for a transaction)."""
        return {"Put": {"TableName": self.table, "Item": {"pk": _s(f"JTI#{jti}"), "ttl": _n(expires)}}}

    def deny_token(self, jti: str, expires: int) -> None:
        dynamodb_call(lambda: self.dynamodb.put_item(**self.deny_token_operation(jti, expires)["Put"]))

    def set_not_before(self, subject: str, at_ms: int, *, sessions: bool, keep_seconds: int) -> None:
        """Deny every access token (and, with `sessions`, every session) of `subject` issued before now."""
        expression = "SET tokens_nbf = :at, #ttl = :ttl" + (", sessions_nbf = :at" if sessions else "")
        dynamodb_call(
            lambda: self.dynamodb.update_item(
                TableName=self.table,
                Key=_key(f"NBF#{subject}"),
                UpdateExpression=expression,
                ExpressionAttributeNames={"#ttl": "ttl"},
                ExpressionAttributeValues={":at": _n(at_ms), ":ttl": _n(at_ms // 1000 + keep_seconds)},
            )
        )


# ---------------------------------------------------------------------------------- primitives


def batch_get(
    dynamodb: Any, keys_by_table: dict[str, list[dict[str, Any]]]
) -> dict[str, list[dict[str, Any]]]:
    """BatchGetItem, strongly consistent; unprocessed keys are retried once, then it fails."""
    request = {table: {"Keys": keys, "ConsistentRead": True} for table, keys in keys_by_table.items()}
    found: dict[str, list[dict[str, Any]]] = {table: [] for table in keys_by_table}
    for attempt in range(2):
        response = dynamodb_call(functools.partial(dynamodb.batch_get_item, RequestItems=request))
        for table, items in response.get("Responses", {}).items():
            found.setdefault(table, []).extend(items)
        request = response.get("UnprocessedKeys") or {}
        if not request:
            return found
        if attempt == 0:
            time.sleep(0.02)
    raise ServiceUnavailable("DynamoDB")


def transact_write(dynamodb: Any, operations: list[dict[str, Any]]) -> None:
    """TransactWriteItems. A failed condition raises RotationRejected with the reasons;
    a conflict with another transaction is retried (bounded, with jitter), then ServiceUnavailable."""
    for attempt in range(3):
        try:
            dynamodb_call(lambda: dynamodb.transact_write_items(TransactItems=operations))
            return
        except ClientError as error:
            reasons = cancellation_reasons(error)
            if error_code(error) == "TransactionCanceledException" and "TransactionConflict" in reasons:
                time.sleep(0.01 * (2**attempt) * (1 + _jitter()))
                continue
            if error_code(error) == "TransactionCanceledException":
                raise RotationRejected(reasons) from error
            raise RotationRejected(["ConditionalCheckFailed"]) from error
    raise ServiceUnavailable("DynamoDB")


def _jitter() -> float:
    return random.random()  # noqa: S311  # nosec B311  # backoff jitter, not a secret

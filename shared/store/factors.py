"""Second factors, in the Users table (new keys only; the account item is not touched).

FACTOR#<user id>#totp   the TOTP factor: the secret encrypted under KMS (`secret_ct`, bytes),
                        status pending (enrolled, not yet proven) or active, the last time step
                        used (a code is accepted once: a step at or before it is refused by the
                        write's condition), created_at
RECOVERY#<user id>      the recovery codes' SHA-256 hashes (a string set); using one deletes its
                        hash in a write conditional on the hash being there: once, ever
MFALOCK#<session id>    the attempt counter of codes a signed-in session types (enrolment proof,
                        removal), shaped as the login's counters (shared/store/user_items.py Attempts)

A factor change proven by a password alone (enough only while the account has no factor) is written
with `only_while_no_factor`: its transaction also requires no active TOTP factor and an empty passkey
list (PASSKEYSOF#, shared/store/passkeys.py), so a factor added after the proof was read refuses it
(FactorAdded) and nothing is written. The account item's version is not touched: sessions are
conditioned on it, and a factor change does not end them.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

from shared.store.dynamo import (
    Item,
    Operation,
    TransactionRejected,
    conditional,
    dynamodb_call,
    key,
    n,
    number,
    s,
    text,
    transact_write,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def totp_key(user_id: str) -> str:
    return f"FACTOR#{user_id}#totp"


def recovery_key(user_id: str) -> str:
    return f"RECOVERY#{user_id}"


def passkey_list_key(user_id: str) -> str:
    """The list of the user's passkeys (shared/store/passkeys.py), which a factor change's condition
    reads too."""
    return f"PASSKEYSOF#{user_id}"


def no_active_totp_check(table: str, user_id: str) -> Operation:
    """A transaction's condition: the user has no active TOTP factor (a pending one is none)."""
    return {
        "ConditionCheck": {
            "TableName": table,
            "Key": key(totp_key(user_id)),
            "ConditionExpression": "attribute_not_exists(pk) OR #status <> :active",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": {":active": s("active")},
        }
    }


def no_passkey_check(table: str, user_id: str) -> Operation:
    """A transaction's condition: the user's list names no passkey."""
    return {
        "ConditionCheck": {
            "TableName": table,
            "Key": key(passkey_list_key(user_id)),
            "ConditionExpression": "attribute_not_exists(ids)",
        }
    }


class FactorAdded(Exception):
    """A factor change proven by a password alone, refused: the account has a factor now."""


def write_unless_factor_added(dynamodb: DynamoDBClient, operations: list[Operation]) -> bool:
    """One transaction whose first item is the factor's own write: False when that write's condition
    failed, FactorAdded when a no-factor condition after it did."""
    try:
        transact_write(dynamodb, operations)
    except TransactionRejected as rejected:
        if rejected.failed(0):
            return False
        raise FactorAdded() from None
    return True


def factor_lock_key(session_id: str) -> str:
    """The attempt counter of codes typed by a signed-in session (enrolment proof, removal)."""
    return f"MFALOCK#{session_id}"


@dataclass(frozen=True)
class TotpFactor:
    user_id: str
    secret_ciphertext: bytes
    status: str  # "pending" | "active"
    last_step: int
    created_at: int

    @property
    def active(self) -> bool:
        return self.status == "active"


def _factor_from_item(user_id: str, item: Item) -> TotpFactor:
    return TotpFactor(
        user_id=user_id,
        secret_ciphertext=bytes(item["secret_ct"]["B"]),
        status=text(item, "status"),
        last_step=number(item, "last_step"),
        created_at=number(item, "created_at"),
    )


class FactorStore:
    def __init__(self, table: str, dynamodb: DynamoDBClient) -> None:
        self.table = table
        self.dynamodb = dynamodb

    def totp(self, user_id: str) -> TotpFactor | None:
        response = dynamodb_call(
            lambda: self.dynamodb.get_item(
                TableName=self.table, Key=key(totp_key(user_id)), ConsistentRead=True
            )
        )
        item = response.get("Item")
        return _factor_from_item(user_id, item) if item else None

    def has_active_totp(self, user_id: str) -> bool:
        factor = self.totp(user_id)
        return factor is not None and factor.active

    def put_pending_totp(
        self,
        user_id: str,
        secret_ciphertext: bytes,
        recovery_hashes: list[str],
        at_ms: int,
        *,
        only_while_no_factor: bool,
    ) -> bool:
        """Store a new, unproven TOTP factor (replacing an unproven one, never an active one) and its
        recovery codes. False when an active factor exists; FactorAdded when `only_while_no_factor`
        and a passkey exists."""
        operations: list[Operation] = [
            {
                "Put": {
                    "TableName": self.table,
                    "Item": {
                        "pk": s(totp_key(user_id)),
                        "secret_ct": {"B": secret_ciphertext},
                        "status": s("pending"),
                        "last_step": n(0),
                        "created_at": n(at_ms),
                    },
                    "ConditionExpression": "attribute_not_exists(pk) OR #status = :pending",
                    "ExpressionAttributeNames": {"#status": "status"},
                    "ExpressionAttributeValues": {":pending": s("pending")},
                }
            },
            {
                "Put": {
                    "TableName": self.table,
                    "Item": {"pk": s(recovery_key(user_id)), "hashes": {"SS": recovery_hashes}},
                }
            },
        ]
        if only_while_no_factor:  # the Put's own condition refuses an active TOTP factor
            operations.append(no_passkey_check(self.table, user_id))
        return self._write_totp(operations)

    def activate_totp(self, user_id: str, step: int, *, only_while_no_factor: bool) -> bool:
        """Activate the pending factor, recording its proving `step` as used: False when there is no
        pending factor or the step is not after the last one used; FactorAdded when
        `only_while_no_factor` and a passkey exists."""
        operations: list[Operation] = [
            {
                "Update": {
                    "TableName": self.table,
                    "Key": key(totp_key(user_id)),
                    "UpdateExpression": "SET last_step = :step, #status = :active",
                    "ConditionExpression": "#status = :pending AND last_step < :step",
                    "ExpressionAttributeNames": {"#status": "status"},
                    "ExpressionAttributeValues": {
                        ":step": n(step),
                        ":pending": s("pending"),
                        ":active": s("active"),
                    },
                }
            }
        ]
        if only_while_no_factor:  # the Update's own condition refuses an active TOTP factor
            operations.append(no_passkey_check(self.table, user_id))
        return self._write_totp(operations)

    def _write_totp(self, operations: list[Operation]) -> bool:
        return write_unless_factor_added(self.dynamodb, operations)

    def use_step(self, user_id: str, step: int) -> bool:
        """Record `step` of the active factor as used: False when the step is not after the last one
        used (a replay), or there is no active factor."""
        return conditional(
            lambda: self.dynamodb.update_item(
                TableName=self.table,
                Key=key(totp_key(user_id)),
                UpdateExpression="SET last_step = :step",
                ConditionExpression="attribute_exists(pk) AND last_step < :step AND #status = :active",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":step": n(step), ":active": s("active")},
            )
        )

    def no_active_totp_check(self, user_id: str) -> Operation:
        return no_active_totp_check(self.table, user_id)

    def recovery_hashes(self, user_id: str) -> tuple[str, ...]:
        response = dynamodb_call(
            lambda: self.dynamodb.get_item(
                TableName=self.table, Key=key(recovery_key(user_id)), ConsistentRead=True
            )
        )
        item = response.get("Item")
        return tuple(item.get("hashes", {}).get("SS", ())) if item else ()

    def use_recovery_code(self, user_id: str, code_hash: str) -> bool:
        """Delete one recovery code's hash: False when it is not there (unknown, or used already)."""
        return conditional(
            lambda: self.dynamodb.update_item(
                TableName=self.table,
                Key=key(recovery_key(user_id)),
                UpdateExpression="DELETE hashes :used",
                ConditionExpression="contains(hashes, :hash)",
                ExpressionAttributeValues={":used": {"SS": [code_hash]}, ":hash": s(code_hash)},
            )
        )

    def remove_totp(self, user_id: str, proven: TotpFactor) -> bool:
        """Remove the TOTP factor a code was checked against, and its recovery codes, in one
        transaction: False when the factor is another one now (removed and enrolled again since)."""
        operations: list[Operation] = [
            {
                "Delete": {
                    "TableName": self.table,
                    "Key": key(totp_key(user_id)),
                    "ConditionExpression": "secret_ct = :proven",  # each enrolment's ciphertext is new
                    "ExpressionAttributeValues": {":proven": {"B": proven.secret_ciphertext}},
                }
            },
            {"Delete": {"TableName": self.table, "Key": key(recovery_key(user_id))}},
        ]
        try:
            transact_write(self.dynamodb, operations)
        except TransactionRejected:
            return False
        return True

    def remove_all(self, user_id: str) -> None:
        """Forget the user's TOTP factor and recovery codes, whatever they are (an operator's reset)."""
        for pk in (totp_key(user_id), recovery_key(user_id)):
            dynamodb_call(functools.partial(self.dynamodb.delete_item, TableName=self.table, Key=key(pk)))

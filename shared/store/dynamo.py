"""The DynamoDB codec and call primitives every table module shares.

A failed AWS call becomes ServiceUnavailable (nothing was written); a failed condition in a
transaction becomes TransactionRejected with the reason of each item.
"""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from botocore.exceptions import BotoCoreError, ClientError

from shared.core.errors import ServiceUnavailable

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

Item = dict[str, Any]
Operation = dict[str, Any]  # one TransactWriteItems entry: {"Put" | "Update" | ...: {...}}
T = TypeVar("T")
CONDITION_FAILED = "ConditionalCheckFailedException"
TRANSACTION_CANCELED = "TransactionCanceledException"
ITEM_CONDITION_FAILED = "ConditionalCheckFailed"  # a transaction item's cancellation reason code


class TransactionRejected(Exception):
    """A transaction's conditions failed: `reasons` per item, in request order ("None" = passed)."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__(",".join(reasons))
        self.reasons = reasons

    def failed(self, index: int) -> bool:
        """Whether the operation at `index` (negative: from the end) failed its condition."""
        known = -len(self.reasons) <= index < len(self.reasons)
        return known and self.reasons[index] == ITEM_CONDITION_FAILED


def s(value: str) -> dict[str, str]:
    return {"S": value}


def n(value: int) -> dict[str, str]:
    return {"N": str(value)}


def key(pk: str) -> dict[str, dict[str, str]]:
    return {"pk": s(pk)}


def text(item: Mapping[str, Any], name: str, default: str = "") -> str:
    value = item.get(name)
    return value["S"] if value and "S" in value else default


def number(item: Mapping[str, Any], name: str, default: int = 0) -> int:
    value = item.get(name)
    return int(value["N"]) if value and "N" in value else default


def strings(item: Mapping[str, Any], name: str) -> tuple[str, ...]:
    value = item.get(name)
    return tuple(entry["S"] for entry in value["L"] if "S" in entry) if value and "L" in value else ()


def boolean(item: Mapping[str, Any], name: str) -> bool:
    value = item.get(name)
    return bool(value and value.get("BOOL"))


def error_code(error: Exception) -> str:
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code", ""))
    return ""


def dynamodb_call(operation: Callable[[], T]) -> T:
    """Run one DynamoDB request; an AWS failure becomes ServiceUnavailable (nothing was written).
    A failed condition is re-raised as the ClientError it is, for the caller to interpret."""
    try:
        return operation()
    except ClientError as error:
        if error_code(error) in (CONDITION_FAILED, TRANSACTION_CANCELED):
            raise
        raise ServiceUnavailable("DynamoDB") from error
    except BotoCoreError as error:
        raise ServiceUnavailable("DynamoDB") from error


def conditional(operation: Callable[[], Any]) -> bool:
    """Run one conditional write: False when its condition failed."""
    try:
        dynamodb_call(operation)
    except ClientError:
        return False
    return True


def batch_get(dynamodb: DynamoDBClient, keys_by_table: dict[str, list[Item]]) -> dict[str, list[Item]]:
    """BatchGetItem, strongly consistent; unprocessed keys are retried once, then it fails."""
    request: dict[str, Any] = {
        table: {"Keys": keys, "ConsistentRead": True} for table, keys in keys_by_table.items()
    }
    found: dict[str, list[Item]] = {table: [] for table in keys_by_table}
    for attempt in range(2):
        response = dynamodb_call(functools.partial(dynamodb.batch_get_item, RequestItems=request))
        for table, items in response.get("Responses", {}).items():
            found.setdefault(table, []).extend(cast(list[Item], items))
        request = cast(dict[str, Any], response.get("UnprocessedKeys") or {})
        if not request:
            return found
        if attempt == 0:
            time.sleep(0.02)
    raise ServiceUnavailable("DynamoDB")


def transact_write(dynamodb: DynamoDBClient, operations: list[Operation]) -> None:
    """TransactWriteItems. A failed condition raises TransactionRejected with the reasons; a
    conflict with another transaction is retried (bounded, with jitter), then ServiceUnavailable."""
    items = cast("list[TransactWriteItemTypeDef]", operations)
    for attempt in range(3):
        try:
            dynamodb_call(lambda: dynamodb.transact_write_items(TransactItems=items))
            return
        except ClientError as error:
            reasons = [
                str(reason.get("Code", "None")) for reason in error.response.get("CancellationReasons", [])
            ]
            if error_code(error) == TRANSACTION_CANCELED and "TransactionConflict" in reasons:
                time.sleep(0.01 * (2**attempt) * (1 + _jitter()))
                continue
            raise TransactionRejected(reasons or [ITEM_CONDITION_FAILED]) from error
    raise ServiceUnavailable("DynamoDB")


def scan_all(dynamodb: DynamoDBClient, table: str, limit: int | None = None, **filters: Any) -> list[Item]:
    """Every item of a (small) table, strongly consistent, up to `limit` items."""
    items: list[Item] = []
    arguments: dict[str, Any] = {"TableName": table, "ConsistentRead": True, **filters}
    while limit is None or len(items) < limit:
        page = dynamodb_call(functools.partial(dynamodb.scan, **arguments))
        items.extend(cast(list[Item], page.get("Items", [])))
        if "LastEvaluatedKey" not in page:
            break
        arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return items


def _jitter() -> float:
    return random.random()  # noqa: S311  # backoff jitter, not a secret

"""TransactionRejected tells which operation of a transaction failed its condition, by DynamoDB's
cancellation reason code, so callers never compare the reasons' text themselves."""

from __future__ import annotations

from shared.store.dynamo import ITEM_CONDITION_FAILED, TransactionRejected


def test_the_failed_operation_is_named_by_its_index_from_either_end() -> None:
    rejected = TransactionRejected(["None", ITEM_CONDITION_FAILED, "None"])
    assert [rejected.failed(index) for index in (0, 1, 2)] == [False, True, False]
    assert [rejected.failed(index) for index in (-1, -2, -3)] == [False, True, False]


def test_an_index_beyond_the_reasons_did_not_fail() -> None:
    rejected = TransactionRejected([ITEM_CONDITION_FAILED])
    assert rejected.failed(0) and rejected.failed(-1)
    assert not rejected.failed(1) and not rejected.failed(-2)
    assert not TransactionRejected([]).failed(0)


def test_a_conflict_or_another_code_is_not_a_failed_condition() -> None:
    rejected = TransactionRejected(["TransactionConflict", "ValidationError", ""])
    assert not any(rejected.failed(index) for index in range(3))

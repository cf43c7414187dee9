"""DynamoDB tables built from shared/store/tables.py."""

from __future__ import annotations

from aws_cdk.assertions import Match

from shared.store.tables import SESSIONS, TABLES, USERS
from tests.infra.conftest import Synth


def _tables(synth: Synth) -> dict[str, dict]:
    return synth.resources("AWS::DynamoDB::Table")


def test_every_table_is_on_demand_with_ttl_on_the_ttl_attribute_and_point_in_time_recovery(
    dev: Synth,
) -> None:
    tables = _tables(dev)
    assert len(tables) == len(TABLES) + 1  # + the demo cars table (dev)
    for table in tables.values():
        properties = table["Properties"]
        assert properties["BillingMode"] == "PAY_PER_REQUEST"
        assert properties["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}
        assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert properties["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]


def test_indexes_match_the_definitions(dev: Synth) -> None:
    indexed = [definition for definition in TABLES if definition.indexes]
    assert indexed == [SESSIONS]  # the Users table has no index: nothing reads users by id
    assert not USERS.indexes
    for definition in indexed:
        (index,) = definition.indexes
        keys = [{"AttributeName": index.partition_key, "KeyType": "HASH"}]
        if index.sort_key:
            keys.append({"AttributeName": index.sort_key, "KeyType": "RANGE"})
        dev.template.has_resource_properties(
            "AWS::DynamoDB::Table",
            {
                "GlobalSecondaryIndexes": [
                    {"IndexName": index.name, "KeySchema": keys, "Projection": {"ProjectionType": "ALL"}}
                ]
            },
        )
    dev.template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {"AttributeDefinitions": Match.array_with([{"AttributeName": "created_at", "AttributeType": "N"}])},
    )


def test_dev_tables_can_be_deleted_and_prod_tables_are_protected_and_retained(
    dev: Synth, prod: Synth
) -> None:
    for table in _tables(dev).values():
        assert table["Properties"]["DeletionProtectionEnabled"] is False
        assert table["DeletionPolicy"] == "Delete"
    for table in _tables(prod).values():
        assert table["Properties"]["DeletionProtectionEnabled"] is True
        assert table["DeletionPolicy"] == "Retain"


def test_the_demo_cars_table_exists_only_with_the_demo_flag(dev: Synth, prod: Synth) -> None:
    assert "CarsTableName" in dev.json["Outputs"]
    assert "CarsTableName" not in prod.json["Outputs"]
    assert len(_tables(prod)) == len(TABLES)

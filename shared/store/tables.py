"""Plain-data definitions of the tables and their indexes, read by the CDK constructs, the local API
and the tests alike (no CDK import here), so the three cannot drift."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Index:
    name: str
    partition_key: str
    sort_key: str | None = None


@dataclass(frozen=True)
class Table:
    setting: str  # the environment variable that names the table
    logical_name: str
    partition_key: str = "pk"
    ttl_attribute: str = "ttl"
    indexes: tuple[Index, ...] = ()


USERS = Table(setting="USERS_TABLE", logical_name="Users")
SESSIONS_BY_OWNER = Index("by_owner", "owner", "created_at")
SESSIONS = Table(setting="SESSIONS_TABLE", logical_name="Sessions", indexes=(SESSIONS_BY_OWNER,))
DENYLIST = Table(setting="DENYLIST_TABLE", logical_name="Denylist")
TABLES = (USERS, SESSIONS, DENYLIST)
CARS = Table(setting="CARS_TABLE", logical_name="Cars")  # demo routes only (context flag `demo`)

# Attribute types of every key attribute used above (DynamoDB needs them declared).
ATTRIBUTE_TYPES = {"pk": "S", "owner": "S", "created_at": "N"}


def create_table_arguments(table: Table, name: str) -> dict[str, object]:
    """CreateTable arguments for boto3 (local API and tests); the CDK builds the same from `table`."""
    keys = {table.partition_key}
    for index in table.indexes:
        keys.add(index.partition_key)
        if index.sort_key:
            keys.add(index.sort_key)
    arguments: dict[str, object] = {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": [{"AttributeName": table.partition_key, "KeyType": "HASH"}],
        "AttributeDefinitions": [
            {"AttributeName": key, "AttributeType": ATTRIBUTE_TYPES[key]} for key in sorted(keys)
        ],
    }
    if table.indexes:
        arguments["GlobalSecondaryIndexes"] = [
            {
                "IndexName": index.name,
                "KeySchema": [{"AttributeName": index.partition_key, "KeyType": "HASH"}]
                + ([{"AttributeName": index.sort_key, "KeyType": "RANGE"}] if index.sort_key else []),
                "Projection": {"ProjectionType": "ALL"},
            }
            for index in table.indexes
        ]
    return arguments

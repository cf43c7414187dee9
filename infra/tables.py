"""The DynamoDB tables, built from the plain-data definitions in shared/store/tables.py."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from infra.config import DeployConfig
from shared.store.tables import ATTRIBUTE_TYPES, CARS, TABLES, Table

_TYPES = {"S": dynamodb.AttributeType.STRING, "N": dynamodb.AttributeType.NUMBER}


class Tables(Construct):
    """Users, sessions, denylist (and the demo cars table): on demand, TTL on `ttl`, point-in-time
    recovery, deletion protection outside dev."""

    def __init__(self, scope: Construct, construct_id: str, *, config: DeployConfig) -> None:
        super().__init__(scope, construct_id)
        self.config = config
        self.by_name: dict[str, dynamodb.Table] = {}
        for definition in TABLES:
            self.by_name[definition.logical_name] = self._table(definition)
        if config.demo:
            self.by_name[CARS.logical_name] = self._table(CARS)
        self.definitions = {table.logical_name: table for table in (*TABLES, CARS)}

    def _table(self, definition: Table) -> dynamodb.Table:
        table = dynamodb.Table(
            self,
            definition.logical_name,
            partition_key=self._attribute(definition.partition_key),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            time_to_live_attribute=definition.ttl_attribute,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            deletion_protection=self.config.deletion_protection,
            encryption=dynamodb.TableEncryption.DEFAULT,  # AWS owned key: encrypted at rest, no KMS charges
            removal_policy=removal_policy(self.config),
        )
        for index in definition.indexes:
            self._add_index(table, index.name, index.partition_key, index.sort_key)
        return table

    @staticmethod
    def _attribute(name: str) -> dynamodb.Attribute:
        return dynamodb.Attribute(name=name, type=_TYPES[ATTRIBUTE_TYPES[name]])

    def _add_index(self, table: dynamodb.Table, name: str, partition_key: str, sort_key: str | None) -> None:
        table.add_global_secondary_index(
            index_name=name,
            partition_key=self._attribute(partition_key),
            sort_key=self._attribute(sort_key) if sort_key else None,
            projection_type=dynamodb.ProjectionType.ALL,
        )

    def environment(self) -> dict[str, str]:
        """Table names by the setting that names them (USERS_TABLE, ...)."""
        return {self.definitions[name].setting: table.table_name for name, table in self.by_name.items()}


def removal_policy(config: DeployConfig) -> cdk.RemovalPolicy:
    return cdk.RemovalPolicy.DESTROY if config.removal_policy == "destroy" else cdk.RemovalPolicy.RETAIN

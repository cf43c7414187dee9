"""The demo Cars table: CAR#<uuid> -> make, model, year, price, who added it and when."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from shared.store.dynamo import Item, conditional, dynamodb_call, key, n, number, s, scan_all, text

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_PREFIX = "CAR#"


@dataclass(frozen=True)
class Car:
    car_id: str
    make: str
    model: str
    year: int
    price: int | float
    created_by: str
    created_at: int


def _price(raw: str) -> int | float:
    value = Decimal(raw)
    return int(value) if value == value.to_integral_value() else float(value)


def _car_from_item(item: Item) -> Car:
    return Car(
        car_id=text(item, "pk").removeprefix(_PREFIX),
        make=text(item, "make"),
        model=text(item, "model"),
        year=number(item, "year"),
        price=_price(item["price"]["N"]),
        created_by=text(item, "created_by"),
        created_at=number(item, "created_at"),
    )


class CarStore:
    def __init__(self, table: str, dynamodb: DynamoDBClient) -> None:
        self.table = table
        self.dynamodb = dynamodb

    def first(self, limit: int) -> list[Car]:
        """The first `limit` cars added (read at most that many items)."""
        cars = [_car_from_item(item) for item in scan_all(self.dynamodb, self.table, limit=limit)]
        return sorted(cars, key=lambda car: car.created_at)[:limit]

    def add(self, car: Car) -> None:
        item = {
            "pk": s(_PREFIX + car.car_id),
            "make": s(car.make),
            "model": s(car.model),
            "year": n(car.year),
            "price": {"N": str(car.price)},
            "created_by": s(car.created_by),
            "created_at": n(car.created_at),
        }
        dynamodb_call(
            lambda: self.dynamodb.put_item(
                TableName=self.table, Item=item, ConditionExpression="attribute_not_exists(pk)"
            )
        )

    def delete(self, car_id: str) -> bool:
        """False when there was no such car."""
        return conditional(
            lambda: self.dynamodb.delete_item(
                TableName=self.table, Key=key(_PREFIX + car_id), ConditionExpression="attribute_exists(pk)"
            )
        )

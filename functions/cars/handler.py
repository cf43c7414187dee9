"""The demo /cars routes that show RBAC (GET any signed-in user, POST admin or staff, DELETE admin).

Who may call which route is decided by the authorizer's policy from the route declaration; this
function only validates input and stores cars in the demo CARS_TABLE.
"""

from __future__ import annotations

import math
import re
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from shared import aws
from shared.endpoint import caller_of, http_endpoint
from shared.errors import BadRequest, ConfigurationError, NotFound
from shared.http import Request, json_body, response, string_field
from shared.services import Services
from shared.settings import get_settings
from shared.store import dynamodb_call, error_code, now_ms

if not get_settings().cars_table:
    raise ConfigurationError("CARS_TABLE is required by the demo cars function")

FIRST_CAR_YEAR = 1886
MAX_PRICE = 100_000_000
MAX_CARS_LISTED = 500
_CAR_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_PREFIX = "CAR#"


def parse_car(request: Request) -> dict[str, Any]:
    body = json_body(request)
    make = string_field(body, "make", max_length=40).strip()
    model = string_field(body, "model", max_length=60).strip()
    if not make:
        raise BadRequest("make", "make is required")
    if not model:
        raise BadRequest("model", "model is required")
    year = body.get("year")
    latest = time.gmtime().tm_year + 1
    if not isinstance(year, int) or isinstance(year, bool) or not FIRST_CAR_YEAR <= year <= latest:
        raise BadRequest("year", f"year must be a whole number from {FIRST_CAR_YEAR} to {latest}")
    price = body.get("price")
    if (
        not isinstance(price, int | float)
        or isinstance(price, bool)
        or not math.isfinite(price)
        or not 0 <= price <= MAX_PRICE
        or round(price, 2) != price
    ):
        raise BadRequest("price", f"price must be a number from 0 to {MAX_PRICE} with at most 2 decimals")
    return {"make": make, "model": model, "year": year, "price": price}


def _number(raw: str) -> int | float:
    value = Decimal(raw)
    return int(value) if value == value.to_integral_value() else float(value)


def car_from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": item["pk"]["S"][len(_PREFIX) :],
        "make": item["make"]["S"],
        "model": item["model"]["S"],
        "year": int(item["year"]["N"]),
        "price": _number(item["price"]["N"]),
        "created_by": item["created_by"]["S"],
        "created_at": int(item["created_at"]["N"]),
    }


def _scan(dynamodb: Any, arguments: dict[str, Any]) -> Callable[[], dict[str, Any]]:
    return lambda: dynamodb.scan(**arguments)


def list_cars(table: str) -> list[dict[str, Any]]:
    dynamodb = aws.client("dynamodb")
    items: list[dict[str, Any]] = []
    arguments: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    while len(items) < MAX_CARS_LISTED:
        page = dynamodb_call(_scan(dynamodb, arguments))
        items.extend(page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            break
        arguments = {**arguments, "ExclusiveStartKey": page["LastEvaluatedKey"]}
    cars = [car_from_item(item) for item in items if item["pk"]["S"].startswith(_PREFIX)]
    return sorted(cars, key=lambda car: car["created_at"])[:MAX_CARS_LISTED]


def add_car(table: str, car: dict[str, Any], created_by: str) -> dict[str, Any]:
    stored = {**car, "id": str(uuid.uuid4()), "created_by": created_by, "created_at": now_ms()}
    item = {
        "pk": {"S": _PREFIX + stored["id"]},
        "make": {"S": stored["make"]},
        "model": {"S": stored["model"]},
        "year": {"N": str(stored["year"])},
        "price": {"N": str(stored["price"])},
        "created_by": {"S": created_by},
        "created_at": {"N": str(stored["created_at"])},
    }
    dynamodb = aws.client("dynamodb")
    dynamodb_call(
        lambda: dynamodb.put_item(TableName=table, Item=item, ConditionExpression="attribute_not_exists(pk)")
    )
    return stored


def delete_car(table: str, car_id: str) -> None:
    if not _CAR_ID.fullmatch(car_id):
        raise NotFound()
    dynamodb = aws.client("dynamodb")
    try:
        dynamodb_call(
            lambda: dynamodb.delete_item(
                TableName=table,
                Key={"pk": {"S": _PREFIX + car_id}},
                ConditionExpression="attribute_exists(pk)",
            )
        )
    except ClientError as error:
        if error_code(error) == "ConditionalCheckFailedException":
            raise NotFound() from None
        raise


def cars_endpoint(request: Request, services: Services) -> dict[str, Any]:
    settings = services.settings
    caller = caller_of(request)
    if request.method == "GET":
        return response(200, {"cars": list_cars(settings.cars_table)}, request, settings)
    if request.method == "POST":
        car = add_car(settings.cars_table, parse_car(request), caller.email or caller.sub)
        return response(201, car, request, settings)
    if request.method == "DELETE":
        delete_car(settings.cars_table, request.path_parameters.get("id", ""))
        return response(204, None, request, settings)
    return response(405, {"message": "Method not allowed"}, request, settings)


handler = http_endpoint(cars_endpoint)

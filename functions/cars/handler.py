"""The demo /cars routes that show RBAC (GET any signed-in user, POST admin or staff, DELETE admin).

Who may call which route is decided by the authorizer's policy from the route declaration; this
function only validates input and stores cars in the demo CARS_TABLE.
"""

from __future__ import annotations

import math
import re
import time
import uuid
from dataclasses import asdict
from typing import Any

from shared.config.settings import get_settings
from shared.core.errors import BadRequest, ConfigurationError, NotFound
from shared.http.endpoint import caller_of, http_endpoint
from shared.http.proxy import Request, json_body, string_field
from shared.http.reply import Reply
from shared.runtime.services import Services
from shared.store.cars import Car

if not get_settings().cars_table:
    raise ConfigurationError("CARS_TABLE is required by the demo cars function")

FIRST_CAR_YEAR = 1886
MAX_PRICE = 100_000_000
MAX_CARS_LISTED = 500
_CAR_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def parse_car(request: Request, created_by: str, at_ms: int) -> Car:
    body = json_body(request)
    make = string_field(body, "make", max_length=40).strip()
    model = string_field(body, "model", max_length=60).strip()
    if not make:
        raise BadRequest("make", "make is required")
    if not model:
        raise BadRequest("model", "model is required")
    year = body.get("year")
    latest = time.gmtime(at_ms // 1000).tm_year + 1
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
    return Car(str(uuid.uuid4()), make, model, year, price, created_by, at_ms)


def car_body(car: Car) -> dict[str, Any]:
    body = asdict(car)
    body["id"] = body.pop("car_id")
    return body


def cars_endpoint(request: Request, services: Services) -> Reply:
    caller = caller_of(request)
    if request.method == "GET":
        cars = services.cars.first(MAX_CARS_LISTED)
        return Reply(200, {"cars": [car_body(car) for car in cars]})
    if request.method == "POST":
        car = parse_car(request, caller.email or caller.sub, services.clock.now_ms())
        services.cars.add(car)
        return Reply(201, car_body(car))
    if request.method == "DELETE":
        car_id = request.path_parameters.get("id", "")
        if not _CAR_ID.fullmatch(car_id) or not services.cars.delete(car_id):
            raise NotFound()
        return Reply(204)
    return Reply(405, {"message": "Method not allowed"})


handler = http_endpoint(cars_endpoint)

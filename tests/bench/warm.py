"""Authorizer warm invocation: the real handler with a real-shaped REQUEST event, in process.

(a) DynamoDB answered by botocore's Stubber (no I/O: the figure is our own compute);
(b) against moto (mock_aws, in process) end to end.
Floor: PyJWT `jwt.decode` verifying the same token with the same public key, plus one
BatchGetItem of the same four keys answered the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import botocore.session
import jwt
from botocore.stub import Stubber

from tests.bench.stats import Sample, paired
from tests.bench.world import World, login_tokens

STUB_ROUNDS = 3000
MOTO_ROUNDS = 600


@dataclass(frozen=True)
class WarmResult:
    label: str
    handler: Sample
    floor: Sample


def _empty_answer(table: str) -> dict[str, Any]:
    return {"Responses": {table: []}, "UnprocessedKeys": {}}


def measure(world: World) -> list[WarmResult]:
    from functions.authorizer.handler import handler
    from shared.core import aws
    from shared.store.denylist import global_key
    from tests.events import LambdaContext, authorizer_event

    services = world.services
    tokens = login_tokens()
    token = tokens["access_token"]
    event = authorizer_event(f"Bearer {token}", "GET", "/cars")
    context = LambdaContext(function_name="jwt-auth-authorizer")
    handler(event, context)  # warm: keys loaded, clients created

    key = next(iter(services.keys.keys.values()))
    settings = services.settings
    claims = jwt.decode(token, options={"verify_signature": False})
    table = settings.denylist_table
    request = {
        table: {
            "Keys": [
                {"pk": {"S": f"JTI#{claims['jti']}"}},
                {"pk": {"S": f"SID#{claims['sid']}"}},
                {"pk": {"S": f"NBF#{claims['sub']}"}},
                {"pk": {"S": global_key(claims["sid"])}},
            ],
            "ConsistentRead": True,
        }
    }

    def floor_with(dynamodb: Any) -> Any:
        def floor() -> None:
            jwt.decode(
                token,
                key=key.key,
                algorithms=[key.algorithm],
                audience=settings.audience,
                issuer=settings.issuer,
            )
            dynamodb.batch_get_item(RequestItems=request)

        return floor

    def call() -> None:
        handler(event, context)

    results = []

    # (a) Stubber: a client of its own whose every call is answered from the stub's queue.
    moto_client = services.denylist.dynamodb
    stubbed = botocore.session.get_session().create_client("dynamodb", config=aws.CLIENT_CONFIG)
    stubber = Stubber(stubbed)
    stubber.activate()
    services.denylist.dynamodb = stubbed
    try:
        queue = lambda: stubber.add_response("batch_get_item", _empty_answer(table))  # noqa: E731
        for _ in range(200):  # warm up the stubbed path too
            queue()
            call()
        measured, floor = paired(call, floor_with(stubbed), STUB_ROUNDS, before_each=queue)
        results.append(WarmResult("Stubber (no I/O)", measured, floor))
    finally:
        stubber.deactivate()
        services.denylist.dynamodb = moto_client

    # (b) moto end to end.
    for _ in range(50):
        call()
    measured, floor = paired(call, floor_with(moto_client), MOTO_ROUNDS)
    results.append(WarmResult("moto (in process)", measured, floor))
    return results

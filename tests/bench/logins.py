"""Login and refresh end to end, in process, against moto.

Login: success, wrong password, unknown user and wrong userType, interleaved round-robin; each
failure path must cost the same as the others (one read, one argon2id verification, one counter
write). Floor: one argon2id verification with the service's parameters (which dominates login on
purpose and is not shrunk here) plus the AWS calls a successful login makes, made directly.
Refresh: a chain of rotations; floor: calls of the refresh's own shape (BatchGetItem of three keys,
a five-item conditional TransactWriteItems over two tables, one KMS Sign), made directly against
the same moto.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from tests.bench.stats import Sample, paired, timed
from tests.bench.world import ADMIN, PASSWORD, STAFF, World, login_tokens

LOGIN_ROUNDS = 25  # fewer leaves the failure spread at the mercy of a noisy neighbour
REFRESH_ROUNDS = 120
CASES = ("success", "wrong password", "unknown user", "wrong userType")
_SCRATCH_KEYS = itertools.count()  # one sequence for every RawCalls: no key is written twice


@dataclass(frozen=True)
class LoginResult:
    cases: dict[str, Sample]
    argon2: Sample
    floor: Sample  # argon2 verification + the successful login's AWS calls, made directly


@dataclass(frozen=True)
class RefreshResult:
    refresh: Sample
    floor: Sample


class RawCalls:
    """The AWS calls login and refresh make, made directly with the same clients."""

    def __init__(self, world: World) -> None:
        from shared.core import aws

        self.settings = world.services.settings
        self.dynamodb = world.services.sessions.dynamodb
        self.kms = aws.client("kms")
        self.message = b"x" * 600  # about a token's signing input

    def read(self, table: str, keys: int) -> None:
        wanted = [{"pk": {"S": f"BENCH#{next(_SCRATCH_KEYS)}"}} for _ in range(keys)]
        self.dynamodb.batch_get_item(RequestItems={table: {"Keys": wanted, "ConsistentRead": True}})

    def transaction(self, puts: int = 1, checks: int = 0) -> None:
        """`puts` conditional Puts in the sessions table and `checks` ConditionChecks in the denylist."""
        sessions, denylist = self.settings.sessions_table, self.settings.denylist_table
        absent = "attribute_not_exists(pk)"
        items: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": sessions,
                    "Item": {"pk": {"S": f"BENCH#{next(_SCRATCH_KEYS)}"}, "ttl": {"N": "1"}},
                    "ConditionExpression": absent,
                }
            }
            for _ in range(puts)
        ]
        items += [
            {
                "ConditionCheck": {
                    "TableName": denylist,
                    "Key": {"pk": {"S": f"BENCH#{next(_SCRATCH_KEYS)}"}},
                    "ConditionExpression": absent,
                }
            }
            for _ in range(checks)
        ]
        self.dynamodb.transact_write_items(TransactItems=items)

    def sign(self) -> None:
        self.kms.sign(
            KeyId=self.settings.signing_key_ids[0],
            Message=self.message,
            MessageType="RAW",
            SigningAlgorithm="RSASSA_PKCS1_V1_5_SHA_256",
        )

    def refresh(self) -> None:
        """The shape of a refresh: a 3-key read, a 5-item conditional transaction over two tables."""
        self.read(self.settings.sessions_table, 3)
        self.transaction(puts=3, checks=2)
        self.sign()

    def login(self) -> None:
        """The shape of a login: a 2-key read, a 4-item transaction (session, token, counter, device)."""
        self.read(self.settings.users_table, 2)
        self.transaction(puts=4)
        self.sign()


def measure_login(world: World) -> LoginResult:
    from shared.credentials import passwords
    from shared.store.user_items import lock_key
    from tests.flows import login

    services = world.services
    users = services.users
    stored_hash = users.get("staff", STAFF).password_hash
    unknown = itertools.count()

    def forget_failures() -> None:  # untimed: keeps every round below the lockout threshold
        for user_type, email in (("staff", STAFF), ("admin", STAFF), ("admin", ADMIN)):
            users.dynamodb.delete_item(TableName=users.table, Key={"pk": {"S": lock_key(user_type, email)}})

    def expect(status: int, response: dict[str, Any]) -> None:
        if response["statusCode"] != status:
            raise RuntimeError(f"benchmark login expected {status}, got {response}")

    calls = {
        "success": lambda: expect(200, login(STAFF, PASSWORD, "staff")),
        "wrong password": lambda: expect(401, login(STAFF, "not the password", "staff")),
        "unknown user": lambda: expect(
            401, login(f"nobody{next(unknown)}@dealership.example", PASSWORD, "staff")
        ),
        "wrong userType": lambda: expect(401, login(STAFF, PASSWORD, "admin")),
    }
    raw = RawCalls(world)
    argon2 = lambda: passwords.verify_password(stored_hash, PASSWORD)  # noqa: E731

    for call in calls.values():  # warm: dummy hash prepared, keys loaded
        call()
    samples: dict[str, list[float]] = {name: [] for name in (*CASES, "argon2", "floor")}
    for round_number in range(LOGIN_ROUNDS):
        names = list(CASES)
        names = names[round_number % 4 :] + names[: round_number % 4]  # rotate the order
        for name in names:
            forget_failures()
            samples[name].append(timed(calls[name]))
        samples["argon2"].append(timed(argon2))
        samples["floor"].append(timed(lambda: (argon2(), raw.login())))
    forget_failures()
    return LoginResult(
        cases={name: Sample(tuple(samples[name])) for name in CASES},
        argon2=Sample(tuple(samples["argon2"])),
        floor=Sample(tuple(samples["floor"])),
    )


def measure_refresh(world: World) -> RefreshResult:
    from tests.events import body_of
    from tests.flows import refresh

    state = {"token": login_tokens()["refresh_token"]}

    def rotate() -> None:
        response = refresh(state["token"])
        if response["statusCode"] != 200:
            raise RuntimeError(f"benchmark refresh failed: {response}")
        state["token"] = body_of(response)["refresh_token"]

    for _ in range(5):
        rotate()
    measured, floor = paired(rotate, RawCalls(world).refresh, REFRESH_ROUNDS)
    return RefreshResult(measured, floor)


def failure_spread(result: LoginResult) -> float:
    """Slowest failure median / fastest failure median (1.00 = identical)."""
    medians = [result.cases[name].median for name in CASES[1:]]
    return max(medians) / min(medians)

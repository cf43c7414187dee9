"""What the domain logic needs, built once per container and reused across invocations."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from shared.config.settings import Settings, get_settings
from shared.core import aws
from shared.core.clock import Clock
from shared.credentials.signing import KeySet, key_set, refresh_derivation_keys
from shared.routes.declaration import RouteTable, load_route_table
from shared.store.cars import CarStore
from shared.store.challenges import ChallengeStore
from shared.store.denylist import DenylistStore
from shared.store.factors import FactorStore
from shared.store.passkeys import PasskeyStore
from shared.store.sessions import SessionStore
from shared.store.users import UserStore

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


@dataclass
class Services:
    settings: Settings
    users: UserStore
    sessions: SessionStore
    denylist: DenylistStore
    cars: CarStore
    factors: FactorStore
    challenges: ChallengeStore
    passkeys: PasskeyStore
    clock: Clock = field(default_factory=Clock)

    @property
    def keys(self) -> KeySet:
        return key_set(self.settings)

    def refresh_keys(self, *, reload: bool = False) -> tuple[bytes, ...]:
        """The refresh-derivation keys, the current one first."""
        return refresh_derivation_keys(self.settings, reload=reload)

    @property
    def routes(self) -> RouteTable:
        return load_route_table(self.settings.routes_file)


def build_services(settings: Settings, dynamodb: DynamoDBClient | None = None) -> Services:
    dynamodb = dynamodb or aws.dynamodb()
    denylist = DenylistStore(settings.denylist_table, dynamodb)
    users = UserStore(settings.users_table, dynamodb)
    return Services(
        settings=settings,
        users=users,
        sessions=SessionStore(settings.sessions_table, dynamodb, users, denylist),
        denylist=denylist,
        cars=CarStore(settings.cars_table, dynamodb),
        factors=FactorStore(settings.users_table, dynamodb),
        challenges=ChallengeStore(settings.users_table, dynamodb),
        passkeys=PasskeyStore(settings.users_table, dynamodb),
    )


@functools.cache
def get_services() -> Services:
    return build_services(get_settings())


def reset() -> None:
    """Forget everything built from the environment (tests switch environments)."""
    from shared.credentials import signing

    get_services.cache_clear()
    get_settings.cache_clear()
    load_route_table.cache_clear()
    aws.reset_clients()
    signing.forget_keys()

"""Create the service's AWS resources in whatever endpoint boto3 points at (moto, in process or as a
server): the tables from shared/store/tables.py, the KMS signing key and
the second-factor key, the secrets. Returns the
environment the functions read their settings from."""

from __future__ import annotations

import secrets
import uuid
from typing import TYPE_CHECKING, Any, cast

import boto3

from shared.accounts.actions import new_user
from shared.core.clock import Clock
from shared.credentials.signing import KMS_KEY_SPEC
from shared.store.cars import Car, CarStore
from shared.store.tables import CARS, TABLES, Table, create_table_arguments
from shared.store.user_items import User
from shared.store.users import UserStore

if TYPE_CHECKING:
    from mypy_boto3_kms.literals import KeySpecType

DEMO_CARS = (
    ("Volvo", "XC40 Recharge", 2023, 48900),
    ("Toyota", "Corolla Hybrid", 2022, 21500),
    ("Ford", "Mustang Mach-E", 2024, 52990.5),
)
LOCAL_SENDER = "no-reply@dealership.example"
DEMO_USERS = (
    ("admin@dealership.example", "Avery Admin", "admin", "admin"),
    ("staff@dealership.example", "Sam Staff", "sales", "staff"),
)


def provision(
    *,
    prefix: str = "jwt-auth-local",
    algorithm: str = "RS256",
    issuer: str = "http://127.0.0.1:3000",
    audience: str = "jwt-auth-local",
    allowed_origins: str = "",
    demo: bool = False,
    mail_sender: str = LOCAL_SENDER,
    frontend_url: str = "http://127.0.0.1:3001/",
    overrides: dict[str, str] | None = None,
) -> dict[str, str]:
    """`demo=True` also creates the table behind the demo /cars routes (local API only). The mail
    sender becomes a verified SES identity, as the deploy guide has it done in AWS."""
    dynamodb = boto3.client("dynamodb")
    env: dict[str, str] = {
        "ISSUER": issuer,
        "AUDIENCE": audience,
        "SIGNING_ALGORITHM": algorithm,
        "ALLOWED_ORIGINS": allowed_origins,
        "MAIL_SENDER": mail_sender,
        "FRONTEND_URL": frontend_url,
    }
    boto3.client("sesv2").create_email_identity(EmailIdentity=mail_sender)
    for table in (*TABLES, CARS) if demo else TABLES:
        env[table.setting] = create_table(dynamodb, table, f"{prefix}-{table.logical_name.lower()}")

    secretsmanager = boto3.client("secretsmanager")
    env["REFRESH_KEY_SECRET_ARN"] = secretsmanager.create_secret(
        Name=f"{prefix}-refresh-derivation-key", SecretString=secrets.token_urlsafe(48)
    )["ARN"]
    if algorithm == "HS256":
        env["HS256_SECRET_ARN"] = secretsmanager.create_secret(
            Name=f"{prefix}-hs256-signing-secret", SecretString=secrets.token_urlsafe(48)
        )["ARN"]
    else:
        env["SIGNING_KEY_IDS"] = create_signing_key(algorithm)
    env["FACTOR_KEY_ID"] = create_factor_key()
    env.update(overrides or {})
    return env


def create_table(dynamodb: Any, table: Table, name: str) -> str:
    dynamodb.create_table(**create_table_arguments(table, name))
    dynamodb.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute}
    )
    return name


def create_signing_key(algorithm: str) -> str:
    # shared/credentials/signing.py holds the specs as plain strings, each one of KMS's KeySpec values.
    key_spec = cast("KeySpecType", KMS_KEY_SPEC[algorithm])
    key = boto3.client("kms").create_key(
        KeySpec=key_spec, KeyUsage="SIGN_VERIFY", Description="jwt-auth signing key"
    )
    key_id: str = key["KeyMetadata"]["KeyId"]
    return key_id


def create_factor_key() -> str:
    """The symmetric key that encrypts TOTP secrets (infra/keys.py's FactorKey)."""
    key = boto3.client("kms").create_key(
        KeySpec="SYMMETRIC_DEFAULT", KeyUsage="ENCRYPT_DECRYPT", Description="jwt-auth second-factor secrets"
    )
    key_id: str = key["KeyMetadata"]["KeyId"]
    return key_id


def create_user(
    store: UserStore,
    email: str,
    password: str,
    *,
    name: str,
    role: str,
    user_type: str,
    disabled: bool = False,
) -> User:
    """Store a user as given, with no policy check (seeding, and tests of hostile stored data)."""
    user = new_user(
        email,
        password,
        name=name,
        role=role,
        user_type=user_type,
        created_at=Clock().now_ms(),
        disabled=disabled,
    )
    if not store.create(user):
        raise ValueError(f"a {user_type} user with email {email} already exists")
    return user


def seed_demo_users(store: UserStore, password: str) -> list[User]:
    return [
        create_user(store, email, password, name=name, role=role, user_type=user_type)
        for email, name, role, user_type in DEMO_USERS
    ]


def seed_demo_cars(store: CarStore) -> None:
    at = Clock().now_ms()
    for make, model, year, price in DEMO_CARS:
        store.add(Car(str(uuid.uuid4()), make, model, year, price, "seed", at))

"""The one typed settings object, read once from the environment.

Every function gets the same environment; a missing or unsafe value stops start-up with a
ConfigurationError that names the variable.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from shared.errors import ConfigurationError

SIGNING_ALGORITHMS = ("RS256", "ES256", "HS256")
MAX_GRACE_SECONDS = 60
DEFAULT_ROUTES_FILE = str(Path(__file__).with_name("routes.json"))


@dataclass(frozen=True)
class Settings:
    users_table: str
    sessions_table: str
    denylist_table: str
    issuer: str
    audience: str
    signing_algorithm: str
    signing_key_ids: tuple[str, ...]
    hs256_secret_arn: str
    refresh_key_secret_arn: str
    access_token_ttl: int = 900
    refresh_idle_ttl: int = 7 * 24 * 3600
    session_max_ttl: int = 30 * 24 * 3600
    refresh_grace_seconds: int = 10
    clock_leeway: int = 10
    lockout_threshold: int = 5
    lockout_base_seconds: int = 30
    lockout_max_seconds: int = 900
    lockout_window_seconds: int = 3600
    stuffing_threshold: int = 10
    stuffing_window_seconds: int = 300
    allowed_origins: tuple[str, ...] = ()
    refresh_cookie_name: str = "refresh_token"
    refresh_cookie_path: str = "/auth"
    cookie_same_site: str = "Strict"
    routes_file: str = DEFAULT_ROUTES_FILE
    cars_table: str = ""  # the demo /cars routes only

    @property
    def uses_kms(self) -> bool:
        return self.signing_algorithm in ("RS256", "ES256")


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ConfigurationError(f"{name} is required but not set")
    return value


def _integer(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a whole number, got {raw!r}") from None
    if not low <= value <= high:
        raise ConfigurationError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _listing(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in env.get(name, "").split(",") if item.strip())


def _origins(env: Mapping[str, str]) -> tuple[str, ...]:
    origins = _listing(env, "ALLOWED_ORIGINS")
    for origin in origins:
        if origin == "*" or not origin.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            raise ConfigurationError(
                f"ALLOWED_ORIGINS entry {origin!r} is unsafe: list exact https origins "
                "(credentials are on, so '*' is never allowed)"
            )
        if origin.endswith("/"):
            raise ConfigurationError(f"ALLOWED_ORIGINS entry {origin!r} must not end with '/'")
    return origins


def settings_from_env(env: Mapping[str, str]) -> Settings:
    algorithm = env.get("SIGNING_ALGORITHM", "RS256").strip()
    if algorithm not in SIGNING_ALGORITHMS:
        raise ConfigurationError(f"SIGNING_ALGORITHM must be one of {', '.join(SIGNING_ALGORITHMS)}")
    key_ids: tuple[str, ...] = ()
    hs256_secret_arn = ""  # nosec B105  # empty: no HS256 secret in KMS modes
    if algorithm == "HS256":
        hs256_secret_arn = _required(env, "HS256_SECRET_ARN")
    else:
        key_ids = _listing(env, "SIGNING_KEY_IDS")
        if not key_ids:
            raise ConfigurationError("SIGNING_KEY_IDS is required: the KMS key ids, active signing key first")

    access_ttl = _integer(env, "ACCESS_TOKEN_TTL_SECONDS", 900, 60, 3600)
    idle_ttl = _integer(env, "REFRESH_IDLE_TTL_SECONDS", 7 * 24 * 3600, 300, 90 * 24 * 3600)
    max_ttl = _integer(env, "SESSION_MAX_TTL_SECONDS", 30 * 24 * 3600, 300, 365 * 24 * 3600)
    if idle_ttl > max_ttl:
        raise ConfigurationError("REFRESH_IDLE_TTL_SECONDS must not exceed SESSION_MAX_TTL_SECONDS")
    lockout_base = _integer(env, "LOCKOUT_BASE_SECONDS", 30, 1, 3600)
    lockout_max = _integer(env, "LOCKOUT_MAX_SECONDS", 900, 1, 24 * 3600)
    lockout_window = _integer(env, "LOCKOUT_WINDOW_SECONDS", 3600, 60, 7 * 24 * 3600)
    if lockout_base > lockout_max:
        raise ConfigurationError("LOCKOUT_BASE_SECONDS must not exceed LOCKOUT_MAX_SECONDS")
    if lockout_window <= lockout_max:
        raise ConfigurationError(
            "LOCKOUT_WINDOW_SECONDS must exceed LOCKOUT_MAX_SECONDS: failures are forgotten that long "
            "after the last one, so a shorter window would reset the exponential lockout"
        )
    same_site = env.get("COOKIE_SAME_SITE", "Strict").strip() or "Strict"
    if same_site not in ("Strict", "Lax", "None"):
        raise ConfigurationError("COOKIE_SAME_SITE must be Strict, Lax or None")

    return Settings(
        users_table=_required(env, "USERS_TABLE"),
        sessions_table=_required(env, "SESSIONS_TABLE"),
        denylist_table=_required(env, "DENYLIST_TABLE"),
        issuer=_required(env, "ISSUER"),
        audience=_required(env, "AUDIENCE"),
        signing_algorithm=algorithm,
        signing_key_ids=key_ids,
        hs256_secret_arn=hs256_secret_arn,
        refresh_key_secret_arn=_required(env, "REFRESH_KEY_SECRET_ARN"),
        access_token_ttl=access_ttl,
        refresh_idle_ttl=idle_ttl,
        session_max_ttl=max_ttl,
        refresh_grace_seconds=_integer(env, "REFRESH_GRACE_SECONDS", 10, 0, MAX_GRACE_SECONDS),
        clock_leeway=_integer(env, "CLOCK_LEEWAY_SECONDS", 10, 0, 60),
        lockout_threshold=_integer(env, "LOCKOUT_THRESHOLD", 5, 1, 100),
        lockout_base_seconds=lockout_base,
        lockout_max_seconds=lockout_max,
        lockout_window_seconds=lockout_window,
        stuffing_threshold=_integer(env, "STUFFING_THRESHOLD", 10, 2, 10_000),
        stuffing_window_seconds=_integer(env, "STUFFING_WINDOW_SECONDS", 300, 60, 24 * 3600),
        allowed_origins=_origins(env),
        refresh_cookie_name=env.get("REFRESH_COOKIE_NAME", "refresh_token").strip() or "refresh_token",
        cookie_same_site=same_site,
        routes_file=env.get("ROUTES_FILE", "").strip() or DEFAULT_ROUTES_FILE,
        cars_table=env.get("CARS_TABLE", "").strip(),
    )


@functools.cache
def get_settings() -> Settings:
    return settings_from_env(os.environ)

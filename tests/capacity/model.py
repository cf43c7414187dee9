"""The capacity model: user counts and usage in, per-second load on every quota that can bind and the
monthly cost out. Pure arithmetic over the measured work of each operation (shapes.Work) and the
sourced quotas and prices (quotas.py); everything else is an input of the scenario, stated in the
document it writes."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from tests.capacity.quotas import PRICES, QUOTAS
from tests.capacity.shapes import Work

SECONDS_PER_DAY = 86_400
SECONDS_PER_MONTH = 30 * SECONDS_PER_DAY
SWITCH_SHARDS_KEY = "switch shard"


@dataclass(frozen=True)
class Usage:
    """How people use the service: the model's inputs besides the user count."""

    daily_share: float = 0.2  # daily active users / monthly active users
    active_minutes_per_day: float = 30  # per daily active user, while the app is open
    peak_factor: float = 3.0  # busiest minute's concurrency / the day's average concurrency
    requests_per_active_minute: float = 6  # protected API calls per active user per minute
    access_token_ttl: int = 900  # seconds (ACCESS_TOKEN_TTL_SECONDS default)
    refresh_at: float = 1.0  # share of the lifetime at which clients refresh (1.0: on expiry)
    logins_per_daily_user: float = 1.0  # fresh logins a day (the rest resume with a refresh token)
    failed_login_share: float = 0.1  # failed attempts per successful login
    logouts_per_daily_user: float = 0.2
    # Lambda durations (s) and memory (GB): docs/cost-and-performance.md's model (CPU measured by
    # `make bench`, scaled to Lambda's share, plus about 5 ms per AWS call in-region).
    authorizer_seconds: float = 0.007
    authorizer_gb: float = 0.5
    behind_seconds: float = 0.020  # the protected function behind the authorizer (the team's own)
    behind_gb: float = 0.5
    login_seconds: float = 0.098
    login_gb: float = 1.0
    refresh_seconds: float = 0.027
    refresh_gb: float = 0.5
    logout_seconds: float = 0.015
    logout_gb: float = 0.5
    signing: str = "RS256"  # or "ES256": which KMS quota and price apply


@dataclass(frozen=True)
class Load:
    """One limit's load at the peak, against its quota."""

    key: str
    label: str
    load: float
    quota: float
    unit: str
    surge: bool = False  # a limit of growth (a new table, a scale-out), not of the steady state

    @property
    def share(self) -> float:
        return self.load / self.quota


@dataclass
class Scenario:
    mau: int
    usage: Usage
    rates: dict[str, float] = field(default_factory=dict)  # per second at the peak
    loads: list[Load] = field(default_factory=list)
    monthly_cost: dict[str, float] = field(default_factory=dict)

    @property
    def binding(self) -> Load:
        """The steady-state limit nearest its quota."""
        return max((load for load in self.loads if not load.surge), key=lambda load: load.share)

    @property
    def surge_binding(self) -> Load:
        """The limit of growth (a new table, a scale-out from cold) nearest its quota."""
        return max((load for load in self.loads if load.surge), key=lambda load: load.share)

    def mau_at_which(self, load: Load) -> int:
        """Every load is proportional to the user count: where this one reaches its quota."""
        return int(self.mau / load.share) if load.share else 0


def peak_rates(mau: int, usage: Usage) -> dict[str, float]:
    daily = mau * usage.daily_share
    concurrent = daily * usage.active_minutes_per_day / (24 * 60) * usage.peak_factor
    logins = daily * usage.logins_per_daily_user / SECONDS_PER_DAY * usage.peak_factor
    return {
        "concurrent users": concurrent,
        "authorizer": concurrent * usage.requests_per_active_minute / 60,
        "refresh": concurrent / (usage.access_token_ttl * usage.refresh_at),
        "login": logins,
        "login failure": logins * usage.failed_login_share,
        "logout": daily * usage.logouts_per_daily_user / SECONDS_PER_DAY * usage.peak_factor,
    }


def _per_table(work: dict[str, Work], rates: dict[str, float], reads: bool) -> dict[str, float]:
    totals: dict[str, float] = {}
    for operation, measured in work.items():
        for table, units in (measured.read_units if reads else measured.write_units).items():
            totals[table] = totals.get(table, 0) + units * rates[operation]
    return totals


def _hottest_key(work: dict[str, Work], rates: dict[str, float], shards: int) -> tuple[float, float]:
    """Read and write units a second on the busiest single item: a switch shard (every session
    reads one of `shards`), else one user's own keys (far below)."""
    reads = writes = 0.0
    for operation, measured in work.items():
        for _table, klass, mode, units in measured.keys:
            if klass != SWITCH_SHARDS_KEY:
                continue
            if mode == "r":
                reads += units * rates[operation] / shards
            else:
                writes += units * rates[operation] / shards
    return reads, writes


def scenario(mau: int, work: dict[str, Work], usage: Usage, shards: int) -> Scenario:
    rates = peak_rates(mau, usage)
    found = Scenario(mau, usage, rates)
    operations = ("authorizer", "login", "login failure", "refresh", "logout")
    gateway = rates["authorizer"] + rates["login"] + rates["login failure"] + rates["refresh"]
    durations = {
        "authorizer": (usage.authorizer_seconds, usage.authorizer_gb),
        "behind": (usage.behind_seconds, usage.behind_gb),
        "login": (usage.login_seconds, usage.login_gb),
        "login failure": (usage.login_seconds, usage.login_gb),
        "refresh": (usage.refresh_seconds, usage.refresh_gb),
        "logout": (usage.logout_seconds, usage.logout_gb),
    }
    invocations = {name: rates[name] for name in operations} | {"behind": rates["authorizer"]}
    concurrency = sum(invocations[name] * durations[name][0] for name in invocations)
    authorizer_concurrency = rates["authorizer"] * usage.authorizer_seconds
    reads = _per_table(work, rates, reads=True)
    writes = _per_table(work, rates, reads=False)
    hot_reads, hot_writes = _hottest_key(work, rates, shards)
    signs = sum(work[name].kms_sign * rates[name] for name in operations)
    kms_key = "kms_rsa" if usage.signing == "RS256" else "kms_ecc"

    def add(key: str, label: str, load: float, quota_key: str, surge: bool = False) -> None:
        quota = QUOTAS[quota_key]
        found.loads.append(Load(key, label, load, quota.value, quota.unit, surge))

    add("apigw", "API Gateway requests", gateway, "apigw_rps")
    add(
        "lambda",
        "Lambda concurrency (all functions, the protected ones included)",
        concurrency,
        "lambda_concurrency",
    )
    # Scale-out from nothing to the authorizer's peak within one minute, against 1,000 per 10 s.
    add(
        "burst",
        "Lambda scale-out: authorizer environments needed per 10 s (from cold, within a minute)",
        authorizer_concurrency / 6,
        "lambda_scaling",
        surge=True,
    )
    for table in sorted(reads):
        add(f"read:{table}", f"DynamoDB {table} table reads", reads[table], "ddb_table_read")
        add(
            f"new-read:{table}",
            f"DynamoDB {table} table reads, new on-demand table",
            reads[table],
            "ddb_new_table_read",
            surge=True,
        )
    for table in sorted(writes):
        add(f"write:{table}", f"DynamoDB {table} table writes", writes[table], "ddb_table_write")
        add(
            f"new-write:{table}",
            f"DynamoDB {table} table writes, new on-demand table",
            writes[table],
            "ddb_new_table_write",
            surge=True,
        )
    add(
        "partition-read",
        f"DynamoDB hottest item reads (one emergency-switch shard of {shards})",
        hot_reads,
        "ddb_partition_read",
    )
    add(
        "partition-write",
        f"DynamoDB hottest item condition checks (one switch shard of {shards})",
        hot_writes,
        "ddb_partition_write",
    )
    add("kms", f"KMS Sign ({'RSA' if usage.signing == 'RS256' else 'ECC'} key)", signs, kms_key)
    # GetSecretValue: once per new refresh environment (the derivation key), at most the scale-out rate.
    refresh_environments = rates["refresh"] * usage.refresh_seconds
    add(
        "secrets",
        "Secrets Manager GetSecretValue (new refresh environments, at most)",
        min(refresh_environments, QUOTAS["lambda_scaling"].value / 10),
        "secrets_get",
    )
    found.monthly_cost = monthly_cost(mau, work, usage)
    return found


def monthly_cost(mau: int, work: dict[str, Work], usage: Usage) -> dict[str, float]:
    """A month's bill at list price: the day's average rates (no peak factor) times 30 days."""
    average = peak_rates(mau, usage)
    average = {name: value / usage.peak_factor for name, value in average.items()}
    month = {name: value * SECONDS_PER_MONTH for name, value in average.items()}
    price = {key: item.value for key, item in PRICES.items()}
    operations = ("authorizer", "login", "login failure", "refresh", "logout")
    gateway = month["login"] + month["login failure"] + month["refresh"]  # protected calls: paid anyway
    durations = {
        "authorizer": (usage.authorizer_seconds, usage.authorizer_gb),
        "login": (usage.login_seconds, usage.login_gb),
        "login failure": (usage.login_seconds, usage.login_gb),
        "refresh": (usage.refresh_seconds, usage.refresh_gb),
        "logout": (usage.logout_seconds, usage.logout_gb),
    }
    invocations = sum(month[name] for name in operations)
    gb_seconds = sum(
        month[name] * math.ceil(durations[name][0] * 1000) / 1000 * durations[name][1] for name in operations
    )
    read_units = sum(sum(work[name].read_units.values()) * month[name] for name in operations)
    write_units = sum(sum(work[name].write_units.values()) * month[name] for name in operations)
    signs = sum(work[name].kms_sign * month[name] for name in operations)
    sign_price = price["kms_rsa_request"] if usage.signing == "RS256" else price["kms_ecc_request"]
    return {
        "API Gateway (login, refresh)": gateway / 1e6 * price["apigw_rest"],
        "Lambda": invocations / 1e6 * price["lambda_request"] + gb_seconds * price["lambda_gbs"],
        "DynamoDB": read_units / 1e6 * price["ddb_rru"] + write_units / 1e6 * price["ddb_wru"],
        "KMS": signs / 1e4 * sign_price + price["kms_key"],
        "Secrets Manager": 2 * price["secret"],
    }

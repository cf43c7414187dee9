"""Every runtime tunable, declared once, and the rules between them.

One row per environment variable the functions read: its name, the `Settings` field, the CDK
context key the stack takes it from ("" when the stack sets it from its own resources), its kind,
default, range and doc line (the rows of the login lockout live in shared/config/login_tunables.py,
those of the account lifecycle and of second factors in shared/config/account_tunables.py; what a
tunable is and how it is parsed, in shared/config/parsing.py).
From this table:

- `shared/config/settings.py` builds `Settings` (`settings_from_env`),
- `infra/config.py` reads, defaults and checks the context keys (the stack's own keys are rows of the
  same kind in shared/config/deploy_tunables.py); a row's `deployed` value, when set, is the stack's
  default instead of `default` (which then holds where the variable is unset: locally, in tests),
- `infra/lambdas.py` writes the functions' environment,
- README's configuration table and docs/deploy.md's runtime context keys are generated
  (`make docs`; a unit test fails when they differ).

The cross-field rules (`RULES`) are applied by both sides through `check_rules`, so the stack
refuses exactly what the functions would refuse at start-up. Standard library only: every function
imports this at cold start.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from shared.config.account_tunables import LIFECYCLE_TUNABLES, SECOND_FACTOR_TUNABLES
from shared.config.login_tunables import LOCKOUT_TUNABLES
from shared.config.parsing import (
    DAY,
    HOUR,
    MINUTE,
    InvalidTunable,
    Rule,
    Source,
    Tunable,
    from_stack,
    int_tunable,
    parse,
)

DEFAULT_ROUTES_FILE = str(Path(__file__).parents[1] / "routes" / "routes.json")
AUDIENCE_PATTERN = r"[A-Za-z0-9:/._-]{1,200}"
AUDIENCE_SHAPE = "plain identifiers or URLs"
MAX_EXTRA_AUDIENCES = 9  # with the service's own, ten: a verifier's list stays short


TUNABLES: tuple[Tunable, ...] = (
    from_stack("USERS_TABLE", "users_table", "the users table"),
    from_stack("SESSIONS_TABLE", "sessions_table", "the sessions table"),
    from_stack("DENYLIST_TABLE", "denylist_table", "the denylist table"),
    from_stack(
        "ISSUER",
        "issuer",
        "`iss` of every access token (the stack: context `issuer`, or the API's own URL)",
    ),
    from_stack(
        "AUDIENCE",
        "audience",
        "`aud` of every access token (the stack: context `audience`, or `jwt-auth-<stage>`)",
    ),
    Tunable(
        "EXTRA_AUDIENCES",
        "extra_audiences",
        "list",
        (),
        "the audiences of the other APIs these tokens are for, comma-separated: every access token "
        "carries them after the service's own, and an API whose route declaration names one of them "
        "as its `audience` accepts the tokens",
        context="extra_audiences",
        high=MAX_EXTRA_AUDIENCES,
        pattern=AUDIENCE_PATTERN,
        shape=AUDIENCE_SHAPE,
        shown_default="none",
    ),
    Tunable(
        "SIGNING_ALGORITHM",
        "signing_algorithm",
        "choice",
        "RS256",
        "how access tokens are signed: with a KMS asymmetric key, or a Secrets Manager secret for HS256",
        context="signing_algorithm",
        choices=("RS256", "ES256", "HS256"),
    ),
    from_stack(
        "SIGNING_KEY_IDS",
        "signing_key_ids",
        "KMS key ids or ARNs, comma-separated, the active signing key first; every listed key verifies",
        kind="list",
        required=False,
        shown="required for KMS",
    ),
    from_stack(
        "HS256_SECRET_ARN",
        "hs256_secret_arn",
        "the signing secret (at least 32 bytes, or the function refuses to start)",
        required=False,
        shown="required for HS256",
    ),
    from_stack(
        "REFRESH_KEY_SECRET_ARN",
        "refresh_key_secret_arn",
        "the secret (at least 32 bytes) that derives a refresh token's successor",
    ),
    int_tunable(
        "ACCESS_TOKEN_TTL_SECONDS", "access_token_ttl", 15 * MINUTE, MINUTE, HOUR, "access-token lifetime"
    ),
    int_tunable(
        "REFRESH_IDLE_TTL_SECONDS",
        "refresh_idle_ttl",
        7 * DAY,
        5 * MINUTE,
        90 * DAY,
        "a session unused this long ends",
    ),
    int_tunable(
        "SESSION_MAX_TTL_SECONDS",
        "session_max_ttl",
        30 * DAY,
        5 * MINUTE,
        365 * DAY,
        "absolute session lifetime",
    ),
    int_tunable(
        "REFRESH_GRACE_SECONDS",
        "refresh_grace_seconds",
        10,
        0,
        MINUTE,
        "retry window in which a just-rotated refresh token gets the same successor back",
    ),
    int_tunable(
        "CLOCK_LEEWAY_SECONDS",
        "clock_leeway",
        10,
        0,
        MINUTE,
        "clock skew accepted on `exp`, `nbf` and `iat`",
    ),
    *LOCKOUT_TUNABLES,
    Tunable(
        "CLIENT_ID",
        "client_id",
        "text",
        "web",
        "the `client_id` claim (RFC 9068) of every access token: the frontend the tokens are for",
        context="client_id",
        pattern=r"[A-Za-z0-9_.-]{1,64}",
        shape="letters, digits, '.', '_' or '-', at most 64",
    ),
    Tunable(
        "ALLOWED_ORIGINS",
        "allowed_origins",
        "origins",
        (),
        "exact browser origins, comma-separated: `https://host[:port]`, plain http only for "
        "`localhost` and `127.0.0.1`; never `*` (credentials are on)",
        context="allowed_origins",
    ),
    Tunable(
        "CORS_EXTRA_HEADERS",
        "cors_extra_headers",
        "list",
        (),
        "request headers browsers may send besides Authorization, Content-Type and X-Token-Transport "
        "(tracing headers such as `traceparent`, `sentry-trace`, `baggage`), comma-separated",
        context="cors_extra_headers",
        pattern=r"[A-Za-z0-9-]{1,64}",
        shape="header names: letters, digits and '-'",
        shown_default="none",
    ),
    Tunable(
        "REFRESH_COOKIE_NAME",
        "refresh_cookie_name",
        "text",
        "__Host-refresh_token",
        "the refresh cookie's name, in cookie mode (a `__Host-` name is sent with `Path=/`, and no "
        "sibling subdomain can plant one)",
        context="refresh_cookie_name",
        pattern=r"[A-Za-z0-9_-]{1,64}",
        shape="letters, digits, '_' or '-', at most 64",
    ),
    Tunable(
        "COOKIE_SAME_SITE",
        "cookie_same_site",
        "choice",
        "Strict",
        "the refresh cookie's `SameSite`",
        context="cookie_same_site",
        choices=("Strict", "Lax", "None"),
    ),
    Tunable(
        "ROUTES_FILE",
        "routes_file",
        "text",
        DEFAULT_ROUTES_FILE,
        "the route declaration the authorizer reads (the stack: the copy bundled with each function)",
        shown_default="`shared/routes/routes.json`",
    ),
    *LIFECYCLE_TUNABLES,
    *SECOND_FACTOR_TUNABLES,
    from_stack(
        "CARS_TABLE",
        "cars_table",
        "the demo `/cars` routes' table (deployments with the demo only)",
        required=False,
        shown="none",
    ),
)

RULES: tuple[Rule, ...] = (
    Rule("refresh_idle_ttl", "<=", "session_max_ttl", "no session lives past its absolute lifetime"),
    Rule("lockout_base_seconds", "<=", "lockout_max_seconds", "the first lock is the shortest"),
    Rule(
        "lockout_threshold",
        "<=",
        "lockout_account_threshold",
        "the account-wide ceiling is the higher one",
    ),
    Rule(
        "lockout_window_seconds",
        ">",
        "lockout_max_seconds",
        "failures are forgotten that long after the last one, so a shorter window would reset the "
        "exponential lockout",
    ),
    Rule(
        "forgot_password_threshold",
        "<=",
        "forgot_password_account_threshold",
        "the account-wide ceiling is the higher one",
    ),
)

BY_FIELD: Mapping[str, Tunable] = {tunable.field: tunable for tunable in TUNABLES}
DEFAULTS: Mapping[str, Any] = {tunable.field: tunable.default for tunable in TUNABLES}
IN_CONTEXT: tuple[Tunable, ...] = tuple(tunable for tunable in TUNABLES if tunable.context)
# What the stack deploys when a context key is not given: the default, or the row's `deployed` one
# (PWNED_PASSWORDS: deployed functions reach the internet, the local API and the tests do not).
AS_DEPLOYED: tuple[Tunable, ...] = tuple(
    tunable if tunable.deployed is None else replace(tunable, default=tunable.deployed)
    for tunable in IN_CONTEXT
)
STACK_DEFAULTS: Mapping[str, Any] = {tunable.field: tunable.default for tunable in AS_DEPLOYED}


def check_rules(values: Mapping[str, Any], source: Source) -> None:
    """Every rule between tunables, on values keyed by field."""
    for rule in RULES:
        first, second = BY_FIELD[rule.field], BY_FIELD[rule.other]
        value, other = values[rule.field], values[rule.other]
        if not rule.holds(value, other):
            raise InvalidTunable(
                f"{source.subject(first)} ({value}) {rule.verb} {source.name(second)} ({other}): {rule.why}"
            )


def read(get: Callable[[Tunable], object], source: Source, tunables: Iterable[Tunable]) -> dict[str, Any]:
    """Parse each tunable once (`get` returns its raw value or None), then check the rules."""
    values = {tunable.field: parse(tunable, get(tunable), source) for tunable in tunables}
    check_rules(values, source)
    return values


def env_value(value: Any) -> str:
    """A typed value as the environment carries it."""
    if isinstance(value, tuple):
        return ",".join(value)
    return str(value)

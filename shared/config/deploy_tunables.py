"""The stack's own settings, the CDK context keys no function reads: rows of the same kind as
shared/config/tunables.py's, parsed by the same code (shared/config/parsing.py).

One row per context key: `field` is both the key and the `DeployConfig` field (infra/config.py), and
`env` is empty (no function reads it). A row's default is the dev stage's; `STAGE_DEFAULTS` holds
what another stage changes. The checks no row can express (a key name's shape, the certificate's
ARN, the cache against the access-token lifetime, ...) are infra/config.py's. docs/deploy.md's table
of the stack's settings is generated from these rows (`make docs`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.config.parsing import HOUR, Kind, Tunable

STAGES = ("dev", "staging", "prod")
# CodeDeploy's traffic shifting for releases (infra/release.py maps each to its configuration).
CANARY_RELEASES = (
    "off",
    "canary-10-5min",
    "canary-10-10min",
    "canary-10-15min",
    "canary-10-30min",
    "linear-10-1min",
    "linear-10-2min",
    "linear-10-3min",
    "linear-10-10min",
    "all-at-once",
)
REMOVAL_POLICIES = ("destroy", "retain")
# Which functions run with Lambda SnapStart: the authorizer (in front of every request) by default
# outside dev, every function, or none. `true` and `false` still mean all and none.
SNAP_START = ("authorizer", "all", "off")
LOG_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)


def _key(field: str, kind: Kind, default: Any, doc: str, **options: Any) -> Tunable:
    return Tunable("", field, kind, default, doc, context=field, **options)


def _count(field: str, default: int, low: int, high: int, doc: str, **options: Any) -> Tunable:
    return _key(field, "int", default, doc, low=low, high=high, **options)


DEPLOY_TUNABLES: tuple[Tunable, ...] = (
    _key(
        "stage",
        "choice",
        "dev",
        'names the stack, the API stage and the key aliases, and picks the defaults marked "by stage"',
        choices=STAGES,
    ),
    _key(
        "issuer",
        "text",
        "",
        "the `iss` of every access token (https only)",
        shown_default="the API's URL (`https://<custom domain>` with one)",
    ),
    _key("audience", "text", "", "the `aud` of every access token", shown_default="`jwt-auth-<stage>`"),
    _count(
        "authorizer_cache_ttl",
        0,
        0,
        HOUR,
        "API Gateway's authorizer result cache, in seconds. 0 makes logout and revocation immediate; any "
        "other value delays them by up to that many seconds. Longer than `access_token_ttl` stops synthesis",
    ),
    _key(
        "signing_keys",
        "list",
        ("primary",),
        "comma list of KMS key names, the active signing key first; every key verifies (see rotation)",
        shape="letters and digits, a letter first, at most 32 each",
        shown_default="`primary`",
    ),
    _count(
        "throttle_rate",
        50,
        1,
        10_000,
        "API Gateway throttling per method (requests per second; `throttle_burst` the burst): set once on "
        "the stage, but API Gateway applies it to each method (route) on its own bucket, so the stage as a "
        "whole may take up to that many times the number of routes. A REST API has no stage-wide aggregate "
        "limit; WAF's rate rule (per IP) and the account's regional limit are the others",
    ),
    _count("throttle_burst", 100, 1, 5000, "API Gateway's burst per method (see `throttle_rate`)"),
    _key(
        "api_gateway_cloudwatch_role",
        "bool",
        True,
        "create API Gateway's account-level CloudWatch Logs role and set it on the account (execution "
        "logging needs one). It is one setting per account and region, whoever writes it: set `false` when "
        "the account already has one (another stage or stack, or your platform team, set it). The role and "
        "the setting are retained when the stack is deleted",
    ),
    _count(
        "log_retention_days",
        30,
        1,
        3653,
        "retention of every log group",
        shape="a CloudWatch value: 1, 3, 5, 7, 14, 30, 60, 90, ...",
        shown_default="30, 365 in prod (by stage)",
    ),
    _key(
        "removal_policy",
        "choice",
        "destroy",
        "what happens to tables, keys, secrets and logs when the stack is deleted. Tables also get deletion "
        "protection outside dev",
        choices=REMOVAL_POLICIES,
        shown_default="`destroy` in dev, `retain` otherwise (by stage)",
    ),
    _key(
        "domain_name",
        "text",
        "",
        "serve the API at the root of this custom domain (with `certificate_arn`); the execute-api "
        "endpoint is then disabled",
        shape="a DNS name",
    ),
    _key(
        "certificate_arn",
        "text",
        "",
        "the custom domain's regional ACM certificate, in the stack's region (with `domain_name`)",
        shape="an ACM certificate ARN",
    ),
    _key(
        "waf",
        "bool",
        False,
        "a WAF web ACL: AWS managed common and known-bad-inputs rules (their body-inspecting rules only "
        "count on `/auth/` paths, so an attack-looking password still logs in), a per-IP rate rule on the "
        "public routes that take a password (`/auth/login`; never a signed-in call), and WAF logs in "
        "`aws-waf-logs-jwt-auth-<stage>` with the Authorization and Cookie headers redacted",
        shown_default="on in prod (by stage)",
    ),
    _key(
        "snap_start",
        "choice",
        "off",
        "Lambda SnapStart on published versions: `authorizer` (the function in front of every request), "
        "`all` or `off` (`true` and `false` mean `all` and `off`); API Gateway then invokes those "
        "functions' `live` alias (see docs/cost-and-performance.md for the price and effect). SnapStart is "
        "not offered in every region (AWS lists Asia Pacific (New Zealand) and (Taipei) as exceptions): set "
        "`off` there. Setting `provisioned_concurrency` turns the default off; asking for both stops "
        "synthesis",
        choices=SNAP_START,
        shown_default="`off` in dev, `authorizer` otherwise (by stage)",
    ),
    _key(
        "canary_release",
        "choice",
        "off",
        "release the authorizer, login and refresh through CodeDeploy on their `live` alias: `canary-10-*` "
        "sends 10 % of traffic first, the rest after that long; `linear-10-*` 10 % more at each step; "
        'automatic rollback on alarms and on a failed smoke check (see "Canary releases and rollback")',
        choices=CANARY_RELEASES,
    ),
    _count(
        "provisioned_concurrency",
        0,
        0,
        1000,
        "warm authorizer environments kept ready on the `live` alias (billed per hour whether used or "
        "not). Replaces the default `snap_start`; not with an explicit one",
    ),
    _count(
        "waf_rate_limit",
        300,
        10,
        2_000_000_000,
        "requests per IP per 5 minutes to the routes that take a password (`/auth/login`) before WAF "
        "blocks that IP there; an office behind one address shares it for logins only",
    ),
    _count(
        "waf_blocked_alarm_threshold",
        100,
        1,
        1_000_000_000,
        "requests WAF blocks in 5 minutes that raise the `waf-blocked` alarm",
    ),
    _key(
        "demo",
        "bool",
        True,
        "deploy the demo `/cars` routes and table",
        shown_default="on in dev (by stage)",
    ),
    _key("alarm_email", "text", "", "subscribe this address to the alarm topic", shape="an email address"),
    _count(
        "login_failure_alarm_threshold",
        50,
        1,
        1_000_000,
        "failed logins in 5 minutes that raise an alarm",
    ),
    _count(
        "new_device_alarm_threshold",
        20,
        1,
        1_000_000,
        "logins from a device and IP never seen for their user, in 5 minutes, that raise an alarm (each is "
        "flagged on its session and audit event)",
    ),
    _count(
        "server_error_alarm_threshold",
        5,
        1,
        1_000_000,
        "API 5xx responses in 5 minutes that raise an alarm",
    ),
)

# What the other stages change of the rows' (dev) defaults.
STAGE_DEFAULTS: Mapping[str, Mapping[str, Any]] = {
    "dev": {},
    "staging": {"removal_policy": "retain", "demo": False, "snap_start": "authorizer"},
    "prod": {
        "removal_policy": "retain",
        "log_retention_days": 365,
        "waf": True,
        "demo": False,
        "snap_start": "authorizer",
    },
}

DEPLOY_DEFAULTS: Mapping[str, Any] = {tunable.field: tunable.default for tunable in DEPLOY_TUNABLES}


def stage_default(field: str, stage: str) -> Any:
    """A row's default on `stage`."""
    return STAGE_DEFAULTS[stage].get(field, DEPLOY_DEFAULTS[field])

"""Deploy-time settings, read from CDK context (`-c name=value` or cdk.json) and validated at synth.

Every setting has a safe default; an unsafe or inconsistent value stops synthesis with a message
naming the context key. The functions' settings (lifetimes, lockout, origins, cookie, algorithm)
take their context key, default, range and cross-field rules from shared/config/tunables.py, the table the
functions read their environment with; what is only the stack's (stage, throttling, WAF, domain,
alarms, keys, ...) is here. No CDK import here: the values are plain data, testable on their own.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.config.parsing import CONTEXT, InvalidTunable, whole_number
from shared.config.passkey_origins import check_passkey_origins
from shared.config.tunables import AUDIENCE_PATTERN, DEFAULTS, IN_CONTEXT, read

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
AUTHORIZER = "authorizer"  # the authorizer function's name in the route declaration
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
_KEY_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]{0,31}$")
_DOMAIN = re.compile(r"^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_CERTIFICATE_ARN = re.compile(r"^arn:aws[a-z-]*:acm:([a-z0-9-]+):\d{12}:certificate/[A-Za-z0-9-]+$")


class ContextError(ValueError):
    """A CDK context value that would deploy an unsafe or broken service."""


@dataclass(frozen=True)
class DeployConfig:
    """The stack's own settings, named by their context keys, and in `functions` the functions'
    settings that have a context key (shared/config/tunables.py's IN_CONTEXT, where each one's name,
    default, range and rules are declared once), by context key: the stack writes them into the
    functions' environment (infra/lambdas.py) and reads a few itself (the properties below)."""

    stage: str = "dev"
    issuer: str = ""  # empty: the API's own URL
    audience: str = ""  # empty: jwt-auth-<stage>
    authorizer_cache_ttl: int = 0
    signing_keys: tuple[str, ...] = ("primary",)
    throttle_rate: int = 50
    throttle_burst: int = 100
    log_retention_days: int = 30
    removal_policy: str = "destroy"
    domain_name: str = ""
    certificate_arn: str = ""
    waf: bool = False
    waf_rate_limit: int = 300
    waf_blocked_alarm_threshold: int = 100
    demo: bool = True
    alarm_email: str = ""
    login_failure_alarm_threshold: int = 50
    server_error_alarm_threshold: int = 5
    new_device_alarm_threshold: int = 20
    snap_start: str = "off"
    provisioned_concurrency: int = 0
    api_gateway_cloudwatch_role: bool = True
    canary_release: str = "off"
    functions: Mapping[str, Any] = field(
        default_factory=lambda: {tunable.context: DEFAULTS[tunable.field] for tunable in IN_CONTEXT}
    )

    @property
    def allowed_origins(self) -> tuple[str, ...]:
        return tuple(self.functions["allowed_origins"])

    @property
    def cors_extra_headers(self) -> tuple[str, ...]:
        return tuple(self.functions["cors_extra_headers"])

    @property
    def signing_algorithm(self) -> str:
        return str(self.functions["signing_algorithm"])

    @property
    def mail_sender(self) -> str:
        return str(self.functions["mail_sender"])

    @property
    def mail_configuration_set(self) -> str:
        return str(self.functions["mail_configuration_set"])

    @property
    def deletion_protection(self) -> bool:
        return self.stage != "dev"

    @property
    def audience_value(self) -> str:
        return self.audience or f"jwt-auth-{self.stage}"

    def snap_start_for(self, function: str) -> bool:
        return self.snap_start == "all" or (self.snap_start == "authorizer" and function == AUTHORIZER)

    @property
    def uses_kms(self) -> bool:
        return self.signing_algorithm != "HS256"

    @property
    def certificate_region(self) -> str:
        match = _CERTIFICATE_ARN.fullmatch(self.certificate_arn)
        return match.group(1) if match else ""


def _defaults(stage: str) -> dict[str, Any]:
    prod = stage == "prod"
    return {
        "removal_policy": "destroy" if stage == "dev" else "retain",
        "log_retention_days": 365 if prod else 30,
        "waf": prod,
        "demo": stage == "dev",
        "snap_start": "off" if stage == "dev" else "authorizer",
    }


def _integer(name: str, raw: Any, low: int, high: int) -> int:
    try:
        return whole_number(f"context '{name}'", raw, low, high)
    except InvalidTunable as error:
        raise ContextError(str(error)) from None


def _boolean(name: str, raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    raise ContextError(f"context '{name}' must be true or false, got {raw!r}")


def _listing(raw: Any) -> tuple[str, ...]:
    items = raw if isinstance(raw, list | tuple) else str(raw).split(",")
    return tuple(str(item).strip() for item in items if str(item).strip())


def _choice(name: str, raw: Any, choices: tuple[str, ...]) -> str:
    value = str(raw).strip()
    if value not in choices:
        raise ContextError(f"context '{name}' must be one of {', '.join(choices)}, got {value!r}")
    return value


def _snap_start(raw: Any, default: str, provisioned: int) -> str:
    """The SnapStart choice. Provisioned concurrency (the authorizer's) replaces the default one,
    since Lambda does not allow both on one version; asked for together, they stop synthesis."""
    if raw is None:
        return "off" if provisioned else default
    legacy = {"true": "all", "false": "off"}
    choice = _choice("snap_start", legacy.get(str(raw).strip().lower(), raw), SNAP_START)
    if choice != "off" and provisioned:
        raise ContextError(
            f"context 'snap_start' ({choice}) and 'provisioned_concurrency' ({provisioned}) cannot go "
            "together: Lambda does not support provisioned concurrency on a SnapStart version, so the "
            "deploy would fail. Both shorten cold starts: choose one (docs/cost-and-performance.md "
            "compares them)."
        )
    return choice


def config_from_context(get: Callable[[str], Any]) -> DeployConfig:
    """Build and validate the deploy config; `get(name)` returns the context value or None."""
    stage = _choice("stage", get("stage") or "dev", STAGES)
    defaults = _defaults(stage)

    def value(name: str, default: Any) -> Any:
        raw = get(name)
        return default if raw is None or raw == "" else raw

    try:  # the functions' settings: the same parsing and cross-field rules as settings_from_env
        runtime = read(lambda tunable: get(tunable.context), CONTEXT, IN_CONTEXT)
        check_passkey_origins(
            runtime["webauthn_rp_id"], runtime["webauthn_origins"], runtime["allowed_origins"]
        )
    except InvalidTunable as error:
        raise ContextError(str(error)) from None
    algorithm = runtime["signing_algorithm"]
    access_ttl = runtime["access_token_ttl"]
    cache_ttl = _integer("authorizer_cache_ttl", value("authorizer_cache_ttl", 0), 0, 3600)
    if cache_ttl > access_ttl:
        raise ContextError(
            f"context 'authorizer_cache_ttl' ({cache_ttl} s) is longer than the access-token lifetime "
            f"'access_token_ttl' ({access_ttl} s): a cached Allow would outlive the token and hide "
            "logout and revocation for longer than any token lives. Use at most the access-token lifetime "
            "(0, the default, makes revocation immediate)."
        )
    signing_keys = _listing(value("signing_keys", "primary"))
    if not signing_keys:
        raise ContextError("context 'signing_keys' must name at least one key (the active one first)")
    for name in signing_keys:
        if not _KEY_NAME.fullmatch(name):
            raise ContextError(
                f"context 'signing_keys' entry {name!r} must be alphanumeric, at most 32 characters"
            )
    if len(set(signing_keys)) != len(signing_keys):
        raise ContextError("context 'signing_keys' names a key twice")
    throttle_rate = _integer("throttle_rate", value("throttle_rate", 50), 1, 10000)
    throttle_burst = _integer("throttle_burst", value("throttle_burst", 100), 1, 5000)
    retention = _integer(
        "log_retention_days", value("log_retention_days", defaults["log_retention_days"]), 1, 3653
    )
    if retention not in LOG_RETENTION_DAYS:
        raise ContextError(
            f"context 'log_retention_days' must be one of CloudWatch's values {LOG_RETENTION_DAYS}, "
            f"got {retention}"
        )
    domain_name = str(value("domain_name", "")).strip().lower()
    certificate_arn = str(value("certificate_arn", "")).strip()
    if domain_name and not _DOMAIN.fullmatch(domain_name):
        raise ContextError(f"context 'domain_name' {domain_name!r} is not a DNS name")
    if bool(domain_name) != bool(certificate_arn):
        raise ContextError("context 'domain_name' and 'certificate_arn' go together: give both or neither")
    if certificate_arn and not _CERTIFICATE_ARN.fullmatch(certificate_arn):
        raise ContextError(f"context 'certificate_arn' {certificate_arn!r} is not an ACM certificate ARN")
    issuer = str(value("issuer", "")).strip()
    if issuer and not re.fullmatch(r"https://[^\s/]+(/[^\s]*)?", issuer):
        raise ContextError(f"context 'issuer' {issuer!r} must be an https URL")
    audience = str(value("audience", "")).strip()
    if audience and not re.fullmatch(AUDIENCE_PATTERN, audience):
        raise ContextError(f"context 'audience' {audience!r} must be a plain identifier or URL")
    alarm_email = str(value("alarm_email", "")).strip()
    if alarm_email and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", alarm_email):
        raise ContextError(f"context 'alarm_email' {alarm_email!r} is not an email address")
    provisioned = _integer("provisioned_concurrency", value("provisioned_concurrency", 0), 0, 1000)
    snap_start = _snap_start(get("snap_start"), defaults["snap_start"], provisioned)
    return DeployConfig(
        functions={tunable.context: runtime[tunable.field] for tunable in IN_CONTEXT},
        stage=stage,
        issuer=issuer,
        audience=audience,
        authorizer_cache_ttl=cache_ttl,
        signing_keys=signing_keys if algorithm != "HS256" else (),
        throttle_rate=throttle_rate,
        throttle_burst=throttle_burst,
        log_retention_days=retention,
        removal_policy=_choice(
            "removal_policy", value("removal_policy", defaults["removal_policy"]), REMOVAL_POLICIES
        ),
        domain_name=domain_name,
        certificate_arn=certificate_arn,
        waf=_boolean("waf", value("waf", defaults["waf"])),
        waf_rate_limit=_integer("waf_rate_limit", value("waf_rate_limit", 300), 10, 2_000_000_000),
        waf_blocked_alarm_threshold=_integer(
            "waf_blocked_alarm_threshold", value("waf_blocked_alarm_threshold", 100), 1, 1_000_000_000
        ),
        demo=_boolean("demo", value("demo", defaults["demo"])),
        alarm_email=alarm_email,
        login_failure_alarm_threshold=_integer(
            "login_failure_alarm_threshold", value("login_failure_alarm_threshold", 50), 1, 1_000_000
        ),
        server_error_alarm_threshold=_integer(
            "server_error_alarm_threshold", value("server_error_alarm_threshold", 5), 1, 1_000_000
        ),
        new_device_alarm_threshold=_integer(
            "new_device_alarm_threshold", value("new_device_alarm_threshold", 20), 1, 1_000_000
        ),
        snap_start=snap_start,
        provisioned_concurrency=provisioned,
        api_gateway_cloudwatch_role=_boolean(
            "api_gateway_cloudwatch_role", value("api_gateway_cloudwatch_role", True)
        ),
        canary_release=_choice("canary_release", value("canary_release", "off"), CANARY_RELEASES),
    )

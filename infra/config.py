"""Deploy-time settings, read from CDK context (`-c name=value` or cdk.json) and validated at synth.

Every setting has a safe default; an unsafe or inconsistent value stops synthesis with a message
naming the context key. The functions' settings (lifetimes, lockout, origins, cookie, algorithm)
take their context key, default, range and cross-field rules from shared/config/tunables.py, the table the
functions read their environment with; what is only the stack's (stage, throttling, WAF, domain,
alarms, keys, ...) has its rows in shared/config/deploy_tunables.py, parsed by the same code, and
the checks no row expresses are here. No CDK import here: the values are plain data, testable on
their own.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from shared.config.deploy_tunables import (
    CANARY_RELEASES,
    DEPLOY_DEFAULTS,
    DEPLOY_TUNABLES,
    LOG_RETENTION_DAYS,
    STAGES,
    stage_default,
)
from shared.config.parsing import CONTEXT, InvalidTunable, Tunable, parse
from shared.config.passkey_origins import check_passkey_origins
from shared.config.tunables import AS_DEPLOYED, AUDIENCE_PATTERN, IN_CONTEXT, STACK_DEFAULTS, read

__all__ = [
    "AUTHORIZER",
    "CANARY_RELEASES",
    "LOG_RETENTION_DAYS",
    "STAGES",
    "ContextError",
    "DeployConfig",
    "config_from_context",
]

AUTHORIZER = "authorizer"  # the authorizer function's name in the route declaration
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

    stage: str = DEPLOY_DEFAULTS["stage"]
    issuer: str = DEPLOY_DEFAULTS["issuer"]  # empty: the API's own URL
    audience: str = DEPLOY_DEFAULTS["audience"]  # empty: jwt-auth-<stage>
    authorizer_cache_ttl: int = DEPLOY_DEFAULTS["authorizer_cache_ttl"]
    signing_keys: tuple[str, ...] = DEPLOY_DEFAULTS["signing_keys"]
    throttle_rate: int = DEPLOY_DEFAULTS["throttle_rate"]
    throttle_burst: int = DEPLOY_DEFAULTS["throttle_burst"]
    log_retention_days: int = DEPLOY_DEFAULTS["log_retention_days"]
    removal_policy: str = DEPLOY_DEFAULTS["removal_policy"]
    domain_name: str = DEPLOY_DEFAULTS["domain_name"]
    certificate_arn: str = DEPLOY_DEFAULTS["certificate_arn"]
    waf: bool = DEPLOY_DEFAULTS["waf"]
    waf_rate_limit: int = DEPLOY_DEFAULTS["waf_rate_limit"]
    waf_blocked_alarm_threshold: int = DEPLOY_DEFAULTS["waf_blocked_alarm_threshold"]
    demo: bool = DEPLOY_DEFAULTS["demo"]
    alarm_email: str = DEPLOY_DEFAULTS["alarm_email"]
    login_failure_alarm_threshold: int = DEPLOY_DEFAULTS["login_failure_alarm_threshold"]
    server_error_alarm_threshold: int = DEPLOY_DEFAULTS["server_error_alarm_threshold"]
    new_device_alarm_threshold: int = DEPLOY_DEFAULTS["new_device_alarm_threshold"]
    snap_start: str = DEPLOY_DEFAULTS["snap_start"]
    provisioned_concurrency: int = DEPLOY_DEFAULTS["provisioned_concurrency"]
    api_gateway_cloudwatch_role: bool = DEPLOY_DEFAULTS["api_gateway_cloudwatch_role"]
    canary_release: str = DEPLOY_DEFAULTS["canary_release"]
    functions: Mapping[str, Any] = field(
        default_factory=lambda: {tunable.context: STACK_DEFAULTS[tunable.field] for tunable in IN_CONTEXT}
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


def _snap_start(raw: Any, given: bool, default: str, provisioned: int) -> str:
    """The SnapStart choice. Provisioned concurrency (the authorizer's) replaces the default one,
    since Lambda does not allow both on one version; asked for together, they stop synthesis."""
    if not given:
        return "off" if provisioned else default
    if raw != "off" and provisioned:
        raise ContextError(
            f"context 'snap_start' ({raw}) and 'provisioned_concurrency' ({provisioned}) cannot go "
            "together: Lambda does not support provisioned concurrency on a SnapStart version, so the "
            "deploy would fail. Both shorten cold starts: choose one (docs/cost-and-performance.md "
            "compares them)."
        )
    return str(raw)


_LEGACY_SNAP_START = {"true": "all", "false": "off"}


def _raw(get: Callable[[str], Any], tunable: Tunable) -> Any:
    value = get(tunable.context)
    if tunable.field == "stage":
        return value or None
    if tunable.field == "snap_start" and value is not None:
        # given, even empty: an empty choice is refused (" " parses as the empty text it strips to)
        choice = _LEGACY_SNAP_START.get(str(value).strip().lower(), value)
        return " " if choice == "" else choice
    return value


def _stack_settings(get: Callable[[str], Any]) -> dict[str, Any]:
    """The stack's own keys (shared/config/deploy_tunables.py), each parsed as the functions' are,
    with the stage's defaults (the stage first, then the functions' settings, then the rest)."""
    stage_row, *rows = DEPLOY_TUNABLES
    stage = parse(stage_row, _raw(get, stage_row), CONTEXT, blank_is_default=False)
    runtime = read(lambda tunable: get(tunable.context), CONTEXT, AS_DEPLOYED)
    check_passkey_origins(runtime["webauthn_rp_id"], runtime["webauthn_origins"], runtime["allowed_origins"])
    values = {
        "stage": stage,
        "functions": {tunable.context: runtime[tunable.field] for tunable in IN_CONTEXT},
    }
    for tunable in rows:
        default = stage_default(tunable.field, stage)
        row = replace(tunable, default=default)
        values[tunable.field] = parse(row, _raw(get, tunable), CONTEXT, blank_is_default=False)
    return values


def config_from_context(get: Callable[[str], Any]) -> DeployConfig:
    """Build and validate the deploy config; `get(name)` returns the context value or None."""
    try:  # the same parsing as settings_from_env, and for the functions' settings the same rules
        stack = _stack_settings(get)
    except InvalidTunable as error:
        raise ContextError(str(error)) from None
    access_ttl = stack["functions"]["access_token_ttl"]
    cache_ttl = stack["authorizer_cache_ttl"]
    if cache_ttl > access_ttl:
        raise ContextError(
            f"context 'authorizer_cache_ttl' ({cache_ttl} s) is longer than the access-token lifetime "
            f"'access_token_ttl' ({access_ttl} s): a cached Allow would outlive the token and hide "
            "logout and revocation for longer than any token lives. Use at most the access-token lifetime "
            "(0, the default, makes revocation immediate)."
        )
    signing_keys = stack["signing_keys"]
    if not signing_keys:
        raise ContextError("context 'signing_keys' must name at least one key (the active one first)")
    for name in signing_keys:
        if not _KEY_NAME.fullmatch(name):
            raise ContextError(
                f"context 'signing_keys' entry {name!r} must be alphanumeric, at most 32 characters"
            )
    if len(set(signing_keys)) != len(signing_keys):
        raise ContextError("context 'signing_keys' names a key twice")
    if stack["functions"]["signing_algorithm"] == "HS256":
        stack["signing_keys"] = ()
    retention = stack["log_retention_days"]
    if retention not in LOG_RETENTION_DAYS:
        raise ContextError(
            f"context 'log_retention_days' must be one of CloudWatch's values {LOG_RETENTION_DAYS}, "
            f"got {retention}"
        )
    domain_name = stack["domain_name"] = stack["domain_name"].lower()
    certificate_arn = stack["certificate_arn"]
    if domain_name and not _DOMAIN.fullmatch(domain_name):
        raise ContextError(f"context 'domain_name' {domain_name!r} is not a DNS name")
    if bool(domain_name) != bool(certificate_arn):
        raise ContextError("context 'domain_name' and 'certificate_arn' go together: give both or neither")
    if certificate_arn and not _CERTIFICATE_ARN.fullmatch(certificate_arn):
        raise ContextError(f"context 'certificate_arn' {certificate_arn!r} is not an ACM certificate ARN")
    issuer = stack["issuer"]
    if issuer and not re.fullmatch(r"https://[^\s/]+(/[^\s]*)?", issuer):
        raise ContextError(f"context 'issuer' {issuer!r} must be an https URL")
    audience = stack["audience"]
    if audience and not re.fullmatch(AUDIENCE_PATTERN, audience):
        raise ContextError(f"context 'audience' {audience!r} must be a plain identifier or URL")
    alarm_email = stack["alarm_email"]
    if alarm_email and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", alarm_email):
        raise ContextError(f"context 'alarm_email' {alarm_email!r} is not an email address")
    stack["snap_start"] = _snap_start(
        stack["snap_start"],
        get("snap_start") is not None,
        stage_default("snap_start", stack["stage"]),
        stack["provisioned_concurrency"],
    )
    return DeployConfig(**stack)

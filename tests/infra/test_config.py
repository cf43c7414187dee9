"""Deploy-time settings from CDK context: safe defaults, and synthesis stops on unsafe values."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest

from infra.app import build_app
from infra.config import ContextError, config_from_context
from infra.lambdas import settings_environment
from shared.config.parsing import Tunable
from shared.config.settings import settings_from_env
from shared.config.tunables import IN_CONTEXT, TUNABLES


def config(**context: Any):  # type: ignore[no-untyped-def]
    return config_from_context(context.get)


def test_defaults_are_safe_for_dev() -> None:
    dev = config()
    assert (
        dev.stage,
        dev.authorizer_cache_ttl,
        dev.signing_algorithm,
        dev.functions["access_token_ttl"],
    ) == (
        "dev",
        0,
        "RS256",
        900,
    )
    assert dev.demo and not dev.waf and not dev.deletion_protection and dev.removal_policy == "destroy"


def test_prod_defaults_turn_on_waf_and_retention_and_turn_off_demo_routes() -> None:
    prod = config(stage="prod")
    assert prod.waf and not prod.demo and prod.deletion_protection
    assert prod.removal_policy == "retain" and prod.log_retention_days == 365


def test_authorizer_cache_ttl_longer_than_the_access_token_lifetime_stops_synthesis() -> None:
    app = cdk.App(context={"authorizer_cache_ttl": "901", "access_token_ttl": "900"})
    with pytest.raises(
        ContextError, match=r"authorizer_cache_ttl.*\(901 s\) is longer than .*access_token_ttl.*\(900 s\)"
    ):
        build_app(app)


def test_authorizer_cache_ttl_equal_to_the_access_token_lifetime_is_accepted() -> None:
    assert config(authorizer_cache_ttl="300", access_token_ttl="300").authorizer_cache_ttl == 300


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"allowed_origins": "*"}, "'\\*' is never allowed"),
        ({"allowed_origins": "http://app.example.com"}, "https://host"),
        ({"allowed_origins": "https://app.example.com/"}, "no path or trailing"),
        ({"signing_algorithm": "none"}, "signing_algorithm"),
        ({"refresh_grace_seconds": "61"}, "refresh_grace_seconds"),
        ({"refresh_idle_ttl": "90000", "session_max_ttl": "3600"}, "refresh_idle_ttl"),
        ({"domain_name": "auth.example.com"}, "go together"),
        ({"domain_name": "auth.example.com", "certificate_arn": "nope"}, "ACM certificate"),
        ({"log_retention_days": "10"}, "log_retention_days"),
        ({"throttle_rate": "0"}, "throttle_rate"),
        ({"stage": "qa"}, "stage"),
        ({"waf": "maybe"}, "waf"),
        ({"issuer": "http://insecure.example.com"}, "https URL"),
        ({"signing_keys": "a,a"}, "twice"),
        ({"access_token_ttl": "abc"}, "whole number"),
        ({"lockout_window_seconds": "900"}, "must exceed 'lockout_max_seconds'"),
    ],
)
def test_unsafe_context_values_stop_synthesis_naming_the_setting(
    context: dict[str, str], message: str
) -> None:
    with pytest.raises(ContextError, match=message):
        config(**context)


def test_context_lists_accept_comma_strings_and_json_lists() -> None:
    assert config(allowed_origins=["https://a.example.com", "https://b.example.com"]).allowed_origins == (
        "https://a.example.com",
        "https://b.example.com",
    )
    assert config(signing_keys="k2, k1").signing_keys == ("k2", "k1")


def test_hs256_mode_creates_no_kms_signing_key() -> None:
    assert config(signing_algorithm="HS256").signing_keys == ()


def _another_value(tunable: Tunable) -> Any:
    """A valid value other than the default, as CDK context would give it."""
    if tunable.example is not None:
        return list(tunable.example) if isinstance(tunable.example, tuple) else tunable.example
    if tunable.kind == "int":
        return tunable.default + 1 if tunable.default < tunable.high else tunable.default - 1
    if tunable.kind == "choice":
        return next(choice for choice in tunable.choices if choice != tunable.default)
    if tunable.kind == "origins":
        return ["https://app.example.com", "http://localhost:3001"]
    if tunable.kind == "list":
        return ["traceparent", "baggage"]
    return "another_name"


@pytest.mark.parametrize("tunable", IN_CONTEXT, ids=lambda tunable: tunable.context)
def test_every_context_key_of_a_tunable_reaches_the_functions_settings(tunable: Tunable) -> None:
    raw = _another_value(tunable)
    # a relying-party id needs an origin on it (the frontend's, among the allowed origins)
    companion = {"allowed_origins": "https://app.example.com"} if tunable.context == "webauthn_rp_id" else {}
    deployed = config(**{tunable.context: raw}, **companion)
    env = settings_environment(deployed, issuer="https://auth.example.com")
    resources = {
        "USERS_TABLE": "u",
        "SESSIONS_TABLE": "s",
        "DENYLIST_TABLE": "d",
        "SIGNING_KEY_IDS": "k",
        "HS256_SECRET_ARN": "h",
        "REFRESH_KEY_SECRET_ARN": "r",
    }
    settings = settings_from_env({**resources, **env})
    expected = tuple(raw) if isinstance(raw, list) else raw
    assert deployed.functions[tunable.context] == getattr(settings, tunable.field) == expected


def test_the_stack_writes_one_variable_per_tunable_with_a_context_key() -> None:
    env = settings_environment(config(), issuer="https://auth.example.com")
    written = {name for name in env if not name.startswith("POWERTOOLS_")}
    assert {tunable.env for tunable in IN_CONTEXT} <= written <= {tunable.env for tunable in TUNABLES}


def test_passkey_origins_must_be_on_the_relying_party_id() -> None:
    with pytest.raises(ContextError, match=r"WEBAUTHN_ORIGINS.*'example.com'.*https://evil.example"):
        config(webauthn_rp_id="example.com", webauthn_origins="https://app.example.com,https://evil.example")
    with pytest.raises(ContextError, match=r"no origin is on it"):
        config(webauthn_rp_id="example.com", allowed_origins="https://app.other.example")
    with pytest.raises(ContextError, match=r"webauthn_rp_id"):
        config(webauthn_rp_id="127.0.0.1")
    chosen = config(webauthn_rp_id="example.com", allowed_origins="https://app.example.com,https://x.test")
    assert chosen.functions["webauthn_rp_id"] == "example.com" and chosen.functions["webauthn_origins"] == ()


def test_snap_start_with_provisioned_concurrency_stops_synthesis_with_a_clear_error() -> None:
    """Lambda refuses provisioned concurrency on a SnapStart version: the deploy would fail midway."""
    app = cdk.App(context={"snap_start": "true", "provisioned_concurrency": "2"})
    with pytest.raises(ContextError, match=r"'snap_start'.*'provisioned_concurrency'.*choose one"):
        build_app(app)


def test_either_cold_start_lever_alone_is_accepted() -> None:
    assert config(snap_start="true").snap_start == "all"
    assert config(snap_start="false").snap_start == "off"
    assert config(provisioned_concurrency="2").provisioned_concurrency == 2


@pytest.mark.parametrize(
    ("stage", "expected"), [("dev", "off"), ("staging", "authorizer"), ("prod", "authorizer")]
)
def test_snap_start_is_on_for_the_authorizer_alone_by_default_outside_dev(stage: str, expected: str) -> None:
    deployed = config(stage=stage)
    assert deployed.snap_start == expected
    assert deployed.snap_start_for("authorizer") == (expected == "authorizer")
    assert not deployed.snap_start_for("login")


def test_provisioned_concurrency_replaces_the_default_snap_start_but_not_an_explicit_one() -> None:
    assert config(stage="prod", provisioned_concurrency="2").snap_start == "off"
    with pytest.raises(ContextError, match=r"'snap_start' \(authorizer\).*'provisioned_concurrency'"):
        config(stage="prod", snap_start="authorizer", provisioned_concurrency="2")


def test_an_unknown_snap_start_choice_is_refused_with_the_choices_named() -> None:
    with pytest.raises(ContextError, match=r"'snap_start' must be one of authorizer, all, off"):
        config(snap_start="sometimes")


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"throttle_rate": "  "}, "'throttle_rate' must be a whole number"),
        ({"waf": []}, "'waf' must be true or false"),
        ({"removal_policy": " "}, "'removal_policy' must be one of destroy, retain"),
        ({"signing_keys": " , "}, "'signing_keys' must name at least one key"),
        ({"snap_start": ""}, "'snap_start' must be one of authorizer, all, off"),
    ],
)
def test_a_blank_stack_setting_is_refused_not_taken_as_its_default(
    context: dict[str, Any], message: str
) -> None:
    with pytest.raises(ContextError, match=message):
        config(**context)
    assert config(throttle_rate="").throttle_rate == 50 and config(stage="").stage == "dev"


def test_23_7_the_stack_turns_the_breached_password_check_on_fail_open_by_default() -> None:
    """Deployed functions reach the internet (they run outside any VPC), so the range API is asked;
    the local API and the tests leave the variable unset, which is off (shared/config/account_tunables.py)."""
    for stage in ("dev", "prod"):
        env = settings_environment(config(stage=stage), issuer="https://auth.example.com")
        assert env["PWNED_PASSWORDS"] == "fail-open", stage
    env = settings_environment(config(pwned_passwords="off"), issuer="https://auth.example.com")
    assert env["PWNED_PASSWORDS"] == "off"

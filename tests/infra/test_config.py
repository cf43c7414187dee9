"""Deploy-time settings from CDK context: safe defaults, and synthesis stops on unsafe values."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest

from infra.app import build_app
from infra.config import ContextError, config_from_context


def config(**context: Any):  # type: ignore[no-untyped-def]
    return config_from_context(context.get)


def test_defaults_are_safe_for_dev() -> None:
    dev = config()
    assert (dev.stage, dev.authorizer_cache_ttl, dev.signing_algorithm, dev.access_token_ttl) == (
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

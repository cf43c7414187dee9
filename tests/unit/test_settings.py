"""The one settings object: safe defaults, and a clear refusal to start on a missing or unsafe value
(docs/hostile-inputs.md entry 30 among them)."""

from __future__ import annotations

import pytest
from moto import mock_aws

from shared.config.settings import settings_from_env
from shared.core.errors import ConfigurationError

BASE = {
    "USERS_TABLE": "users",
    "SESSIONS_TABLE": "sessions",
    "DENYLIST_TABLE": "denylist",
    "ISSUER": "https://auth.example.com",
    "AUDIENCE": "example-api",
    "SIGNING_KEY_IDS": "key-1",
    "REFRESH_KEY_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:refresh",
}


def test_defaults_follow_the_design() -> None:
    settings = settings_from_env(BASE)
    assert settings.signing_algorithm == "RS256"
    assert settings.access_token_ttl == 900
    assert settings.refresh_idle_ttl == 7 * 24 * 3600
    assert settings.session_max_ttl == 30 * 24 * 3600
    assert settings.refresh_grace_seconds == 10
    assert settings.signing_key_ids == ("key-1",)


@pytest.mark.parametrize("missing", sorted(BASE))
def test_a_missing_required_setting_stops_start_up_naming_it(missing: str) -> None:
    env = {name: value for name, value in BASE.items() if name != missing}
    with pytest.raises(ConfigurationError, match=missing):
        settings_from_env(env)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("REFRESH_GRACE_SECONDS", "61"),
        ("REFRESH_GRACE_SECONDS", "ten"),
        ("ACCESS_TOKEN_TTL_SECONDS", "86400"),
        ("SIGNING_ALGORITHM", "none"),
        ("SIGNING_ALGORITHM", "HS512"),
        ("ALLOWED_ORIGINS", "*"),
        ("ALLOWED_ORIGINS", "http://evil.example"),
        ("ALLOWED_ORIGINS", "https://app.example.com/"),
        ("COOKIE_SAME_SITE", "Sometimes"),
        ("LOCKOUT_WINDOW_SECONDS", "600"),
        ("REFRESH_IDLE_TTL_SECONDS", str(400 * 24 * 3600)),
    ],
)
def test_unsafe_values_stop_start_up_naming_the_setting(name: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=name):
        settings_from_env({**BASE, name: value})


def test_a_lockout_base_longer_than_the_lockout_max_stops_start_up_as_it_stops_synthesis() -> None:
    # The stack has always refused this (context 'lockout_base_seconds'); the functions accepted it.
    with pytest.raises(ConfigurationError, match=r"LOCKOUT_BASE_SECONDS.*LOCKOUT_MAX_SECONDS"):
        settings_from_env({**BASE, "LOCKOUT_BASE_SECONDS": "1000", "LOCKOUT_MAX_SECONDS": "900"})
    equal = settings_from_env({**BASE, "LOCKOUT_BASE_SECONDS": "900", "LOCKOUT_MAX_SECONDS": "900"})
    assert (equal.lockout_base_seconds, equal.lockout_max_seconds) == (900, 900)


def test_30_hs256_without_a_secret_refuses_to_start() -> None:
    env = {name: value for name, value in BASE.items() if name != "SIGNING_KEY_IDS"}
    with pytest.raises(ConfigurationError, match="HS256_SECRET_ARN"):
        settings_from_env({**env, "SIGNING_ALGORITHM": "HS256"})


@pytest.mark.parametrize("secret", ["", "short", "x" * 31])
def test_30_hs256_secret_shorter_than_32_bytes_refuses_to_start(secret: str) -> None:
    import boto3

    from shared.core import aws
    from shared.credentials import signing

    with mock_aws():
        aws.reset_clients()
        signing.forget_keys()
        manager = boto3.client("secretsmanager", region_name="us-east-1")
        arn = (
            manager.create_secret(Name="hs", SecretString=secret)["ARN"]
            if secret
            else manager.create_secret(Name="hs", SecretBinary=b"\x00")["ARN"]
        )
        settings = settings_from_env({**BASE, "SIGNING_ALGORITHM": "HS256", "HS256_SECRET_ARN": arn})
        with pytest.raises(ConfigurationError, match=r"HS256_SECRET_ARN|no string value"):
            signing.key_set(settings)
    aws.reset_clients()
    signing.forget_keys()


def test_30_a_32_byte_hs256_secret_is_accepted_and_never_published() -> None:
    import boto3

    from shared.core import aws
    from shared.credentials import signing

    with mock_aws():
        aws.reset_clients()
        signing.forget_keys()
        arn = boto3.client("secretsmanager", region_name="us-east-1").create_secret(
            Name="hs", SecretString="k" * 32
        )["ARN"]
        settings = settings_from_env({**BASE, "SIGNING_ALGORITHM": "HS256", "HS256_SECRET_ARN": arn})
        keys = signing.key_set(settings)
        assert keys.signer.algorithm == "HS256"
        assert keys.jwks() == {"keys": []}
    aws.reset_clients()
    signing.forget_keys()


def test_handlers_refuse_to_import_with_a_broken_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib
    import sys

    from shared.config.settings import get_settings

    monkeypatch.setenv("REFRESH_GRACE_SECONDS", "600")
    get_settings.cache_clear()
    sys.modules.pop("functions.login.handler", None)
    with pytest.raises(ConfigurationError, match="REFRESH_GRACE_SECONDS"):
        importlib.import_module("functions.login.handler")
    monkeypatch.delenv("REFRESH_GRACE_SECONDS")
    get_settings.cache_clear()
    importlib.import_module("functions.login.handler")

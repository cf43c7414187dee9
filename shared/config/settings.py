"""The one typed settings object, read once from the environment.

Every function gets the same environment; a missing or unsafe value stops start-up with a
ConfigurationError that names the variable.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass

from shared.config.parsing import ENVIRONMENT, InvalidTunable
from shared.config.passkey_origins import check_passkey_origins, passkey_origins
from shared.config.tunables import (
    BY_FIELD,
    DEFAULT_ROUTES_FILE,
    DEFAULTS,
    TUNABLES,
    read,
)
from shared.core.errors import ConfigurationError

__all__ = [
    "DEFAULT_ROUTES_FILE",
    "MAX_GRACE_SECONDS",
    "SIGNING_ALGORITHMS",
    "Settings",
    "get_settings",
    "settings_from_env",
]

SIGNING_ALGORITHMS = BY_FIELD["signing_algorithm"].choices
MAX_GRACE_SECONDS = BY_FIELD["refresh_grace_seconds"].high
# What every browser call may send; CORS_EXTRA_HEADERS adds more (tracing headers).
CORS_ALLOW_HEADERS = ("Authorization", "Content-Type", "X-Token-Transport")


@dataclass(frozen=True)
class Settings:
    """Field names are shared/config/tunables.py's `field`s; defaults, ranges and docs live there."""

    users_table: str
    sessions_table: str
    denylist_table: str
    issuer: str
    audience: str
    signing_algorithm: str
    signing_key_ids: tuple[str, ...]
    hs256_secret_arn: str
    refresh_key_secret_arn: str
    access_token_ttl: int = DEFAULTS["access_token_ttl"]
    refresh_idle_ttl: int = DEFAULTS["refresh_idle_ttl"]
    session_max_ttl: int = DEFAULTS["session_max_ttl"]
    refresh_grace_seconds: int = DEFAULTS["refresh_grace_seconds"]
    clock_leeway: int = DEFAULTS["clock_leeway"]
    lockout_threshold: int = DEFAULTS["lockout_threshold"]
    lockout_account_threshold: int = DEFAULTS["lockout_account_threshold"]
    lockout_base_seconds: int = DEFAULTS["lockout_base_seconds"]
    lockout_max_seconds: int = DEFAULTS["lockout_max_seconds"]
    lockout_window_seconds: int = DEFAULTS["lockout_window_seconds"]
    mfa_failure_limit: int = DEFAULTS["mfa_failure_limit"]
    stuffing_threshold: int = DEFAULTS["stuffing_threshold"]
    stuffing_window_seconds: int = DEFAULTS["stuffing_window_seconds"]
    extra_audiences: tuple[str, ...] = DEFAULTS["extra_audiences"]
    client_id: str = DEFAULTS["client_id"]
    allowed_origins: tuple[str, ...] = DEFAULTS["allowed_origins"]
    cors_extra_headers: tuple[str, ...] = DEFAULTS["cors_extra_headers"]
    refresh_cookie_name: str = DEFAULTS["refresh_cookie_name"]
    cookie_same_site: str = DEFAULTS["cookie_same_site"]
    routes_file: str = DEFAULTS["routes_file"]
    cars_table: str = DEFAULTS["cars_table"]  # the demo /cars routes only
    pwned_passwords: str = DEFAULTS["pwned_passwords"]
    pwned_passwords_url: str = DEFAULTS["pwned_passwords_url"]
    pwned_passwords_timeout_ms: int = DEFAULTS["pwned_passwords_timeout_ms"]
    password_context_words: tuple[str, ...] = DEFAULTS["password_context_words"]
    mail_sender: str = DEFAULTS["mail_sender"]
    mail_configuration_set: str = DEFAULTS["mail_configuration_set"]
    frontend_url: str = DEFAULTS["frontend_url"]
    invitation_ttl: int = DEFAULTS["invitation_ttl"]
    reset_link_ttl: int = DEFAULTS["reset_link_ttl"]
    forgot_password_threshold: int = DEFAULTS["forgot_password_threshold"]
    forgot_password_account_threshold: int = DEFAULTS["forgot_password_account_threshold"]
    forgot_password_ip_threshold: int = DEFAULTS["forgot_password_ip_threshold"]
    forgot_password_min_ms: int = DEFAULTS["forgot_password_min_ms"]
    reset_emails_per_day: int = DEFAULTS["reset_emails_per_day"]
    notifications: tuple[str, ...] = DEFAULTS["notifications"]
    factor_key_id: str = DEFAULTS["factor_key_id"]
    mfa_challenge_ttl: int = DEFAULTS["mfa_challenge_ttl"]
    mfa_required_types: tuple[str, ...] = DEFAULTS["mfa_required_types"]
    totp_issuer: str = DEFAULTS["totp_issuer"]
    webauthn_rp_id: str = DEFAULTS["webauthn_rp_id"]
    webauthn_rp_name: str = DEFAULTS["webauthn_rp_name"]
    webauthn_origins: tuple[str, ...] = DEFAULTS["webauthn_origins"]
    passkey_challenge_ttl: int = DEFAULTS["passkey_challenge_ttl"]
    factor_change_max_age: int = DEFAULTS["factor_change_max_age"]

    @property
    def refresh_cookie_path(self) -> str:
        """`__Host-` cookies must have Path=/ (so no sibling subdomain can plant one); any other
        name is scoped to the /auth routes."""
        return "/" if self.refresh_cookie_name.startswith("__Host-") else "/auth"

    @property
    def cors_allow_headers(self) -> str:
        """What a CORS preflight allows a browser to send."""
        return ",".join((*CORS_ALLOW_HEADERS, *self.cors_extra_headers))

    @property
    def uses_kms(self) -> bool:
        return self.signing_algorithm in ("RS256", "ES256")

    @property
    def passkey_origins(self) -> tuple[str, ...]:
        """Where passkey ceremonies may run (empty: passkeys off)."""
        return passkey_origins(self.webauthn_rp_id, self.webauthn_origins, self.allowed_origins)


def settings_from_env(env: Mapping[str, str]) -> Settings:
    """Every variable of shared/config/tunables.py parsed once, the rules between them checked."""
    try:
        values = read(lambda tunable: env.get(tunable.env), ENVIRONMENT, TUNABLES)
    except InvalidTunable as error:
        raise ConfigurationError(str(error)) from None
    # The signing material must match the algorithm; the other mode's variable is ignored.
    if values["signing_algorithm"] == "HS256":
        if not values["hs256_secret_arn"]:
            raise ConfigurationError("HS256_SECRET_ARN is required but not set (SIGNING_ALGORITHM is HS256)")
        values["signing_key_ids"] = ()
    else:
        if not values["signing_key_ids"]:
            raise ConfigurationError("SIGNING_KEY_IDS is required: the KMS key ids, active signing key first")
        values["hs256_secret_arn"] = ""  # empty: no HS256 secret in KMS modes
    try:
        check_passkey_origins(values["webauthn_rp_id"], values["webauthn_origins"], values["allowed_origins"])
    except InvalidTunable as error:
        raise ConfigurationError(str(error)) from None
    return Settings(**values)


@functools.cache
def get_settings() -> Settings:
    return settings_from_env(os.environ)

"""Rotating the refresh-derivation key and the HS256 secret never logs anyone out (issue 12.7).

Secrets Manager keeps the rotated-out value as AWSPREVIOUS. Every container accepts both (the
current key derives new successors and signs; the previous one still recognises successors derived
and tokens signed before), re-reads them within SECRET_CACHE_SECONDS, and reads them at once when a
just-rotated parent's successor matches none of the keys it knows."""

from __future__ import annotations

import secrets
import time

import boto3
import pytest

from shared.credentials import signing
from shared.runtime.services import Services
from tests.events import body_of
from tests.fixtures import Accounts, audit_events
from tests.flows import is_authorized, refresh, staff_login

STAFF = "staff@dealership.example"


def _rotate(secret_arn: str) -> None:
    boto3.client("secretsmanager").put_secret_value(
        SecretId=secret_arn, SecretString=secrets.token_urlsafe(48)
    )


def _containers_on_the_old_key(services: Services, keys: tuple[bytes, ...]) -> None:
    """A container that read the keys before the rotation and has not re-read them yet."""
    signing._refresh_keys[services.settings.refresh_key_secret_arn] = (keys, time.monotonic())


def test_a_refresh_key_rotation_in_the_middle_of_a_refresh_burst_loses_no_session_and_reports_no_theft(
    services: Services, accounts: Accounts, caplog: pytest.LogCaptureFixture
) -> None:
    old_keys = services.refresh_keys()
    sessions = [staff_login() for _ in range(5)]
    parents = [tokens["refresh_token"] for tokens in sessions]
    children = [body_of(refresh(parent))["refresh_token"] for parent in parents]  # derived with the old key

    _rotate(services.settings.refresh_key_secret_arn)
    signing.forget_keys()  # a new container: current = new key, previous = old key
    assert services.refresh_keys()[1:] == old_keys[:1]

    # Lost responses retried on the new container: the same child, from the previous key.
    for parent, child in zip(parents, children, strict=True):
        retried = refresh(parent)
        assert retried["statusCode"] == 200 and body_of(retried)["refresh_token"] == child

    # The new container rotates; the retry lands on a container still on the old key alone.
    grandchildren = [body_of(refresh(child))["refresh_token"] for child in children]
    _containers_on_the_old_key(services, old_keys)
    for child, grandchild in zip(children, grandchildren, strict=True):
        retried = refresh(child)
        assert retried["statusCode"] == 200 and body_of(retried)["refresh_token"] == grandchild

    for grandchild in grandchildren:
        assert refresh(grandchild)["statusCode"] == 200
    assert not [event for event in audit_events(caplog) if event["event"] == "refresh_reuse"]


def test_a_real_replay_is_still_theft_during_a_rotation(services: Services, accounts: Accounts) -> None:
    tokens = staff_login()
    child = body_of(refresh(tokens["refresh_token"]))["refresh_token"]
    _rotate(services.settings.refresh_key_secret_arn)
    signing.forget_keys()
    assert refresh(body_of(refresh(child))["refresh_token"])["statusCode"] == 200
    assert refresh(tokens["refresh_token"])["statusCode"] == 401  # the grandparent: theft
    assert refresh(child)["statusCode"] == 401


def test_containers_read_a_rotated_secret_again_within_the_cache_lifetime(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = services.refresh_keys()
    _rotate(services.settings.refresh_key_secret_arn)
    assert services.refresh_keys() == before  # still cached
    later = time.monotonic() + signing.SECRET_CACHE_SECONDS + 1
    monkeypatch.setattr(signing.time, "monotonic", lambda: later)
    assert services.refresh_keys()[1:] == before[:1] and services.refresh_keys()[0] != before[0]


@pytest.mark.parametrize("aws_env", ["HS256"], indirect=True)
def test_an_hs256_rotation_keeps_tokens_signed_before_it_valid_until_the_next_one(
    services: Services, accounts: Accounts
) -> None:
    before = staff_login()
    _rotate(services.settings.hs256_secret_arn)
    signing.forget_keys()
    after = staff_login()
    assert is_authorized(before["access_token"]) and is_authorized(after["access_token"])
    _rotate(services.settings.hs256_secret_arn)
    signing.forget_keys()
    assert not is_authorized(before["access_token"])  # two rotations ago: no longer a key
    assert is_authorized(after["access_token"])

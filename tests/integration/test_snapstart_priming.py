"""SnapStart: the authorizer's before-snapshot priming does the first request's work (clients, keys,
one verification, one revocation read), a restored environment's first request then makes only its
one read, and the after-restore hook refreshes what a snapshot makes stale (pooled sockets, the
`random` state). The hooks register only when Lambda says the environment is a SnapStart one."""

from __future__ import annotations

import importlib
import random
import sys
import types
from collections.abc import Callable
from typing import Any

import pytest

from functions.authorizer import handler as authorizer
from shared.core import aws
from shared.core.errors import InvalidAccessToken, Reason, ServiceUnavailable
from shared.credentials import signing
from shared.runtime.services import Services
from tests import expected_calls
from tests.fixtures import Accounts
from tests.flows import authorize, staff_login

STAFF = "staff@dealership.example"


def test_priming_does_the_first_requests_work_so_the_first_request_reads_once(
    services: Services, accounts: Accounts, aws_calls: list[str]
) -> None:
    # Given a token, and a container that has loaded nothing (as at INIT)
    tokens = staff_login()
    signing.forget_keys()
    aws_calls.clear()

    # When the snapshot is primed, then restored, then the first request comes
    authorizer.prime()
    primed = list(aws_calls)
    aws_calls.clear()
    authorizer.after_restore()
    policy = authorize(tokens["access_token"], "GET", "/cars")

    # Then priming made the cold container's calls, and the first request only its one read
    assert primed == list(expected_calls.SNAPSTART_PRIMING)
    assert aws_calls == list(expected_calls.AUTHORIZER)
    assert policy["principalId"] == accounts.staff.user_id


def test_priming_verifies_down_to_the_signature_check_with_every_key(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A priming token that a claim check refuses would leave PyJWT's decode and the signature
    check, most of a verification's first-call cost, to the first real request."""
    refused: list[Reason] = []
    verify = authorizer.verify_access_token

    def recording(*args: Any, **kwargs: Any) -> Any:
        try:
            return verify(*args, **kwargs)
        except InvalidAccessToken as error:
            refused.append(error.reason)
            raise

    monkeypatch.setattr(authorizer, "verify_access_token", recording)
    authorizer.prime()
    assert refused == [Reason.SIGNATURE] * len(services.keys.keys)


def test_priming_that_fails_leaves_the_work_to_the_first_request(
    services: Services, accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    tokens = staff_login()
    signing.forget_keys()

    def unavailable(_: object) -> None:
        raise ServiceUnavailable("KMS")

    with monkeypatch.context() as patched:
        patched.setattr(signing, "key_set", unavailable)
        authorizer.prime()  # does not raise: the snapshot is still taken
    assert authorize(tokens["access_token"])["principalId"] == accounts.staff.user_id


def test_after_restore_drops_pooled_connections_and_reseeds_random(
    services: Services, accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    staff_login()
    closed: list[str] = []
    for name in ("dynamodb", "kms"):
        session = aws.client(name)._endpoint.http_session
        monkeypatch.setattr(session, "close", lambda name=name: closed.append(name))
    random.seed(7)
    replayed = random.random()
    random.seed(7)

    authorizer.after_restore()

    assert sorted(closed) == ["dynamodb", "kms"]
    assert random.random() != replayed


def test_hooks_register_only_in_a_snapstart_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    registered: dict[str, Callable[..., Any]] = {}
    runtime_hooks = types.ModuleType("snapshot_restore_py")
    runtime_hooks.register_before_snapshot = lambda hook: registered.setdefault("before", hook)  # type: ignore[attr-defined]
    runtime_hooks.register_after_restore = lambda hook: registered.setdefault("after", hook)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", runtime_hooks)
    try:
        monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")
        importlib.reload(authorizer)
        assert registered == {}

        monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "snap-start")
        module = importlib.reload(authorizer)
        assert registered == {"before": module.prime, "after": module.after_restore}
    finally:
        monkeypatch.delenv("AWS_LAMBDA_INITIALIZATION_TYPE")
        importlib.reload(authorizer)

"""Second factors against the store (issue 30, rule 4): recovery codes are stored only as hashes;
a factor is proven once, never re-activated; a pending factor proves nothing, not even with its
recovery codes; an operator's reset says whether there was anything to reset and tells the owner."""

from __future__ import annotations

from typing import Any

import boto3
import pyotp
import pytest

from local.outbox import messages
from shared.credentials import totp
from shared.mfa import factor as mfa
from shared.runtime.services import Services
from shared.store.factors import FactorStore

USER = "user-1"
AT = 1_800_000_000.0  # a moment on a step boundary
World = tuple[FactorStore, Any, str]


@pytest.fixture
def world(services: Services) -> World:
    kms = boto3.client("kms")
    key_id = kms.create_key(KeySpec="SYMMETRIC_DEFAULT", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]["KeyId"]
    return FactorStore(services.settings.users_table, services.users.dynamodb), kms, key_id


def _code(secret: str, at: float) -> str:
    return pyotp.TOTP(secret).at(at)


def _enrol(world: World, user: str = USER) -> totp.Enrolment:
    factors, kms, key_id = world
    enrolment = mfa.enrol_totp(factors, kms, key_id, user, "admin@dealership.example", "jwt-auth", 0)
    assert enrolment is not None
    return enrolment


def _table_text(services: Services) -> str:
    items = services.users.dynamodb.scan(TableName=services.settings.users_table)["Items"]
    return repr(items)


def test_recovery_codes_are_stored_only_as_their_hashes(world: World, services: Services) -> None:
    factors, _kms, _key_id = world
    enrolment = _enrol(world)
    stored = set(factors.recovery_hashes(USER))
    assert stored == {totp.recovery_hash(code) for code in enrolment.recovery_codes}
    text = _table_text(services)
    for code in enrolment.recovery_codes:
        assert code not in text and code.replace("-", "") not in text
    assert enrolment.secret not in text


def test_a_second_enrolment_while_pending_replaces_the_codes(world: World) -> None:
    factors, _kms, _key_id = world
    first = _enrol(world)
    second = _enrol(world)
    assert set(factors.recovery_hashes(USER)) == {totp.recovery_hash(c) for c in second.recovery_codes}
    assert not {totp.recovery_hash(c) for c in first.recovery_codes} & set(factors.recovery_hashes(USER))


def test_a_pending_factor_proves_nothing_not_even_with_a_recovery_code(world: World) -> None:
    factors, kms, key_id = world
    enrolment = _enrol(world)
    code = enrolment.recovery_codes[0]
    assert mfa.check_second_factor(factors, kms, key_id, USER, code, AT) is None
    assert len(factors.recovery_hashes(USER)) == 10  # not used up either


def test_an_active_factor_is_never_confirmed_again(world: World) -> None:
    factors, kms, key_id = world
    enrolment = _enrol(world)
    assert mfa.confirm_totp(factors, kms, key_id, USER, _code(enrolment.secret, AT), AT)
    later = AT + 60
    assert not mfa.confirm_totp(factors, kms, key_id, USER, _code(enrolment.secret, later), later)
    # and that code is still good for a sign-in: the refused confirmation used nothing up
    assert mfa.check_second_factor(factors, kms, key_id, USER, _code(enrolment.secret, later), later) == "otp"


def test_nothing_to_confirm_or_check_without_a_factor(world: World) -> None:
    factors, kms, key_id = world
    assert not mfa.confirm_totp(factors, kms, key_id, USER, "123456", AT)
    assert mfa.check_second_factor(factors, kms, key_id, USER, "123456", AT) is None
    assert not factors.has_active_totp(USER)


def test_a_code_of_the_next_step_used_first_makes_the_current_one_a_replay(world: World) -> None:
    """Steps only move forward: a code of the step ahead (clock drift) used, the current step's code
    is refused though it was never used itself."""
    factors, kms, key_id = world
    enrolment = _enrol(world)
    assert mfa.confirm_totp(factors, kms, key_id, USER, _code(enrolment.secret, AT - 30), AT)
    assert mfa.check_second_factor(factors, kms, key_id, USER, _code(enrolment.secret, AT + 30), AT) == "otp"
    assert mfa.check_second_factor(factors, kms, key_id, USER, _code(enrolment.secret, AT), AT) is None


def test_a_wrong_confirmation_code_leaves_the_factor_pending(world: World) -> None:
    factors, kms, key_id = world
    enrolment = _enrol(world)
    assert not mfa.confirm_totp(factors, kms, key_id, USER, _code(enrolment.secret, AT - 90), AT)
    factor = factors.totp(USER)
    assert factor is not None and not factor.active


def test_one_users_factor_proves_nothing_for_another(world: World) -> None:
    factors, kms, key_id = world
    mine = _enrol(world)
    _enrol(world, "user-2")
    assert mfa.confirm_totp(factors, kms, key_id, USER, _code(mine.secret, AT), AT)
    assert not factors.has_active_totp("user-2")
    assert mfa.check_second_factor(factors, kms, key_id, "user-2", mine.recovery_codes[0], AT) is None


def test_an_operators_reset_removes_the_factor_says_so_and_tells_the_owner(
    world: World, services: Services, accounts: Any
) -> None:
    factors, kms, key_id = world
    user = accounts.staff
    assert mfa.reset_factors(services, user) is False  # nothing to reset: nothing sent
    assert not [m for m in messages() if user.email in m["to"]]
    enrolment = mfa.enrol_totp(factors, kms, key_id, user.user_id, user.email, "jwt-auth", 0)
    assert enrolment is not None
    assert mfa.reset_factors(services, user) is True
    assert factors.totp(user.user_id) is None and factors.recovery_hashes(user.user_id) == ()
    sent = [m for m in messages() if user.email in m["to"]]
    assert [m["subject"] for m in sent] == ["An authenticator app was removed from your account"]

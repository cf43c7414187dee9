"""TOTP second factors (issue 16), the core: enrolment pending until proven, a code used once ever,
recovery codes once each, the secret only encrypted under KMS with the user in the context."""

from __future__ import annotations

import boto3
import pyotp
import pytest

from shared.core.errors import ServiceUnavailable
from shared.credentials import totp
from shared.mfa import factor as mfa
from shared.runtime.services import Services
from shared.store.dynamo import key
from shared.store.factors import FactorStore, totp_key

USER = "user-1"
AT = 1_800_000_000.0  # a moment on a step boundary


@pytest.fixture
def world(services: Services) -> tuple[FactorStore, object, str]:
    kms = boto3.client("kms")
    key_id = kms.create_key(KeySpec="SYMMETRIC_DEFAULT", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]["KeyId"]
    return FactorStore(services.settings.users_table, services.users.dynamodb), kms, key_id


def _code(secret: str, at: float) -> str:
    return pyotp.TOTP(secret).at(at)


def _enrol(world: tuple[FactorStore, object, str]) -> totp.Enrolment:
    factors, kms, key_id = world
    enrolment = mfa.enrol_totp(
        factors, kms, key_id, USER, "admin@dealership.example", "jwt-auth", 0, only_while_no_factor=True
    )  # type: ignore[arg-type]
    assert enrolment is not None
    return enrolment


def test_enrolment_gives_a_uri_a_qr_code_and_ten_recovery_codes_and_stays_pending(world) -> None:  # type: ignore[no-untyped-def]
    factors, kms, key_id = world
    enrolment = _enrol(world)
    assert enrolment.uri.startswith("otpauth://totp/") and f"secret={enrolment.secret}" in enrolment.uri
    assert enrolment.qr_svg.startswith("<svg") and len(set(enrolment.recovery_codes)) == 10
    assert not factors.has_active_totp(USER)
    # an unproven factor is no second factor yet
    assert mfa.check_second_factor(factors, kms, key_id, USER, _code(enrolment.secret, AT), AT) is None


def test_the_secret_is_stored_only_encrypted(world, services: Services) -> None:  # type: ignore[no-untyped-def]
    enrolment = _enrol(world)
    item = services.users.dynamodb.get_item(TableName=services.settings.users_table, Key=key(totp_key(USER)))[
        "Item"
    ]
    assert enrolment.secret.encode() not in repr(item).encode() and enrolment.secret not in repr(item)
    assert set(item) == {"pk", "secret_ct", "status", "last_step", "created_at"}


def test_the_ciphertext_decrypts_only_for_its_own_user(world) -> None:  # type: ignore[no-untyped-def]
    factors, kms, key_id = world
    _enrol(world)
    factor = factors.totp(USER)
    assert factor is not None
    with pytest.raises(ServiceUnavailable):
        mfa.decrypt_secret(kms, key_id, "someone-else", factor.secret_ciphertext)


def test_a_wrong_code_does_not_activate_and_the_right_one_does(world) -> None:  # type: ignore[no-untyped-def]
    factors, kms, key_id = world
    enrolment = _enrol(world)
    wrong = f"{(int(_code(enrolment.secret, AT)) + 1) % 1_000_000:06d}"
    assert not mfa.confirm_totp(factors, kms, key_id, USER, wrong, AT)
    assert mfa.confirm_totp(factors, kms, key_id, USER, _code(enrolment.secret, AT), AT)
    assert factors.has_active_totp(USER)


def test_a_code_is_accepted_once_even_inside_its_window(world) -> None:  # type: ignore[no-untyped-def]
    factors, kms, key_id = world
    enrolment = _enrol(world)
    assert mfa.confirm_totp(factors, kms, key_id, USER, _code(enrolment.secret, AT), AT)
    # the code that proved the enrolment cannot log in; nor can an earlier step's
    assert mfa.check_second_factor(factors, kms, key_id, USER, _code(enrolment.secret, AT), AT + 5) is None
    assert mfa.check_second_factor(factors, kms, key_id, USER, _code(enrolment.secret, AT - 30), AT) is None
    later = AT + 30
    assert mfa.check_second_factor(factors, kms, key_id, USER, _code(enrolment.secret, later), later) == "otp"
    assert mfa.check_second_factor(factors, kms, key_id, USER, _code(enrolment.secret, later), later) is None


def test_a_code_outside_the_drift_window_is_refused(world) -> None:  # type: ignore[no-untyped-def]
    factors, kms, key_id = world
    enrolment = _enrol(world)
    assert mfa.confirm_totp(factors, kms, key_id, USER, _code(enrolment.secret, AT), AT)
    late = AT + 300
    assert (
        mfa.check_second_factor(factors, kms, key_id, USER, _code(enrolment.secret, late - 90), late) is None
    )


def test_recovery_codes_work_once_each(world) -> None:  # type: ignore[no-untyped-def]
    factors, kms, key_id = world
    enrolment = _enrol(world)
    assert mfa.confirm_totp(factors, kms, key_id, USER, _code(enrolment.secret, AT), AT)
    first = enrolment.recovery_codes[0]
    assert mfa.check_second_factor(factors, kms, key_id, USER, first.upper(), AT) == "recovery"
    assert mfa.check_second_factor(factors, kms, key_id, USER, first, AT) is None
    assert mfa.check_second_factor(factors, kms, key_id, USER, "aaaaa-bbbbb", AT) is None
    assert len(factors.recovery_hashes(USER)) == 9


def test_an_active_factor_is_not_replaced_by_a_new_enrolment(world) -> None:  # type: ignore[no-untyped-def]
    factors, kms, key_id = world
    enrolment = _enrol(world)
    assert mfa.confirm_totp(factors, kms, key_id, USER, _code(enrolment.secret, AT), AT)
    assert (
        mfa.enrol_totp(factors, kms, key_id, USER, "a@b.c", "jwt-auth", 0, only_while_no_factor=True) is None
    )
    factors.remove_all(USER)
    assert factors.totp(USER) is None and factors.recovery_hashes(USER) == ()


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "١٢٣٤٥٦", " 123456", None, 123456])
def test_malformed_codes_match_nothing(code: object) -> None:
    assert totp.matching_step(pyotp.random_base32(32), code, AT) is None  # type: ignore[arg-type]


def test_the_authorizer_login_and_refresh_code_never_import_pyotp_or_segno() -> None:
    import subprocess
    import sys

    code = (
        "import sys, shared.authorizer.decision, shared.login.flow, shared.sessions.rotation; "
        "import shared.sessions.lifecycle; "
        "import shared.mfa.factor, shared.credentials.totp; "
        "assert 'pyotp' not in sys.modules and 'segno' not in sys.modules, sorted(sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)

"""TOTP and recovery codes, the pure rules (issue 30, rule 4): a code is accepted for its own step
and exactly one step either side, never two; each accepted code names its step; recovery codes are
ten distinct codes at their full entropy (10 characters of a 31-letter alphabet, about 49.5 bits)
and only their hashes are kept, a code matching its hash however it is typed."""

from __future__ import annotations

import hashlib
import math
import string
from collections import Counter

import pyotp
import pytest

from shared.credentials import totp

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
AT = 1_800_000_015.0  # the middle of a step
STEP = int(AT // 30)


def code_at(step: int) -> str:
    return pyotp.TOTP(SECRET, digits=6, interval=30).generate_otp(step)


@pytest.mark.parametrize("offset", [-1, 0, 1])
def test_a_code_of_the_step_or_one_either_side_is_accepted_and_names_its_step(offset: int) -> None:
    assert totp.matching_step(SECRET, code_at(STEP + offset), AT) == STEP + offset


@pytest.mark.parametrize("offset", [-3, -2, 2, 3])
def test_a_code_two_steps_away_is_refused(offset: int) -> None:
    assert totp.matching_step(SECRET, code_at(STEP + offset), AT) is None


def test_the_window_moves_with_the_clock_to_the_second() -> None:
    boundary = (STEP + 1) * 30.0  # the first second of the next step
    assert totp.matching_step(SECRET, code_at(STEP - 1), boundary - 0.001) == STEP - 1
    assert totp.matching_step(SECRET, code_at(STEP - 1), boundary) is None
    assert totp.matching_step(SECRET, code_at(STEP + 2), boundary) == STEP + 2


def test_the_drift_window_is_one_step() -> None:
    assert totp.DRIFT_STEPS == 1 and totp.STEP_SECONDS == 30 and totp.DIGITS == 6


@pytest.mark.parametrize(
    "code",
    [
        "12345",
        "1234567",
        "12345a",
        "\uff11\uff12\uff13\uff14\uff15\uff16",
        " 12345",
        "",
        None,
        123456,
        "123 456",
    ],
)
def test_anything_but_six_ascii_digits_matches_nothing(code: object) -> None:
    assert totp.matching_step(SECRET, code, AT) is None  # type: ignore[arg-type]


def test_of_two_matching_steps_the_code_names_one_that_matches() -> None:
    # every step is compared (constant time): whichever is found, it is one whose code was typed
    for step in range(STEP - 1, STEP + 2):
        found = totp.matching_step(SECRET, code_at(step), AT)
        assert found is not None and code_at(found) == code_at(step)


def test_a_new_secret_is_160_bits_of_base32() -> None:
    secrets_ = {totp.new_secret() for _ in range(20)}
    assert len(secrets_) == 20
    for secret in secrets_:
        assert len(secret) == 32 and set(secret) <= set(string.ascii_uppercase + "234567")


def test_recovery_codes_are_ten_distinct_codes_of_two_groups_of_five() -> None:
    codes = totp.new_recovery_codes()
    assert len(codes) == 10 == len(set(codes))
    for code in codes:
        first, second = code.split("-")
        assert len(first) == len(second) == 5
        assert set(first + second) <= set("abcdefghjkmnpqrstuvwxyz23456789")


def test_recovery_codes_carry_their_full_entropy() -> None:
    """Each of the ten characters is drawn from the whole alphabet, independently: over 300 codes
    every letter of the alphabet shows in every position, and no position is stuck."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    assert len(alphabet) == 31 and 10 * math.log2(len(alphabet)) > 49
    codes = [code for _ in range(30) for code in totp.new_recovery_codes()]
    assert len(set(codes)) == len(codes)
    for position in [0, 1, 2, 3, 4, 6, 7, 8, 9, 10]:
        seen = Counter(code[position] for code in codes)
        assert set(seen) == set(alphabet), (position, sorted(set(alphabet) - set(seen)))
    assert {code[5] for code in codes} == {"-"}


def test_a_recovery_code_is_kept_as_the_sha256_of_its_normal_form() -> None:
    code = "abcde-fghjk"
    expected = hashlib.sha256(code.encode()).hexdigest()
    assert totp.recovery_hash(code) == expected
    assert totp.recovery_hash(" ABCDE-FGHJK \n") == expected
    assert totp.recovery_hash("abc de-fg hjk") == expected
    assert totp.recovery_hash("abcde-fghjm") != expected
    assert code not in totp.recovery_hash(code)


def test_an_enrolment_names_the_account_and_issuer_in_its_uri_and_qr_code() -> None:
    enrolment = totp.new_enrolment("sam@dealership.example", "Dealership")
    parsed = pyotp.parse_uri(enrolment.uri)
    assert parsed.secret == enrolment.secret and parsed.name == "sam@dealership.example"
    assert parsed.issuer == "Dealership" and parsed.digits == 6 and parsed.interval == 30
    assert enrolment.qr_svg.startswith("<svg") and len(enrolment.recovery_codes) == 10

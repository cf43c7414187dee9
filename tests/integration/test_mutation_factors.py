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
    enrolment = mfa.enrol_totp(
        factors, kms, key_id, user, "admin@dealership.example", "jwt-auth", 0, only_while_no_factor=True
    )
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
    enrolment = mfa.enrol_totp(
        factors, kms, key_id, user.user_id, user.email, "jwt-auth", 0, only_while_no_factor=True
    )
    assert enrolment is not None
    assert mfa.reset_factors(services, user) is True
    assert factors.totp(user.user_id) is None and factors.recovery_hashes(user.user_id) == ()
    sent = [m for m in messages() if user.email in m["to"]]
    assert [m["subject"] for m in sent] == ["An authenticator app was removed from your account"]


# --- what the factor functions hand to KMS and DynamoDB --------------------------------------------


class RecordingKms:
    """A KMS that records what it is asked and answers with the plaintext as the ciphertext."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def encrypt(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(("encrypt", kwargs))
        return {"CiphertextBlob": kwargs["Plaintext"]}

    def decrypt(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(("decrypt", kwargs))
        return {"Plaintext": kwargs["CiphertextBlob"]}


def test_the_secret_is_bound_to_its_user_and_purpose_the_key_policy_names(services: Services) -> None:
    """The encryption context is exactly the purpose the factor key's policy requires
    (infra/keys.py: kms:EncryptionContext:purpose) and the user: a ciphertext moved to another user's
    item does not decrypt."""
    from shared.mfa.context import FACTOR_PURPOSE

    kms = RecordingKms()
    assert mfa.encrypt_secret(kms, "key-1", USER, "SECRET") == b"SECRET"  # type: ignore[arg-type]
    assert mfa.decrypt_secret(kms, "key-1", USER, b"SECRET") == "SECRET"  # type: ignore[arg-type]
    context = {"purpose": "totp-secret", "user": USER}
    assert FACTOR_PURPOSE == ("purpose", "totp-secret")
    assert [call[1]["EncryptionContext"] for call in kms.calls] == [context, context]
    assert kms.calls[0][1]["KeyId"] == kms.calls[1][1]["KeyId"] == "key-1"


def test_an_enrolment_names_the_account_and_the_issuer(world: World) -> None:
    factors, kms, key_id = world
    enrolment = mfa.enrol_totp(
        factors, kms, key_id, USER, "sam@dealership.example", "Dealership", 0, only_while_no_factor=True
    )
    assert enrolment is not None
    parsed = pyotp.parse_uri(enrolment.uri)
    assert parsed.name == "sam@dealership.example" and parsed.issuer == "Dealership"
    factor = factors.totp(USER)
    assert factor is not None and factor.user_id == USER and factor.last_step == 0


def test_the_factor_store_reads_strongly_consistent(world: World, services: Services) -> None:
    """A factor just activated, or a recovery code just used, is never read stale."""
    from shared.core import aws

    factors, _kms, _key_id = world
    _enrol(world)
    reads: list[dict[str, Any]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        reads.append(params)

    events = aws.dynamodb().meta.events
    factors.dynamodb.meta.events.register("provide-client-params.dynamodb.GetItem", record)
    try:
        factors.totp(USER)
        factors.recovery_hashes(USER)
        factors.has_active_totp(USER)
    finally:
        factors.dynamodb.meta.events.unregister("provide-client-params.dynamodb.GetItem", record)
    assert events is not None and len(reads) == 3
    assert all(read.get("ConsistentRead") is True for read in reads), reads


def test_with_every_recovery_code_used_none_is_left(world: World) -> None:
    factors, kms, key_id = world
    enrolment = _enrol(world)
    assert mfa.confirm_totp(factors, kms, key_id, USER, _code(enrolment.secret, AT), AT)
    for code in enrolment.recovery_codes:
        assert mfa.check_second_factor(factors, kms, key_id, USER, code, AT) == "recovery"
    assert factors.recovery_hashes(USER) == ()
    assert mfa.check_second_factor(factors, kms, key_id, USER, enrolment.recovery_codes[0], AT) is None
    assert factors.recovery_hashes("nobody") == ()


def test_the_no_active_factor_condition_holds_for_none_or_a_pending_one(
    world: World, services: Services
) -> None:
    from shared.store.dynamo import TransactionRejected, transact_write

    factors, kms, key_id = world
    transact_write(factors.dynamodb, [factors.no_active_totp_check(USER)])
    enrolment = _enrol(world)
    transact_write(factors.dynamodb, [factors.no_active_totp_check(USER)])
    assert mfa.confirm_totp(factors, kms, key_id, USER, _code(enrolment.secret, AT), AT)
    with pytest.raises(TransactionRejected):
        transact_write(factors.dynamodb, [factors.no_active_totp_check(USER)])
    transact_write(factors.dynamodb, [factors.no_active_totp_check("user-2")])


def test_an_operators_reset_removes_every_passkey_and_tells_the_owner_of_each(
    services: Services, accounts: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from types import SimpleNamespace

    user = accounts.staff
    keys = [SimpleNamespace(credential_id=f"cred-{n}", name=f"Laptop {n}") for n in (1, 2)]
    removed: list[tuple[str, str]] = []
    monkeypatch.setattr(services.passkeys, "of_user", lambda user_id: keys if user_id == user.user_id else [])
    monkeypatch.setattr(
        services.passkeys, "remove", lambda user_id, cid, **_: removed.append((user_id, cid)) or True
    )
    assert mfa.reset_factors(services, user) is True  # passkeys only: still something reset
    assert removed == [(user.user_id, "cred-1"), (user.user_id, "cred-2")]
    sent = [m for m in messages() if user.email in m["to"]]
    assert [m["subject"] for m in sent] == ["A passkey was removed from your account"] * 2
    assert {"Laptop 1", "Laptop 2"} == {n for m in sent for n in ("Laptop 1", "Laptop 2") if n in m["body"]}


# --- the signed-in user's own routes ---------------------------------------------------------------


def test_proofs_are_counted_per_session_not_across_sessions(
    services: Services, accounts: Any, clock: Any
) -> None:
    from tests.events import body_of
    from tests.flows import admin_login, enrol_totp, verify_totp

    first, second = admin_login(), admin_login()
    enrol_totp(first["access_token"])
    threshold = services.settings.lockout_threshold
    for _ in range(threshold - 1):
        answer = verify_totp(first["access_token"], "000000")
        assert answer["statusCode"] == 400
        assert body_of(answer)["message"] == mfa.WRONG_CODE_MESSAGE
    for _ in range(threshold - 1):
        assert verify_totp(second["access_token"], "000000")["statusCode"] == 400  # its own count


def test_removal_with_a_recovery_code_is_audited_as_its_use(
    services: Services, accounts: Any, clock: Any, caplog: pytest.LogCaptureFixture
) -> None:
    from functions.mfa.handler import handler
    from tests.events import body_of
    from tests.fixtures import audit_events
    from tests.flows import active_totp, admin_login, protected_call, second_step, totp_code

    secret, codes = active_totp(accounts, clock)
    signed_in = body_of(second_step(admin_login()["mfa_token"], totp_code(secret, clock)))
    caplog.clear()
    clock.advance(30)
    answer = protected_call(
        handler, signed_in["access_token"], "DELETE", "/auth/mfa/totp", body={"code": codes[0]}
    )
    assert answer["statusCode"] == 200, answer
    events = [(e["event"], e["outcome"]) for e in audit_events(caplog)]
    assert ("mfa_recovery_code_used", "success") in events and ("mfa_removed", "success") in events
    wrong = protected_call(
        handler, signed_in["access_token"], "DELETE", "/auth/mfa/totp", body={"code": "000000"}
    )
    assert body_of(wrong)["message"] == mfa.WRONG_CODE_MESSAGE


def test_removal_with_a_code_is_not_audited_as_a_recovery_code(
    services: Services, accounts: Any, clock: Any, caplog: pytest.LogCaptureFixture
) -> None:
    from functions.mfa.handler import handler
    from tests.events import body_of
    from tests.fixtures import audit_events
    from tests.flows import active_totp, admin_login, protected_call, second_step, totp_code

    secret, _codes = active_totp(accounts, clock)
    signed_in = body_of(second_step(admin_login()["mfa_token"], totp_code(secret, clock)))
    clock.advance(30)
    caplog.clear()
    code = totp_code(secret, clock)
    answer = protected_call(
        handler, signed_in["access_token"], "DELETE", "/auth/mfa/totp", body={"code": code}
    )
    assert answer["statusCode"] == 200, answer
    events = [e["event"] for e in audit_events(caplog)]
    assert "mfa_recovery_code_used" not in events and "mfa_removed" in events


def test_the_enrolment_names_the_account_and_the_services_issuer(services: Services, accounts: Any) -> None:
    from tests.flows import admin_login, enrol_totp

    enrolment = enrol_totp(admin_login()["access_token"])
    parsed = pyotp.parse_uri(enrolment["otpauth_uri"])
    assert parsed.name == accounts.admin.email and parsed.issuer == services.settings.totp_issuer


def test_removal_codes_are_counted_per_session_not_across_sessions(
    services: Services, accounts: Any, clock: Any
) -> None:
    from functions.mfa.handler import handler
    from tests.events import body_of
    from tests.flows import active_totp, admin_login, protected_call, second_step, totp_code

    secret, _codes = active_totp(accounts, clock)
    sessions = []
    for _ in range(2):
        sessions.append(
            body_of(second_step(admin_login()["mfa_token"], totp_code(secret, clock)))["access_token"]
        )
        clock.advance(30)
    threshold = services.settings.lockout_threshold
    for token in sessions:
        for _ in range(threshold - 1):
            answer = protected_call(handler, token, "DELETE", "/auth/mfa/totp", body={"code": "000000"})
            assert answer["statusCode"] == 400, answer  # each session's own count

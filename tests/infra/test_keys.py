"""Signing keys, their key policy, and the generated secrets (no key material in the template)."""

from __future__ import annotations

import json
from typing import Any

from infra.permissions import SIGNERS
from shared.config.account_tunables import LIFECYCLE_FIELDS
from shared.config.tunables import BY_FIELD
from tests.infra.conftest import Synth


def _keys(synth: Synth) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource
        for logical_id, resource in synth.resources("AWS::KMS::Key").items()
        if resource["Properties"].get("KeyUsage") == "SIGN_VERIFY"
    }


def _role_id(synth: Synth, name: str) -> str:
    role = synth.stack.roles.by_name[name]
    return synth.stack.resolve(role.node.default_child.logical_id)


def _statements(key: dict[str, Any]) -> list[dict[str, Any]]:
    return key["Properties"]["KeyPolicy"]["Statement"]


def _actions(statement: dict[str, Any]) -> list[str]:
    actions = statement["Action"]
    return [actions] if isinstance(actions, str) else actions


def test_default_key_is_rsa_2048_for_signing_with_an_alias(dev: Synth) -> None:
    (key,) = _keys(dev).values()
    assert key["Properties"]["KeySpec"] == "RSA_2048"
    assert key["Properties"]["KeyUsage"] == "SIGN_VERIFY"
    dev.template.has_resource_properties("AWS::KMS::Alias", {"AliasName": "alias/jwt-auth-dev-primary"})


def test_es256_uses_ecc_p256_keys_one_per_configured_name(prod: Synth) -> None:
    keys = _keys(prod)
    assert len(keys) == 2
    assert {key["Properties"]["KeySpec"] for key in keys.values()} == {"ECC_NIST_P256"}
    for name in ("k1", "k2"):
        prod.template.has_resource_properties("AWS::KMS::Alias", {"AliasName": f"alias/jwt-auth-prod-{name}"})


def test_only_the_session_starting_roles_may_sign_in_the_key_policy(dev: Synth, prod: Synth) -> None:
    for synth in (dev, prod):
        signers = sorted(_role_id(synth, name) for name in SIGNERS)
        for key in _keys(synth).values():
            allows = [s for s in _statements(key) if s["Effect"] == "Allow"]
            signing = [
                s
                for s in allows
                if any(a in ("kms:Sign", "kms:*") or a.startswith("kms:Sign") for a in _actions(s))
            ]
            assert len(signing) == 1
            principals = signing[0]["Principal"]["AWS"]
            assert sorted(p["Fn::GetAtt"][0] for p in principals) == signers
            assert signing[0]["Condition"]["StringEquals"]["kms:MessageType"] == "RAW"


def test_no_key_policy_statement_gives_the_account_sign_or_wildcards_or_grants(dev: Synth) -> None:
    for key in _keys(dev).values():
        for statement in _statements(key):
            if statement["Effect"] != "Allow":
                continue
            for action in _actions(statement):
                assert "*" not in action, statement
                assert action not in ("kms:Sign", "kms:CreateGrant") or "root" not in json.dumps(
                    statement["Principal"]
                )


def test_an_explicit_deny_stops_everyone_but_the_signers_from_signing(dev: Synth) -> None:
    signers = sorted(_role_id(dev, name) for name in SIGNERS)
    for key in _keys(dev).values():
        (deny,) = [s for s in _statements(key) if s["Effect"] == "Deny"]
        assert _actions(deny) == ["kms:Sign"] and deny["Principal"] == {"AWS": "*"}
        arns = deny["Condition"]["ArnNotEquals"]["aws:PrincipalArn"]
        assert sorted(a["Fn::GetAtt"][0] for a in arns) == signers


def test_administrators_keep_key_administration(dev: Synth) -> None:
    for key in _keys(dev).values():
        (admin,) = [s for s in _statements(key) if s.get("Sid") == "KeyAdministrationWithoutSigning"]
        assert {"kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:DisableKey"} <= set(_actions(admin))


def test_hs256_mode_uses_a_generated_secret_and_no_signing_key(hs256: Synth) -> None:
    assert _keys(hs256) == {}
    generated = [
        s
        for s in hs256.resources("AWS::SecretsManager::Secret").values()
        if "GenerateSecretString" in s["Properties"]
    ]
    assert len(generated) == 2  # HS256 signing secret + refresh derivation key
    for secret in generated:
        assert secret["Properties"]["GenerateSecretString"]["PasswordLength"] >= 32
        assert "SecretString" not in secret["Properties"]


def test_refresh_derivation_key_is_generated_at_deploy_never_written_in_the_template(dev: Synth) -> None:
    (secret,) = dev.resources("AWS::SecretsManager::Secret").values()
    assert "SecretString" not in secret["Properties"]
    assert secret["Properties"]["GenerateSecretString"]["ExcludePunctuation"] is True


POLICY_SETTINGS = {BY_FIELD[field].env for field in LIFECYCLE_FIELDS}


def test_function_environments_hold_only_names_and_arns_never_secret_values(dev: Synth, hs256: Synth) -> None:
    for synth in (dev, hs256):
        for function in synth.resources("AWS::Lambda::Function").values():
            env = function["Properties"]["Environment"]["Variables"]
            for name, value in env.items():
                if name not in POLICY_SETTINGS:  # password policy settings, not passwords
                    assert not any(word in name for word in ("PASSWORD", "PRIVATE")), name
                if name.endswith("_SECRET_ARN"):
                    assert isinstance(value, dict) and "Ref" in value, (name, value)

"""Least privilege: each function's role allows exactly what infra/permissions.py declares, on the
named resources, and nothing else."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.lambdas import mail_statement
from infra.permissions import PERMISSIONS, SIGNERS
from tests.infra.conftest import Synth, synthesize

XRAY = {("xray:PutTraceSegments", '"*"'), ("xray:PutTelemetryRecords", '"*"')}


def _logical_id(synth: Synth, construct: Any) -> str:
    return synth.stack.resolve(construct.node.default_child.logical_id)


def granted(synth: Synth, name: str) -> set[tuple[str, str]]:
    """(action, resource as JSON) pairs of every policy attached to the function's role."""
    role_id = _logical_id(synth, synth.stack.roles.by_name[name])
    role = synth.json["Resources"][role_id]
    assert "ManagedPolicyArns" not in role["Properties"] and "Policies" not in role["Properties"]
    pairs: set[tuple[str, str]] = set()
    for policy in synth.resources("AWS::IAM::Policy").values():
        if {"Ref": role_id} not in policy["Properties"]["Roles"]:
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            assert (
                statement["Effect"] == "Allow"
                and "NotAction" not in statement
                and "NotResource" not in statement
            )
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            resources = (
                statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            )
            pairs |= {
                (action, json.dumps(resource, sort_keys=True)) for action in actions for resource in resources
            }
    return pairs


def expected(synth: Synth, name: str) -> set[tuple[str, str]]:
    stack = synth.stack
    access = PERMISSIONS[name]

    def arn(construct: Any) -> str:
        return json.dumps({"Fn::GetAtt": [_logical_id(synth, construct), "Arn"]}, sort_keys=True)

    pairs = set(XRAY)
    pairs |= {
        (a, arn(stack.functions.log_groups[name])) for a in ("logs:CreateLogStream", "logs:PutLogEvents")
    }
    for table, actions in access.tables.items():
        if table in stack.tables.by_name:
            pairs |= {(action, arn(stack.tables.by_name[table])) for action in actions}
    for table, (index, actions) in access.indexes.items():
        resource = {"Fn::Join": ["", [json.loads(arn(stack.tables.by_name[table])), f"/index/{index}"]]}
        pairs |= {(action, json.dumps(resource, sort_keys=True)) for action in actions}
    keys = [arn(key) for key in stack.keys.keys]
    hs256 = stack.keys.hs256_secret
    if access.sign:
        pairs |= {("kms:Sign", key) for key in keys}
    if access.read_public_keys:
        pairs |= {("kms:GetPublicKey", key) for key in keys}
    if (access.sign or access.read_public_keys) and hs256 is not None:
        pairs.add(("secretsmanager:GetSecretValue", json.dumps({"Ref": _logical_id(synth, hs256)})))
    if access.read_refresh_key:
        secret = {"Ref": _logical_id(synth, stack.keys.refresh_key_secret)}
        pairs.add(("secretsmanager:GetSecretValue", json.dumps(secret)))
    if access.send_mail and stack.config.mail_sender:
        pairs |= {("ses:SendEmail", resource) for resource in mail_resources(synth)}
    factor_key = arn(stack.keys.factor_key)
    if access.encrypt_factors:
        pairs.add(("kms:Encrypt", factor_key))
    if access.decrypt_factors:
        pairs.add(("kms:Decrypt", factor_key))
    return pairs


def mail_resources(synth: Synth) -> set[str]:
    return {
        json.dumps(resource, sort_keys=True)
        for statement in (synth.stack.resolve(mail_statement(synth.stack, synth.stack.config).to_json()),)
        for resource in statement["Resource"]
    }


@pytest.fixture(scope="module")
def mailing() -> Synth:
    return synthesize(
        {
            "mail_sender": "no-reply@example.com",
            "mail_configuration_set": "auth",
            "frontend_url": "https://app.example.com/",
        }
    )


def test_only_the_functions_that_email_may_send_and_only_from_the_sender(mailing: Synth) -> None:
    senders = {
        name
        for name in mailing.stack.roles.by_name
        if ("ses:SendEmail" in {a for a, _ in granted(mailing, name)})
    }
    assert senders == {"login", "password", "invitations", "recovery", "mfa", "passkeys", "passkey_login"}
    resources = {resource for resource in mail_resources(mailing)}
    assert any("identity/no-reply@example.com" in resource for resource in resources)
    assert any("configuration-set/auth" in resource for resource in resources)
    assert granted(mailing, "invitations") == expected(mailing, "invitations")


@pytest.mark.parametrize("variant", ["dev", "hs256"])
def test_every_role_allows_exactly_what_permissions_py_declares(
    variant: str, request: pytest.FixtureRequest
) -> None:
    synth: Synth = request.getfixturevalue(variant)
    for name in synth.stack.roles.by_name:
        assert granted(synth, name) == expected(synth, name), name


def test_the_authorizer_reads_the_denylist_and_the_public_keys_and_nothing_else(dev: Synth) -> None:
    actions = {action for action, _ in granted(dev, "authorizer")} - {a for a, _ in XRAY}
    assert actions == {
        "dynamodb:BatchGetItem",
        "kms:GetPublicKey",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    }
    denylist = json.dumps(
        {"Fn::GetAtt": [_logical_id(dev, dev.stack.tables.by_name["Denylist"]), "Arn"]}, sort_keys=True
    )
    assert {
        resource for action, resource in granted(dev, "authorizer") if action.startswith("dynamodb:")
    } == {denylist}


def test_in_hs256_mode_the_authorizer_reads_the_signing_secret_but_not_the_refresh_key(hs256: Synth) -> None:
    secrets = {
        resource
        for action, resource in granted(hs256, "authorizer")
        if action == "secretsmanager:GetSecretValue"
    }
    assert secrets == {json.dumps({"Ref": _logical_id(hs256, hs256.stack.keys.hs256_secret)})}


def test_only_the_functions_that_start_sessions_may_sign(dev: Synth) -> None:
    assert set(SIGNERS) == {"login", "refresh", "password", "invitations", "recovery", "passkey_login"}
    for name in dev.stack.roles.by_name:
        may_sign = any(action == "kms:Sign" for action, _ in granted(dev, name))
        assert may_sign == (name in SIGNERS), name


def test_only_login_reads_the_users_table_where_password_hashes_live(dev: Synth) -> None:
    users = json.dumps(
        {"Fn::GetAtt": [_logical_id(dev, dev.stack.tables.by_name["Users"]), "Arn"]}, sort_keys=True
    )
    readers = {
        name
        for name in dev.stack.roles.by_name
        for action, resource in granted(dev, name)
        if resource == users
        and action in ("dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:Scan")
        and not PERMISSIONS[name].leading_keys.get("Users")  # only its own item kinds, never accounts
    }
    # password change verifies the current password; invitations and recovery set passwords by link;
    # a passkey sign-in reads the account as login does (disabled, version)
    assert readers <= {"login", "password", "invitations", "recovery", "passkey_login"}
    assert "login" in readers


def test_the_second_factor_function_touches_only_factor_items_and_only_with_their_purpose(dev: Synth) -> None:
    (users_statement,) = [s for s in _statements(dev, "mfa") if any("dynamodb:" in a for a in _actions(s))]
    prefixes = users_statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
    assert not any(prefix.startswith("USER#") or prefix == "*" for prefix in prefixes)
    for name in ("mfa", "login"):
        (kms_statement,) = [s for s in _statements(dev, name) if _actions(s) & {"kms:Encrypt", "kms:Decrypt"}]
        assert kms_statement["Condition"] == {
            "StringEquals": {"kms:EncryptionContext:purpose": "totp-secret"}
        }


def _statements(synth: Synth, name: str) -> list[dict[str, Any]]:
    role_id = _logical_id(synth, synth.stack.roles.by_name[name])
    return [
        statement
        for policy in synth.resources("AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def _actions(statement: dict[str, Any]) -> set[str]:
    action = statement["Action"]
    return set(action if isinstance(action, list) else [action])


def test_no_role_has_a_service_wide_wildcard_action(dev: Synth, prod: Synth) -> None:
    for synth in (dev, prod):
        for name in synth.stack.roles.by_name:
            for action, resource in granted(synth, name):
                assert "*" not in action, (name, action)
                if resource == '"*"':
                    assert action.startswith("xray:"), (name, action)


def test_me_may_do_nothing_but_log_and_trace(dev: Synth) -> None:
    assert {action for action, _ in granted(dev, "me")} == {
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
    }

"""IAM policy evaluation as API Gateway applies a REQUEST authorizer's answer to a methodArn.

An explicit Deny that matches wins; otherwise a matching Allow is needed; no match denies.
Resource and action patterns use IAM wildcards (shared/routes/wildcards.py): `*` matches any run of
characters (`/` included) and `?` exactly one. Actions compare case-insensitively, resources
case-sensitively.
"""

from __future__ import annotations

from typing import Any

from shared.routes.wildcards import wildcard_matches

INVOKE_ACTION = "execute-api:Invoke"


class PolicyError(ValueError):
    """The authorizer returned something API Gateway cannot use (AuthorizerConfigurationException)."""


def _strings(statement: dict[str, Any], key: str) -> list[str]:
    value = statement.get(key)
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not values or not all(isinstance(item, str) for item in values):
        raise PolicyError(f"statement {key} must be a string or a list of strings")
    return values


def statements(policy_document: object) -> list[dict[str, Any]]:
    if not isinstance(policy_document, dict) or "Statement" not in policy_document:
        raise PolicyError("policyDocument must be an object with a Statement")
    raw = policy_document["Statement"]
    listed = [raw] if isinstance(raw, dict) else raw
    if not isinstance(listed, list) or not all(isinstance(item, dict) for item in listed):
        raise PolicyError("policyDocument.Statement must be an object or a list of objects")
    for statement in listed:
        if statement.get("Effect") not in ("Allow", "Deny"):
            raise PolicyError("statement Effect must be Allow or Deny")
        _strings(statement, "Action")
        _strings(statement, "Resource")
    return listed


def is_allowed(policy_document: object, method_arn: str) -> bool:
    """Whether the policy lets the caller invoke `method_arn` (raises PolicyError if malformed)."""
    allowed = False
    for statement in statements(policy_document):
        if not any(
            wildcard_matches(a, INVOKE_ACTION, ignore_case=True) for a in _strings(statement, "Action")
        ):
            continue
        if not any(wildcard_matches(r, method_arn) for r in _strings(statement, "Resource")):
            continue
        if statement["Effect"] == "Deny":
            return False
        allowed = True
    return allowed

"""The request body models API Gateway validates before a function runs (JSON Schema draft 4, by
the names the route declaration's `body` field uses), and the same validation for the local API, so
a bad body gets the same answer locally and deployed. No CDK import: the stack turns these into
API Gateway models (infra/models.py).

The gateway rejects what is structurally wrong (not an object, a required field missing, a wrong
type, an oversized value) before a Lambda runs; the handlers still validate everything and name the
offending field for the rest.
"""

from __future__ import annotations

import json
from typing import Any

INVALID_BODY = "Invalid request body"
_STRING = {"type": "string"}

REQUEST_MODELS: dict[str, dict[str, Any]] = {
    # `userType` (canonical) or `user_type`: the handler says which is missing, naming it. The user
    # types come from the route declaration, which the handler reads: no list here to keep in step.
    "LoginRequest": {
        "type": "object",
        "required": ["email", "password"],
        "properties": {
            "email": {**_STRING, "minLength": 1, "maxLength": 254},
            "password": {**_STRING, "minLength": 1, "maxLength": 1024},
            "userType": _STRING,
            "user_type": _STRING,
        },
    },
    # The body is optional (the refresh cookie may carry the token): no root type, so an empty body
    # passes; a token, when present, is a bounded string.
    "RefreshRequest": {
        "properties": {"refresh_token": {**_STRING, "minLength": 1, "maxLength": 256}},
    },
    "PasswordChangeRequest": {
        "type": "object",
        "required": ["current_password", "new_password"],
        "properties": {
            "current_password": {**_STRING, "minLength": 1, "maxLength": 1024},
            "new_password": {**_STRING, "minLength": 1, "maxLength": 1024},
        },
    },
    # `user_type` (or `userType`, as login takes it): the handler checks it against the declaration.
    "ForgotPasswordRequest": {
        "type": "object",
        "required": ["email"],
        "properties": {
            "email": {**_STRING, "minLength": 1, "maxLength": 254},
            "user_type": _STRING,
            "userType": _STRING,
        },
    },
    "LinkRequest": {
        "type": "object",
        "required": ["token"],
        "properties": {"token": {**_STRING, "minLength": 1, "maxLength": 128}},
    },
    "LinkPasswordRequest": {
        "type": "object",
        "required": ["token", "new_password"],
        "properties": {
            "token": {**_STRING, "minLength": 1, "maxLength": 128},
            "new_password": {**_STRING, "minLength": 1, "maxLength": 1024},
        },
    },
    "InvitationRequest": {
        "type": "object",
        "required": ["email", "name", "role", "user_type"],
        "properties": {
            "email": {**_STRING, "minLength": 1, "maxLength": 254},
            "name": {**_STRING, "minLength": 1, "maxLength": 256},
            "role": {**_STRING, "minLength": 1, "maxLength": 64},
            "user_type": _STRING,
        },
    },
    "InvitationTargetRequest": {
        "type": "object",
        "required": ["email", "user_type"],
        "properties": {
            "email": {**_STRING, "minLength": 1, "maxLength": 254},
            "user_type": _STRING,
        },
    },
    "MfaLoginRequest": {
        "type": "object",
        "required": ["mfa_token", "code"],
        "properties": {
            "mfa_token": {**_STRING, "minLength": 1, "maxLength": 64},
            "code": {**_STRING, "minLength": 1, "maxLength": 32},
        },
    },
    "MfaChallengeRequest": {
        "type": "object",
        "required": ["mfa_token"],
        "properties": {"mfa_token": {**_STRING, "minLength": 1, "maxLength": 64}},
    },
    "MfaCodeRequest": {
        "type": "object",
        "required": ["code"],
        "properties": {"code": {**_STRING, "minLength": 1, "maxLength": 32}},
    },
    # Passkeys: `credential` is what the browser's WebAuthn call returned, in its JSON encoding
    # (PublicKeyCredential.toJSON()); the handler checks its members and names `credential`.
    "PasskeyRegistrationRequest": {
        "type": "object",
        "required": ["credential"],
        "properties": {"credential": {"type": "object"}, "name": {**_STRING, "maxLength": 64}},
    },
    # The body is optional: with no account named, any discoverable passkey may answer.
    "PasskeyOptionsRequest": {
        "properties": {
            "email": {**_STRING, "minLength": 1, "maxLength": 254},
            "userType": _STRING,
            "user_type": _STRING,
        },
    },
    "PasskeyLoginRequest": {
        "type": "object",
        "required": ["credential"],
        "properties": {"credential": {"type": "object"}},
    },
    "CarRequest": {
        "type": "object",
        "required": ["make", "model", "year", "price"],
        "properties": {
            "make": {**_STRING, "minLength": 1, "maxLength": 100},
            "model": {**_STRING, "minLength": 1, "maxLength": 100},
            "year": {"type": "integer", "minimum": 1886, "maximum": 2100},
            "price": {"type": "number", "minimum": 0},
        },
    },
}


def body_problems(model: dict[str, Any], body: bytes) -> list[str]:
    """What API Gateway's validator would find wrong with `body` under `model` (empty: valid), one
    line per problem, naming the field. Covers the keywords the models above use."""
    if not body.strip():
        return [] if "type" not in model else ["the body must be a JSON object"]
    try:
        value = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return ["the body is not JSON"]
    return _problems(model, value, "")


def _problems(schema: dict[str, Any], value: Any, where: str) -> list[str]:
    name = where or "the body"
    kind = schema.get("type")
    checks = {
        "object": isinstance(value, dict),
        "string": isinstance(value, str),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "number": isinstance(value, int | float) and not isinstance(value, bool),
        "boolean": isinstance(value, bool),
        "array": isinstance(value, list),
    }
    if kind and not checks[kind]:
        return [f"{name}: must be of type {kind}"]
    problems = []
    if isinstance(value, dict):
        problems += [f"{field}: required" for field in schema.get("required", []) if field not in value]
        for field, sub in schema.get("properties", {}).items():
            if field in value:
                problems += _problems(sub, value[field], field)
    if isinstance(value, str) and not schema.get("minLength", 0) <= len(value) <= schema.get(
        "maxLength", len(value)
    ):
        problems.append(f"{name}: length out of bounds")
    if "enum" in schema and value not in schema["enum"]:
        problems.append(f"{name}: not one of {schema['enum']}")
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if number and not schema.get("minimum", value) <= value <= schema.get("maximum", value):
        problems.append(f"{name}: out of range")
    return problems

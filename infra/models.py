"""Request body models (JSON Schema draft 4, as API Gateway validates them), by the names the route
declaration's `body` field uses. One module, so an OpenAPI document can replace it later.

The gateway rejects what is structurally wrong (not an object, a required field missing, a wrong
type, an oversized value) before a Lambda runs; the handlers still validate everything and name the
offending field for the rest.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import aws_apigateway as apigw

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


def _schema(document: dict[str, Any], title: str) -> apigw.JsonSchema:
    """A JSON Schema dict -> the CDK's typed schema (only the keywords used above)."""
    types = {
        "object": apigw.JsonSchemaType.OBJECT,
        "string": apigw.JsonSchemaType.STRING,
        "integer": apigw.JsonSchemaType.INTEGER,
        "number": apigw.JsonSchemaType.NUMBER,
        "boolean": apigw.JsonSchemaType.BOOLEAN,
        "array": apigw.JsonSchemaType.ARRAY,
    }
    known = {"type", "required", "properties", "minLength", "maxLength", "enum", "minimum", "maximum"}
    unknown = set(document) - known
    if unknown:
        raise ValueError(f"model {title}: keywords {sorted(unknown)} are not translated")
    return apigw.JsonSchema(
        schema=apigw.JsonSchemaVersion.DRAFT4 if title else None,
        title=title or None,
        type=types[document["type"]] if "type" in document else None,
        required=document.get("required"),
        properties={name: _schema(sub, "") for name, sub in document.get("properties", {}).items()} or None,
        min_length=document.get("minLength"),
        max_length=document.get("maxLength"),
        enum=document.get("enum"),
        minimum=document.get("minimum"),
        maximum=document.get("maximum"),
    )


def add_model(api: apigw.RestApi, name: str) -> apigw.Model:
    """The named request model on `api` (created once per API)."""
    if name not in REQUEST_MODELS:
        raise KeyError(
            f"the route declaration names body model {name!r}, which infra/models.py does not define"
        )
    existing = api.node.try_find_child(f"Model{name}")
    if existing is not None:
        return existing  # type: ignore[return-value]
    return api.add_model(
        f"Model{name}",
        model_name=name,
        content_type="application/json",
        schema=_schema(REQUEST_MODELS[name], name),
    )

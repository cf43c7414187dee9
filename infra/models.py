"""The request body models of shared/routes/request_models.py as API Gateway models.

The gateway rejects what is structurally wrong (not an object, a required field missing, a wrong
type, an oversized value) before a Lambda runs; the handlers still validate everything and name the
offending field for the rest.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import aws_apigateway as apigw

from shared.routes.request_models import REQUEST_MODELS


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

"""docs/requests.http is generated from docs/openapi.json and kept current."""

from __future__ import annotations

import json

from operations import http_requests


def test_the_requests_file_is_current() -> None:
    assert http_requests.main(["--check"]) == 0, "run `make docs` (python -m operations.http_requests)"


def test_it_holds_every_operation_and_authorizes_the_protected_ones() -> None:
    document = json.loads(http_requests.OPENAPI.read_text(encoding="utf-8"))
    text = http_requests.render(document)
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert f"# @name {operation['operationId']}" in text, (method, path)
    assert text.count("Authorization: Bearer {{login.response.body.access_token}}") == sum(
        operation.get("security", [None]) != []
        for operations in document["paths"].values()
        for operation in operations.values()
    )

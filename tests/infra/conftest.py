"""Synthesize the stack once per configuration and share the templates across tests.

Template tests skip bundling (CDK's `aws:cdk:bundling-stacks` = []: assets point at their source
folders and get a stand-in hash), so they take seconds; `bundled` synthesizes once per run with the
real local bundling (pip for arm64, function folders + shared/), for the tests that open assets.
"""

from __future__ import annotations

import functools
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template
from cdk_nag import AwsSolutionsChecks

from infra.bundling import FUNCTIONS_DIR, REPO_ROOT
from infra.config import config_from_context
from infra.stack import JwtAuthStack, load_routes_document

ORIGINS = "https://app.example.com,https://admin.example.com"
BASE_CONTEXT: dict[str, Any] = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
PROD = {
    "stage": "prod",
    "allowed_origins": "https://app.example.com",
    "domain_name": "auth.example.com",
    "certificate_arn": "arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-aaaa-bbbb-cccc-0123456789ab",
    "signing_algorithm": "ES256",
    "signing_keys": "k2,k1",
    "authorizer_cache_ttl": "300",
    "alarm_email": "security@example.com",
    "throttle_rate": "20",
    "throttle_burst": "40",
}
HS256 = {"signing_algorithm": "HS256", "allowed_origins": "https://app.example.com"}
CANARY = {"canary_release": "canary-10-5min", "allowed_origins": "https://app.example.com"}


def existing_functions_only(document: dict[str, Any]) -> dict[str, Any]:
    """TESTS ONLY: drop routes whose function folder has not landed on main yet."""
    routes = [r for r in document["routes"] if (FUNCTIONS_DIR / r["function"] / "handler.py").is_file()]
    return {**document, "routes": routes}


@dataclass
class Synth:
    stack: JwtAuthStack
    template: Template
    json: dict[str, Any]
    nag_error: str  # "" when cdk-nag found nothing unacknowledged
    outdir: Path

    def resources(self, kind: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.json["Resources"].items() if v["Type"] == kind}


def synthesize(
    context: dict[str, Any],
    *,
    bundle: bool = False,
    routes_document: dict[str, Any] | None = None,
    outdir: str | None = None,
) -> Synth:
    merged = {**BASE_CONTEXT, **context}
    if not bundle:
        merged["aws:cdk:bundling-stacks"] = []
    outdir = outdir or tempfile.mkdtemp(prefix="cdk-test-")
    app = cdk.App(context=merged, outdir=outdir)
    config = config_from_context(app.node.try_get_context)
    document = routes_document or existing_functions_only(load_routes_document())
    stack = JwtAuthStack(app, f"JwtAuth-{config.stage}", config=config, routes_document=document)
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    nag_error = ""
    try:
        app.synth()
    except Exception as error:  # cdk-nag reports through a failed validation
        nag_error = str(error) + "\n" + _report(Path(outdir))
    template_json = json.loads((Path(outdir) / f"{stack.stack_name}.template.json").read_text())
    return Synth(stack, Template.from_json(template_json), template_json, nag_error, Path(outdir))


def _report(outdir: Path) -> str:
    path = outdir / "validation-report.json"
    if not path.exists():
        return ""
    report = json.loads(path.read_text())
    lines = []
    for plugin in report.get("pluginReports", []):
        for violation in plugin.get("violations", []):
            for construct in violation.get("violatingConstructs", []):
                lines.append(f"{violation['ruleName']} at {construct['constructPath']}")
    return "\n".join(lines)


@functools.cache
def _cached(key: str) -> Synth:
    return synthesize(json.loads(key))


def synth_for(context: dict[str, Any]) -> Synth:
    return _cached(json.dumps(context, sort_keys=True))


@pytest.fixture(scope="session")
def dev() -> Synth:
    return synth_for({"allowed_origins": ORIGINS})


@pytest.fixture(scope="session")
def prod() -> Synth:
    return synth_for(PROD)


@pytest.fixture(scope="session")
def hs256() -> Synth:
    return synth_for(HS256)


@pytest.fixture(scope="session")
def canary() -> Synth:
    return synth_for(CANARY)


@pytest.fixture(scope="session")
def bundled(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """The real thing, once per run: local bundling of the layer and every function."""
    outdir = tmp_path_factory.mktemp("bundled")
    return synthesize({"allowed_origins": ORIGINS}, bundle=True, outdir=str(outdir))

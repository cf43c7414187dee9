"""cdk-nag AwsSolutions and cfn-lint on the synthesized templates."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from cdk_nag import AwsSolutionsChecks

from tests.infra.conftest import Synth


@pytest.mark.parametrize("variant", ["dev", "prod", "hs256", "canary"])
def test_cdk_nag_aws_solutions_has_no_unacknowledged_finding(
    variant: str, request: pytest.FixtureRequest
) -> None:
    synth: Synth = request.getfixturevalue(variant)
    assert synth.nag_error == ""


def test_every_nag_acknowledgement_carries_a_reason(dev: Synth) -> None:
    metadata = json.loads((dev.outdir / f"{dev.stack.stack_name}.metadata.json").read_text())
    acknowledged = {
        path: entry["data"]
        for path, entries in metadata.items()
        for entry in entries
        if entry["type"] == "aws:cdk:acknowledged-rules"
    }
    assert any("Roles/Authorizer" in path for path in acknowledged)
    for path, rules in acknowledged.items():
        for rule, reason in rules.items():
            assert rule.startswith("Annotation::AwsSolutions-"), (path, rule)
            assert len(reason) >= 40, f"{path} {rule}: the reason must explain itself"


def test_cdk_nag_fails_synthesis_on_an_unacknowledged_finding() -> None:
    """The check is live: a wildcard policy nobody explained stops synthesis."""
    app = cdk.App(context={"aws:cdk:bundling-stacks": []}, outdir=tempfile.mkdtemp())
    stack = cdk.Stack(app, "Probe")
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    role.add_to_policy(iam.PolicyStatement(actions=["dynamodb:*"], resources=["*"]))
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    with pytest.raises(Exception, match=r"AwsSolutions-IAM5\[Action::dynamodb:\*\]"):
        app.synth()


@pytest.mark.parametrize("variant", ["dev", "prod", "hs256", "canary"])
def test_cfn_lint_finds_no_error_in_the_template(variant: str, request: pytest.FixtureRequest) -> None:
    synth: Synth = request.getfixturevalue(variant)
    template = synth.outdir / f"{synth.stack.stack_name}.template.json"
    result = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), "--format", "parseable", str(template)],
        capture_output=True,
        text=True,
        check=False,
    )
    errors = [line for line in result.stdout.splitlines() if _severity(line) == "E"]
    assert not errors, result.stdout
    assert result.returncode in (0, 4, 8, 12), result.stderr  # 4 = warnings only, 8 = informational


def _severity(line: str) -> str:
    # parseable: file:line:col:endline:endcol:RULE:message
    parts = line.split(":")
    return parts[5][:1] if len(parts) > 5 else ""

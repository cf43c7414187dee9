"""CDK feature flags: cdk.json sets exactly what `cdk init` writes for the pinned aws-cdk-lib."""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path

from infra import feature_flags
from infra.bundling import REPO_ROOT


def test_cdk_json_sets_every_flag_cdk_init_recommends_for_the_pinned_aws_cdk_lib() -> None:
    recommended = feature_flags.recommended_flags()
    assert len(recommended) > 80  # the file of the installed aws-cdk-lib, not a list typed by hand
    context = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    unset = sorted(name for name in recommended if name not in context)
    different = sorted(name for name in recommended if name in context and context[name] != recommended[name])
    assert not unset and not different, f"unset: {unset}; different: {different}"


def test_the_flags_come_from_the_installed_aws_cdk_lib_version() -> None:
    assert feature_flags.library_archive().name == f"aws-cdk-lib@{version('aws-cdk-lib')}.jsii.tgz"


def test_the_check_reports_a_stale_cdk_json(tmp_path: Path) -> None:
    stale = tmp_path / "cdk.json"
    stale.write_text(json.dumps({"app": "x", "context": {"stage": "dev"}}))
    assert feature_flags.main(["--check"], path=stale) == 1
    assert feature_flags.main([], path=stale) == 0
    written = json.loads(stale.read_text())
    assert written["app"] == "x" and written["context"]["stage"] == "dev"
    assert feature_flags.main(["--check"], path=stale) == 0

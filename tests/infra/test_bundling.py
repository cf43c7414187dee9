"""Local bundling without Docker: one real synthesis per run (the `bundled` fixture)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra.bundling import (
    FUNCTION_REQUIREMENTS,
    LAMBDA_PLATFORMS,
    PYTHON_RUNTIME,
    LayerBundling,
    matching_interpreter,
    python_version_of,
)
from tests.infra.conftest import Synth


def _asset_dir(synth: Synth, logical_id: str) -> Path:
    resource = synth.json["Resources"][logical_id]
    key = resource["Properties"].get("Code", resource["Properties"].get("Content"))["S3Key"]
    return synth.outdir / f"asset.{key.removesuffix('.zip')}"


def _logical_id(synth: Synth, construct: object) -> str:
    return synth.stack.resolve(construct.node.default_child.logical_id)  # type: ignore[attr-defined]


def test_the_pip_command_targets_the_lambda_runtime_with_hash_checked_wheels_only() -> None:
    version = python_version_of(PYTHON_RUNTIME)
    command = LayerBundling(version).command(Path("/out"))
    joined = " ".join(command)
    assert f"--python-version {version}" in joined and f"--abi cp{version.replace('.', '')}" in joined
    assert (
        "--only-binary=:all:" in command and "--require-hashes" in command and "--implementation cp" in joined
    )
    assert "--platform manylinux2014_aarch64" in joined
    assert all(platform.endswith("_aarch64") for platform in LAMBDA_PLATFORMS)


@pytest.mark.timeout(600)
def test_the_layer_holds_arm64_wheels_for_the_runtime_and_no_boto3(bundled: Synth) -> None:
    (layer_id,) = bundled.resources("AWS::Lambda::LayerVersion")
    site = _asset_dir(bundled, layer_id) / "python"
    for package in ("aws_lambda_powertools", "jwt", "cryptography", "argon2", "_argon2_cffi_bindings"):
        assert (site / package).is_dir(), package
    assert not (site / "boto3").exists() and not (site / "botocore").exists()
    binaries = [path.name for path in site.rglob("*.so")]
    assert binaries and all("x86_64" not in name for name in binaries)
    minor = python_version_of(PYTHON_RUNTIME).replace(".", "")
    assert any(f"cpython-{minor}-aarch64" in name for name in binaries)  # cffi's backend for this runtime
    byte_code = [path.name for path in site.rglob("*.pyc")]
    if matching_interpreter(python_version_of(PYTHON_RUNTIME)):  # compiled for the runtime, nothing else
        assert byte_code and all(f".cpython-{minor}.pyc" in name for name in byte_code)
    else:  # this machine has no such interpreter: none at all (synthesis said so)
        assert byte_code == []


@pytest.mark.timeout(600)
def test_each_function_asset_holds_its_folder_shared_and_the_route_declaration_only(bundled: Synth) -> None:
    for name, function in bundled.stack.functions.by_name.items():
        asset = _asset_dir(bundled, _logical_id(bundled, function))
        assert (asset / "functions" / name / "handler.py").is_file()
        assert {p.name for p in (asset / "functions").iterdir()} == {"__init__.py", name}
        assert (asset / "shared" / "config" / "settings.py").is_file()
        declaration = json.loads((asset / "routes.json").read_text())
        assert declaration == bundled.stack.routes_document
        assert not [p for p in ("functions", "shared") for _ in (asset / p).rglob("__pycache__")]
        # Nothing else of the repository: no infra/, operations/, local/ or tests/ (the passkey
        # functions' own packages apart).
        own = {p.name for p in asset.iterdir()} - {"functions", "shared", "routes.json"}
        assert (name in FUNCTION_REQUIREMENTS) == bool(own), name


@pytest.mark.timeout(600)
def test_only_the_passkey_functions_ship_py_webauthn_and_pyopenssl(bundled: Synth) -> None:
    """Kept out of the shared layer: with pyOpenSSL importable, botocore loads it in every function."""
    heavy = ("webauthn", "cbor2", "OpenSSL", "pyasn1")
    (layer_id,) = bundled.resources("AWS::Lambda::LayerVersion")
    assert not any((_asset_dir(bundled, layer_id) / "python" / package).exists() for package in heavy)
    for name, function in bundled.stack.functions.by_name.items():
        asset = _asset_dir(bundled, _logical_id(bundled, function))
        shipped = {package for package in heavy if (asset / package).is_dir()}
        assert shipped == (set(heavy) if name in FUNCTION_REQUIREMENTS else set()), name
        # nothing the layer already has (cryptography and its dependencies come from there)
        assert not (asset / "cryptography").exists(), name


@pytest.mark.timeout(600)
def test_the_bundled_synthesis_passes_cdk_nag(bundled: Synth) -> None:
    assert bundled.nag_error == ""

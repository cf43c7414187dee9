"""The runtime is pinned, the layer ships byte code for it when the build machine can make it (and
says so when it cannot), and synthesis runs on a Node.js the CDK supports."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest
from aws_cdk import aws_lambda as lambda_

from infra import bundling, toolchain
from infra.bundling import (
    PYTHON_RUNTIME,
    LayerBundling,
    compile_bytecode,
    matching_interpreter,
    python_version_of,
)
from tests.infra.conftest import synthesize

README = (bundling.REPO_ROOT / "README.md").read_text()
THIS_PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"


def _executable(path: Path, text: str) -> Path:
    path.write_text("#!/bin/sh\n" + text)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


# ------------------------------------------------------------------------------------- runtime
def test_a_newer_runtime_in_aws_cdk_lib_does_not_change_the_functions_runtime(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # What a newer aws-cdk-lib looks like to code that picks the highest PYTHON_3_<n> member. (An
    # existing runtime object stands in: creating one would register it for the whole test session,
    # and cdk-nag's AwsSolutions-L1 would then call every function's runtime outdated.)
    other = lambda_.Runtime.PYTHON_3_13
    assert other.name != PYTHON_RUNTIME.name
    monkeypatch.setattr(lambda_.Runtime, "PYTHON_3_99", other, raising=False)
    synth = synthesize({})
    runtimes = {f["Properties"]["Runtime"] for f in synth.resources("AWS::Lambda::Function").values()}
    assert runtimes == {PYTHON_RUNTIME.name}
    (layer,) = synth.resources("AWS::Lambda::LayerVersion").values()
    assert layer["Properties"]["CompatibleRuntimes"] == [PYTHON_RUNTIME.name]


def test_the_readme_names_the_pinned_runtime() -> None:
    assert f"`{PYTHON_RUNTIME.name}`" in README


# ------------------------------------------------------------------------------------ byte code
def test_the_matching_interpreter_is_found_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / f"python{THIS_PYTHON}").symlink_to(sys.executable)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert matching_interpreter(THIS_PYTHON) == str(tmp_path / f"python{THIS_PYTHON}")


def test_the_matching_interpreter_is_found_through_uv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _executable(tmp_path / "uv", f'[ "$1 $2" = "python find" ] && echo {sys.executable}\n')
    monkeypatch.setenv("PATH", str(tmp_path))
    assert matching_interpreter(THIS_PYTHON) == sys.executable


def test_an_interpreter_of_another_version_is_not_taken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "python3.99").symlink_to(sys.executable)  # a shim that runs another version
    _executable(tmp_path / "uv", f"echo {sys.executable}\n")
    monkeypatch.setenv("PATH", str(tmp_path))
    assert matching_interpreter("3.99") is None


def test_compiled_byte_code_is_for_the_layers_path_and_never_checks_the_source(tmp_path: Path) -> None:
    site = tmp_path / "python"
    (site / "package").mkdir(parents=True)
    (site / "package" / "__init__.py").write_text("def f():\n    return 1\n")
    compile_bytecode(site, sys.executable)
    tag = sys.implementation.cache_tag
    pyc = site / "package" / "__pycache__" / f"__init__.{tag}.pyc"
    data = pyc.read_bytes()
    assert int.from_bytes(data[4:8], "little") == 0b01  # hash-based, unchecked: zip timestamps do not matter
    assert b"/opt/python/package/__init__.py" in data  # the file name tracebacks show: where the layer is


def test_without_a_matching_interpreter_synthesis_says_the_layer_ships_no_byte_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(bundling, "matching_interpreter", lambda version: None)
    monkeypatch.setattr(
        LayerBundling, "install", lambda self, target: target.mkdir(parents=True, exist_ok=True)
    )
    bundler = LayerBundling("3.99")
    assert bundler.try_bundle(str(tmp_path))
    err = capsys.readouterr().err
    assert "no python3.99 interpreter" in err and "ships no byte code" in err
    assert "bytecode=none" in bundler.describe()


def test_with_a_matching_interpreter_the_layer_is_compiled_and_its_hash_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def install(self: LayerBundling, target: Path) -> None:
        (target / "pkg").mkdir(parents=True)
        (target / "pkg" / "__init__.py").write_text("x = 1\n")

    monkeypatch.setattr(bundling, "matching_interpreter", lambda version: sys.executable)
    monkeypatch.setattr(LayerBundling, "install", install)
    bundler = LayerBundling(THIS_PYTHON)
    assert bundler.try_bundle(str(tmp_path))
    assert list((tmp_path / "python" / "pkg" / "__pycache__").glob("*.pyc"))
    assert "compiled" in capsys.readouterr().err
    monkeypatch.setattr(bundling, "matching_interpreter", lambda version: None)
    assert (
        LayerBundling(THIS_PYTHON).fingerprint() != bundler.fingerprint()
    )  # adding byte code changes the asset


def test_the_layer_is_built_for_the_pinned_runtime() -> None:
    assert LayerBundling(
        python_version_of(PYTHON_RUNTIME)
    ).python_version == PYTHON_RUNTIME.name.removeprefix("python")


# ------------------------------------------------------------------------------------ Node.js
def test_a_supported_system_node_is_used_as_is(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _executable(tmp_path / "node", "echo v22.11.0\n")
    monkeypatch.setenv("PATH", str(tmp_path) + os.pathsep + os.environ["PATH"])
    monkeypatch.setattr(toolchain, "install_node", lambda: pytest.fail("no install needed"))
    assert toolchain.node_directory() == tmp_path


def test_an_older_system_node_is_replaced_by_one_npm_installs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    system, local = tmp_path / "system", tmp_path / "local" / "node_modules" / ".bin"
    system.mkdir()
    _executable(system / "node", "echo v20.20.2\n")
    monkeypatch.setenv("PATH", str(system) + os.pathsep + os.environ["PATH"])
    monkeypatch.setattr(toolchain, "NODE_DIR", tmp_path / "local")
    installed = []

    def install() -> None:
        local.mkdir(parents=True)
        _executable(local / "node", "echo v22.23.3\n")
        installed.append(True)

    monkeypatch.setattr(toolchain, "install_node", install)
    assert toolchain.node_directory() == local
    assert toolchain.node_directory() == local and installed == [True]  # installed once


@pytest.mark.parametrize(
    ("version", "ok"), [("v20.20.2", False), ("v22.0.0", True), ("v24.1.0", True), ("", False)]
)
def test_supported_node_versions(version: str, ok: bool) -> None:
    assert toolchain.supported(version) is ok

"""Lambda bundling on this machine, without Docker (CDK's `ILocalBundling`).

- One shared layer: the hash-pinned third-party packages of requirements/layer.txt, installed by
  pip for the Lambda target (arm64, the runtime's CPython ABI, wheels only) into `python/`.
- One asset per function: its folder under functions/ plus the shared/ package and the route
  declaration the authorizer reads, laid out as in the repository so `functions.<name>.handler.handler`
  and `from shared ...` import as they do in the tests.

boto3 is not bundled: the Lambda runtime provides it.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import jsii
from aws_cdk import aws_lambda as lambda_

REPO_ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS_DIR = REPO_ROOT / "functions"
SHARED_DIR = REPO_ROOT / "shared"
LAYER_REQUIREMENTS = REPO_ROOT / "requirements" / "layer.txt"
ROUTES_ASSET_NAME = "routes.json"  # at the asset root, i.e. /var/task/routes.json
LAMBDA_TASK_ROOT = "/var/task"

# Wheel platforms the arm64 Lambda runtimes (Amazon Linux 2023, glibc 2.34) load. manylinux2014 is
# glibc 2.17; some pinned wheels (argon2-cffi-bindings) ship only as manylinux_2_28.
LAMBDA_PLATFORMS = ("manylinux2014_aarch64", "manylinux_2_28_aarch64", "manylinux_2_34_aarch64")
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", ".mypy_cache")


def newest_python_runtime() -> lambda_.Runtime:
    """The newest python3.x runtime this aws-cdk-lib knows."""
    found: list[tuple[int, lambda_.Runtime]] = []
    for name in dir(lambda_.Runtime):
        if name.startswith("PYTHON_3_"):
            minor = name.removeprefix("PYTHON_3_")
            if minor.isdigit():
                found.append((int(minor), getattr(lambda_.Runtime, name)))
    return max(found, key=lambda pair: pair[0])[1]


def python_version_of(runtime: lambda_.Runtime) -> str:
    """'python3.14' -> '3.14'."""
    return runtime.name.removeprefix("python")


def function_folder(name: str) -> Path:
    return FUNCTIONS_DIR / name


def check_function_folder(name: str) -> Path:
    folder = function_folder(name)
    if not (folder / "handler.py").is_file():
        raise FileNotFoundError(
            f"the route declaration names function {name!r}, but functions/{name}/handler.py does not exist: "
            f"add the folder (with handler.py exposing handler(event, context)) or remove its routes"
        )
    return folder


def handler_path(name: str) -> str:
    return f"functions.{name}.handler.handler"


@jsii.implements(cdk.ILocalBundling)
class LayerBundling:
    """pip-installs requirements/layer.txt for the Lambda target into `<output>/python`."""

    def __init__(self, python_version: str, requirements: Path = LAYER_REQUIREMENTS) -> None:
        self.python_version = python_version
        self.requirements = requirements

    def command(self, target: Path) -> list[str]:
        abi = "cp" + self.python_version.replace(".", "")
        platforms = [argument for platform in LAMBDA_PLATFORMS for argument in ("--platform", platform)]
        return [
            sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
            *platforms,
            "--implementation", "cp",
            "--python-version", self.python_version,
            "--abi", abi,
            "--only-binary=:all:",
            "--require-hashes",
            "--no-deps",  # the lock file pins every dependency already
            "--no-compile",  # byte code from this interpreter would not match the runtime's
            "-r", str(self.requirements),
            "--target", str(target),
        ]  # fmt: skip

    def fingerprint(self) -> str:
        digest = hashlib.sha256(self.requirements.read_bytes())
        digest.update(json.dumps([self.python_version, LAMBDA_PLATFORMS]).encode())
        return digest.hexdigest()

    def try_bundle(self, output_dir: str, options: Any = None, **kwargs: Any) -> bool:
        target = Path(output_dir) / "python"
        target.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(self.command(target), capture_output=True, text=True, check=False)  # noqa: S603
        if result.returncode != 0:
            raise RuntimeError(f"building the Lambda layer failed:\n{result.stdout}\n{result.stderr}")
        shutil.rmtree(target / "bin", ignore_errors=True)  # console scripts: no use in a layer
        return True


@jsii.implements(cdk.ILocalBundling)
class FunctionBundling:
    """Copies functions/<name>/ and shared/ (and the route declaration) into the asset."""

    def __init__(self, name: str, routes_document: dict[str, Any]) -> None:
        self.name = name
        self.routes_document = routes_document

    def try_bundle(self, output_dir: str, options: Any = None, **kwargs: Any) -> bool:
        out = Path(output_dir)
        source = check_function_folder(self.name)
        (out / "functions").mkdir(parents=True, exist_ok=True)
        shutil.copy2(FUNCTIONS_DIR / "__init__.py", out / "functions" / "__init__.py")
        shutil.copytree(source, out / "functions" / self.name, ignore=_IGNORED, dirs_exist_ok=True)
        shutil.copytree(SHARED_DIR, out / "shared", ignore=_IGNORED, dirs_exist_ok=True)
        (out / ROUTES_ASSET_NAME).write_text(json.dumps(self.routes_document, indent=1), encoding="utf-8")
        return True


def layer_code(runtime: lambda_.Runtime) -> lambda_.Code:
    bundler = LayerBundling(python_version_of(runtime))
    return lambda_.Code.from_asset(
        str(LAYER_REQUIREMENTS.parent),
        # The lock file and the target decide the content: same inputs, same layer, no re-upload.
        asset_hash_type=cdk.AssetHashType.CUSTOM,
        asset_hash=bundler.fingerprint(),
        bundling=cdk.BundlingOptions(
            image=runtime.bundling_image,  # required by the API, never pulled: local bundling always succeeds
            local=bundler,
        ),
    )


def function_code(name: str, routes_document: dict[str, Any], runtime: lambda_.Runtime) -> lambda_.Code:
    folder = check_function_folder(name)
    return lambda_.Code.from_asset(
        str(folder),
        asset_hash_type=cdk.AssetHashType.OUTPUT,
        bundling=cdk.BundlingOptions(
            image=runtime.bundling_image,  # never pulled: local bundling always succeeds
            local=FunctionBundling(name, routes_document),
        ),
    )

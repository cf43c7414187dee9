"""Lambda bundling on this machine, without Docker (CDK's `ILocalBundling`).

- One shared layer: the hash-pinned third-party packages of requirements/layer.txt, installed by
  pip for the Lambda target (arm64, the runtime's CPython ABI, wheels only) into `python/`, then
  compiled to byte code by an interpreter of the runtime's Python version when the build machine has
  one (on PATH, or found by uv); otherwise synthesis says that the layer ships no byte code.
- One asset per function: its folder under functions/ plus the shared/ package and the route
  declaration the authorizer reads, laid out as in the repository so `functions.<name>.handler.handler`
  and `from shared ...` import as they do in the tests.
- The passkey functions' asset also holds their own packages (requirements/passkeys.txt: py_webauthn,
  cbor2, pyOpenSSL, asn1), installed the same way on top of the shared layer. Kept out of the layer:
  no other function pays their import, and with pyOpenSSL importable botocore would load it (through
  urllib3.contrib.pyopenssl) in every function that creates a client.

boto3 is not bundled: the Lambda runtime provides it.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import subprocess  # runs pip with a fixed argument list, never a shell
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
PASSKEY_REQUIREMENTS = REPO_ROOT / "requirements" / "passkeys.txt"
# Functions whose asset holds packages of their own, on top of the shared layer.
FUNCTION_REQUIREMENTS = {"passkeys": PASSKEY_REQUIREMENTS, "passkey_login": PASSKEY_REQUIREMENTS}
ROUTES_ASSET_NAME = "routes.json"  # at the asset root, i.e. /var/task/routes.json
LAMBDA_TASK_ROOT = "/var/task"

# Wheel platforms the arm64 Lambda runtimes (Amazon Linux 2023, glibc 2.34) load. manylinux2014 is
# glibc 2.17; some pinned wheels (argon2-cffi-bindings) ship only as manylinux_2_28.
LAMBDA_PLATFORMS = ("manylinux2014_aarch64", "manylinux_2_28_aarch64", "manylinux_2_34_aarch64")
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", ".mypy_cache")


# The Lambda runtime of every function and of the layer, pinned: upgrading aws-cdk-lib never changes
# it. Changing it is a deliberate edit here (and in README), with the layer rebuilt for its ABI.
PYTHON_RUNTIME = lambda_.Runtime.PYTHON_3_14
LAYER_ROOT = "/opt/python"  # where Lambda extracts a layer's python/ folder


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


def matching_interpreter(version: str) -> str | None:
    """A CPython of exactly `version` ("3.14") on this machine: `python3.14` on PATH, else the one
    `uv python find` names (never downloaded). None when there is none."""
    return _lookup(version, os.environ.get("PATH", ""))


@functools.cache
def _lookup(version: str, path: str) -> str | None:
    candidates = []
    on_path = shutil.which(f"python{version}", path=path)
    if on_path:
        candidates.append(on_path)
    uv = shutil.which("uv", path=path)
    if uv:
        found = _run([uv, "python", "find", version], {"UV_PYTHON_DOWNLOADS": "never"})
        if found:
            candidates.append(found)
    for candidate in candidates:
        if _run([candidate, "-c", _VERSION_PROBE]) == f"cpython {version}":
            return candidate
    return None


_VERSION_PROBE = "import sys; print(sys.implementation.name, '%d.%d' % sys.version_info[:2])"


def _run(command: list[str], extra_env: dict[str, str] | None = None) -> str:
    """The command's first output line, or "" when it fails (a broken shim, a missing version)."""
    try:
        result = subprocess.run(  # noqa: S603  # fixed arguments, no shell
            command,
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
            env={**os.environ, **(extra_env or {})},
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    lines = result.stdout.strip().splitlines()
    return lines[0].strip() if result.returncode == 0 and lines else ""


def compile_bytecode(site: Path, interpreter: str, root: str = LAYER_ROOT) -> None:
    """Compile every module under `site` with `interpreter`, as Lambda will import them from `root`
    (the layer's LAYER_ROOT, or a function's LAMBDA_TASK_ROOT): hash-based and unchecked (an asset's
    zip carries no real timestamps, and both are read-only, so timestamp-checked byte code would be
    compiled again at every cold start), with the paths tracebacks show under `root`."""
    command = [
        interpreter, "-m", "compileall", "-q", "-j", "0",
        "--invalidation-mode", "unchecked-hash",
        "-s", str(site), "-p", root,
        str(site),
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603  # fixed arguments, no shell
    if result.returncode != 0:
        raise RuntimeError(
            f"compiling the Lambda layer with {interpreter} failed:\n{result.stdout}\n{result.stderr}"
        )


@jsii.implements(cdk.ILocalBundling)
class LayerBundling:
    """pip-installs requirements/layer.txt for the Lambda target into `<output>/python`, and compiles
    it with a matching interpreter when there is one."""

    def __init__(self, python_version: str, requirements: Path = LAYER_REQUIREMENTS) -> None:
        self.python_version = python_version
        self.requirements = requirements

    @functools.cached_property
    def interpreter(self) -> str | None:
        return matching_interpreter(self.python_version)

    def describe(self) -> str:
        """What decides the content besides the lock file."""
        compiled = f"cpython-{self.python_version}" if self.interpreter else "none"
        return f"python={self.python_version} platforms={','.join(LAMBDA_PLATFORMS)} bytecode={compiled}"

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
            "--no-compile",  # this interpreter's byte code would not match the runtime's (see try_bundle)
            "-r", str(self.requirements),
            "--target", str(target),
        ]  # fmt: skip

    def fingerprint(self) -> str:
        digest = hashlib.sha256(self.requirements.read_bytes())
        digest.update(self.describe().encode())
        return digest.hexdigest()

    def install(self, target: Path) -> None:
        target.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(self.command(target), capture_output=True, text=True, check=False)  # noqa: S603  # argument list from constants and paths, no shell
        if result.returncode != 0:
            raise RuntimeError(f"building the Lambda layer failed:\n{result.stdout}\n{result.stderr}")

    def try_bundle(self, output_dir: str, options: Any = None, **kwargs: Any) -> bool:
        target = Path(output_dir) / "python"
        self.install(target)
        shutil.rmtree(target / "bin", ignore_errors=True)  # console scripts: no use in a layer
        if self.interpreter:
            compile_bytecode(target, self.interpreter)
            print(
                f"jwt-auth layer: byte code compiled with {self.interpreter} (Python {self.python_version})",
                file=sys.stderr,
            )
        else:
            print(
                f"jwt-auth layer: no python{self.python_version} interpreter on PATH or through uv, so the "
                "layer ships no byte code: every cold start compiles its modules (docs/benchmarks.md, the "
                f"'no .pyc' rows). Install Python {self.python_version} (for example `uv python install "
                f"{self.python_version}`) and synthesize again.",
                file=sys.stderr,
            )
        return True


@jsii.implements(cdk.ILocalBundling)
class FunctionBundling:
    """Copies functions/<name>/ and shared/ (and the route declaration) into the asset."""

    def __init__(self, name: str, routes_document: dict[str, Any], python_version: str = "") -> None:
        self.name = name
        self.routes_document = routes_document
        self.python_version = python_version

    def install_own_packages(self, out: Path) -> None:
        """The function's own packages (FUNCTION_REQUIREMENTS), at the asset root (/var/task, which
        Lambda puts on sys.path before the layer), compiled like the layer's."""
        requirements = FUNCTION_REQUIREMENTS.get(self.name)
        if requirements is None:
            return
        packages = LayerBundling(self.python_version, requirements)
        packages.install(out)
        shutil.rmtree(out / "bin", ignore_errors=True)
        if packages.interpreter:
            compile_bytecode(out, packages.interpreter, LAMBDA_TASK_ROOT)

    def try_bundle(self, output_dir: str, options: Any = None, **kwargs: Any) -> bool:
        out = Path(output_dir)
        self.install_own_packages(out)
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
            local=FunctionBundling(name, routes_document, python_version_of(runtime)),
        ),
    )

"""The Node.js that CDK synthesis runs on (the CDK CLI, and the jsii runtime behind aws-cdk-lib).

    python -m infra.toolchain node   # print a directory holding a supported `node` (for PATH)

The system's `node` when the CDK supports it (MIN_NODE or newer); otherwise one that npm installs
into .node/ once (the `node` package of the npm registry, through npm itself). On an unsupported
Node.js the jsii runtime prints an end-of-life banner, which aws-cdk-lib's Python side relays as
Python byte strings; on a supported one there is no banner. No aws_cdk import here: importing it
would start that very runtime.
"""

from __future__ import annotations

import shutil
import subprocess  # runs node and npm with fixed argument lists, never a shell
import sys
from collections.abc import Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
MIN_NODE = 22  # the oldest Node.js release line the CDK CLI and jsii support
NODE_DIR = REPO_ROOT / ".node"


def supported(version: str) -> bool:
    """'v22.11.0' -> True; 'v20.20.2' -> False."""
    major = version.strip().removeprefix("v").split(".", 1)[0]
    return major.isdigit() and int(major) >= MIN_NODE


def version_of(node: str | Path) -> str:
    try:
        result = subprocess.run(  # noqa: S603  # fixed arguments, no shell
            [str(node), "--version"], capture_output=True, text=True, check=False, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return result.stdout.strip() if result.returncode == 0 else ""


def local_node() -> Path:
    return NODE_DIR / "node_modules" / ".bin" / "node"


def install_node() -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit(
            f"Node.js {MIN_NODE} or newer is needed and npm is missing: install Node.js {MIN_NODE}+"
        )
    command = [npm, "install", "--no-save", "--no-audit", "--no-fund", "--loglevel=error"]
    command += ["--prefix", str(NODE_DIR), f"node@{MIN_NODE}"]
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603  # fixed arguments, no shell
    if result.returncode != 0:
        raise SystemExit(f"installing Node.js {MIN_NODE} with npm failed:\n{result.stdout}\n{result.stderr}")


def node_directory() -> Path:
    """A directory whose `node` the CDK supports, installing one when needed."""
    system = shutil.which("node")
    if system and supported(version_of(system)):
        return Path(system).parent
    if not supported(version_of(local_node())):
        found = version_of(system) if system else "none"
        print(
            f"Node.js {found} is not supported by the CDK: npm installs Node.js {MIN_NODE} into .node/",
            file=sys.stderr,
        )
        install_node()
        if not supported(version_of(local_node())):
            raise SystemExit(f"npm installed no working Node.js {MIN_NODE} at {local_node()}")
    return local_node().parent


def main(argv: Sequence[str]) -> int:
    if list(argv) != ["node"]:
        print(__doc__, file=sys.stderr)
        return 2
    print(node_directory())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""The CDK feature flags in cdk.json: the set `cdk init` writes for the pinned aws-cdk-lib.

    python -m infra.feature_flags           # write the recommended flags into cdk.json's context
    python -m infra.feature_flags --check   # exit 1 when cdk.json lacks one or sets it differently

The flags are read from the installed aws-cdk-lib itself (`recommended-feature-flags.json` in the
package the Python library wraps; the CDK CLI's `cdk init` writes the same file for that version),
never typed by hand. After upgrading aws-cdk-lib, run it again and read the new flags' notes in the
aws-cdk-lib release notes before deploying: a flag can change a deployed resource.
"""

from __future__ import annotations

import functools
import json
import sys
import tarfile
from collections.abc import Sequence
from importlib.metadata import version
from pathlib import Path
from typing import Any

import aws_cdk

REPO_ROOT = Path(__file__).resolve().parent.parent
CDK_JSON = REPO_ROOT / "cdk.json"
_MEMBER = "package/recommended-feature-flags.json"


def library_archive() -> Path:
    """The JavaScript package of the installed aws-cdk-lib (jsii ships it beside the Python code)."""
    jsii = Path(aws_cdk.__file__).parent / "_jsii"
    archive = jsii / f"aws-cdk-lib@{version('aws-cdk-lib')}.jsii.tgz"
    if not archive.is_file():
        raise FileNotFoundError(f"{archive} is missing: is aws-cdk-lib installed?")
    return archive


@functools.cache
def _read_flags() -> dict[str, Any]:
    with tarfile.open(library_archive()) as archive:
        member = archive.extractfile(_MEMBER)
        if member is None:
            raise FileNotFoundError(f"{_MEMBER} is not in {library_archive().name}")
        flags: dict[str, Any] = json.load(member)
    return {name: flags[name] for name in sorted(flags)}


def recommended_flags() -> dict[str, Any]:
    """Flag name -> value, sorted by name as `cdk init` writes them."""
    return dict(_read_flags())


def missing(context: dict[str, Any], flags: dict[str, Any]) -> list[str]:
    return [name for name, value in flags.items() if context.get(name, object()) != value]


def main(argv: Sequence[str], path: Path = CDK_JSON) -> int:
    document = json.loads(path.read_text("utf-8"))
    context = document.setdefault("context", {})
    flags = recommended_flags()
    if "--check" in argv:
        stale = missing(context, flags)
        for name in stale:
            wanted = json.dumps(flags[name])
            print(f"{path.name}: feature flag {name} is not {wanted}; run python -m infra.feature_flags")
        return 1 if stale else 0
    own = {name: value for name, value in context.items() if not name.startswith("@aws-cdk")}
    path.write_text(render(path.read_text("utf-8"), {**own, **flags}), "utf-8")
    return 0


def render(text: str, context: dict[str, Any]) -> str:
    """cdk.json with its context replaced and everything before the context left as written (the
    context is the last key of cdk.json)."""
    block = json.dumps(context, indent=2).replace("\n", "\n  ")
    head, found, _ = text.partition('"context"')
    if not found:
        document = json.loads(text)
        document["context"] = context
        return json.dumps(document, indent=2) + "\n"
    rendered = f'{head}"context": {block}\n}}\n'
    json.loads(rendered)  # still one JSON document
    return rendered


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

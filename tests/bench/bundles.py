"""Deployment package sizes from the synthesized assets (`make synth` writes cdk.out/asset.*).

Each function's asset is found through its template's `aws:asset:path` metadata; its own package
must hold only its code, shared/ and the route declaration (target under 1 MB), with third-party
dependencies in the shared layer, whose size and heaviest packages are reported too.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CDK_OUT = REPO / "cdk.out"
FUNCTION_LIMIT = 1_000_000  # bytes, zipped
ALLOWED_IN_FUNCTION = {"functions", "shared", "routes.json"}


@dataclass(frozen=True)
class Package:
    kind: str  # "function" or "layer"
    name: str
    asset: Path
    unzipped: int
    zipped: int
    unexpected: tuple[str, ...]  # top-level entries a function package should not hold
    top: tuple[tuple[str, int], ...]  # heaviest top-level packages (layers), unzipped bytes


def _files(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())


def _zipped_size(root: Path) -> int:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in _files(root):
            archive.write(path, path.relative_to(root).as_posix())
    return buffer.tell()


def _heaviest(root: Path, count: int = 6) -> tuple[tuple[str, int], ...]:
    sizes: dict[str, int] = defaultdict(int)
    base = root / "python" if (root / "python").is_dir() else root
    for path in _files(base):
        top = path.relative_to(base).parts[0]
        if top.endswith((".dist-info", ".egg-info")):
            top = "(package metadata)"
        elif top.endswith(".libs"):  # vendored shared libraries of a wheel
            top = top.removesuffix(".libs").split("-")[0] + " (.libs)"
        sizes[top.split(".")[0] if top.endswith((".py", ".so")) else top] += path.stat().st_size
    return tuple(sorted(sizes.items(), key=lambda item: item[1], reverse=True)[:count])


def _package(kind: str, name: str, asset: Path) -> Package:
    unexpected: tuple[str, ...] = ()
    if kind == "function":
        unexpected = tuple(
            sorted(entry.name for entry in asset.iterdir() if entry.name not in ALLOWED_IN_FUNCTION)
        )
    return Package(
        kind=kind,
        name=name,
        asset=asset,
        unzipped=sum(path.stat().st_size for path in _files(asset)),
        zipped=_zipped_size(asset),
        unexpected=unexpected,
        top=_heaviest(asset) if kind == "layer" else (),
    )


def measure(cdk_out: Path = CDK_OUT) -> list[Package] | None:
    """None when there is nothing synthesized yet (run `make synth`)."""
    templates = sorted(cdk_out.rglob("*.template.json")) if cdk_out.is_dir() else []
    found: dict[tuple[str, str], Package] = {}
    for template in templates:
        resources = json.loads(template.read_text(encoding="utf-8")).get("Resources", {})
        for logical_id, resource in resources.items():
            asset_path = (resource.get("Metadata") or {}).get("aws:asset:path")
            kind = {"AWS::Lambda::Function": "function", "AWS::Lambda::LayerVersion": "layer"}.get(
                resource.get("Type", "")
            )
            if not asset_path or kind is None:
                continue
            asset = template.parent / asset_path
            if not asset.is_dir():
                continue
            handler = str(resource.get("Properties", {}).get("Handler", ""))
            if kind == "function" and handler.startswith("functions."):
                name = handler.split(".")[1]
            else:
                name = re.sub(r"[0-9A-F]{8}$", "", logical_id)  # without CDK's hash suffix
            found.setdefault((kind, name), _package(kind, name, asset))
    if not found:
        return None
    return sorted(found.values(), key=lambda package: (package.kind != "layer", package.name))

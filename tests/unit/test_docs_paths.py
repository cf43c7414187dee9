"""Every repository path the documentation names exists: README.md, docs/*.md and clients/*/README.md.

A path is a word that starts with one of the repository's top-level folders (`shared/`,
`functions/`, `tests/`, ...), backticked or bare, plus every relative Markdown link target. The
rules that keep this free of false positives are narrow and listed here:

- a path glued to what comes before it (`https://host/docs/x`, `../tests/x`, `aws-cdk/infra/x`) is
  part of a URL or of another name, not one of ours, and is not read as a path;
- a placeholder segment (`functions/<name>/handler.py`, `/auth/sessions/{id}`) or a glob
  (`tests/integration/test_hostile_*.py`) must match at least one real path;
- a trailing ellipsis or full stop (`tests/...`, `shared/store/links.py.`) is prose, not the path;
- paths into generated output (`cdk.out/`, `node_modules/`, `.venv/`, ...) are not checked;
- a client package's README (published with the package) may name paths inside its package
  (`tests/fake-api.js` in clients/web/README.md) as well as the repository's.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ROOTS = ("shared", "functions", "tests", "docs", "infra", "local", "operations", "clients", "requirements")
GENERATED = frozenset({"cdk.out", "node_modules", ".venv", ".node", ".local-data", "__pycache__"})

_SEGMENT = r"(?:<[\w-]+>|\{[\w-]+\}|[\w.*-]+)"
# Not glued to a preceding word character, dot, slash or hyphen: see the first rule above.
NAMED_PATH = re.compile(rf"(?<![\w./-])((?:{'|'.join(ROOTS)})(?:/{_SEGMENT})*/?)")
MARKDOWN_LINK = re.compile(r"\]\(([^)\s]+)\)")
PLACEHOLDER = re.compile(r"<[\w-]+>|\{[\w-]+\}")


def documents() -> list[Path]:
    return [
        REPO / "README.md",
        *sorted((REPO / "docs").glob("*.md")),
        *sorted(REPO.glob("clients/*/README.md")),
    ]


def named_paths(text: str) -> set[str]:
    """The repository paths a text names, as written (placeholders and globs kept), with prose
    punctuation and a trailing ellipsis removed; generated output left out."""
    found = set()
    for match in NAMED_PATH.finditer(text):
        path = match.group(1).rstrip(".")
        if "/" not in path or GENERATED.intersection(path.split("/")):
            continue
        found.add(path)
    return found


def link_targets(text: str) -> set[str]:
    """Relative Markdown link targets, anchors removed (URLs, mail and bare anchors left out)."""
    targets = set()
    for match in MARKDOWN_LINK.finditer(text):
        target = match.group(1).split("#", 1)[0]
        if target and not re.match(r"[a-z][a-z0-9+.-]*:", target):
            targets.add(target)
    return targets


def exists(base: Path, path: str) -> bool:
    pattern = PLACEHOLDER.sub("*", path)
    if "*" in pattern:
        return any(base.glob(pattern.rstrip("/")))
    target = base / path
    return target.is_dir() if path.endswith("/") else target.exists()


def missing_paths(document: Path) -> list[str]:
    text = document.read_text(encoding="utf-8")
    bases = [REPO]
    if document.parent.parent == REPO / "clients":
        bases.append(document.parent)
    missing = [path for path in named_paths(text) if not any(exists(base, path) for base in bases)]
    missing += [f"{target} (link)" for target in link_targets(text) if not exists(document.parent, target)]
    return sorted(f"{document.relative_to(REPO)}: {path}" for path in missing)


def test_every_path_the_docs_name_exists() -> None:
    missing = [entry for document in documents() for entry in missing_paths(document)]
    assert not missing, "paths named in the docs that do not exist:\n" + "\n".join(missing)


def test_the_scan_reads_every_document_and_finds_their_paths() -> None:
    # A scan that found nothing would pass the test above vacuously.
    names = {document.relative_to(REPO).as_posix() for document in documents()}
    assert {"README.md", "docs/design.md", "docs/hostile-inputs.md", "clients/web/README.md"} <= names
    readme = named_paths((REPO / "README.md").read_text(encoding="utf-8"))
    assert {"shared/routes/routes.json", "shared/config/tunables.py", "functions/<name>/handler.py"} <= readme
    total = sum(len(named_paths(document.read_text(encoding="utf-8"))) for document in documents())
    assert total > 100


@pytest.mark.parametrize(
    ("text", "paths"),
    [
        ("see `shared/credentials/signing.py`.", {"shared/credentials/signing.py"}),
        ("bare tests/unit/test_routes.py, then", {"tests/unit/test_routes.py"}),
        ("`tests/unit/test_x.py::test_y`", {"tests/unit/test_x.py"}),
        ("`tests/...`", {"tests/"}),
        ("a.py<br>tests/integration/test_faults.py", {"tests/integration/test_faults.py"}),
        ("`functions/<name>/handler.py`", {"functions/<name>/handler.py"}),
        ("https://docs.example.com/docs/guide and http://127.0.0.1:3000/auth/me", set()),
        ("../shared/x.py and aws-cdk/infra/x.py", set()),
        ("`infra/cdk.out/manifest.json`, clients/web/node_modules/x", set()),
        ("local or shared, not paths", set()),
    ],
)
def test_what_counts_as_a_named_path(text: str, paths: set[str]) -> None:
    assert named_paths(text) == paths


def test_placeholders_and_globs_must_match_a_real_path() -> None:
    assert exists(REPO, "functions/<name>/handler.py")
    assert exists(REPO, "tests/integration/test_hostile_*.py")
    assert not exists(REPO, "functions/<name>/nothing.py")
    assert not exists(REPO, "shared/store.py")
    assert exists(REPO, "shared/store/")
    assert not exists(REPO, "shared/routes/routes.json/")


def test_links_are_read_relative_to_their_document_and_urls_are_left_out() -> None:
    text = "[a](threat-model.md#x) [b](https://example.com/x) [c](#anchor) [d](mailto:a@b.c) [e](../Makefile)"
    assert link_targets(text) == {"threat-model.md", "../Makefile"}
    assert all(exists(REPO / "docs", target) for target in link_targets(text))

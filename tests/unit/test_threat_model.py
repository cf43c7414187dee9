"""docs/threat-model.md names real tests: every `file::test` reference resolves to a test function
in that file, and every entry of the hostile-input catalogue (docs/hostile-inputs.md, 1 to 45) has a
row with tests."""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOCUMENT = REPO / "docs" / "threat-model.md"
PREFIXES = {
    "I": "tests/integration",
    "E": "tests/e2e",
    "P": "tests/proof",
    "U": "tests/unit",
    "F": "tests/infra",
}
REFERENCE = re.compile(r"\b([IEPUF])/([a-z0-9_]+\.py)::([A-Za-z0-9_]+)")


def _test_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}


def test_every_test_the_threat_model_names_exists() -> None:
    references = REFERENCE.findall(DOCUMENT.read_text(encoding="utf-8"))
    assert len(references) > 100
    missing = []
    for prefix, file_name, test_name in references:
        path = REPO / PREFIXES[prefix] / file_name
        if not path.is_file() or test_name not in _test_names(path):
            missing.append(f"{PREFIXES[prefix]}/{file_name}::{test_name}")
    assert sorted(set(missing)) == []


def test_every_hostile_input_entry_has_a_row_with_at_least_one_test() -> None:
    rows = {}
    for line in DOCUMENT.read_text(encoding="utf-8").splitlines():
        found = re.match(r"\| (\d+) \| [^|]+ \| (.+) \|$", line)
        if found:
            rows[int(found.group(1))] = found.group(2)
    assert sorted(rows) == list(range(1, 46))
    for number, tests in rows.items():
        assert REFERENCE.search(tests), f"entry {number} names no test"

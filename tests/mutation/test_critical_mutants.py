"""The critical rule mutants (the authorizer's decision and the rotation conditions): each must be
killed by its tests, so deleting one of these rules fails the build. `make mutate` runs the rest."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.mutation import rules

pytestmark = pytest.mark.mutation


@pytest.fixture(scope="module")
def tree() -> Iterator[Path]:
    with rules.tree_copy() as copy:
        yield copy


@pytest.mark.parametrize("rule", rules.critical(), ids=lambda rule: rule.name)
def test_critical_rule_mutant_is_killed(rule: rules.RuleMutant, tree: Path) -> None:
    outcome = rules.run_rule(rule, tree)
    assert outcome.status == "killed", f"{rule.name}: {outcome.status}\n{outcome.output}"

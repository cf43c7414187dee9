"""A pytest plugin for runs under mutants (`-p tests.mutation.plugin`).

mutmut forks every mutant's test run from a process that has already run the tests once, so a cache
filled then would answer for the mutant without running it: the authorizer's per-(type, role) route
cache is emptied before each test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _no_policy_cache_across_mutants() -> Iterator[None]:
    from shared import authorizer

    authorizer._grant.cache_clear()
    yield
    authorizer._grant.cache_clear()

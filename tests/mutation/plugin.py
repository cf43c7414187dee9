"""A pytest plugin for runs under mutants (`-p tests.mutation.plugin`).

mutmut forks every mutant's test run from a process that has already run the tests once, so a cache
filled then would answer for the mutant without running it: the authorizer's per-(type, role) route
cache is emptied before each test. The cheap set-up (botocore's models read once, a cheap argon2id)
is the whole suite's: tests/speed.py, installed by tests/conftest.py.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _no_policy_cache_across_mutants() -> Iterator[None]:
    from shared.authorizer import decision as authorizer

    authorizer._grant.cache_clear()
    yield
    authorizer._grant.cache_clear()


def pytest_configure(config: pytest.Config) -> None:
    """Everything loaded so far (moto, botocore, the code) stays: the garbage collector skips it."""
    gc.freeze()

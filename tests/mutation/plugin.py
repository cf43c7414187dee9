"""A pytest plugin for runs under mutants (`-p tests.mutation.plugin`).

mutmut forks every mutant's test run from a process that has already run the tests once, so a cache
filled then would answer for the mutant without running it: the authorizer's per-(type, role) route
cache is emptied before each test.

It also makes each test's set-up cheap, since a mutant runs its tests one after another, each with a
fresh moto account (the same set-up costs 1.1 s a test without it; most of a group's time):

- botocore's service models and endpoint data are read once per process, not once per session:
  every test's provisioning makes a new boto3 session (moto resets the default one), which parsed
  the same JSON files again (half a second a test). The models are read-only to botocore, which
  already shares them between the clients of a session.
- argon2id hashes with a low cost: what the mutated functions decide (which attempts reach a
  password check, and with what answer) does not depend on the hashing cost, which is tested on
  its own (test_29_stored_hashes_are_argon2id_with_owasp_parameters_or_stronger, left out of the
  groups: it fails here by design).
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable, Iterator
from typing import Any

import botocore.loaders
import pytest
from argon2 import PasswordHasher

from shared.credentials import passwords

# Below OWASP's floor on purpose: test speed, never used outside a mutation run.
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)

_SHARED_LOADER_METHODS = ("load_service_model", "load_data", "load_data_with_path")


def _shared_between_sessions(method: Callable[..., Any]) -> Callable[..., Any]:
    found: dict[tuple[Any, ...], Any] = {}

    @functools.wraps(method)
    def cached(self: botocore.loaders.Loader, *args: Any, **kwargs: Any) -> Any:
        key = (type(self), tuple(self.search_paths), args, tuple(sorted(kwargs.items())))
        if key not in found:
            found[key] = method(self, *args, **kwargs)
        return found[key]

    return cached


def _install() -> None:
    for name in _SHARED_LOADER_METHODS:
        method = getattr(botocore.loaders.Loader, name)
        if not getattr(method, "_shared_between_sessions", False):
            cached = _shared_between_sessions(method)
            cached._shared_between_sessions = True  # type: ignore[attr-defined]
            setattr(botocore.loaders.Loader, name, cached)
    passwords.hasher = CHEAP_HASHER
    passwords.prepare_dummy_hash.cache_clear()


_install()


@pytest.fixture(autouse=True)
def _no_policy_cache_across_mutants() -> Iterator[None]:
    from shared.authorizer import decision as authorizer

    authorizer._grant.cache_clear()
    yield
    authorizer._grant.cache_clear()


def pytest_configure(config: pytest.Config) -> None:
    """Everything loaded so far (moto, botocore, the code) stays: the garbage collector skips it."""
    gc.freeze()

"""What makes a test's set-up cheap in every test process (the suite's conftest and the mutation
runs' plugin install it):

- botocore's service models and endpoint data are read once per process, not once per session:
  every new boto3 session (moto resets the default one) parsed the same JSON files again, about half
  a second a test. The models are read-only to botocore, which already shares them between the
  clients of one session.
- argon2id hashes with a low cost: what the code decides (which attempts reach a password check,
  and with what answer) does not depend on the hashing cost. Tests marked `production_hashing` run
  with the production parameters (the OWASP floor is asserted there, and the benchmark measures the
  login timing with them).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import botocore.loaders
from argon2 import PasswordHasher

from shared.credentials import passwords

# Below OWASP's floor on purpose: test speed, never used outside the tests.
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
PRODUCTION_HASHER = passwords.hasher

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


def use_hasher(hasher: PasswordHasher) -> None:
    passwords.hasher = hasher
    passwords.prepare_dummy_hash.cache_clear()


def install() -> None:
    for name in _SHARED_LOADER_METHODS:
        method = getattr(botocore.loaders.Loader, name)
        if not getattr(method, "_shared_between_sessions", False):
            cached = _shared_between_sessions(method)
            cached._shared_between_sessions = True  # type: ignore[attr-defined]
            setattr(botocore.loaders.Loader, name, cached)
    use_hasher(CHEAP_HASHER)

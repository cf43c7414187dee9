"""Mutation testing of the security core: `make mutate` (mutmut, the whole scope) and the critical rule
mutants that `make test` runs (tests/mutation/test_critical_mutants.py)."""

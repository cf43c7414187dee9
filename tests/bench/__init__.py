"""`make bench` (`python -m tests.bench`): the authorizer's hot path, cold starts, logins, refresh, local
API throughput, AWS calls per operation and deployment package sizes, each time also given as a
ratio to a floor measured in the same run (absolute times drift on shared machines).

The modules below run in the order of the table; tests/bench/__main__.py prints the one table and writes
docs/benchmarks.md.
"""

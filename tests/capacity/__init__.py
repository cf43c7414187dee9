"""`make capacity` (`python -m tests.capacity`): the capacity model. It runs each operation once
against moto, records the DynamoDB requests it really makes (tests/capacity/shapes.py), turns them
into read and write units, and computes the per-second load on every AWS quota that can bind, for
several user counts (tests/capacity/model.py), then writes docs/capacity.md. Quotas and prices are the
only typed-in figures (tests/capacity/quotas.py), each with its source."""

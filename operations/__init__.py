"""Operator tools, run from a workstation and never shipped to Lambda: the users CLI
(`python -m operations.users`) and the smoke test of a running API (`python -m operations.smoke`)."""

"""Operator tools, run from a workstation: the users CLI (`python -m operations.users`), the smoke
test of a running API (`python -m operations.smoke`, the code the canary release's post-traffic hook
runs in its own Lambda: functions/smoke_hook/) and the docs generators (`make docs`). Nothing here is
shipped to Lambda."""

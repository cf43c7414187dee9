"""Operator tools, run from a workstation: the users CLI (`python -m operations.users`), the smoke
test of a running API (`python -m operations.smoke`, which the canary release's post-traffic hook
also runs, in its own Lambda: infra/smoke_hook.py) and the docs generators (`make docs`). Nothing
else here is shipped to Lambda."""

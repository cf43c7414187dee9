"""The smoke test of a deployed stage (or the local API), from an operator's machine: the very code
the canary release's post-traffic hook runs in its own Lambda (functions/smoke_hook/smoke.py).

    python -m operations.smoke https://auth.example.com --email admin@example.com --user-type admin
"""

from __future__ import annotations

import sys

from functions.smoke_hook.smoke import main

if __name__ == "__main__":
    sys.exit(main())

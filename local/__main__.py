"""`python -m local`: see local/app.py."""

from local.app import main

raise SystemExit(main())

"""The package every Lambda function ships with: one sub-package per capability (README.md, "How it
fits together", says what lives in each), layered by pyproject.toml's import-linter contracts."""

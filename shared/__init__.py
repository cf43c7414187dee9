"""The package every Lambda function ships with: settings, tokens, sessions, data access, HTTP helpers."""

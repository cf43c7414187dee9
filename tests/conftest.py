"""Test harness: fake AWS credentials, moto, real-shaped API Gateway events."""

from __future__ import annotations

import os

# Before any handler import: no real AWS, ever, and settings that let the handlers load.
os.environ.update(
    {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "POWERTOOLS_METRICS_NAMESPACE": "JwtAuthTests",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "USERS_TABLE": "placeholder-users",
        "SESSIONS_TABLE": "placeholder-sessions",
        "DENYLIST_TABLE": "placeholder-denylist",
        "ISSUER": "https://auth.test.example",
        "AUDIENCE": "jwt-auth-tests",
        "SIGNING_KEY_IDS": "placeholder",
        "REFRESH_KEY_SECRET_ARN": "placeholder",
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)

from tests import speed  # after the environment above: it imports the code

speed.install()

pytest_plugins = ["tests.fixtures"]

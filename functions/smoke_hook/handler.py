"""CodeDeploy's post-traffic hook of a canary release (infra/release.py): runs the smoke test
(smoke.py beside it, the very code `python -m operations.smoke` runs) against the deployed stage once
all traffic is on the new version, and reports the result. A failure makes CodeDeploy roll the
`live` alias back to the previous version.

Its asset holds this folder and nothing else: no shared/ layer, no third-party package.
Environment: BASE_URL (the stage's URL) and SMOKE_SECRET_ARN, a Secrets Manager secret the operator
fills with {"email", "password", "user_type"} of a dedicated smoke-test user (docs/deploy.md).
Standard library and boto3 (from the Lambda runtime) only; it never logs a token or the password.
"""

from __future__ import annotations

import json
import os
from typing import Any

import boto3

from functions.smoke_hook import smoke

SUCCEEDED, FAILED = "Succeeded", "Failed"
NOT_CONFIGURED = "the smoke-test secret is not filled in (docs/deploy.md, canary releases)"


def credentials(secrets: Any, secret_id: str) -> tuple[str, str, str]:
    raw = secrets.get_secret_value(SecretId=secret_id).get("SecretString") or ""
    try:
        value = json.loads(raw)
    except ValueError:
        raise smoke.SmokeFailure(NOT_CONFIGURED) from None
    fields = [
        value.get(name) if isinstance(value, dict) else None for name in ("email", "password", "user_type")
    ]
    if not all(isinstance(field, str) and field for field in fields):
        raise smoke.SmokeFailure(NOT_CONFIGURED)
    email, password, user_type = fields
    return str(email), str(password), str(user_type)


def check(base_url: str, secrets: Any, secret_id: str) -> str:
    try:
        email, password, user_type = credentials(secrets, secret_id)
        smoke.run(base_url, email, password, user_type, say=lambda line: print(line))
    except smoke.SmokeFailure as failure:
        print(f"FAIL {failure}")
        return FAILED
    except Exception as error:  # a broken check must fail the release, never pass it
        print(f"FAIL the smoke check could not run: {type(error).__name__}")
        return FAILED
    print("smoke test passed")
    return SUCCEEDED


def handler(event: dict[str, Any], context: Any, clients: dict[str, Any] | None = None) -> dict[str, str]:
    clients = clients or {"codedeploy": boto3.client("codedeploy"), "secrets": boto3.client("secretsmanager")}
    status = check(os.environ["BASE_URL"], clients["secrets"], os.environ["SMOKE_SECRET_ARN"])
    clients["codedeploy"].put_lifecycle_event_hook_execution_status(
        deploymentId=event["DeploymentId"],
        lifecycleEventHookExecutionId=event["LifecycleEventHookExecutionId"],
        status=status,
    )
    return {"status": status}

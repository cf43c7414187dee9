"""cdk-nag AwsSolutions acknowledgements, each on the construct it concerns and with its reason.

Nothing is acknowledged stack-wide: a new resource with a new finding fails synthesis (and the test).
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import IConstruct

XRAY_ONLY_WILDCARD = (
    "Only X-Ray: xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level "
    "permissions, so Lambda active tracing needs Resource '*'. Every other statement names its table, "
    "index, key, secret or log group."
)


def acknowledge(construct: IConstruct, rule: str, reason: str) -> None:
    cdk.Validations.of(construct).acknowledge(cdk.Acknowledgment(id=rule, reason=reason))


def acknowledge_xray(role: IConstruct) -> None:
    acknowledge(role, "AwsSolutions-IAM5[Resource::*]", XRAY_ONLY_WILDCARD)


def add_suppressions(stack: Any) -> None:
    for role in stack.roles.by_name.values():
        acknowledge_xray(role)

    secrets = [stack.keys.refresh_key_secret]
    if stack.keys.hs256_secret is not None:
        secrets.append(stack.keys.hs256_secret)
    for secret in secrets:
        acknowledge(
            secret,
            "AwsSolutions-SMG4",
            "A generated signing/derivation key, not a credential of another system: there is no "
            "rotation Lambda to run. Rotate with put-secret-value (docs/deploy.md, 'Rotating the "
            "secrets'): every function accepts AWSCURRENT and AWSPREVIOUS and re-reads them within "
            "five minutes, so tokens stay verifiable (tests/integration/test_secret_rotation.py).",
        )

    if stack.release is not None:
        acknowledge(
            stack.release.role,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSCodeDeployRoleForLambdaLimited]",
            "CodeDeploy's role for Lambda releases: the AWS managed policy is the documented, limited one "
            "(alias updates, invoking hooks, reading alarms).",
        )
        hook = stack.resolve(stack.release.hook.node.default_child.logical_id)
        acknowledge(
            stack.release.role,
            f"AwsSolutions-IAM5[Resource::<{hook}.Arn>:*]",
            "CodeDeploy invokes the release's smoke-check hook: that one function and its qualified ARNs "
            "(versions and aliases), which is what ':*' after its ARN covers.",
        )
        acknowledge(
            stack.release.smoke_secret,
            "AwsSolutions-SMG4",
            "The smoke-test user's password, set by the operator with the user (docs/deploy.md); rotate it "
            "with operations.users and put-secret-value, there is no rotation Lambda to run.",
        )

    api = stack.api.rest_api
    if stack.config.api_gateway_cloudwatch_role:
        acknowledge(
            api,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]",
            "API Gateway's account-level CloudWatch role: the AWS managed policy is the documented "
            "one, and it allows writing logs only.",
        )
    if stack.waf is None:
        acknowledge(
            stack.api.stage,
            "AwsSolutions-APIG3",
            f"WAF is off for stage '{stack.config.stage}' (context waf=false); it is on by default in "
            "prod, with AWS managed rules and a per-IP rate rule on /auth/.",
        )
    for key, method in stack.api.methods.items():
        route = next(r for r in stack.routes.routes if f"{r.method} {r.path}" == key)
        if route.public:
            acknowledge(
                method,
                "AwsSolutions-APIG4",
                f"{key} is public by design: it is how a caller gets or refreshes a token, or fetches the "
                "public keys. Throttled per stage and (with WAF) rate-limited per IP.",
            )
            acknowledge(method, "AwsSolutions-COG4", f"{key} is public by design (no token exists yet).")
        else:
            acknowledge(
                method,
                "AwsSolutions-COG4",
                f"{key} is protected by this service's own Lambda REQUEST authorizer (JWT), not Cognito.",
            )

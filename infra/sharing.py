"""What other stacks and apps need from this service, published as SSM parameters.

Nothing is exported: a CloudFormation export locks its value while another stack imports it, so a
consumer would block key rotation (the key ARNs change) and every change of a shared setting. An SSM
parameter is read by name when the consumer deploys (a CloudFormation parameter of type
`AWS::SSM::Parameter::Value<String>`), so the service changes them freely and a consumer picks the
new values up at its next deploy. Any CDK app, in any CDK language, in the same account and region,
can use them by name; docs/deploy.md documents the scheme.

Name scheme (`<stage>` is the service's stage: dev, staging or prod):

    /jwt-auth/<stage>/env/<VARIABLE>         each variable an authorizer of this service reads
    /jwt-auth/<stage>/authorizer/policy-arn  managed policy: what such an authorizer may read
    /jwt-auth/<stage>/authorizer/layer-arn   the third-party packages layer (arm64)
    /jwt-auth/<stage>/authorizer/runtime     the Lambda runtime that layer is built for
    /jwt-auth/<stage>/jwks-url               the public keys, for anyone verifying tokens
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from infra.lambdas import AUTHORIZER
from infra.permissions import access_for
from shared.config.account_tunables import LIFECYCLE_TUNABLES, SECOND_FACTOR_TUNABLES
from shared.config.tunables import TUNABLES

PREFIX = "/jwt-auth"
# An SSM value is never empty: a variable the service's mode does not use (SIGNING_KEY_IDS in HS256
# mode, HS256_SECRET_ARN with KMS keys) is published as this, which the settings ignore in that mode.
UNUSED = "none"
# The variables an authorizer elsewhere gets: every one the functions read except its own route
# declaration (ROUTES_FILE, set by the consumer's bundle), the demo table, the browser origins
# (an authorizer writes no CORS headers; the consumer's API owns its gateway responses), the
# audiences tokens are minted for (an authorizer requires its declaration's own `audience`), the
# account lifecycle's (passwords, mail, links): an authorizer never sets a password or sends mail,
# nor the second-factor settings (an authorizer reads `amr` from the token, never a factor).
NOT_SHARED = (
    "ROUTES_FILE",
    "CARS_TABLE",
    "ALLOWED_ORIGINS",
    "CORS_EXTRA_HEADERS",
    "EXTRA_AUDIENCES",
    *(tunable.env for tunable in (*LIFECYCLE_TUNABLES, *SECOND_FACTOR_TUNABLES)),
)
AUTHORIZER_VARIABLES: tuple[str, ...] = tuple(t.env for t in TUNABLES if t.env not in NOT_SHARED)
MODE_VARIABLES = ("SIGNING_KEY_IDS", "HS256_SECRET_ARN")


def parameter_name(stage: str, key: str) -> str:
    return f"{PREFIX}/{stage}/{key}"


def variable_parameter(stage: str, variable: str) -> str:
    return parameter_name(stage, f"env/{variable}")


POLICY_ARN = "authorizer/policy-arn"
LAYER_ARN = "authorizer/layer-arn"
RUNTIME = "authorizer/runtime"
JWKS_URL = "jwks-url"


class SharedParameters(Construct):
    """Publishes the parameters above and the managed policy an authorizer elsewhere attaches."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        environment: Mapping[str, str],
        denylist_table_arn: str,
        read_keys: iam.PolicyStatement,
        layer: lambda_.ILayerVersion,
        runtime: lambda_.Runtime,
        jwks_url: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.stage = stage
        self.parameters: dict[str, ssm.StringParameter] = {}
        self.policy = self._policy(denylist_table_arn, read_keys)
        for variable in AUTHORIZER_VARIABLES:
            value = environment.get(variable, "")
            if not value and variable not in MODE_VARIABLES:
                raise KeyError(f"the functions' environment has no {variable} to share")
            self._publish(f"env/{variable}", value or UNUSED, f"the authorizer's {variable}")
        self._publish(
            POLICY_ARN, self.policy.managed_policy_arn, "what an authorizer of this service may read"
        )
        self._publish(LAYER_ARN, layer.layer_version_arn, "the authorizer's third-party packages (arm64)")
        self._publish(RUNTIME, runtime.name, "the Lambda runtime the layer is built for")
        self._publish(JWKS_URL, jwks_url, "the public keys that verify access tokens")

    def _policy(self, denylist_table_arn: str, read_keys: iam.PolicyStatement) -> iam.ManagedPolicy:
        """Exactly what infra/permissions.py lets the service's own authorizer read (minus its log
        group, which is the consumer's). The service updates it in place when keys change."""
        (actions,) = access_for(AUTHORIZER).tables.values()
        return iam.ManagedPolicy(
            self,
            "AuthorizerReadPolicy",
            description=f"jwt-auth {self.stage}: what an authorizer of this service reads (denylist, keys)",
            statements=[
                iam.PolicyStatement(actions=list(actions), resources=[denylist_table_arn]),
                read_keys,
            ],
        )

    def _publish(self, key: str, value: str, description: str) -> None:
        name = parameter_name(self.stage, key)
        self.parameters[name] = ssm.StringParameter(
            self,
            key.replace("/", "-").replace("_", "-"),
            parameter_name=name,
            string_value=value,
            description=f"jwt-auth {self.stage}: {description}",
        )

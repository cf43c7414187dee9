"""The optional WAF web ACL in front of the API stage: AWS managed rules (common, known bad inputs),
a per-IP rate rule on the routes that take a password, and logging.

- The managed rule groups run twice, split by path. Outside /auth/ they run as AWS ships them. On
  /auth/ paths (bodies hold passwords and tokens) their body-inspecting rules only count: a
  password such as `<script>` or `../../etc/passwd` is a valid password, and blocking it would lock
  its owner out. Header, URI and query rules still block there.
- The rate rule counts, per source IP, only the public routes that take a password (login, and any
  later public route with a credential body), never a call with a session: an office behind one
  NAT address keeps its signed-in users' /auth/me, refresh and logout calls however many they are.
  Refresh tokens are 256 bits of randomness: nothing to guess, so refresh is not rate limited here.
- Logs go to `aws-waf-logs-jwt-auth-<stage>` (the prefix WAF requires), with the Authorization and
  Cookie headers redacted; WAF never logs bodies.
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_logs as logs
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

MANAGED_RULE_GROUPS = ("AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet")
# The rules of each group that inspect the request body (names from AWS's documentation of the
# groups; check them with `aws wafv2 describe-managed-rule-group` when AWS publishes a new version).
BODY_RULES: dict[str, tuple[str, ...]] = {
    "AWSManagedRulesCommonRuleSet": (
        "SizeRestrictions_BODY",
        "EC2MetaDataSSRF_BODY",
        "GenericLFI_BODY",
        "GenericRFI_BODY",
        "CrossSiteScripting_BODY",
    ),
    "AWSManagedRulesKnownBadInputsRuleSet": ("JavaDeserializationRCE_BODY", "Log4JRCE_BODY"),
}
AUTH_PATHS = "/auth/"
AUTH_RATE_RULE = "AuthRoutesRatePerIp"
RATE_WINDOW_SECONDS = 300
REDACTED_HEADERS = ("authorization", "cookie")


def visibility(metric_name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=metric_name, sampled_requests_enabled=True
    )


def _path_match(path: str, constraint: str) -> wafv2.CfnWebACL.StatementProperty:
    """The URI path (lower-cased) contains or ends with `path`: /auth/login at a domain root and
    /<stage>/auth/login on the execute-api host alike."""
    return wafv2.CfnWebACL.StatementProperty(
        byte_match_statement=wafv2.CfnWebACL.ByteMatchStatementProperty(
            field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(uri_path={}),
            positional_constraint=constraint,
            search_string=path,
            text_transformations=[wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="LOWERCASE")],
        )
    )


def _any_of(statements: Sequence[wafv2.CfnWebACL.StatementProperty]) -> wafv2.CfnWebACL.StatementProperty:
    if len(statements) == 1:
        return statements[0]
    return wafv2.CfnWebACL.StatementProperty(
        or_statement=wafv2.CfnWebACL.OrStatementProperty(statements=list(statements))
    )


class Waf(Construct):
    """A regional web ACL associated with `stage`, and its logging.

    The stack creates it in the API's scope with the id "Default", which CDK leaves out of logical
    ids: the web ACL and its association keep the ids they had when the API construct built them,
    so deployed stages keep their ACL instead of replacing it.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: apigw.Stage,
        stage_name: str,
        rate_limit: int,
        credential_paths: Sequence[str],
        log_retention: logs.RetentionDays,
        removal_policy: cdk.RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        if not credential_paths:
            raise ValueError("the rate rule needs at least one route that takes a password")
        self.rate_limit = rate_limit
        self.credential_paths = tuple(credential_paths)
        self.web_acl = self._web_acl()
        self._associate(stage)
        self.log_group_name = f"aws-waf-logs-jwt-auth-{stage_name}"  # WAF requires the prefix
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=self.log_group_name,
            retention=log_retention,
            removal_policy=removal_policy,
        )
        self._logging()

    @property
    def web_acl_name(self) -> str:
        """The name CloudFormation gave the web ACL (its Ref is name|id|scope)."""
        return cdk.Fn.select(0, cdk.Fn.split("|", self.web_acl.ref))

    def _web_acl(self) -> wafv2.CfnWebACL:
        rules: list[wafv2.CfnWebACL.RuleProperty] = []
        for name in MANAGED_RULE_GROUPS:
            rules.append(self._managed_rule(name, len(rules), on_auth_paths=False))
            rules.append(self._managed_rule(name, len(rules), on_auth_paths=True))
        rules.append(self._auth_rate_rule(priority=len(rules)))
        return wafv2.CfnWebACL(
            self,
            "WebAcl",
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=visibility("jwt-auth-web-acl"),
            rules=rules,
        )

    def _associate(self, stage: apigw.Stage) -> wafv2.CfnWebACLAssociation:
        return wafv2.CfnWebACLAssociation(
            self, "WebAclAssociation", resource_arn=stage.stage_arn, web_acl_arn=self.web_acl.attr_arn
        )

    @staticmethod
    def _managed_rule(name: str, priority: int, *, on_auth_paths: bool) -> wafv2.CfnWebACL.RuleProperty:
        auth = _path_match(AUTH_PATHS, "CONTAINS")
        if on_auth_paths:
            scope = auth
            overrides = [
                wafv2.CfnWebACL.RuleActionOverrideProperty(
                    name=rule, action_to_use=wafv2.CfnWebACL.RuleActionProperty(count={})
                )
                for rule in BODY_RULES[name]
            ]
            rule_name = f"{name}OnAuthPaths"
        else:
            scope = wafv2.CfnWebACL.StatementProperty(
                not_statement=wafv2.CfnWebACL.NotStatementProperty(statement=auth)
            )
            overrides = None
            rule_name = name
        return wafv2.CfnWebACL.RuleProperty(
            name=rule_name,
            priority=priority,
            override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
            statement=wafv2.CfnWebACL.StatementProperty(
                managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                    vendor_name="AWS", name=name, scope_down_statement=scope, rule_action_overrides=overrides
                )
            ),
            visibility_config=visibility(rule_name),
        )

    def _auth_rate_rule(self, priority: int) -> wafv2.CfnWebACL.RuleProperty:
        """Per source IP, at most `rate_limit` requests per 5 minutes to the routes taking a password."""
        return wafv2.CfnWebACL.RuleProperty(
            name=AUTH_RATE_RULE,
            priority=priority,
            action=wafv2.CfnWebACL.RuleActionProperty(block={}),
            statement=wafv2.CfnWebACL.StatementProperty(
                rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                    limit=self.rate_limit,
                    aggregate_key_type="IP",
                    evaluation_window_sec=RATE_WINDOW_SECONDS,
                    scope_down_statement=_any_of(
                        [_path_match(path, "ENDS_WITH") for path in self.credential_paths]
                    ),
                )
            ),
            visibility_config=visibility(AUTH_RATE_RULE),
        )

    def _logging(self) -> wafv2.CfnLoggingConfiguration:
        # WAF takes the log group's ARN without the ":*" CloudFormation's Arn attribute ends with.
        stack = cdk.Stack.of(self)
        destination = stack.format_arn(
            service="logs",
            resource="log-group",
            resource_name=self.log_group_name,
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        logging = wafv2.CfnLoggingConfiguration(
            self,
            "Logging",
            resource_arn=self.web_acl.attr_arn,
            log_destination_configs=[destination],
            redacted_fields=[
                wafv2.CfnLoggingConfiguration.FieldToMatchProperty(single_header={"Name": header})
                for header in REDACTED_HEADERS
            ],
        )
        logging.node.add_dependency(self.log_group)  # the ARN is built from the name, not the resource
        return logging

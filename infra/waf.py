"""The optional WAF web ACL in front of the API stage: AWS managed rules (common, known bad inputs)
and a per-IP rate rule on the /auth/ paths."""

from __future__ import annotations

from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

MANAGED_RULE_GROUPS = ("AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet")
AUTH_RATE_RULE = "AuthRoutesRatePerIp"
RATE_WINDOW_SECONDS = 300


def visibility(metric_name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=metric_name, sampled_requests_enabled=True
    )


class Waf(Construct):
    """A regional web ACL associated with `stage`.

    The stack creates it in the API's scope with the id "Default", which CDK leaves out of logical
    ids: the web ACL and its association keep the ids they had when the API construct built them,
    so deployed stages keep their ACL instead of replacing it.
    """

    def __init__(self, scope: Construct, construct_id: str, *, stage: apigw.Stage, rate_limit: int) -> None:
        super().__init__(scope, construct_id)
        self.rate_limit = rate_limit
        self.web_acl = self._web_acl()
        self._associate(stage)

    def _web_acl(self) -> wafv2.CfnWebACL:
        managed = [self._managed_rule(name, priority) for priority, name in enumerate(MANAGED_RULE_GROUPS)]
        return wafv2.CfnWebACL(
            self,
            "WebAcl",
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=visibility("jwt-auth-web-acl"),
            rules=[*managed, self._auth_rate_rule(priority=len(managed))],
        )

    def _associate(self, stage: apigw.Stage) -> wafv2.CfnWebACLAssociation:
        return wafv2.CfnWebACLAssociation(
            self, "WebAclAssociation", resource_arn=stage.stage_arn, web_acl_arn=self.web_acl.attr_arn
        )

    @staticmethod
    def _managed_rule(name: str, priority: int) -> wafv2.CfnWebACL.RuleProperty:
        return wafv2.CfnWebACL.RuleProperty(
            name=name,
            priority=priority,
            override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
            statement=wafv2.CfnWebACL.StatementProperty(
                managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                    vendor_name="AWS", name=name
                )
            ),
            visibility_config=visibility(name),
        )

    def _auth_rate_rule(self, priority: int) -> wafv2.CfnWebACL.RuleProperty:
        """Per source IP, at most `rate_limit` requests to /auth/ paths per 5 minutes."""
        return wafv2.CfnWebACL.RuleProperty(
            name=AUTH_RATE_RULE,
            priority=priority,
            action=wafv2.CfnWebACL.RuleActionProperty(block={}),
            statement=wafv2.CfnWebACL.StatementProperty(
                rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                    limit=self.rate_limit,
                    aggregate_key_type="IP",
                    evaluation_window_sec=RATE_WINDOW_SECONDS,
                    scope_down_statement=self._auth_paths(),
                )
            ),
            visibility_config=visibility(AUTH_RATE_RULE),
        )

    @staticmethod
    def _auth_paths() -> wafv2.CfnWebACL.StatementProperty:
        """/auth/... at a domain root, /<stage>/auth/... on the execute-api host, in any case."""
        return wafv2.CfnWebACL.StatementProperty(
            byte_match_statement=wafv2.CfnWebACL.ByteMatchStatementProperty(
                field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(uri_path={}),
                positional_constraint="CONTAINS",
                search_string="/auth/",
                text_transformations=[
                    wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="LOWERCASE")
                ],
            )
        )

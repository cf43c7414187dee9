"""Alarms on security events and failures, sent to one SNS topic.

The functions publish Powertools metrics (namespace JwtAuth, dimension service=jwt-auth) named after
each audit event: refresh_reuse/detected -> RefreshReuseDetected, login/failure -> LoginFailure,
login_lockout/blocked -> LoginLockoutBlocked. An undecidable authorizer answer (KMS, DynamoDB or
configuration trouble; it fails closed) is counted from its log line by a metric filter that
matches the reason code exactly (shared.errors.Reason), because the authorizer's Lambda `Errors`
also count every ordinary `Unauthorized`.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from infra.config import DeployConfig
from infra.lambdas import METRICS_NAMESPACE, SERVICE_NAME
from infra.tables import removal_policy
from shared.errors import Reason

PERIOD = Duration.minutes(5)
LOCKOUT_ALARM_THRESHOLD = 10
UNDECIDABLE_METRIC = "AuthorizerUndecidable"


class Monitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeployConfig,
        stage: apigw.Stage,
        authorizer: lambda_.IFunction,
        authorizer_logs: logs.ILogGroup,
    ) -> None:
        super().__init__(scope, construct_id)
        self.config = config
        self.topic = self._topic()
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        self._security_alarms()
        self._authorizer_alarms(authorizer, authorizer_logs)
        self._api_alarms(stage)

    def _topic(self) -> sns.Topic:
        key = kms.Key(
            self,
            "TopicKey",
            description="jwt-auth alarm topic encryption",
            enable_key_rotation=True,
            removal_policy=removal_policy(self.config),
        )
        # CloudWatch alarms publish to an encrypted topic only if they may use its key.
        key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
            )
        )
        topic = sns.Topic(
            self,
            "AlarmTopic",
            display_name=f"jwt-auth {self.config.stage} alarms",
            master_key=key,
            enforce_ssl=True,
        )
        if self.config.alarm_email:
            topic.add_subscription(subscriptions.EmailSubscription(self.config.alarm_email))
        return topic

    def _alarm(
        self, construct_id: str, metric: cloudwatch.IMetric, threshold: float, description: str
    ) -> None:
        alarm = cloudwatch.Alarm(
            self,
            construct_id,
            metric=metric,
            threshold=threshold,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=description,
        )
        alarm.add_alarm_action(actions.SnsAction(self.topic))
        self.alarms[construct_id] = alarm

    @staticmethod
    def _event_metric(name: str) -> cloudwatch.Metric:
        return cloudwatch.Metric(
            namespace=METRICS_NAMESPACE,
            metric_name=name,
            dimensions_map={"service": SERVICE_NAME},
            statistic="Sum",
            period=PERIOD,
        )

    def _security_alarms(self) -> None:
        self._alarm(
            "RefreshReuseAlarm",
            self._event_metric("RefreshReuseDetected"),
            1,
            "A rotated refresh token was presented again: likely token theft; the session was revoked.",
        )
        self._alarm(
            "LoginFailureBurstAlarm",
            self._event_metric("LoginFailure"),
            self.config.login_failure_alarm_threshold,
            "A burst of failed logins (credential stuffing or guessing) in 5 minutes.",
        )
        self._alarm(
            "LoginLockoutAlarm",
            self._event_metric("LoginLockoutBlocked"),
            LOCKOUT_ALARM_THRESHOLD,
            "Logins blocked by the per-account lockout in 5 minutes.",
        )
        self._alarm(
            "CredentialStuffingAlarm",
            self._event_metric("CredentialStuffingSuspected"),
            1,
            "Failed logins for many accounts from one IP within the stuffing window.",
        )
        self._alarm(
            "NewDeviceLoginAlarm",
            self._event_metric("LoginNewDeviceFlagged"),
            self.config.new_device_alarm_threshold,
            "Many logins from a device and IP never seen for their user in 5 minutes.",
        )

    def _authorizer_alarms(self, authorizer: lambda_.IFunction, authorizer_logs: logs.ILogGroup) -> None:
        logs.MetricFilter(
            self,
            "AuthorizerUndecidableFilter",
            log_group=authorizer_logs,
            metric_namespace=METRICS_NAMESPACE,
            metric_name=UNDECIDABLE_METRIC,
            metric_value="1",
            filter_pattern=logs.FilterPattern.all(
                logs.FilterPattern.string_value("$.audit.event", "=", "authorizer_deny"),
                logs.FilterPattern.string_value("$.audit.reason", "=", Reason.UNDECIDABLE.value),
            ),
        )
        self._alarm(
            "AuthorizerErrorAlarm",
            cloudwatch.Metric(
                namespace=METRICS_NAMESPACE, metric_name=UNDECIDABLE_METRIC, statistic="Sum", period=PERIOD
            ),
            1,
            "The authorizer could not decide (KMS, DynamoDB or configuration failure) "
            "and denied: callers get 401.",
        )
        self._alarm(
            "AuthorizerThrottleAlarm",
            authorizer.metric_throttles(period=PERIOD, statistic="Sum"),
            1,
            "The authorizer was throttled: callers get 500 AUTHORIZER_FAILURE.",
        )

    def _api_alarms(self, stage: apigw.Stage) -> None:
        self._alarm(
            "Api5xxAlarm",
            stage.metric_server_error(period=PERIOD, statistic="Sum"),
            self.config.server_error_alarm_threshold,
            "The API answered 5xx (functions, integrations or the authorizer failing).",
        )

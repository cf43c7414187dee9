"""Alarms on security events and failures, sent to one SNS topic.

Every custom metric is counted by a metric filter on this stage's own log groups into this stage's
own namespace (`JwtAuth/<stage>`), and every alarm is named `jwt-auth-<stage>-...`: a dev and a prod
stack in one account and region share no metric and no alarm, so a dev test never pages prod. (The
functions' own Powertools metrics go to one namespace, JwtAuth, with dimension service=jwt-auth, in
every stage: shared/observability.py names them itself. Nothing here reads them.)

The filters match the audit line each security event writes (shared.observability.audit:
`$.audit.event` and `$.audit.outcome`, e.g. refresh_reuse/detected -> RefreshReuseDetected). An
undecidable authorizer answer (KMS, DynamoDB or configuration trouble; it fails closed) is counted by
matching its reason code exactly (shared.errors.Reason), because the authorizer's Lambda `Errors`
also count every ordinary `Unauthorized`.
"""

from __future__ import annotations

from dataclasses import dataclass

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
from infra.lambdas import AUTHORIZER, metrics_namespace
from infra.tables import removal_policy
from shared.errors import Reason

PERIOD = Duration.minutes(5)
LOCKOUT_ALARM_THRESHOLD = 10
UNDECIDABLE_METRIC = "AuthorizerUndecidable"


@dataclass(frozen=True)
class EventMetric:
    """A metric counted from one audit event (event, outcome) in the logs of the functions that
    write it."""

    event: str
    outcome: str
    functions: tuple[str, ...]
    reason: str = ""  # only lines with this audit reason code, when set


EVENT_METRICS: dict[str, EventMetric] = {
    "LoginSuccess": EventMetric("login", "success", ("login",)),
    "LoginFailure": EventMetric("login", "failure", ("login",)),
    "LoginLockoutBlocked": EventMetric("login_lockout", "blocked", ("login",)),
    "LoginNewDeviceFlagged": EventMetric("login_new_device", "flagged", ("login",)),
    "CredentialStuffingSuspected": EventMetric("credential_stuffing", "suspected", ("login",)),
    "RefreshSuccess": EventMetric("refresh", "success", ("refresh",)),
    "RefreshReuseDetected": EventMetric("refresh_reuse", "detected", ("refresh",)),
    "AuthorizerDenied": EventMetric("authorizer_deny", "denied", (AUTHORIZER,)),
    UNDECIDABLE_METRIC: EventMetric(
        "authorizer_deny", "denied", (AUTHORIZER,), reason=Reason.UNDECIDABLE.value
    ),
}


class Monitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeployConfig,
        stage: apigw.Stage,
        functions: dict[str, lambda_.Function],
        log_groups: dict[str, logs.ILogGroup],
    ) -> None:
        super().__init__(scope, construct_id)
        self.config = config
        self.namespace = metrics_namespace(config.stage)
        self.topic = self._topic()
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        self.event_metrics = self._event_metrics(log_groups)
        self._security_alarms()
        self._authorizer_alarms(functions[AUTHORIZER])
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

    # ------------------------------------------------------------------------- metrics
    def _event_metrics(self, log_groups: dict[str, logs.ILogGroup]) -> dict[str, cloudwatch.Metric]:
        """One metric filter per event metric and log group that writes it; the metric sums them."""
        metrics: dict[str, cloudwatch.Metric] = {}
        for name, source in EVENT_METRICS.items():
            present = [function for function in source.functions if function in log_groups]
            if not present:
                continue  # a function this deployment does not have
            for function in present:
                terms = [
                    logs.FilterPattern.string_value("$.audit.event", "=", source.event),
                    logs.FilterPattern.string_value("$.audit.outcome", "=", source.outcome),
                ]
                if source.reason:
                    terms.append(logs.FilterPattern.string_value("$.audit.reason", "=", source.reason))
                logs.MetricFilter(
                    self,
                    f"{name}{function.capitalize()}Filter",
                    log_group=log_groups[function],
                    metric_namespace=self.namespace,
                    metric_name=name,
                    metric_value="1",
                    filter_pattern=logs.FilterPattern.all(*terms),
                )
            metrics[name] = cloudwatch.Metric(
                namespace=self.namespace, metric_name=name, statistic="Sum", period=PERIOD
            )
        return metrics

    # -------------------------------------------------------------------------- alarms
    def alarm(
        self,
        construct_id: str,
        metric: cloudwatch.IMetric,
        threshold: float,
        description: str,
        *,
        name: str = "",
    ) -> cloudwatch.Alarm:
        """An alarm named jwt-auth-<stage>-<name> (default: the construct id without "Alarm") that
        notifies the topic when it fires (>= threshold)."""
        alarm = cloudwatch.Alarm(
            self,
            construct_id,
            alarm_name=f"jwt-auth-{self.config.stage}-{name or construct_id.removesuffix('Alarm')}",
            metric=metric,
            threshold=threshold,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=description,
        )
        alarm.add_alarm_action(actions.SnsAction(self.topic))
        self.alarms[construct_id] = alarm
        return alarm

    def _event_alarm(self, construct_id: str, metric: str, threshold: float, description: str) -> None:
        if metric in self.event_metrics:
            self.alarm(construct_id, self.event_metrics[metric], threshold, description)

    def _security_alarms(self) -> None:
        self._event_alarm(
            "RefreshReuseAlarm",
            "RefreshReuseDetected",
            1,
            "A rotated refresh token was presented again: likely token theft; the session was revoked.",
        )
        self._event_alarm(
            "LoginFailureBurstAlarm",
            "LoginFailure",
            self.config.login_failure_alarm_threshold,
            "A burst of failed logins (credential stuffing or guessing) in 5 minutes.",
        )
        self._event_alarm(
            "LoginLockoutAlarm",
            "LoginLockoutBlocked",
            LOCKOUT_ALARM_THRESHOLD,
            "Logins blocked by the per-account lockout in 5 minutes.",
        )
        self._event_alarm(
            "CredentialStuffingAlarm",
            "CredentialStuffingSuspected",
            1,
            "Failed logins for many accounts from one IP within the stuffing window.",
        )
        self._event_alarm(
            "NewDeviceLoginAlarm",
            "LoginNewDeviceFlagged",
            self.config.new_device_alarm_threshold,
            "Many logins from a device and IP never seen for their user in 5 minutes.",
        )

    def _authorizer_alarms(self, authorizer: lambda_.IFunction) -> None:
        self._event_alarm(
            "AuthorizerErrorAlarm",
            UNDECIDABLE_METRIC,
            1,
            "The authorizer could not decide (KMS, DynamoDB or configuration failure) "
            "and denied: callers get 401.",
        )
        self.alarm(
            "AuthorizerThrottleAlarm",
            authorizer.metric_throttles(period=PERIOD, statistic="Sum"),
            1,
            "The authorizer was throttled: callers get 500 AUTHORIZER_FAILURE.",
        )

    def _api_alarms(self, stage: apigw.Stage) -> None:
        self.alarm(
            "Api5xxAlarm",
            stage.metric_server_error(period=PERIOD, statistic="Sum"),
            self.config.server_error_alarm_threshold,
            "The API answered 5xx (functions, integrations or the authorizer failing).",
        )

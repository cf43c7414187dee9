"""Alarms on security events and failures, sent to one SNS topic, each also when it clears.

Every custom metric is counted by a metric filter on this stage's own log groups into this stage's
own namespace (`JwtAuth/<stage>`), and every alarm is named `jwt-auth-<stage>-...`: a dev and a prod
stack in one account and region share no metric and no alarm, so a dev test never pages prod. (The
functions' own Powertools metrics go to one namespace, JwtAuth, with dimension service=jwt-auth, in
every stage: shared/core/observability.py names them itself. Nothing here reads them.)

The filters match the line the code writes: the audit line of each security event
(shared.core.observability.audit: `$.audit.event` and `$.audit.outcome`, e.g. refresh_reuse/detected ->
RefreshReuseDetected), and the warning an endpoint logs when a dependency fails
(shared.http.endpoint: `dependency unavailable`, `$.dependency`). An undecidable authorizer answer (KMS,
DynamoDB or configuration trouble; it fails closed) is counted by matching its reason code exactly
(shared.core.errors.Reason), because the authorizer's Lambda `Errors` also count every ordinary
`Unauthorized`.

What each alarm means and what to do: docs/deploy.md, "Alarms".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from aws_cdk import Duration, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from infra.config import DeployConfig
from infra.lambdas import AUTHORIZER
from infra.permissions import access_for
from infra.tables import removal_policy
from infra.waf import Waf
from shared.core.errors import Reason
from shared.core.observability import DEPENDENCY_UNAVAILABLE, Event, metrics_namespace

PERIOD = Duration.minutes(5)
LOCKOUT_ALARM_THRESHOLD = 10
UNDECIDABLE_METRIC = "AuthorizerUndecidable"
KMS_UNAVAILABLE_METRIC = "KmsUnavailable"


@dataclass(frozen=True)
class LogMetric:
    """A metric counted from log lines that have every `matches` value at its JSON path, in the
    log groups of `functions`."""

    matches: tuple[tuple[str, str], ...]
    functions: tuple[str, ...]


def audit_event(event: str, outcome: str, functions: tuple[str, ...], reason: str = "") -> LogMetric:
    matches = [("$.audit.event", str(event)), ("$.audit.outcome", outcome)]
    if reason:
        matches.append(("$.audit.reason", reason))
    return LogMetric(tuple(matches), functions)


LOG_METRICS: dict[str, LogMetric] = {
    "LoginSuccess": audit_event(Event.LOGIN, "success", ("login",)),
    "LoginFailure": audit_event(Event.LOGIN, "failure", ("login",)),
    "LoginLockoutBlocked": audit_event(Event.LOGIN_LOCKOUT, "blocked", ("login",)),
    "LoginNewDeviceFlagged": audit_event(Event.LOGIN_NEW_DEVICE, "flagged", ("login",)),
    "CredentialStuffingSuspected": audit_event(Event.CREDENTIAL_STUFFING, "suspected", ("login",)),
    # Passkey sign-ins (functions/passkey_login) write the login's events in their own log group.
    "PasskeyLoginFailure": audit_event(Event.LOGIN, "failure", ("passkey_login",)),
    "PasskeyClonedDetected": audit_event(Event.PASSKEY_CLONED, "detected", ("passkey_login",)),
    "RefreshSuccess": audit_event(Event.REFRESH, "success", ("refresh",)),
    "RefreshReuseDetected": audit_event(Event.REFRESH_REUSE, "detected", ("refresh",)),
    "AuthorizerDenied": audit_event(Event.AUTHORIZER_DENY, "denied", (AUTHORIZER,)),
    UNDECIDABLE_METRIC: audit_event(
        Event.AUTHORIZER_DENY, "denied", (AUTHORIZER,), reason=Reason.UNDECIDABLE.value
    ),
    # KMS refused or failed a call (throttling included) in a function that signs or publishes keys:
    # the caller got 503. (The authorizer's KMS failures are undecidable answers.)
    KMS_UNAVAILABLE_METRIC: LogMetric(
        (("$.message", DEPENDENCY_UNAVAILABLE), ("$.dependency", "KMS")), ("login", "refresh", "jwks")
    ),
}
# Lambda's shared quota that kms:Sign counts against, by signing algorithm (AWS/Usage, Service KMS).
KMS_QUOTA_RESOURCES = {"RS256": "CryptographicOperationsRsa", "ES256": "CryptographicOperationsEcc"}
KMS_QUOTA_ALARM_PERCENT = 80
NEAR_TIMEOUT = 0.8  # a function's maximum duration at this share of its timeout raises an alarm


def kebab(name: str) -> str:
    """'RefreshReuse' -> 'refresh-reuse'."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", name).lower()


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
        tables: dict[str, dynamodb.Table],
        waf: Waf | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.config = config
        self.namespace = metrics_namespace(config.stage)
        self.topic = self._topic()
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        self.event_metrics = self._log_metrics(log_groups)
        self._security_alarms()
        self._authorizer_alarms()
        self._function_alarms(functions)
        self._table_alarms(tables)
        self._kms_alarms()
        self._api_alarms(stage)
        if waf is not None:
            self._waf_alarms(waf)

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
    def _log_metrics(self, log_groups: dict[str, logs.ILogGroup]) -> dict[str, cloudwatch.Metric]:
        """One metric filter per log metric and log group that writes it; the metric sums them."""
        metrics: dict[str, cloudwatch.Metric] = {}
        for name, source in LOG_METRICS.items():
            present = [function for function in source.functions if function in log_groups]
            if not present:
                continue  # no function of this deployment writes it
            pattern = logs.FilterPattern.all(
                *(logs.FilterPattern.string_value(path, "=", value) for path, value in source.matches)
            )
            for function in present:
                logs.MetricFilter(
                    self,
                    f"{name}{function.capitalize()}Filter",
                    log_group=log_groups[function],
                    metric_namespace=self.namespace,
                    metric_name=name,
                    metric_value="1",
                    filter_pattern=pattern,
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
        """An alarm named jwt-auth-<stage>-<name> (default: the construct id without "Alarm", in
        kebab case) that notifies the topic when it fires (>= threshold) and when it clears."""
        alarm = cloudwatch.Alarm(
            self,
            construct_id,
            alarm_name=f"jwt-auth-{self.config.stage}-{name or kebab(construct_id.removesuffix('Alarm'))}",
            metric=metric,
            threshold=threshold,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=description,
        )
        alarm.add_alarm_action(actions.SnsAction(self.topic))
        alarm.add_ok_action(actions.SnsAction(self.topic))
        self.alarms[construct_id] = alarm
        return alarm

    def _event_alarm(
        self, construct_id: str, metric: str, threshold: float, description: str, name: str = ""
    ) -> None:
        if metric in self.event_metrics:
            self.alarm(construct_id, self.event_metrics[metric], threshold, description, name=name)

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
            "PasskeyClonedAlarm",
            "PasskeyClonedDetected",
            1,
            "A passkey's sign counter went backwards: two authenticators hold one key (a clone); refused.",
        )
        self._event_alarm(
            "PasskeyLoginFailureBurstAlarm",
            "PasskeyLoginFailure",
            self.config.login_failure_alarm_threshold,
            "A burst of failed passkey sign-ins in 5 minutes.",
        )
        self._event_alarm(
            "NewDeviceLoginAlarm",
            "LoginNewDeviceFlagged",
            self.config.new_device_alarm_threshold,
            "Many logins from a device and IP never seen for their user in 5 minutes.",
        )

    def _authorizer_alarms(self) -> None:
        self._event_alarm(
            "AuthorizerErrorAlarm",
            UNDECIDABLE_METRIC,
            1,
            "The authorizer could not decide (KMS, DynamoDB or configuration failure) "
            "and denied: callers get 401.",
            name="authorizer-undecidable",
        )

    def _function_alarms(self, functions: dict[str, lambda_.Function]) -> None:
        """Per function: errors (crashes and timeouts; not the authorizer's, which count every 401),
        throttles, and a maximum duration near the timeout."""
        for name, function in functions.items():
            title = name.capitalize()
            if name != AUTHORIZER:
                self.alarm(
                    f"{title}ErrorsAlarm",
                    function.metric_errors(period=PERIOD, statistic="Sum"),
                    1,
                    f"The {name} function failed (an unhandled error or a timeout): its callers got 5xx.",
                )
            self.alarm(
                f"{title}ThrottlesAlarm",
                function.metric_throttles(period=PERIOD, statistic="Sum"),
                1,
                f"The {name} function was throttled (concurrency limit): callers got 429 or 500"
                + (" AUTHORIZER_FAILURE." if name == AUTHORIZER else "."),
            )
            timeout_ms = access_for(name).timeout_seconds * 1000
            self.alarm(
                f"{title}NearTimeoutAlarm",
                function.metric_duration(period=PERIOD, statistic="Maximum"),
                NEAR_TIMEOUT * timeout_ms,
                f"An invocation of the {name} function took {NEAR_TIMEOUT:.0%} of its {timeout_ms // 1000} s "
                "timeout: a dependency is slow, the next ones time out.",
            )

    def _table_alarms(self, tables: dict[str, dynamodb.Table]) -> None:
        for name, table in tables.items():
            throttled = cloudwatch.MathExpression(
                expression="FILL(reads, 0) + FILL(writes, 0)",
                using_metrics={
                    "reads": table.metric("ReadThrottleEvents", period=PERIOD, statistic="Sum"),
                    "writes": table.metric("WriteThrottleEvents", period=PERIOD, statistic="Sum"),
                },
                period=PERIOD,
                label=f"{name} throttled requests",
            )
            self.alarm(
                f"DynamoDb{name}ThrottlesAlarm",
                throttled,
                1,
                f"DynamoDB throttled requests to the {name.lower()} table: the functions retry, then "
                "answer 503 (the authorizer denies).",
                name=f"dynamodb-{name.lower()}-throttles",
            )

    def _kms_alarms(self) -> None:
        if not self.config.uses_kms:
            return
        self._event_alarm(
            "KmsUnavailableAlarm",
            KMS_UNAVAILABLE_METRIC,
            1,
            "KMS refused or failed calls (throttling included) from login, refresh or the JWKS: "
            "those callers got 503.",
        )
        resource = KMS_QUOTA_RESOURCES[self.config.signing_algorithm]
        usage = cloudwatch.Metric(
            namespace="AWS/Usage",
            metric_name="CallCount",
            dimensions_map={"Service": "KMS", "Type": "API", "Resource": resource, "Class": "None"},
            statistic="Sum",
            period=Duration.minutes(1),
        )
        percent = cloudwatch.MathExpression(
            expression="(usage / PERIOD(usage)) / SERVICE_QUOTA(usage) * 100",
            using_metrics={"usage": usage},
            period=Duration.minutes(1),
            label=f"{resource}: % of the request-rate quota",
        )
        self.alarm(
            "KmsSigningQuotaAlarm",
            percent,
            KMS_QUOTA_ALARM_PERCENT,
            f"The account's {resource} requests (every Sign and GetPublicKey on keys of this type, every "
            f"caller in the region) averaged {KMS_QUOTA_ALARM_PERCENT}% of the quota over a minute: "
            "throttling is near.",
        )

    def _api_alarms(self, stage: apigw.Stage) -> None:
        self.alarm(
            "Api5xxAlarm",
            stage.metric_server_error(period=PERIOD, statistic="Sum"),
            self.config.server_error_alarm_threshold,
            "The API answered 5xx (functions, integrations or the authorizer failing).",
            name="api-5xx",
        )

    def _waf_alarms(self, waf: Waf) -> None:
        blocked = cloudwatch.Metric(
            namespace="AWS/WAFV2",
            metric_name="BlockedRequests",
            dimensions_map={"WebACL": waf.web_acl_name, "Region": Stack.of(self).region, "Rule": "ALL"},
            statistic="Sum",
            period=PERIOD,
        )
        self.alarm(
            "WafBlockedAlarm",
            blocked,
            self.config.waf_blocked_alarm_threshold,
            "WAF blocked a spike of requests in 5 minutes: an attack, or a rule blocking real users.",
        )

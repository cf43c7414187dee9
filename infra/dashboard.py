"""The stack's CloudWatch dashboard, `jwt-auth-<stage>`: what an operator looks at first.

Rows, top to bottom (README's "The dashboard" shows the same list):
1. every alarm of the stack and its state;
2. logins (success, failure, lockout) and refreshes with reuse detections, from the stage's own
   metrics (metric filters on its log groups);
3. authorizer decisions (allow = invocations - denials, deny, undecidable) and its p50/p99 latency;
4. API responses (requests, 4xx, 5xx) and API latency (p50/p99, with the integration's);
5. DynamoDB latency (successful request latency of the calls on the hot paths) and throttles per
   table;
6. KMS: request rate against the quota, KMS failures (throttling included) of the token functions,
   and the signing path's latency (login and refresh p99 duration: KMS publishes no latency metric,
   so a slow KMS shows there).
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.api import api_metric
from infra.config import DeployConfig
from infra.lambdas import AUTHORIZER
from infra.monitoring import KMS_QUOTA_RESOURCES, KMS_UNAVAILABLE_METRIC, UNDECIDABLE_METRIC, Monitoring

PERIOD = Duration.minutes(5)
WIDTH = 24
WIDGET_TITLES = (
    "Logins",
    "Refreshes and reuse detections",
    "Authorizer decisions",
    "Authorizer latency",
    "API responses",
    "API latency",
    "DynamoDB latency",
    "DynamoDB throttles",
    "KMS requests, failures and quota",
    "Signing path latency (login, refresh)",
)
# The call each table serves on a hot path, whose latency the dashboard shows.
HOT_OPERATIONS = {"Users": "BatchGetItem", "Sessions": "BatchGetItem", "Denylist": "BatchGetItem"}


class Dashboard(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeployConfig,
        monitoring: Monitoring,
        functions: dict[str, lambda_.Function],
        tables: dict[str, dynamodb.Table],
        stage: apigw.Stage,
    ) -> None:
        super().__init__(scope, construct_id)
        self.config = config
        self.events = monitoring.event_metrics
        self.dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            dashboard_name=f"jwt-auth-{config.stage}",
            default_interval=Duration.hours(3),
        )
        self.dashboard.add_widgets(
            cloudwatch.AlarmStatusWidget(
                title=f"Alarms ({config.stage})",
                alarms=list(monitoring.alarms.values()),
                width=WIDTH,
                height=4,
            )
        )
        self.dashboard.add_widgets(
            self._graph("Logins", self._events("LoginSuccess", "LoginFailure", "LoginLockoutBlocked")),
            self._graph(
                "Refreshes and reuse detections", self._events("RefreshSuccess", "RefreshReuseDetected")
            ),
        )
        authorizer = functions[AUTHORIZER]
        self.dashboard.add_widgets(
            self._graph("Authorizer decisions", self._decisions(authorizer)),
            self._graph(
                "Authorizer latency",
                [
                    authorizer.metric_duration(period=PERIOD, statistic="p50", label="p50"),
                    authorizer.metric_duration(period=PERIOD, statistic="p99", label="p99"),
                ],
            ),
        )
        self.dashboard.add_widgets(
            self._graph(
                "API responses",
                [
                    api_metric(config, "Count", "Sum", PERIOD).with_(label="requests"),
                    api_metric(config, "4XXError", "Sum", PERIOD).with_(label="4xx"),
                    api_metric(config, "5XXError", "Sum", PERIOD).with_(label="5xx"),
                ],
            ),
            self._graph(
                "API latency",
                [
                    api_metric(config, "Latency", "p50", PERIOD).with_(label="p50"),
                    api_metric(config, "Latency", "p99", PERIOD).with_(label="p99"),
                    api_metric(config, "IntegrationLatency", "p99", PERIOD).with_(label="integration p99"),
                ],
            ),
        )
        self.dashboard.add_widgets(
            self._graph("DynamoDB latency", self._table_latency(tables)),
            self._graph("DynamoDB throttles", self._table_throttles(tables)),
        )
        self.dashboard.add_widgets(
            self._graph("KMS requests, failures and quota", self._kms()),
            self._graph(
                "Signing path latency (login, refresh)",
                [
                    functions[name].metric_duration(period=PERIOD, statistic="p99", label=f"{name} p99")
                    for name in ("login", "refresh")
                    if name in functions
                ],
            ),
        )

    @staticmethod
    def _graph(title: str, metrics: list[cloudwatch.IMetric]) -> cloudwatch.GraphWidget:
        return cloudwatch.GraphWidget(title=title, left=metrics, width=WIDTH // 2, height=6)

    def _events(self, *names: str) -> list[cloudwatch.IMetric]:
        return [self.events[name].with_(label=name) for name in names if name in self.events]

    def _decisions(self, authorizer: lambda_.IFunction) -> list[cloudwatch.IMetric]:
        """Allow = invocations - denials: the authorizer records no metric on the allow path (it
        would cost every request). With an authorizer cache, cached answers are not invocations."""
        invocations = authorizer.metric_invocations(period=PERIOD, statistic="Sum", label="Invocations")
        denied = self.events["AuthorizerDenied"].with_(label="AuthorizerDenied")
        allowed = cloudwatch.MathExpression(
            expression="FILL(invocations, 0) - FILL(denied, 0)",
            using_metrics={"invocations": invocations, "denied": denied},
            label="allowed",
            period=PERIOD,
        )
        undecidable = self.events[UNDECIDABLE_METRIC].with_(label=UNDECIDABLE_METRIC)
        return [allowed, denied, undecidable, invocations]

    @staticmethod
    def _table_latency(tables: dict[str, dynamodb.Table]) -> list[cloudwatch.IMetric]:
        return [
            table.metric_successful_request_latency(
                dimensions_map={"TableName": table.table_name, "Operation": HOT_OPERATIONS[name]},
                period=PERIOD,
                statistic="Average",
                label=f"{name} {HOT_OPERATIONS[name]}",
            )
            for name, table in tables.items()
            if name in HOT_OPERATIONS
        ]

    @staticmethod
    def _table_throttles(tables: dict[str, dynamodb.Table]) -> list[cloudwatch.IMetric]:
        metrics: list[cloudwatch.IMetric] = []
        for name, table in tables.items():
            metrics.append(
                table.metric("ReadThrottleEvents", period=PERIOD, statistic="Sum", label=f"{name} reads")
            )
            metrics.append(
                table.metric("WriteThrottleEvents", period=PERIOD, statistic="Sum", label=f"{name} writes")
            )
        return metrics

    def _kms(self) -> list[cloudwatch.IMetric]:
        metrics: list[cloudwatch.IMetric] = []
        resource = KMS_QUOTA_RESOURCES.get(self.config.signing_algorithm)
        if resource:
            metrics.append(
                cloudwatch.Metric(
                    namespace="AWS/Usage",
                    metric_name="CallCount",
                    dimensions_map={"Service": "KMS", "Type": "API", "Resource": resource, "Class": "None"},
                    statistic="Sum",
                    period=PERIOD,
                    label=f"{resource} requests (account, region)",
                )
            )
        if KMS_UNAVAILABLE_METRIC in self.events:
            metrics.append(self.events[KMS_UNAVAILABLE_METRIC].with_(label="KMS failures (503)"))
        return metrics

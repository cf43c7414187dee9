"""Every AWS quota and price the capacity model uses: the only typed-in figures, each with its source
and whether it can be raised. Sources were read on the date below through stored copies of the
public pages; AWS changes them: check Service Quotas in your account before relying on a figure."""

from __future__ import annotations

from dataclasses import dataclass

READ_ON = "2026-12-02"


@dataclass(frozen=True)
class Quota:
    key: str
    name: str
    value: float
    unit: str
    adjustable: bool
    source: str
    note: str = ""


QUOTAS = {
    quota.key: quota
    for quota in (
        Quota(
            "apigw_rps",
            "API Gateway throttle per account and Region (REST, HTTP and WebSocket APIs together)",
            10_000,
            "requests/s",
            True,
            "https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html",
            "burst bucket of 5,000 requests, set by AWS from the rate; 2,500 requests/s (burst 1,250) in "
            "some newer Regions",
        ),
        Quota(
            "lambda_concurrency",
            "Lambda concurrent executions per account and Region",
            1_000,
            "executions",
            True,
            "https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html",
            "new accounts start lower and are raised with use; can be raised to tens of thousands",
        ),
        Quota(
            "lambda_scaling",
            "Lambda concurrency scaling rate per function",
            1_000,
            "new execution environments per 10 s",
            False,
            "https://docs.aws.amazon.com/lambda/latest/dg/scaling-behavior.html",
            "each function scales on its own; provisioned concurrency is ready before the burst",
        ),
        Quota(
            "ddb_partition_read",
            "DynamoDB per-partition reads",
            3_000,
            "read units/s",
            False,
            "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/warm-throughput-scenarios.html",
            "one item lives in one partition: this is the ceiling of any single key",
        ),
        Quota(
            "ddb_partition_write",
            "DynamoDB per-partition writes",
            1_000,
            "write units/s",
            False,
            "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/warm-throughput-scenarios.html",
        ),
        Quota(
            "ddb_table_read",
            "DynamoDB table-level read throughput (on-demand)",
            40_000,
            "read request units/s",
            True,
            "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/on-demand-capacity-mode-max-throughput.html",
        ),
        Quota(
            "ddb_table_write",
            "DynamoDB table-level write throughput (on-demand)",
            40_000,
            "write request units/s",
            True,
            "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/on-demand-capacity-mode-max-throughput.html",
        ),
        Quota(
            "ddb_new_table_read",
            "DynamoDB new on-demand table: reads served at once",
            12_000,
            "read request units/s",
            True,
            "https://docs.amazonaws.cn/en_us/amazondynamodb/latest/developerguide/pre-warming-on-demand-capacity-mode.html",
            "then up to double the previous peak within 30 minutes; raise ahead with warm throughput",
        ),
        Quota(
            "ddb_new_table_write",
            "DynamoDB new on-demand table: writes served at once",
            4_000,
            "write request units/s",
            True,
            "https://docs.amazonaws.cn/en_us/amazondynamodb/latest/developerguide/pre-warming-on-demand-capacity-mode.html",
            "then up to double the previous peak within 30 minutes; raise ahead with warm throughput",
        ),
        Quota(
            "kms_rsa",
            "KMS cryptographic operations (RSA) request rate, Sign included",
            500,
            "requests/s, shared by every RSA key of the account in the Region",
            True,
            "https://docs.aws.amazon.com/kms/latest/developerguide/requests-per-second.html",
            "a newer copy of the same page (China Regions) lists 1,000: check Service Quotas",
        ),
        Quota(
            "kms_ecc",
            "KMS cryptographic operations (ECC) request rate, Sign included",
            300,
            "requests/s, shared by every ECC key of the account in the Region",
            True,
            "https://docs.aws.amazon.com/kms/latest/developerguide/requests-per-second.html",
            "a newer copy of the same page (China Regions) lists 1,000: check Service Quotas",
        ),
        Quota(
            "secrets_get",
            "Secrets Manager GetSecretValue request rate",
            10_000,
            "requests/s",
            False,
            "https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_limits.html",
            "raised to 10,000 in November 2022 (AWS What's New); applied automatically",
        ),
    )
}


@dataclass(frozen=True)
class Price:
    key: str
    name: str
    value: float
    unit: str
    source: str


# us-east-1 list prices; the sources and their caveats are docs/cost-and-performance.md's table.
PRICES = {
    price.key: price
    for price in (
        Price(
            "apigw_rest", "API Gateway REST API requests", 3.50, "$ per million", "cost-and-performance.md"
        ),
        Price("lambda_request", "Lambda requests", 0.20, "$ per million", "cost-and-performance.md"),
        Price(
            "lambda_gbs", "Lambda arm64 duration", 0.0000133334, "$ per GB-second", "cost-and-performance.md"
        ),
        Price(
            "ddb_rru",
            "DynamoDB on-demand reads",
            0.125,
            "$ per million read request units",
            "cost-and-performance.md",
        ),
        Price(
            "ddb_wru",
            "DynamoDB on-demand writes",
            0.625,
            "$ per million write request units",
            "cost-and-performance.md",
        ),
        Price(
            "kms_rsa_request", "KMS Sign, RSA_2048", 0.03, "$ per 10,000 requests", "cost-and-performance.md"
        ),
        Price("kms_ecc_request", "KMS Sign, ECC", 0.15, "$ per 10,000 requests", "cost-and-performance.md"),
        Price("kms_key", "KMS key", 1.0, "$ per key-month", "cost-and-performance.md"),
        Price("secret", "Secrets Manager secret", 0.40, "$ per secret-month", "cost-and-performance.md"),
        Price(
            "secret_call", "Secrets Manager API calls", 0.05, "$ per 10,000 calls", "cost-and-performance.md"
        ),
    )
}

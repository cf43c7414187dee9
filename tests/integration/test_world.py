"""The test harness's world (tests/world.py): what one test leaves behind, the next never sees."""

from __future__ import annotations

import boto3

from tests.world import mocked_aws, world_for


def test_the_next_test_finds_the_tables_empty_and_the_mail_forgotten() -> None:
    with mocked_aws():
        env = world_for("RS256")
        dynamodb = boto3.client("dynamodb")
        dynamodb.put_item(TableName=env["USERS_TABLE"], Item={"pk": {"S": "USER#x"}, "sk": {"S": "x"}})
        boto3.client("sesv2").send_email(
            FromEmailAddress="no-reply@dealership.example",
            Destination={"ToAddresses": ["someone@example.com"]},
            Content={"Simple": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}}},
        )
    with mocked_aws():
        again = world_for("RS256")
        assert again == env  # the same world, not provisioned again
        assert boto3.client("dynamodb").scan(TableName=env["USERS_TABLE"])["Items"] == []
        from moto.ses.models import ses_backends

        from local.constants import ACCOUNT_ID, REGION

        assert ses_backends[ACCOUNT_ID][REGION].sent_messages == []


def test_a_world_whose_secret_a_test_rotated_is_provisioned_again() -> None:
    with mocked_aws():
        env = world_for("RS256")
        boto3.client("secretsmanager").put_secret_value(
            SecretId=env["REFRESH_KEY_SECRET_ARN"], SecretString="rotated by a test"
        )
    with mocked_aws():
        again = world_for("RS256")
        assert again["REFRESH_KEY_SECRET_ARN"] != env["REFRESH_KEY_SECRET_ARN"]
        value = boto3.client("secretsmanager").get_secret_value(SecretId=again["REFRESH_KEY_SECRET_ARN"])
        assert value["SecretString"] != "rotated by a test"


def test_a_disabled_signing_key_gets_a_new_world() -> None:
    with mocked_aws():
        env = world_for("RS256")
        boto3.client("kms").disable_key(KeyId=env["SIGNING_KEY_IDS"])
    with mocked_aws():
        assert world_for("RS256")["SIGNING_KEY_IDS"] != env["SIGNING_KEY_IDS"]


def test_what_a_test_created_itself_is_gone_for_the_next() -> None:
    with mocked_aws():
        env = world_for("RS256")
        dynamodb = boto3.client("dynamodb")
        dynamodb.create_table(
            TableName="made-by-a-test",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        boto3.client("secretsmanager").create_secret(Name="made-by-a-test", SecretString="x")
        boto3.client("sqs").create_queue(QueueName="made-by-a-test")
    with mocked_aws():
        assert world_for("RS256") == env
        assert "made-by-a-test" not in boto3.client("dynamodb").list_tables()["TableNames"]
        names = [s["Name"] for s in boto3.client("secretsmanager").list_secrets()["SecretList"]]
        assert "made-by-a-test" not in names
        assert "QueueUrls" not in boto3.client("sqs").list_queues()

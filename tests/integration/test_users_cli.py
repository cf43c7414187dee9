"""The user-admin CLI (`python -m operations.users`), called through its entry point."""

from __future__ import annotations

import contextlib
import io
import json
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from operations.users import main
from shared.runtime.services import Services
from shared.sessions import lifecycle as sessions_module
from tests.fixtures import Accounts, around_aws_calls
from tests.flows import admin_login, is_authorized, login, refresh, staff_login


def deploy_function(environment: dict[str, str], region: str = "us-east-1", name: str = "authorizer") -> str:
    """A stand-in for a deployed function: what the CLI reads is its configuration's environment."""
    iam = boto3.client("iam", region_name=region)
    trust = {
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ]
    }
    try:
        role = iam.create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument=json.dumps(trust))["Role"][
            "Arn"
        ]
    except iam.exceptions.EntityAlreadyExistsException:
        role = iam.get_role(RoleName=f"{name}-role")["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return None\n")
    function = boto3.client("lambda", region_name=region).create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": code.getvalue()},
        Environment={"Variables": environment},
    )
    arn: str = function["FunctionArn"]
    return arn


@pytest.fixture
def deployed(aws_env: dict[str, str]) -> str:
    return deploy_function(aws_env)


@pytest.fixture
def cli(services: Services, deployed: str, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    tables = ["--function", deployed, "--yes"]

    def run(*arguments: str, stdin: str | None = None) -> tuple[int, object, str]:
        if stdin is not None:
            import sys

            sys.stdin = io.StringIO(stdin)
        capsys.readouterr()  # drop what earlier handler calls logged
        status = main([*tables, *arguments])
        captured = capsys.readouterr()
        output = json.loads(captured.out) if status == 0 else None
        return status, output, captured.err

    return run


def test_create_with_a_generated_password_shows_it_once_and_it_logs_in(cli) -> None:  # type: ignore[no-untyped-def]
    status, output, _ = cli(
        "create",
        "New.Person@Dealership.example",
        "--type",
        "staff",
        "--name",
        "New Person",
        "--role",
        "sales",
        "--generate-password",
    )
    assert status == 0
    password = output["password (shown once)"]
    assert output["email"] == "new.person@dealership.example"
    assert login("new.person@dealership.example", password, "staff")["statusCode"] == 200
    status, shown, _ = cli("show", "new.person@dealership.example", "--type", "staff")
    assert "password" not in json.dumps(shown).lower()


def test_create_refuses_a_duplicate_email_and_a_weak_password_clearly(cli, accounts: Accounts) -> None:  # type: ignore[no-untyped-def]
    status, _, error = cli(
        "create",
        "staff@dealership.example",
        "--type",
        "staff",
        "--name",
        "X",
        "--role",
        "sales",
        "--generate-password",
    )
    assert status == 1 and "already exists" in error
    status, _, error = cli(
        "create",
        "weak@dealership.example",
        "--type",
        "staff",
        "--name",
        "X",
        "--role",
        "sales",
        stdin="password1234\n",
    )
    assert status == 1 and "too common" in error


def test_list_and_show_never_print_password_hashes(cli, accounts: Accounts) -> None:  # type: ignore[no-untyped-def]
    status, listed, _ = cli("list")
    assert status == 0
    assert {user["email"] for user in listed} == {"admin@dealership.example", "staff@dealership.example"}
    assert "argon2" not in json.dumps(listed)


def test_set_role_ends_the_sessions_of_the_old_role_and_the_next_login_has_the_new_one(
    cli, accounts: Accounts
) -> None:  # type: ignore[no-untyped-def]
    import jwt

    tokens = staff_login()
    assert cli("set-role", "staff@dealership.example", "--type", "staff", "manager")[0] == 0
    assert not is_authorized(tokens["access_token"])
    assert refresh(tokens["refresh_token"])["statusCode"] == 401
    renewed = staff_login()
    assert jwt.decode(renewed["access_token"], options={"verify_signature": False})["role"] == "manager"


def test_disable_enable_and_delete(cli, accounts: Accounts) -> None:  # type: ignore[no-untyped-def]
    tokens = staff_login()
    status, output, _ = cli("disable", "staff@dealership.example", "--type", "staff")
    assert status == 0 and output["sessions_revoked"] == 1
    assert not is_authorized(tokens["access_token"])
    assert login("staff@dealership.example", accounts.password, "staff")["statusCode"] == 401
    assert cli("enable", "staff@dealership.example", "--type", "staff")[0] == 0
    assert login("staff@dealership.example", accounts.password, "staff")["statusCode"] == 200
    assert cli("delete", "staff@dealership.example", "--type", "staff")[0] == 0
    assert login("staff@dealership.example", accounts.password, "staff")["statusCode"] == 401
    status, _, error = cli("show", "staff@dealership.example", "--type", "staff")
    assert status == 1 and "no staff user" in error


def test_reset_password_from_stdin_revokes_every_session(cli, accounts: Accounts) -> None:  # type: ignore[no-untyped-def]
    tokens = admin_login()
    status, _, _ = cli(
        "reset-password", "admin@dealership.example", "--type", "admin", stdin="granite meadow 88 echoes\n"
    )
    assert status == 0
    assert refresh(tokens["refresh_token"])["statusCode"] == 401
    assert login("admin@dealership.example", "granite meadow 88 echoes", "admin")["statusCode"] == 200


def test_sessions_are_listed_and_revoked_one_by_one(cli, accounts: Accounts) -> None:  # type: ignore[no-untyped-def]
    first = staff_login()
    second = staff_login()
    status, sessions, _ = cli("sessions", "staff@dealership.example", "--type", "staff")
    assert status == 0 and len(sessions) == 2
    import jwt

    sid = jwt.decode(first["access_token"], options={"verify_signature": False})["sid"]
    assert cli("revoke-session", "staff@dealership.example", "--type", "staff", sid)[0] == 0
    assert not is_authorized(first["access_token"])
    assert is_authorized(second["access_token"])
    status, _, error = cli("revoke-session", "admin@dealership.example", "--type", "admin", sid)
    assert status == 1 and "has no session" in error


def test_a_session_id_that_begins_with_a_dash_is_revoked_after_a_double_dash(  # type: ignore[no-untyped-def]
    cli, accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    # ids made before new_session_id stopped drawing them could begin with '-'
    monkeypatch.setattr(sessions_module, "new_session_id", lambda: "-" + "A" * 21)
    tokens = staff_login()
    assert cli("revoke-session", "staff@dealership.example", "--type", "staff", "--", "-" + "A" * 21)[0] == 0
    assert not is_authorized(tokens["access_token"])


def test_the_emergency_switch_invalidates_everyones_tokens(cli, accounts: Accounts) -> None:  # type: ignore[no-untyped-def]
    staff = staff_login()
    admin = admin_login()
    assert cli("revoke-all-tokens")[0] == 0
    assert not is_authorized(staff["access_token"]) and not is_authorized(admin["access_token"])
    assert refresh(staff["refresh_token"])["statusCode"] == 401


def test_a_missing_table_is_a_clear_error(
    aws_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    function = deploy_function({**aws_env, "USERS_TABLE": "nope"})
    status = main(["--function", function, "list"])
    assert status == 1
    assert "table does not exist" in capsys.readouterr().err


def test_without_the_deployed_settings_it_refuses_to_act(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list"]) == 1
    assert "no deployed settings: use --local, --stack NAME or --function NAME" in capsys.readouterr().err


def test_it_acts_with_the_deployed_lifetimes_not_the_defaults(
    aws_env: dict[str, str], accounts: Accounts, services: Services, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 11.5: with a 60-day idle lifetime deployed, a session idle for 39 days is still one the
    operator sees (and ends)."""
    from tests.fixtures import FakeClock

    deployed = {
        **aws_env,
        "REFRESH_IDLE_TTL_SECONDS": str(60 * 86400),
        "SESSION_MAX_TTL_SECONDS": str(90 * 86400),
    }
    function = deploy_function(deployed)
    staff_login()
    later = FakeClock()
    later.advance(39 * 86400)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("operations.users.local_clock", lambda: later)
        capsys.readouterr()
        status = main(["--function", function, "sessions", "staff@dealership.example", "--type", "staff"])
    assert status == 0
    assert len(json.loads(capsys.readouterr().out)) == 1


def test_the_region_is_honoured_by_every_call(
    aws_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 12.8: `--stack NAME --region R` acts in R only, never on a same-named stack elsewhere."""
    function = deploy_function(aws_env, region="eu-west-1")
    template = {
        "Resources": {"Placeholder": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
        "Outputs": {"AuthorizerFunctionArn": {"Value": function}},
    }
    boto3.client("cloudformation", region_name="eu-west-1").create_stack(
        StackName="JwtAuth-prod", TemplateBody=json.dumps(template)
    )
    assert main(["--stack", "JwtAuth-prod", "list"]) == 1
    assert "no stack JwtAuth-prod in your default region" in capsys.readouterr().err
    with record_aws_regions() as regions:
        main(["--stack", "JwtAuth-prod", "--region", "eu-west-1", "list"])
    assert regions and set(regions) == {"eu-west-1"}


def test_missing_credentials_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: object
) -> None:
    from shared.core import aws

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/config")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", raising=False)
    aws.reset_clients()
    status = main(["--function", "authorizer", "list"])
    aws.reset_clients()
    assert status == 1
    assert "no AWS credentials" in capsys.readouterr().err


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for command in (
        "create",
        "list",
        "show",
        "set-role",
        "disable",
        "enable",
        "delete",
        "reset-password",
        "sessions",
        "revoke-session",
        "revoke-all-tokens",
        "unlock",
        "reset-factors",
    ):
        assert command in text


@contextlib.contextmanager
def record_aws_regions() -> Iterator[list[str]]:
    regions: list[str] = []

    def recording(client: Any, operation: str, params: Any, call: Callable[[], Any]) -> Any:
        regions.append(client.meta.region_name)
        return call()

    with around_aws_calls(recording):
        yield regions


def test_unlock_clears_the_lockout_from_every_source_ip(cli, accounts: Accounts) -> None:  # type: ignore[no-untyped-def]
    for source_ip in ("198.51.100.1", "198.51.100.2"):
        for _ in range(5):
            login("staff@dealership.example", "wrong password here", "staff", source_ip=source_ip)
        assert (
            login("staff@dealership.example", accounts.password, "staff", source_ip=source_ip)["statusCode"]
            == 429
        )
    status, output, _ = cli("unlock", "staff@dealership.example", "--type", "staff")
    assert status == 0 and output["counters_cleared"] == 3  # the account's, and one per IP
    assert (
        login("staff@dealership.example", accounts.password, "staff", source_ip="198.51.100.1")["statusCode"]
        == 200
    )


def test_40_an_operator_revocation_from_a_machine_two_minutes_slow_is_complete(
    cli, accounts: Accounts
) -> None:  # type: ignore[no-untyped-def]
    from tests.fixtures import FakeClock

    tokens = staff_login()
    slow = FakeClock()
    slow.advance(-120)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("operations.users.local_clock", lambda: slow)
        assert cli("revoke-all-tokens")[0] == 0
    assert not is_authorized(tokens["access_token"])
    assert refresh(tokens["refresh_token"])["statusCode"] == 401


def test_options_work_after_the_command_too(
    deployed: str, accounts: Accounts, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["show", "staff@dealership.example", "--type", "staff", "--function", deployed]) == 0
    assert json.loads(capsys.readouterr().out)["email"] == "staff@dealership.example"


def test_a_dangerous_command_asks_first_and_says_where_it_acts(
    deployed: str, accounts: Accounts, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # no terminal: no way to confirm
    assert main(["--function", deployed, "delete", "staff@dealership.example", "--type", "staff"]) == 1
    error = capsys.readouterr().err
    assert "delete staff@dealership.example on" in error and "pass --yes" in error
    assert staff_login()  # nothing was done


def test_an_unknown_role_and_an_empty_name_are_refused_with_what_is_known(cli, accounts: Accounts) -> None:  # type: ignore[no-untyped-def]
    status, _, error = cli(
        "create",
        "new@dealership.example",
        "--type",
        "staff",
        "--name",
        "New",
        "--role",
        "wizard",
        "--generate-password",
    )
    assert status == 1 and "unknown role 'wizard'" in error and "sales" in error
    status, _, error = cli(
        "create",
        "new@dealership.example",
        "--type",
        "staff",
        "--name",
        " ",
        "--role",
        "sales",
        "--generate-password",
    )
    assert status == 1 and "name must not be empty" in error
    status, _, error = cli("set-role", "staff@dealership.example", "--type", "staff", "wizard")
    assert status == 1 and "unknown role" in error


def test_a_stale_local_connection_says_the_local_api_is_not_answering(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket

    with socket.socket() as probe:  # bound, never listening: the port refuses every connection
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        stale = tmp_path / "local-api-3000.json"
        stale.write_text(json.dumps({"AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}", "settings": {}}))
        monkeypatch.setenv("LOCAL_CONNECTION_FILE", str(stale))
        assert main(["--local", "list"]) == 1
    assert "is not answering" in capsys.readouterr().err


def test_with_several_local_apis_running_it_asks_which(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from shared.core import local_api

    for port in (3000, 4000):
        (tmp_path / f"local-api-{port}.json").write_text("{}")
    monkeypatch.setattr(local_api, "CONNECTIONS", tmp_path)
    monkeypatch.delenv("LOCAL_CONNECTION_FILE", raising=False)
    assert main(["--local", "list"]) == 1
    assert "several local APIs run (ports 3000, 4000)" in capsys.readouterr().err


def test_create_refuses_an_invalid_email_and_warns_about_one_email_in_two_types(
    cli, accounts: Accounts
) -> None:  # type: ignore[no-untyped-def]
    status, _, error = cli(
        "create", "not an email", "--type", "staff", "--name", "X", "--role", "sales", "--generate-password"
    )
    assert status == 1 and "not a valid email address" in error
    status, output, _ = cli(
        "create",
        "staff@dealership.example",
        "--type",
        "admin",
        "--name",
        "S",
        "--role",
        "admin",
        "--generate-password",
    )
    assert status == 0 and output["warning"] == "staff@dealership.example is also a user of type staff"


def test_invite_resend_and_revoke_from_the_cli(cli, services: Services) -> None:  # type: ignore[no-untyped-def]
    from local.outbox import messages

    status, output, _ = cli(
        "invite", "Hired@Dealership.example", "--type", "staff", "--name", "Hi Red", "--role", "sales"
    )
    assert status == 0 and output["email"] == "hired@dealership.example" and output["disabled"] is True
    first = messages()[0]
    assert first["to"] == ["hired@dealership.example"] and "#invitation=" in first["links"][0]
    status, _, _ = cli("resend-invitation", "hired@dealership.example", "--type", "staff")
    assert status == 0 and messages()[0]["links"] != first["links"]
    status, _, _ = cli("revoke-invitation", "hired@dealership.example", "--type", "staff")
    assert status == 0 and services.users.get("staff", "hired@dealership.example") is None
    status, _, error = cli("revoke-invitation", "hired@dealership.example", "--type", "staff")
    assert status == 1 and "no staff user" in error


def test_reset_factors_removes_the_factor_audited_and_asks_first(  # type: ignore[no-untyped-def]
    cli, deployed: str, services: Services, accounts: Accounts, caplog: pytest.LogCaptureFixture, monkeypatch
) -> None:
    from tests.fixtures import FakeClock, audit_events
    from tests.flows import ADMIN, active_totp

    clock = FakeClock()
    monkeypatch.setattr(services, "clock", clock)
    active_totp(accounts, clock)
    assert admin_login()["mfa_required"]
    # without --yes and without a terminal: nothing done
    assert main(["--function", deployed, "reset-factors", ADMIN, "--type", "admin"]) == 1
    assert admin_login()["mfa_required"]
    status, output, _ = cli("reset-factors", ADMIN, "--type", "admin")
    assert status == 0 and output == {"email": ADMIN, "factors_removed": True}
    assert "access_token" in admin_login()
    assert any(
        event["event"] == "mfa_removed" and event["outcome"] == "reset_by_operator"
        for event in audit_events(caplog)
    )

"""The user-admin CLI (`python -m operations.users`), called through its entry point."""

from __future__ import annotations

import io
import json

import pytest

from operations.users import main
from shared.services import Services
from tests.fixtures import Accounts
from tests.flows import is_authorized, login, login_ok, refresh


@pytest.fixture
def cli(services: Services, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    tables = [
        "--users-table",
        services.settings.users_table,
        "--sessions-table",
        services.settings.sessions_table,
        "--denylist-table",
        services.settings.denylist_table,
    ]

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


def test_set_role_denies_old_tokens_and_refresh_carries_the_new_role(cli, accounts: Accounts) -> None:  # type: ignore[no-untyped-def]
    import jwt

    tokens = login_ok("staff@dealership.example", accounts.password, "staff")
    assert cli("set-role", "staff@dealership.example", "--type", "staff", "manager")[0] == 0
    assert not is_authorized(tokens["access_token"])
    renewed = json.loads(refresh(tokens["refresh_token"])["body"])
    assert jwt.decode(renewed["access_token"], options={"verify_signature": False})["role"] == "manager"


def test_disable_enable_and_delete(cli, accounts: Accounts) -> None:  # type: ignore[no-untyped-def]
    tokens = login_ok("staff@dealership.example", accounts.password, "staff")
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
    tokens = login_ok("admin@dealership.example", accounts.password, "admin")
    status, _, _ = cli(
        "reset-password", "admin@dealership.example", "--type", "admin", stdin="granite meadow 88 echoes\n"
    )
    assert status == 0
    assert refresh(tokens["refresh_token"])["statusCode"] == 401
    assert login("admin@dealership.example", "granite meadow 88 echoes", "admin")["statusCode"] == 200


def test_sessions_are_listed_and_revoked_one_by_one(cli, accounts: Accounts) -> None:  # type: ignore[no-untyped-def]
    first = login_ok("staff@dealership.example", accounts.password, "staff")
    second = login_ok("staff@dealership.example", accounts.password, "staff")
    status, sessions, _ = cli("sessions", "staff@dealership.example", "--type", "staff")
    assert status == 0 and len(sessions) == 2
    import jwt

    sid = jwt.decode(first["access_token"], options={"verify_signature": False})["sid"]
    assert cli("revoke-session", "staff@dealership.example", "--type", "staff", sid)[0] == 0
    assert not is_authorized(first["access_token"])
    assert is_authorized(second["access_token"])
    status, _, error = cli("revoke-session", "admin@dealership.example", "--type", "admin", sid)
    assert status == 1 and "has no session" in error


def test_the_emergency_switch_invalidates_everyones_tokens(cli, accounts: Accounts) -> None:  # type: ignore[no-untyped-def]
    staff = login_ok("staff@dealership.example", accounts.password, "staff")
    admin = login_ok("admin@dealership.example", accounts.password, "admin")
    assert cli("revoke-all-tokens")[0] == 0
    assert not is_authorized(staff["access_token"]) and not is_authorized(admin["access_token"])
    assert refresh(staff["refresh_token"])["statusCode"] == 401


def test_a_missing_table_is_a_clear_error(services: Services, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["--users-table", "nope", "--sessions-table", "nope", "--denylist-table", "nope", "list"])
    assert status == 1
    assert "table does not exist" in capsys.readouterr().err


def test_no_table_names_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list"]) == 1
    assert "--local, --stack" in capsys.readouterr().err


def test_missing_credentials_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: object
) -> None:
    from shared import aws

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/config")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", raising=False)
    aws.reset_clients()
    status = main(["--users-table", "u", "--sessions-table", "s", "--denylist-table", "d", "list"])
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
    ):
        assert command in text

"""User administration for operators: `python -m operations.users --help`.

Works against the local API (`--local`, while `make run` is running) or a deployment: `--stack NAME
[--region R]` reads the settings of the stack's authorizer function, `--function NAME` those of any
of its functions. It refuses to act without them: lifetimes and tables are the deployed ones. Its
clock is AWS's (from a DynamoDB answer's Date header), never only this machine's. Uses the caller's
AWS credentials.
"""

from __future__ import annotations

import argparse
import email.utils
import getpass
import json
import logging
import os
import secrets
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from shared.core.clock import Clock, iso_time
from shared.credentials.identity import Identity

if TYPE_CHECKING:
    from shared.runtime.services import Services

AUTHORIZER_OUTPUT = "AuthorizerFunctionArn"


class CliError(Exception):
    """A problem the operator can fix: printed as one line, exit status 1."""


DANGEROUS = ("delete", "revoke-all-tokens", "disable", "reset-password", "reset-factors")


def _where(parser: argparse.ArgumentParser, *, defaults: bool) -> None:
    """The options that say which deployment: accepted before or after the command."""
    keep: dict[str, Any] = {} if defaults else {"default": argparse.SUPPRESS}
    where = parser.add_argument_group("which deployment")
    where.add_argument("--local", action="store_true", help="the running local API (make run)", **keep)
    where.add_argument(
        "--port", type=int, help="with --local: the local API's PORT, when several run", **keep
    )
    where.add_argument("--stack", help="a deployed stack: the settings of its authorizer function", **keep)
    where.add_argument(
        "--function", help="a deployed function (name or ARN): the settings it runs with", **keep
    )
    where.add_argument(
        "--region", help="AWS region of the stack (default: from your AWS configuration)", **keep
    )
    where.add_argument("--yes", action="store_true", help="do not ask before a dangerous command", **keep)


def _parser() -> argparse.ArgumentParser:
    from shared.config.settings import DEFAULT_ROUTES_FILE
    from shared.routes.declaration import load_route_table

    user_types = load_route_table(DEFAULT_ROUTES_FILE).user_types
    parser = argparse.ArgumentParser(prog="python -m operations.users", description=__doc__.split("\n")[0])
    _where(parser, defaults=True)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help_text: str, *, user: bool = True) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        _where(sub, defaults=False)
        if user:
            sub.add_argument("email", help="the user's email address")
            sub.add_argument(
                "--type", dest="user_type", choices=user_types, required=True, help="the user's type"
            )
        return sub

    create = command("create", "create a user (password prompted, or generated and shown once)")
    create.add_argument("--name", required=True, help="the name shown to the user and in tokens")
    create.add_argument("--role", required=True, help="a role the route declaration knows")
    create.add_argument(
        "--generate-password", action="store_true", help="generate a password and show it once"
    )
    invite = command("invite", "invite a person: the account is created and a one-time link emailed")
    invite.add_argument("--name", required=True, help="the name shown to the user and in tokens")
    invite.add_argument("--role", required=True, help="a role the route declaration knows")
    command("resend-invitation", "email a pending invitation again (the old link stops working)")
    command("revoke-invitation", "revoke a pending invitation (its account is deleted)")
    command("list", "list every user", user=False)
    command("show", "show one user")
    role = command("set-role", "change a user's role (their older access tokens are denied)")
    role.add_argument("role", help="the new role (one the route declaration knows)")
    command("disable", "disable a user: every session and token revoked")
    command("enable", "enable a disabled user")
    command("delete", "delete a user: every session and token revoked")
    reset = command("reset-password", "set a new password (prompted or generated); every session revoked")
    reset.add_argument(
        "--generate-password", action="store_true", help="generate a password and show it once"
    )
    command("unlock", "clear a user's login lockout, from every source IP")
    command("reset-factors", "remove a user's second factors (TOTP, recovery codes, passkeys), audited")
    command("sessions", "list a user's live sessions")
    revoke = command("revoke-session", "revoke one session of a user")
    revoke.add_argument(
        "session_id", help="the session's id (from `sessions`); put `--` before an old one starting with '-'"
    )
    command(
        "revoke-all-tokens", "EMERGENCY: invalidate every token and session of every user, now", user=False
    )
    return parser


def _deployed_settings(arguments: argparse.Namespace) -> dict[str, str]:
    """The functions' own configuration (the environment every function reads its settings from):
    operator actions use the deployed lifetimes and tables, never defaults."""
    if arguments.local:
        connection = _local_connection(arguments.port or 0)
        os.environ["AWS_ENDPOINT_URL"] = connection["AWS_ENDPOINT_URL"]
        for variable, value in (("AWS_ACCESS_KEY_ID", "local"), ("AWS_SECRET_ACCESS_KEY", "local")):
            os.environ.setdefault(variable, value)
        os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
        settings: dict[str, str] = connection["settings"]
        return settings
    import boto3

    function = arguments.function
    if arguments.stack:
        stacks = boto3.client("cloudformation", region_name=arguments.region)
        try:
            stack = stacks.describe_stacks(StackName=arguments.stack)["Stacks"][0]
        except stacks.exceptions.ClientError as error:
            where = arguments.region or "your default region"
            raise CliError(f"no stack {arguments.stack} in {where}: check --stack and --region") from error
        outputs = {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}
        function = outputs.get(AUTHORIZER_OUTPUT)
        if not function:
            raise CliError(f"stack {arguments.stack} has no {AUTHORIZER_OUTPUT} output")
    if not function:
        raise CliError(
            "no deployed settings: use --local, --stack NAME or --function NAME (a function of the "
            "deployment, whose configuration holds the settings)"
        )
    configuration = boto3.client("lambda", region_name=arguments.region).get_function_configuration(
        FunctionName=function
    )
    variables: dict[str, str] = configuration.get("Environment", {}).get("Variables", {})
    return variables


def _local_connection(port: int) -> dict[str, Any]:
    """The connection file of the local API on `port` (0: the only one running)."""
    import socket
    import urllib.parse

    from shared.core.local_api import connection_file, running_ports

    if not port:
        ports = running_ports()
        if len(ports) > 1:
            raise CliError(
                f"several local APIs run (ports {', '.join(map(str, ports))}): say which with --port"
            )
        port = ports[0] if ports else 3000
    path = connection_file(port)
    if not path.exists():
        raise CliError(f"no local API runs on port {port}: start it with `make run`")
    connection: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    endpoint = urllib.parse.urlsplit(connection["AWS_ENDPOINT_URL"])
    try:
        socket.create_connection((endpoint.hostname, endpoint.port), timeout=2).close()
    except OSError:
        raise CliError(
            f"the local API on port {port} is not answering (its connection file is stale): "
            "start it again with `make run`"
        ) from None
    return connection


def _services(environment: dict[str, str], local_clock: Clock, region: str | None) -> Services:
    import boto3

    from shared.config.settings import settings_from_env
    from shared.core import aws
    from shared.runtime.services import build_services

    aws.reset_clients()  # clients made before choosing the endpoint must not be reused
    dynamodb = boto3.session.Session(region_name=region).client("dynamodb", config=aws.CLIENT_CONFIG)
    services = build_services(settings_from_env(environment), dynamodb)
    services.clock = aws_corrected_clock(services, local_clock)
    return services


def local_clock() -> Clock:
    """This machine's clock (tests replace it with a wrong one)."""
    return Clock()


class CorrectedClock(Clock):
    """This machine's clock moved by `offset_ms`: an upper bound of the time AWS keeps, so an
    operator's revocation is never stamped before it started, whatever this machine's clock says."""

    def __init__(self, local: Clock, offset_ms: int) -> None:
        self.local = local
        self.offset_ms = offset_ms

    def now_ms(self) -> int:
        return self.local.now_ms() + self.offset_ms


def aws_corrected_clock(services: Services, local: Clock) -> CorrectedClock:
    """AWS's time from the Date header of one DynamoDB answer (whole seconds): the server wrote it
    between our `before` and our receipt, so AWS's time now is below `date + 1 s + (now - before)`."""
    from shared.store.dynamo import dynamodb_call

    before = local.now_ms()
    answer = dynamodb_call(
        lambda: services.users.dynamodb.describe_table(TableName=services.settings.users_table)
    )
    stamped = answer["ResponseMetadata"]["HTTPHeaders"].get("date")
    if not stamped:
        raise CliError("AWS's answer carried no Date header: cannot check this machine's clock")
    aws_ms = int(email.utils.parsedate_to_datetime(stamped).timestamp() * 1000)
    return CorrectedClock(local, aws_ms + 1000 - before)


def _new_password(generate: bool) -> tuple[str, bool]:
    if generate:
        return secrets.token_urlsafe(18), True
    if not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("New password: ")
        if getpass.getpass("Repeat it: ") != password:
            raise CliError("the passwords differ")
    return password, False


def _describe(user: Any) -> dict[str, Any]:
    return {**Identity.of(user).as_json(), "disabled": user.disabled}


def _confirm(arguments: argparse.Namespace, services: Services) -> None:
    """Dangerous commands (and a role change of an admin) say where they act and ask first."""
    target = getattr(arguments, "email", "")
    dangerous = arguments.command in DANGEROUS or (
        arguments.command == "set-role" and getattr(arguments, "user_type", "") == "admin"
    )
    if not dangerous or arguments.yes:
        return
    where = (
        "the local API"
        if arguments.local
        else f"{arguments.stack or arguments.function} in {arguments.region or 'your default region'}"
    )
    table = services.settings.users_table
    question = f"{arguments.command} {target or 'EVERY USER'} on {where} (users table {table})?"
    if not sys.stdin.isatty():
        raise CliError(f"{question} Not confirmed: pass --yes to run it without a terminal")
    if input(f"{question} Type yes to go on: ").strip().lower() != "yes":
        raise CliError("not confirmed: nothing was done")


def run(arguments: argparse.Namespace) -> Any:
    from shared.accounts import actions as accounts
    from shared.core.observability import OPERATOR
    from shared.sessions.lifecycle import live_sessions, revoke_session

    services = _services(_deployed_settings(arguments), local_clock(), arguments.region)
    command = arguments.command
    _confirm(arguments, services)
    if command == "list":
        return [
            _describe(user) for user in sorted(services.users.all(), key=lambda u: (u.user_type, u.email))
        ]
    if command == "revoke-all-tokens":
        accounts.revoke_all_tokens_of_everyone(services)
        return {"revoked": "every access token and session issued before now"}
    if command == "create":
        password, generated = _new_password(arguments.generate_password)
        user = accounts.create_account(
            services,
            arguments.email,
            password,
            name=arguments.name,
            role=arguments.role,
            user_type=arguments.user_type,
        )
        others = [
            other
            for other in services.routes.user_types
            if other != user.user_type and services.users.get(other, user.email)
        ]
        warning = {"warning": f"{user.email} is also a user of type {', '.join(others)}"} if others else {}
        return {**_describe(user), **warning, **({"password (shown once)": password} if generated else {})}

    if command in ("invite", "resend-invitation", "revoke-invitation"):
        return _invitation(services, arguments)

    user = accounts.find_user(services, arguments.email, arguments.user_type)
    if command == "show":
        return _describe(user)
    if command == "set-role":
        accounts.change_role(services, user, arguments.role)
        return {**_describe(user), "role": arguments.role}
    if command == "disable":
        return {"disabled": user.email, "sessions_revoked": accounts.disable_user(services, user)}
    if command == "enable":
        accounts.enable_user(services, user)
        return {"enabled": user.email}
    if command == "delete":
        return {"deleted": user.email, "sessions_revoked": accounts.delete_user(services, user)}
    if command == "reset-password":
        password, generated = _new_password(arguments.generate_password)
        ended = accounts.reset_password(services, user, password)
        return {
            "email": user.email,
            "sessions_revoked": ended,
            **({"password (shown once)": password} if generated else {}),
        }
    if command == "reset-factors":
        from shared.mfa.factor import reset_factors

        return {"email": user.email, "factors_removed": reset_factors(services, user)}
    if command == "unlock":
        return {
            "unlocked": user.email,
            "counters_cleared": accounts.unlock(services, user.user_type, user.email),
        }
    if command == "sessions":
        return [
            {
                "id": s.sid,
                "user_agent": s.user_agent,
                "source_ip": s.source_ip,
                "created_at": iso_time(s.created_at),
                "last_used_at": iso_time(s.last_used),
            }
            for s in live_sessions(services, user.user_id)
        ]
    if command == "revoke-session":
        session = services.sessions.get(arguments.session_id)
        if session is None or session.user_id != user.user_id:
            raise CliError(f"{user.email} has no session {arguments.session_id}")
        revoke_session(services, session, "revoked_by_operator", OPERATOR)
        return {"revoked": session.sid}
    raise CliError(f"unknown command {command}")


def _invitation(services: Services, arguments: argparse.Namespace) -> dict[str, Any]:
    from shared.accounts import invitations
    from shared.core.observability import OPERATOR

    if arguments.command == "revoke-invitation":
        invitations.revoke_invitation(services, arguments.email, arguments.user_type, OPERATOR)
        return {"revoked": arguments.email}
    if arguments.command == "invite":
        invitation = invitations.invite(
            services,
            arguments.email,
            name=arguments.name,
            role=arguments.role,
            user_type=arguments.user_type,
            actor=OPERATOR,
        )
    else:
        invitation = invitations.resend_invitation(services, arguments.email, arguments.user_type, OPERATOR)
    return {**_describe(invitation.user), "invitation_expires_at": iso_time(invitation.expires * 1000)}


def main(argv: Sequence[str] | None = None) -> int:
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

    from shared.core.errors import BadRequest, NotFound, ServiceUnavailable

    arguments = _parser().parse_args(argv)
    from shared.core.observability import logger

    # Audit lines to stderr, so stdout stays JSON (Powertools logs through a StreamHandler).
    handler = logger.registered_handler
    stream_handler = handler if isinstance(handler, logging.StreamHandler) else None
    previous = stream_handler.setStream(sys.stderr) if stream_handler is not None else None
    try:
        print(json.dumps(run(arguments), indent=2, default=str))
        return 0
    except CliError as error:
        message = str(error)
    except NotFound:
        message = f"no {getattr(arguments, 'user_type', '')} user {getattr(arguments, 'email', '')}"
    except BadRequest as error:
        message = error.message
    except NoCredentialsError:
        message = "no AWS credentials: configure a profile (AWS_PROFILE) or use --local"
    except NoRegionError:
        message = "no AWS region: pass --region or set AWS_DEFAULT_REGION"
    except ServiceUnavailable as error:
        cause = error.__cause__
        if error.dependency == "Amazon SES":
            cause = None
        code = cause.response["Error"]["Code"] if isinstance(cause, ClientError) else type(cause).__name__
        if error.dependency == "Amazon SES":
            message = (
                "the invitation email could not be sent (check MAIL_SENDER, FRONTEND_URL and the SES "
                "identity); no invitation was left behind"
            )
        elif code == "ResourceNotFoundException":
            message = "a table does not exist: check --stack/--region or the table names"
        elif isinstance(cause, NoCredentialsError):
            message = "no AWS credentials: configure a profile (AWS_PROFILE) or use --local"
        else:
            message = f"AWS refused the request ({code})"
    except (ClientError, BotoCoreError) as error:
        message = f"AWS error: {error}"
    finally:
        if stream_handler is not None and previous is not None:
            stream_handler.setStream(previous)
    print(f"error: {message}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())

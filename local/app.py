"""`python -m local` (`make run`): the whole service on one machine, no AWS account.

Starts an embedded moto server (DynamoDB, KMS, Secrets Manager, SES), creates the tables, signing
key, secrets and the mail sender's identity from the same definitions the CDK stack uses, seeds the
demo users, then serves the real handlers behind a local API Gateway on 127.0.0.1:PORT and the demo
page (with the outbox of the mail sent) on FRONTEND_PORT.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import warnings
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from local.server import ApiHandler, FrontendHandler, PortInUse, Server, bind, warn
from shared.config.parsing import InvalidTunable, whole_number  # standard library only, as errors
from shared.core.errors import ConfigurationError  # imports nothing: safe before the environment is set

if TYPE_CHECKING:
    from local.runtime import Functions

DEFAULT_PORT = 3000
DEFAULT_FRONTEND_PORT = 3001
DEFAULT_DEMO_PASSWORD = "dealership-demo-password"  # noqa: S105  # local demo default, printed
REPO = Path(__file__).resolve().parents[1]
OPENAPI_FILE = REPO / "docs" / "openapi.json"


class StartupError(RuntimeError):
    pass


def _number(name: str, default: int, low: int, high: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return whole_number(name, raw, low, high)
    except InvalidTunable as error:
        raise StartupError(str(error)) from None


def _local_aws_environment() -> None:
    """Fake credentials and quiet, local-only defaults, set before any handler module is imported."""
    for name in (
        "AWS_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ):
        os.environ.pop(name, None)
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",  # moto accepts any fake credential
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
        }
    )
    no_proxy = os.environ.get("NO_PROXY", "")
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = ",".join(filter(None, [no_proxy, "127.0.0.1"]))
    # One line per request from the local API; handler logs (audit events) at POWERTOOLS_LOG_LEVEL.
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "JwtAuthLocal")
    warnings.filterwarnings("ignore", message="No application metrics to publish")


def _stop_on_signals() -> None:
    """Ctrl-C and SIGTERM stop it, even when it was started with SIGINT ignored (a shell's background
    job, a test worker): Python installs its Ctrl-C handler only where SIGINT was left at its default."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)


def run() -> int:
    started = time.perf_counter()
    _stop_on_signals()
    # 0 picks a free port (the banner names it): tests bind that way, never picking then re-binding.
    port = _number("PORT", DEFAULT_PORT, 0, 65535)
    frontend_port = _number("FRONTEND_PORT", DEFAULT_FRONTEND_PORT, 0, 65535)
    cache_ttl = _number("AUTHORIZER_CACHE_TTL", 0, 0, 3600)
    if port == frontend_port != 0:
        raise StartupError("PORT and FRONTEND_PORT must differ: the demo page needs its own origin")
    password = os.environ.get("DEMO_PASSWORD") or DEFAULT_DEMO_PASSWORD

    # Bind both ports first: a second `make run` fails at once, before any work.
    api = bind(port, ApiHandler, "PORT, the API")
    try:
        frontend = bind(frontend_port, FrontendHandler, "FRONTEND_PORT, the demo page")
    except PortInUse:
        api.server_close()
        raise
    port, frontend_port = api.server_address[1], frontend.server_address[1]
    api_base = f"http://127.0.0.1:{port}"
    frontend_origin = f"http://127.0.0.1:{frontend_port}"
    frontend.api_base = api_base

    _local_aws_environment()
    from local.aws_backend import EmbeddedMoto, relax_read_timeout

    relax_read_timeout()
    moto = EmbeddedMoto()
    moto.start()
    os.environ["AWS_ENDPOINT_URL"] = moto.url
    try:
        functions = _provision(api_base, frontend_origin, password)
        from local.gateway import Gateway
        from shared.runtime.services import get_services

        services = get_services()
        api.gateway = Gateway(
            services.routes, functions, services.settings, cache_ttl=cache_ttl, openapi_file=OPENAPI_FILE
        )
        _publish_connection(moto.url, port)  # before the banner: whoever waits for "Ready" may use it
        _banner(api_base, frontend_origin, moto.url, password, cache_ttl, functions.missing, started)
        _serve(api, frontend)
    finally:
        from shared.core.local_api import connection_file

        connection_file(port).unlink(missing_ok=True)
        moto.stop()
    print("Stopped.", flush=True)
    return 0


def _publish_connection(moto_url: str, port: int) -> None:
    """Where the user-admin CLI (`python -m operations.users --local`) finds this run's store."""
    import json

    from shared.config.tunables import TUNABLES

    settings = {tunable.env: os.environ[tunable.env] for tunable in TUNABLES if tunable.env in os.environ}
    connection = {"AWS_ENDPOINT_URL": moto_url, "port": port, "settings": settings}
    from shared.core.local_api import connection_file

    path = connection_file(port)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(connection, indent=2), encoding="utf-8")


def _provision(api_base: str, frontend_origin: str, password: str) -> Functions:
    from local.provision import provision, seed_demo_cars, seed_demo_users
    from shared.runtime import services as services_module

    extra_origins = os.environ.get("ALLOWED_ORIGINS", "")
    # Passkeys: WebAuthn needs the page on a domain (browsers refuse an IP address as relying-party
    # id), so the demo page also answers on localhost, a secure context like 127.0.0.1.
    passkey_origin = frontend_origin.replace("127.0.0.1", "localhost")
    env = provision(
        issuer=api_base,
        audience="jwt-auth-local",
        allowed_origins=",".join(filter(None, [frontend_origin, passkey_origin, extra_origins])),
        algorithm=os.environ.get("SIGNING_ALGORITHM", "RS256"),
        demo=True,
        frontend_url=f"{frontend_origin}/",
        overrides={
            "WEBAUTHN_RP_ID": os.environ.get("WEBAUTHN_RP_ID", "localhost"),
            "WEBAUTHN_ORIGINS": os.environ.get("WEBAUTHN_ORIGINS", passkey_origin),
        },
    )
    os.environ.update(env)
    services_module.reset()
    services = services_module.get_services()
    seed_demo_users(services.users, password)

    from local.runtime import AUTHORIZER, Functions

    functions = Functions([AUTHORIZER, *(route.function for route in services.routes.routes)])
    seed_demo_cars(services.cars)
    return functions


def _banner(
    api_base: str,
    frontend_origin: str,
    moto_url: str,
    password: str,
    cache_ttl: int,
    missing: list[str],
    started: float,
) -> None:
    source = "DEMO_PASSWORD" if os.environ.get("DEMO_PASSWORD") else "default; set DEMO_PASSWORD to change"
    passkey_page = frontend_origin.replace("127.0.0.1", "localhost")
    lines = [
        "",
        f"  Local API       {api_base}   (API Gateway stand-in: REQUEST authorizer + Lambda proxy)",
        f"  Demo page       {frontend_origin}/",
        f"  AWS (moto)      {moto_url}   (DynamoDB, KMS, Secrets Manager, SES, in memory)",
        f"  Outbox          {frontend_origin}/ (the mail sent: invitation and reset links)",
        f"  Passkeys        {passkey_page}/ (WebAuthn needs a domain, not an IP address)",
        "  Demo users      admin@dealership.example  userType admin, role admin",
        "                  staff@dealership.example  userType staff, role sales",
        f"  Demo password   {password}   ({source})",
        f"  Authorizer cache TTL {cache_ttl} s (AUTHORIZER_CACHE_TTL)",
    ]
    if missing:
        folders = ", ".join(f"functions/{name}/" for name in missing)
        lines.append(f"  Not there yet:  {folders} (their routes answer 502)")
    lines += [f"  Ready in {time.perf_counter() - started:.1f} s. Ctrl-C stops.", ""]
    print("\n".join(lines), flush=True)


def _serve(api: Server, frontend: Server) -> None:
    web = threading.Thread(target=frontend.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    web.start()
    try:
        api.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        frontend.shutdown()
        frontend.server_close()
        api.server_close()
        web.join(timeout=5)


def main() -> int:
    try:
        return run()
    except (StartupError, PortInUse, ConfigurationError) as error:
        warn(f"error: {error}")
        return 1
    except KeyboardInterrupt:
        print("Stopped.", flush=True)
        return 0

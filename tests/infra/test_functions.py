"""Lambda functions: runtime, architecture, tracing, logs, memory, handler, one environment."""

from __future__ import annotations

from typing import Any

import pytest

from infra.bundling import FUNCTIONS_DIR, PYTHON_RUNTIME
from infra.lambdas import function_names
from infra.stack import load_routes_document
from shared.config.settings import settings_from_env
from shared.config.tunables import TUNABLES
from shared.routes.declaration import parse_route_table
from tests.infra.conftest import ORIGINS, Synth, synthesize


def _functions(synth: Synth) -> dict[str, dict[str, Any]]:
    return synth.resources("AWS::Lambda::Function")


def _pinned_python() -> str:
    return PYTHON_RUNTIME.name


def test_every_function_runs_on_arm64_with_the_pinned_python_runtime_and_active_tracing(dev: Synth) -> None:
    runtime = _pinned_python()
    assert runtime >= "python3.13"
    for function in _functions(dev).values():
        properties = function["Properties"]
        assert properties["Runtime"] == runtime
        assert properties["Architectures"] == ["arm64"]
        assert properties["TracingConfig"] == {"Mode": "Active"}
        assert properties["Handler"].startswith("functions.") and properties["Handler"].endswith(
            ".handler.handler"
        )
        assert len(properties["Layers"]) == 1


def test_every_function_has_its_own_log_group_with_retention(dev: Synth, prod: Synth) -> None:
    for synth, days in ((dev, 30), (prod, 365)):
        functions = _functions(synth)
        log_groups = synth.resources("AWS::Logs::LogGroup")
        used = {f["Properties"]["LoggingConfig"]["LogGroup"]["Ref"] for f in functions.values()}
        assert len(used) == len(functions)
        for logical_id in used:
            assert log_groups[logical_id]["Properties"]["RetentionInDays"] == days


def test_memory_is_sized_for_the_work(dev: Synth) -> None:
    by_handler = {f["Properties"]["Handler"]: f["Properties"] for f in _functions(dev).values()}
    assert by_handler["functions.login.handler.handler"]["MemorySize"] >= 1024  # argon2id
    assert by_handler["functions.me.handler.handler"]["MemorySize"] <= 256
    assert by_handler["functions.authorizer.handler.handler"]["Timeout"] <= 15
    assert all(f["Timeout"] <= 29 for f in by_handler.values()), "API Gateway's integration limit"


def test_every_function_gets_the_same_environment_and_it_passes_the_settings_validation(dev: Synth) -> None:
    environments = [f["Properties"]["Environment"]["Variables"] for f in _functions(dev).values()]
    first = environments[0]
    assert all(env == first for env in environments)
    resolved = {
        name: value if isinstance(value, str) else "resolved-at-deploy" for name, value in first.items()
    }
    settings = settings_from_env(resolved)
    assert settings.allowed_origins == tuple(ORIGINS.split(","))
    assert first["ROUTES_FILE"] == "/var/task/routes.json"
    assert first["POWERTOOLS_METRICS_NAMESPACE"] == "JwtAuth/dev"
    assert {
        "USERS_TABLE",
        "SESSIONS_TABLE",
        "DENYLIST_TABLE",
        "SIGNING_KEY_IDS",
        "REFRESH_KEY_SECRET_ARN",
    } <= set(first)


def test_every_variable_the_stack_writes_is_one_the_functions_read(dev: Synth, hs256: Synth) -> None:
    declared = {tunable.env for tunable in TUNABLES}
    for synth in (dev, hs256):
        for function in _functions(synth).values():
            names = set(function["Properties"]["Environment"]["Variables"])
            assert {name for name in names if not name.startswith("POWERTOOLS_")} <= declared


def test_the_default_issuer_is_the_api_url_and_a_custom_domain_replaces_it(dev: Synth, prod: Synth) -> None:
    dev_issuer = next(iter(_functions(dev).values()))["Properties"]["Environment"]["Variables"]["ISSUER"]
    parts = dev_issuer["Fn::Join"][1]
    assert parts[0] == "https://" and ".execute-api." in parts and parts[-1] == "/dev"
    prod_issuer = next(iter(_functions(prod).values()))["Properties"]["Environment"]["Variables"]["ISSUER"]
    assert prod_issuer == "https://auth.example.com"


def test_the_layer_targets_arm64_and_the_function_runtime(dev: Synth) -> None:
    (layer,) = dev.resources("AWS::Lambda::LayerVersion").values()
    assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]
    assert layer["Properties"]["CompatibleRuntimes"] == [_pinned_python()]


def test_a_declared_function_without_a_folder_stops_synthesis_naming_it() -> None:
    document = load_routes_document()
    document = {
        **document,
        "routes": [
            *document["routes"],
            {"method": "GET", "path": "/ghost", "function": "ghost", "allow": {}},
        ],
    }
    with pytest.raises(FileNotFoundError, match=r"functions/ghost/handler\.py"):
        synthesize({}, routes_document=document)


MISSING = sorted(
    {route.function for route in parse_route_table(load_routes_document()).routes}
    - {path.name for path in FUNCTIONS_DIR.iterdir() if (path / "handler.py").is_file()}
)


@pytest.mark.xfail(bool(MISSING), reason=f"functions/{', '.join(MISSING)} not on main yet", strict=True)
def test_every_function_the_route_declaration_names_is_wired_with_the_full_declaration() -> None:
    document = load_routes_document()
    synth = synthesize({"demo": "true"}, routes_document=document)
    handlers = {f["Properties"]["Handler"] for f in _functions(synth).values()}
    expected = {f"functions.{name}.handler.handler" for name in function_names(parse_route_table(document))}
    assert handlers == expected
    methods = synth.resources("AWS::ApiGateway::Method")
    assert len([m for m in methods.values() if m["Properties"]["HttpMethod"] != "OPTIONS"]) == len(
        document["routes"]
    )

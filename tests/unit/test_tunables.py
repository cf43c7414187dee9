"""Every runtime tunable is declared once (shared/config/tunables.py): the functions' settings, the stack's
context keys and the docs all follow that table, and the functions and the stack refuse the same
values with the same rules."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest

from infra.config import ContextError, DeployConfig, config_from_context
from operations import configuration_docs
from shared.config.deploy_tunables import DEPLOY_TUNABLES
from shared.config.parsing import CONTEXT, ENVIRONMENT, Tunable, parse
from shared.config.settings import Settings, settings_from_env
from shared.config.tunables import (
    BY_FIELD,
    IN_CONTEXT,
    RULES,
    TUNABLES,
    env_value,
)
from shared.core.errors import ConfigurationError
from tests.unit.test_settings import BASE


def _context(**values: Any) -> DeployConfig:
    return config_from_context(values.get)


def test_settings_has_one_field_per_tunable_with_the_tables_default() -> None:
    fields = {field.name: field for field in dataclasses.fields(Settings)}
    assert set(fields) - {"refresh_cookie_path"} == set(BY_FIELD)
    for name, field in fields.items():
        if name in BY_FIELD and field.default is not dataclasses.MISSING:
            assert field.default == BY_FIELD[name].default, name


def test_deploy_config_holds_every_context_key_with_its_default_and_no_field_of_its_own() -> None:
    stack_fields = {field.name for field in dataclasses.fields(DeployConfig)}
    defaults = _context()
    assert set(DeployConfig().functions) == set(defaults.functions) == {t.context for t in IN_CONTEXT}
    for tunable in IN_CONTEXT:
        assert tunable.context not in stack_fields, tunable.context
        deployed = tunable.default if tunable.deployed is None else tunable.deployed
        assert DeployConfig().functions[tunable.context] == deployed, tunable.context
        assert defaults.functions[tunable.context] == deployed, tunable.context


def test_names_are_unique_and_every_rule_joins_two_int_settings_the_stack_also_reads() -> None:
    assert len({tunable.env for tunable in TUNABLES}) == len(TUNABLES)
    assert len({tunable.context for tunable in IN_CONTEXT}) == len(IN_CONTEXT)
    for rule in RULES:
        for name in (rule.field, rule.other):
            assert BY_FIELD[name].kind == "int" and BY_FIELD[name].context, name


@pytest.mark.parametrize("tunable", [t for t in TUNABLES if not t.required], ids=lambda t: t.env)
def test_every_default_is_valid_and_survives_the_environment(tunable: Tunable) -> None:
    assert parse(tunable, env_value(tunable.default), ENVIRONMENT) == tunable.default
    if tunable.context:
        assert parse(tunable, tunable.default, CONTEXT) == tunable.default
    if tunable.deployed is not None:
        assert parse(tunable, tunable.deployed, CONTEXT) == tunable.deployed != tunable.default


def _refused_values(tunable: Tunable) -> list[Any]:
    if tunable.kind == "int":
        return [str(tunable.low - 1), str(tunable.high + 1), "ten", "1.5"]
    if tunable.kind == "choice":
        return ["bogus", tunable.choices[0].swapcase()]
    if tunable.kind == "origins":
        return ["*", "https://*.example.com", "http://app.example.com", "https://app.example.com/path"]
    too_many = [",".join(f"n{index}" for index in range(tunable.high + 1))] if tunable.high else []
    return ["not;a name", "x" * 201, *too_many]


@pytest.mark.parametrize(
    ("tunable", "raw"),
    [(tunable, raw) for tunable in IN_CONTEXT for raw in _refused_values(tunable)],
    ids=lambda value: value.env if isinstance(value, Tunable) else str(value)[:20],
)
def test_the_functions_and_the_stack_refuse_the_same_values_naming_their_setting(
    tunable: Tunable, raw: str
) -> None:
    with pytest.raises(ConfigurationError, match=tunable.env):
        settings_from_env({**BASE, tunable.env: raw})
    with pytest.raises(ContextError, match=f"context '{tunable.context}'"):
        _context(**{tunable.context: raw})


def _around(rule_field: str, other_field: str) -> int:
    """A value both settings accept, small enough that other rules still hold."""
    return max(BY_FIELD[rule_field].low, BY_FIELD[other_field].low, 1)


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: f"{rule.field}{rule.relation}{rule.other}")
def test_the_functions_and_the_stack_apply_every_rule_between_settings(rule: Any) -> None:
    first, second = BY_FIELD[rule.field], BY_FIELD[rule.other]
    other = _around(rule.field, rule.other)
    broken = other + 1 if rule.relation == "<=" else other
    kept = other if rule.relation == "<=" else other + 1
    with pytest.raises(ConfigurationError, match=rf"{first.env} \({broken}\) .*{second.env} \({other}\)"):
        settings_from_env({**BASE, first.env: str(broken), second.env: str(other)})
    with pytest.raises(
        ContextError, match=rf"'{first.context}' \({broken}\) .*'{second.context}' \({other}\)"
    ):
        _context(**{first.context: str(broken), second.context: str(other)})
    settings = settings_from_env({**BASE, first.env: str(kept), second.env: str(other)})
    assert getattr(settings, rule.field) == kept
    assert _context(**{first.context: kept, second.context: other}).functions[first.context] == kept


def test_the_configuration_tables_in_the_docs_are_generated_from_the_tunables() -> None:
    assert configuration_docs.stale() == [], "run `make docs` (python -m operations.configuration_docs)"


def test_the_docs_check_fails_when_a_default_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    changed = tuple(
        dataclasses.replace(tunable, default=600) if tunable.env == "ACCESS_TOKEN_TTL_SECONDS" else tunable
        for tunable in TUNABLES
    )
    monkeypatch.setattr(configuration_docs, "TUNABLES", changed)
    monkeypatch.setattr(configuration_docs, "IN_CONTEXT", tuple(t for t in changed if t.context))
    assert set(configuration_docs.stale()) == {configuration_docs.README, configuration_docs.DEPLOY}
    assert configuration_docs.main(["--check"]) == 1


def test_the_docs_show_each_tunables_default_range_and_rules() -> None:
    readme = configuration_docs.README.read_text("utf-8")
    cells = (
        "`ACCESS_TOKEN_TTL_SECONDS`",
        "900 (15 minutes)",
        "`access_token_ttl`",
        "access-token lifetime (60-3600 s)",
    )
    assert f"| {' | '.join(cells)} |" in readme
    assert re.search(r"\| `LOCKOUT_BASE_SECONDS` \|.*must not exceed `LOCKOUT_MAX_SECONDS` \|", readme)
    deploy = configuration_docs.DEPLOY.read_text("utf-8")
    assert re.search(r"\| `lockout_window_seconds` \|.*must exceed `lockout_max_seconds` \|", deploy)


def test_docs_deploy_lists_every_context_key() -> None:
    deploy = configuration_docs.DEPLOY.read_text("utf-8")
    keys = [field.name for field in dataclasses.fields(DeployConfig) if field.name != "functions"]
    missing = [key for key in [*keys, *DeployConfig().functions] if f"`{key}`" not in deploy]
    assert missing == []


def test_the_stack_settings_are_the_deploy_tables_rows_with_their_defaults() -> None:
    stack_fields = [field.name for field in dataclasses.fields(DeployConfig) if field.name != "functions"]
    assert sorted(stack_fields) == sorted(tunable.field for tunable in DEPLOY_TUNABLES)
    for tunable in DEPLOY_TUNABLES:
        assert tunable.context == tunable.field and not tunable.env, tunable.field
        assert getattr(DeployConfig(), tunable.field) == tunable.default, tunable.field
        assert getattr(_context(), tunable.field) == tunable.default, tunable.field
        assert parse(tunable, tunable.default, CONTEXT) == tunable.default, tunable.field

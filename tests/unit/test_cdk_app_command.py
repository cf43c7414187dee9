"""cdk.json's app command finds the project's Python wherever its virtualenv lives (infra/app.sh).

Each case runs the real command from a copy of cdk.json and infra/app.sh, with stand-in Pythons
that print who they are instead of synthesizing.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SYSTEM_PATH = "/usr/bin:/bin"  # sh, dirname; Debian's python3 here is no virtualenv


def stand_in(path: Path, *, venv: bool = True) -> Path:
    """A Python that prints its own path and arguments; in a virtualenv layout unless venv=False."""
    path.mkdir(parents=True)
    if venv:
        (path / "pyvenv.cfg").write_text("home = /usr/bin\n")
        path = path / "bin"
        path.mkdir()
    for name in ("python", "python3"):
        (path / name).write_text('#!/bin/sh\necho "$0 $*"\n')
        (path / name).chmod(0o755)
    return path


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """cdk.json and the launcher, as in a clone (no .venv yet); stand-ins go beside it."""
    clone = tmp_path / "clone"
    (clone / "infra").mkdir(parents=True)
    shutil.copy(REPO / "cdk.json", clone / "cdk.json")
    shutil.copy(REPO / "infra" / "app.sh", clone / "infra" / "app.sh")
    return clone


def app_command(clone: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """What `npx cdk synth` does with cdk.json's "app": a shell command run from the project root."""
    command = json.loads((clone / "cdk.json").read_text())["app"]
    return subprocess.run(
        ["/bin/sh", "-c", command], cwd=clone, env=env, capture_output=True, text=True, check=True, timeout=10
    )


def test_the_active_virtualenv_wins_over_path_and_dot_venv(clone: Path) -> None:
    active = stand_in(clone.parent / "elsewhere" / "env").parent
    on_path = stand_in(clone.parent / "on-path")
    stand_in(clone / ".venv")
    ran = app_command(clone, {"VIRTUAL_ENV": str(active), "PATH": f"{on_path}:{SYSTEM_PATH}"})
    assert ran.stdout == f"{active}/bin/python -m infra.app\n"


def test_a_virtualenv_first_on_path_as_make_synth_puts_it(clone: Path) -> None:
    on_path = stand_in(clone.parent / "venv-from-make")
    stand_in(clone / ".venv")
    ran = app_command(clone, {"PATH": f"{on_path}:{SYSTEM_PATH}"})
    assert ran.stdout == f"{on_path}/python3 -m infra.app\n"


def test_dot_venv_when_no_virtualenv_is_active(clone: Path) -> None:
    not_a_venv = stand_in(clone.parent / "plain", venv=False)
    stand_in(clone / ".venv")
    ran = app_command(clone, {"PATH": f"{not_a_venv}:{SYSTEM_PATH}"})
    assert ran.stdout == "infra/../.venv/bin/python -m infra.app\n"


def test_a_missing_virtualenv_is_skipped_then_python3_with_a_warning(clone: Path) -> None:
    plain = stand_in(clone.parent / "plain", venv=False)
    ran = app_command(clone, {"VIRTUAL_ENV": str(clone / "gone"), "PATH": f"{plain}:{SYSTEM_PATH}"})
    assert ran.stdout == f"{plain}/python3 -m infra.app\n"
    assert "no virtualenv" in ran.stderr
    assert "make install" in ran.stderr

"""Cold start: import and module initialisation of each handler in a fresh interpreter, as Lambda's
INIT does, plus building the services (the DynamoDB client) the first invocation needs.

Floor: `import boto3, jwt` plus creating one DynamoDB client, in the same kind of fresh interpreter.
Runs are interleaved round-robin across targets so a noisy neighbour hits every target alike; the
time is measured inside the child (interpreter start-up, identical for all, is left out).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.bench.world import BASE_ENVIRONMENT

REPO = Path(__file__).resolve().parents[2]
HANDLERS = ("authorizer", "cars", "jwks", "login", "logout", "me", "password", "refresh", "sessions")
RUNS = 7

_CHILD = """
import json, sys, time
start = time.perf_counter()
{body}
print(json.dumps({{"total": time.perf_counter() - start, "import": imported - start,
                   "argon2": "argon2" in sys.modules, "xray": "aws_xray_sdk" in sys.modules}}))
"""

FLOOR = """
import boto3, jwt
imported = time.perf_counter()
boto3.session.Session().client("dynamodb")
"""


def handler_body(name: str, extra: str = "") -> str:
    return f"""
import functions.{name}.handler
{extra}
imported = time.perf_counter()
from shared.runtime.services import get_services
get_services()
"""


TRACER = """
from aws_lambda_powertools import Tracer
Tracer(service="jwt-auth")
"""

XRAY = """
from aws_xray_sdk.core import patch_all, xray_recorder
patch_all()
"""


@dataclass(frozen=True)
class Target:
    key: str
    label: str
    body: str
    env: tuple[tuple[str, str], ...] = ()
    no_bytecode: bool = False


@dataclass(frozen=True)
class ColdResult:
    target: Target
    total: float  # median seconds: import + services
    imported: float  # median seconds: import only
    loads_argon2: bool
    loads_xray: bool


# Tracer and X-Ray are only active inside Lambda (AWS_LAMBDA_FUNCTION_NAME set).
_IN_LAMBDA = (("AWS_LAMBDA_FUNCTION_NAME", "jwt-auth-authorizer"), ("POWERTOOLS_TRACE_DISABLED", "false"))


def targets() -> list[Target]:
    found = [Target("floor", "floor: import boto3, jwt + 1 DynamoDB client", FLOOR)]
    found += [Target(name, f"functions.{name}.handler", handler_body(name)) for name in HANDLERS]
    found += [
        Target(
            "authorizer+tracer",
            "authorizer + Powertools Tracer (X-Ray SDK, auto-patch)",
            handler_body("authorizer", TRACER),
            _IN_LAMBDA,
        ),
        Target(
            "authorizer+xray",
            "authorizer + aws_xray_sdk patch_all",
            handler_body("authorizer", XRAY),
            _IN_LAMBDA,
        ),
        Target("floor-nopyc", "floor, no .pyc for jwt (boto3 precompiled)", FLOOR, no_bytecode=True),
        Target(
            "authorizer-nopyc",
            "authorizer, no .pyc for layer + function code",
            handler_body("authorizer"),
            no_bytecode=True,
        ),
    ]
    return found


def _environment(extra: tuple[tuple[str, str], ...]) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("AWS_", "POWERTOOLS_")) and name != "PYTHONDONTWRITEBYTECODE"
    }
    env.update(BASE_ENVIRONMENT)
    env["POWERTOOLS_TRACE_DISABLED"] = "true"
    env["PYTHONPATH"] = str(REPO)
    env.update(dict(extra))
    return env


def _boto3_only_cache(root: Path) -> Path:
    """A bytecode cache holding boto3/botocore only (the Lambda runtime ships those compiled)."""
    cache = root / "boto3-only"
    env = _environment(()) | {"PYTHONPYCACHEPREFIX": str(cache)}
    code = "import boto3; boto3.session.Session().client('dynamodb')"
    subprocess.run([sys.executable, "-c", code], env=env, check=True, cwd=REPO)
    return cache


def _run(target: Target, scratch: Path, boto3_cache: Path, index: int) -> dict[str, float | bool]:
    env = _environment(target.env)
    # Byte code goes to a cache of the benchmark's own (never into the repository): a warm one
    # shared by every run, or, for a no-bytecode target, a fresh copy of the boto3-only cache.
    env["PYTHONPYCACHEPREFIX"] = str(scratch / "warm")
    if target.no_bytecode:
        cache = scratch / f"{target.key}-{index}"
        shutil.copytree(boto3_cache, cache)
        env["PYTHONPYCACHEPREFIX"] = str(cache)
    code = _CHILD.format(body=target.body)
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=REPO, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"cold start of {target.label} failed:\n{done.stderr}")
    result: dict[str, float | bool] = json.loads(done.stdout.strip().splitlines()[-1])
    if target.no_bytecode:
        shutil.rmtree(env["PYTHONPYCACHEPREFIX"], ignore_errors=True)
    return result


def measure(runs: int = RUNS) -> list[ColdResult]:
    chosen = targets()
    samples: dict[str, list[dict[str, float | bool]]] = {target.key: [] for target in chosen}
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as scratch_name:
        scratch = Path(scratch_name)
        boto3_cache = _boto3_only_cache(scratch)
        for target in chosen:  # one untimed run each: the normal .pyc cache is warm for every target
            _run(target, scratch, boto3_cache, -1)
        for index in range(runs):
            for target in chosen:
                samples[target.key].append(_run(target, scratch, boto3_cache, index))
    results = []
    for target in chosen:
        runs_of = samples[target.key]
        results.append(
            ColdResult(
                target=target,
                total=statistics.median(float(run["total"]) for run in runs_of),
                imported=statistics.median(float(run["import"]) for run in runs_of),
                loads_argon2=bool(runs_of[0]["argon2"]),
                loads_xray=bool(runs_of[0]["xray"]),
            )
        )
    return results


def import_profile(handler: str = "authorizer", top: int = 12) -> list[tuple[str, float]]:
    """The authorizer's heaviest top-level imports (python -X importtime, cumulative, seconds)."""
    env = _environment(())
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import functions.{handler}.handler"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    rows: list[tuple[str, float]] = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = (part.strip() for part in line.removeprefix("import time:").split("|"))
        if cumulative.isdigit() and not name.startswith(" ") and "." not in name.strip():
            rows.append((name.strip(), int(cumulative) / 1e6))
    rows.sort(key=lambda row: row[1], reverse=True)
    return rows[:top]

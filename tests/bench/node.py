"""The Python authorizer against a Node.js peer (tests/bench/node_peer/authorizer.mjs: `jose` and the
AWS SDK v3 doing the same work: verify an RS256 token against a JWKS, one strongly consistent
BatchGetItem of the same four keys), on the same local AWS endpoint, in the same run.

The endpoint is moto in a process of its own (loopback), so neither side shares a CPU-bound
interpreter with it and both pay the same HTTP round trip. The floor of every ratio here is the
Node peer's figure from the same run.

Warm: one long-lived Node process and the Python handler in this process, timed in alternating
batches (each side times its own calls, in its own process), so drift hits both alike.

Cold: fresh processes, interleaved round-robin. Each child times itself from its first line to
its first answer (import, client and key set-up, one call): the runtime's own start (interpreter or
V8 boot, the same for every child of one language and paid by Lambda before INIT) is left out, and
reported apart. The Python variants switch one lever each, so every lever's before and after come
from the same run:
- as shipped: botocore clients (no boto3), compiled bytecode;
- boto3 (lever off): `import boto3` first, as the authorizer did before;
- service scan (lever off): botocore lists its ~450 data directories to check a service exists;
- no bytecode: layer and function code compiled from source at start (the runtime's boto3 and
  botocore stay precompiled, as in Lambda's image);
- SnapStart, restored: INIT and the before-snapshot priming run untimed (the snapshot), then the
  after-restore hook and the first call are timed (the restore itself cannot be measured here);
- SnapStart without priming: INIT untimed, then the first call (keys, first request) timed.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.bench.stats import Sample
from tests.bench.world import BASE_ENVIRONMENT, PASSWORD, STAFF

REPO = Path(__file__).resolve().parents[2]
PEER_DIRECTORY = Path(__file__).resolve().parent / "node_peer"
PEER = PEER_DIRECTORY / "authorizer.mjs"
RUNNER = PEER_DIRECTORY / "run.mjs"
# As CDK's NodejsFunction deploys a function: one minified ESM file (Node's built-ins through
# createRequire, which the SDK's CommonJS parts need).
ESBUILD_OPTIONS = (
    "--bundle",
    "--platform=node",
    "--format=esm",
    "--target=node20",
    "--minify",
    "--main-fields=module,main",
    "--banner:js=import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);",
)
WARM_ROUNDS = 20
WARM_BATCH = 25
COLD_RUNS = 9

_SERVER = """
import sys
from local.aws_backend import EmbeddedMoto
moto = EmbeddedMoto()
moto.start()
print(moto.url, flush=True)
sys.stdin.read()
moto.stop()
"""

_PY_CHILD = """
import json, os, sys, time, types
context = types.SimpleNamespace(function_name="jwt-auth-authorizer", memory_limit_in_mb=512,
    invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:jwt-auth-authorizer",
    aws_request_id="11111111-2222-3333-4444-555555555555")
event = json.loads(os.environ["BENCH_EVENT"])
start = time.perf_counter()
{before}
import functions.authorizer.handler as module
imported = time.perf_counter()
{between}
module.handler(event, context)
done = time.perf_counter()
print(json.dumps({{"total": done - start, "import": imported - start}}))
"""

_EMPTY_PY = 'print("{}")'
_EMPTY_NODE = 'console.log("{}")'

# botocore's own service list: every data directory scanned, as without shared.core.aws's loader.
_SCAN = """
import botocore.loaders, shared.core.aws
shared.core.aws._KnownServicesLoader.list_available_services = botocore.loaders.Loader.list_available_services
"""

# The snapshot: INIT and priming, untimed; the clock starts at the restore.
_RESTORED = """
module.prime()
start = imported = time.perf_counter()
module.after_restore()
"""
_UNPRIMED = """
start = imported = time.perf_counter()
"""


@dataclass(frozen=True)
class Variant:
    key: str
    label: str
    before: str = ""
    between: str = ""
    no_bytecode: bool = False


VARIANTS: tuple[Variant, ...] = (
    Variant("shipped", "Python authorizer without SnapStart (dev, snap_start=off): botocore, bytecode"),
    Variant("boto3", "lever off: boto3 imported (as before)", before="import boto3"),
    Variant("nopyc", "lever off: no bytecode for layer + function code", no_bytecode=True),
    Variant("scan", "lever off: botocore scans its data for the service list", before=_SCAN),
    Variant(
        "snapstart",
        "Python authorizer outside dev: SnapStart restore, primed (after-restore hook, first call)",
        between=_RESTORED,
    ),
    Variant("unprimed", "SnapStart restore, not primed: first call", between=_UNPRIMED),
)


VARIANTS_BY_KEY = {variant.key: variant for variant in VARIANTS}


@dataclass(frozen=True)
class ColdFigure:
    label: str
    total: float  # seconds, median: in-process, first line to first answer
    imported: float  # seconds, median: the import part
    process: float  # seconds, median: spawn to exit, as the parent saw it


@dataclass(frozen=True)
class NodeResult:
    warm_python: Sample
    warm_node: Sample
    cold_node: dict[str, ColdFigure]  # "bundled" (the floor), "modules" (from node_modules)
    cold_python: dict[str, ColdFigure]
    node_version: str
    boot_python: float  # seconds, median: an empty Python program, spawn to exit
    boot_node: float  # seconds, median: an empty Node.js program, spawn to exit


@contextlib.contextmanager
def moto_server(env: dict[str, str]) -> Iterator[str]:
    """moto in a process of its own on a free loopback port; yields its URL."""
    process = subprocess.Popen(
        [sys.executable, "-c", _SERVER],
        env=env,
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stdin is not None
    try:
        url = process.stdout.readline().strip()
        if not url.startswith("http://127.0.0.1:"):
            raise RuntimeError(f"the moto server did not start: {url!r}")
        yield url
    finally:
        process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _base_environment() -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("AWS_", "POWERTOOLS_")) and name != "PYTHONDONTWRITEBYTECODE"
    }
    env.update(BASE_ENVIRONMENT)
    env["POWERTOOLS_TRACE_DISABLED"] = "true"
    env["PYTHONPATH"] = str(REPO)
    return env


def _node() -> str:
    found = shutil.which("node")
    if found is None:
        raise RuntimeError("node is not on PATH: the Node.js peer needs Node.js")
    return found


def available() -> str:
    """Why the Node peer cannot run here, or '' when it can."""
    if shutil.which("node") is None:
        return "node is not on PATH"
    for package in ("jose", "@aws-sdk/client-dynamodb"):
        if not (REPO / "node_modules" / package / "package.json").exists():
            return f"node_modules/{package} is missing (run `npm ci`)"
    return ""


def _provision(url: str) -> tuple[dict[str, str], str, dict[str, Any]]:
    """The service in the moto server; returns its environment, a staff access token and the JWKS."""
    from local.provision import create_user, provision
    from shared.runtime import services as services_module
    from tests.events import body_of
    from tests.flows import login

    os.environ["AWS_ENDPOINT_URL"] = url
    services_module.reset()
    env = provision(
        prefix="bench-node", issuer=BASE_ENVIRONMENT["ISSUER"], audience=BASE_ENVIRONMENT["AUDIENCE"]
    )
    os.environ.update(env)
    services_module.reset()
    services = services_module.get_services()
    create_user(services.users, STAFF, PASSWORD, name="Sam Staff", role="sales", user_type="staff")
    response = login(STAFF, PASSWORD, "staff")
    if response["statusCode"] != 200:
        raise RuntimeError(f"benchmark login failed: {response}")
    token: str = body_of(response)["access_token"]
    return env, token, services.keys.jwks()


def bundle(destination: Path) -> Path:
    """The peer bundled by esbuild (from node_modules), as NodejsFunction would deploy it."""
    output = destination / "authorizer.bundle.mjs"
    esbuild = REPO / "node_modules" / ".bin" / "esbuild"
    subprocess.run(
        [str(esbuild), str(PEER), *ESBUILD_OPTIONS, f"--outfile={output}", "--log-level=warning"],
        cwd=REPO,
        check=True,
    )
    return output


def _warm(env: dict[str, str], token: str, peer_module: Path) -> tuple[Sample, Sample]:
    from functions.authorizer.handler import handler
    from tests.events import LambdaContext, authorizer_event

    event = authorizer_event(f"Bearer {token}", "GET", "/cars")
    context = LambdaContext(function_name="jwt-auth-authorizer")
    for _ in range(50):
        handler(event, context)
    peer = subprocess.Popen(
        [_node(), str(RUNNER), str(peer_module), "warm"],
        env=env,
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert peer.stdout is not None and peer.stdin is not None
    python: list[float] = []
    node: list[float] = []
    try:
        if "ready" not in peer.stdout.readline():
            raise RuntimeError("the Node peer did not start")

        def node_batch(count: int) -> list[float]:
            assert peer.stdin is not None and peer.stdout is not None
            peer.stdin.write(f"{count}\n")
            peer.stdin.flush()
            return [value / 1000 for value in json.loads(peer.stdout.readline())]

        node_batch(50)  # its warm-up
        clock = time.perf_counter
        for index in range(WARM_ROUNDS):
            for side in ("python", "node") if index % 2 else ("node", "python"):
                if side == "node":
                    node += node_batch(WARM_BATCH)
                    continue
                for _ in range(WARM_BATCH):
                    start = clock()
                    handler(event, context)
                    python.append(clock() - start)
    finally:
        peer.stdin.close()
        peer.wait(timeout=10)
    return Sample(tuple(python)), Sample(tuple(node))


def _child(command: list[str], env: dict[str, str]) -> tuple[dict[str, float], float]:
    started = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"cold start of {command[-1][:60]!r} failed:\n{done.stderr}")
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures, elapsed


def _cold(
    env: dict[str, str], peer_module: Path
) -> tuple[dict[str, ColdFigure], dict[str, ColdFigure], float, float]:
    node_commands = {
        "bundled": [_node(), str(RUNNER), str(peer_module), "cold"],
        "modules": [_node(), str(RUNNER), str(PEER), "cold"],
    }
    keys = (*node_commands, *VARIANTS_BY_KEY)
    runs: dict[str, list[tuple[float, float, float]]] = {key: [] for key in keys}
    boots: dict[str, list[float]] = {"python": [], "node": []}
    with tempfile.TemporaryDirectory(prefix="bench-node-") as scratch_name:
        scratch = Path(scratch_name)
        runtime_cache = scratch / "runtime"  # boto3 and botocore only: Lambda's image ships them compiled
        subprocess.run(
            [sys.executable, "-c", "import boto3"],
            env=env | {"PYTHONPYCACHEPREFIX": str(runtime_cache)},
            cwd=REPO,
            check=True,
        )

        def one(variant: Variant, index: int) -> tuple[float, float, float]:
            child_env = env | {"PYTHONPYCACHEPREFIX": str(scratch / "warm")}
            if variant.no_bytecode:
                cache = scratch / f"nopyc-{index}"
                shutil.copytree(runtime_cache, cache)
                child_env["PYTHONPYCACHEPREFIX"] = str(cache)
            code = _PY_CHILD.format(before=variant.before, between=variant.between)
            figures, elapsed = _child([sys.executable, "-c", code], child_env)
            if variant.no_bytecode:
                shutil.rmtree(child_env["PYTHONPYCACHEPREFIX"], ignore_errors=True)
            return figures["total"], figures["import"], elapsed

        def node_once(key: str) -> tuple[float, float, float]:
            figures, elapsed = _child(node_commands[key], env)
            return figures["total"] / 1000, figures["import"] / 1000, elapsed

        for variant in VARIANTS:  # untimed: the normal bytecode cache is warm for every variant
            one(variant, -1)
        for key in node_commands:
            node_once(key)
        for index in range(COLD_RUNS):
            for variant in VARIANTS:
                runs[variant.key].append(one(variant, index))
            for key in node_commands:
                runs[key].append(node_once(key))
            # the runtimes' own start: an empty program, spawn to exit
            boots["python"].append(_child([sys.executable, "-c", _EMPTY_PY], env)[1])
            boots["node"].append(_child([_node(), "-e", _EMPTY_NODE], env)[1])

    def figure(label: str, found: list[tuple[float, float, float]]) -> ColdFigure:
        return ColdFigure(
            label,
            statistics.median(run[0] for run in found),
            statistics.median(run[1] for run in found),
            statistics.median(run[2] for run in found),
        )

    node = {
        "bundled": figure("Node.js peer, esbuild bundle (as NodejsFunction deploys it)", runs["bundled"]),
        "modules": figure("Node.js peer, from node_modules (no bundling)", runs["modules"]),
    }
    python = {variant.key: figure(variant.label, runs[variant.key]) for variant in VARIANTS}
    return node, python, statistics.median(boots["python"]), statistics.median(boots["node"])


def measure() -> NodeResult:
    """Leaves the process's AWS settings pointing at nothing (the moto server is stopped)."""
    from shared.runtime import services as services_module
    from tests.events import authorizer_event

    version = subprocess.run([_node(), "--version"], capture_output=True, text=True, check=True).stdout
    saved = dict(os.environ)
    try:
        with moto_server(_base_environment()) as url:
            env, token, jwks = _provision(url)
            child_env = _base_environment() | env
            child_env.update(
                {
                    "AWS_ENDPOINT_URL": url,
                    "AWS_REGION": BASE_ENVIRONMENT["AWS_DEFAULT_REGION"],
                    "JWKS": json.dumps(jwks),
                    "BENCH_EVENT": json.dumps(authorizer_event(f"Bearer {token}", "GET", "/cars")),
                    "NODE_NO_WARNINGS": "1",  # the SDK's notice about Node 20's end of support
                }
            )
            with tempfile.TemporaryDirectory(prefix="bench-node-bundle-") as built:
                peer_module = bundle(Path(built))
                warm_python, warm_node = _warm(child_env, token, peer_module)
                cold_node, cold_python, boot_python, boot_node = _cold(child_env, peer_module)
    finally:
        os.environ.clear()
        os.environ.update(saved)
        services_module.reset()
    return NodeResult(warm_python, warm_node, cold_node, cold_python, version.strip(), boot_python, boot_node)

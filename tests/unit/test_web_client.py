"""The web client package (clients/web): its unit tests (`node --test`), and the READMEs' snippets and
types recipe, run and type-checked with `tsc` against the package's own types so they cannot rot.

Needs Node.js and the root package.json's devDependencies (`make test` installs them)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
WEB = REPO / "clients" / "web"
READMES = [REPO / "README.md", WEB / "README.md"]
NODE_MODULES = REPO / "node_modules"
SNIPPET = re.compile(r"<!-- web-client: (\w+) -->\s*```\w*\n(.*?)```", re.DOTALL)

# What the snippets take from the app around them.
APP = """
declare const email: string;
declare const password: string;
declare const form: HTMLFormElement;
declare const logoutButton: HTMLButtonElement;
declare function showApp(user: import("serverless-jwt-auth-client").User): void;
declare function showLogin(): void;
declare function say(reason: import("serverless-jwt-auth-client").SignedOutReason, remote: boolean): void;
"""
# The few React declarations the hook uses (React's own types are not a dependency here).
REACT = """declare module "react" {
  export function useState<T>(initial: T): [T, (value: T) => void];
  export function useEffect(effect: () => void | (() => void), deps?: readonly unknown[]): void;
}
"""
TSCONFIG = {
    "compilerOptions": {
        "strict": True,
        "noEmit": True,
        "target": "es2022",
        "module": "esnext",
        "moduleResolution": "bundler",
        "lib": ["es2022", "dom"],
        "jsx": "preserve",
        "types": [],
        "skipLibCheck": False,
    },
    "include": ["src"],
}


def node() -> str:
    found = shutil.which("node")
    if found is None:
        pytest.fail("Node.js is needed for the web client's tests (see README: make test)")
    return found


def snippets(readme: Path) -> dict[str, str]:
    found = dict(SNIPPET.findall(readme.read_text()))
    assert set(found) == {"plain", "react", "recipe", "typed"}, f"{readme}: {sorted(found)}"
    return found


def run(command: list[str], cwd: Path) -> str:
    env = {**os.environ, "NO_COLOR": "1", "npm_config_update_notifier": "false"}
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout[-6000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def test_the_clients_unit_tests_pass_under_nodes_test_runner() -> None:
    output = run([node(), "--test"], WEB)
    assert re.search(r"^# pass [1-9]\d*$", output, re.MULTILINE), output[-2000:]
    assert re.search(r"^# fail 0$", output, re.MULTILINE), output[-2000:]


def test_the_package_is_the_module_the_demo_page_loads_and_has_no_dependencies() -> None:
    package = json.loads((WEB / "package.json").read_text())
    assert package["type"] == "module"
    assert package["exports"]["."] == {"types": "./index.d.ts", "default": "./index.js"}
    assert not package.get("dependencies") and not package.get("peerDependencies")
    assert set(package["files"]) >= {"index.js", "index.d.ts"}
    assert '"/auth-client.js": ("../../clients/web/index.js"' in (REPO / "local" / "server.py").read_text()
    assert 'from "./auth-client.js"' in (REPO / "local" / "frontend" / "app.js").read_text()


def test_the_readmes_show_the_same_snippets() -> None:
    assert snippets(READMES[0]) == snippets(READMES[1])


def test_the_types_recipe_runs_and_every_snippet_type_checks(tmp_path: Path) -> None:
    """A throwaway app: the recipe generates its types from docs/openapi.json, then `tsc` checks the
    snippets against them and against the package's index.d.ts, resolved through its exports."""
    node()
    found = snippets(READMES[0])
    install, generate = [line.split() for line in found["recipe"].strip().splitlines()]
    dev_dependencies = json.loads((REPO / "package.json").read_text())["devDependencies"]
    assert install[:3] == ["npm", "install", "--save-dev"] and set(install[3:]) <= set(dev_dependencies)
    assert generate[:2] == ["npx", "openapi-typescript"], generate

    app = tmp_path / "app"
    (app / "docs").mkdir(parents=True)
    shutil.copy(REPO / "docs" / "openapi.json", app / "docs" / "openapi.json")
    modules = app / "node_modules"
    (modules / ".bin").mkdir(parents=True)
    (modules / "serverless-jwt-auth-client").symlink_to(WEB)
    for package in ("openapi-typescript", "typescript"):
        if not (NODE_MODULES / package).is_dir():
            pytest.fail(f"node_modules/{package} is missing: `make test` installs it (npm ci)")
        (modules / package).symlink_to(NODE_MODULES / package)
    for tool in ("openapi-typescript", "tsc"):
        (modules / ".bin" / tool).symlink_to(NODE_MODULES / ".bin" / tool)

    run(["npx", "--no-install", *generate[1:]], app)  # exactly the README's command, in the app
    assert "CarList" in (app / "src" / "auth-api.d.ts").read_text()

    source = app / "src"
    (source / "app.d.ts").write_text(APP)
    (source / "react.d.ts").write_text(REACT)
    (source / "plain.ts").write_text(found["plain"])
    (source / "hook.tsx").write_text(found["react"])
    (source / "typed.ts").write_text(
        'import { createAuthClient } from "serverless-jwt-auth-client";\n'
        'const auth = createAuthClient({ baseUrl: "https://auth.example.com" });\n' + found["typed"]
    )
    (app / "tsconfig.json").write_text(json.dumps(TSCONFIG))
    run([node(), str(modules / "typescript" / "bin" / "tsc"), "-p", "."], app)

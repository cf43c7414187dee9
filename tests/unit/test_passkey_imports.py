"""py_webauthn (with cbor2, pyOpenSSL and asn1) costs a few hundred milliseconds of import: only the
two passkey functions load it, never login, refresh, the authorizer or any other function. In Lambda
those packages are not even on the other functions' path (infra/bundling.py ships them in the passkey
functions' assets only): with pyOpenSSL importable, botocore loads it in every function that makes a
client. Here, in the development environment, pyOpenSSL is installed, so only py_webauthn's own
modules are checked."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from infra.bundling import FUNCTION_REQUIREMENTS, LAYER_REQUIREMENTS, PASSKEY_REQUIREMENTS

REPO = Path(__file__).resolve().parents[2]
HEAVY = ("webauthn", "cbor2")


def _pinned(requirements: Path) -> set[str]:
    return {
        line.split("==")[0].strip().lower()
        for line in requirements.read_text(encoding="utf-8").splitlines()
        if "==" in line and not line.startswith((" ", "#"))
    }


def test_no_other_function_imports_py_webauthn() -> None:
    others = sorted(
        folder.name
        for folder in (REPO / "functions").iterdir()
        if (folder / "handler.py").exists() and folder.name not in FUNCTION_REQUIREMENTS
    )
    probe = (
        "import os, sys, tests.conftest\n"
        "os.environ.setdefault('CARS_TABLE', 'placeholder-cars')\n"
        f"for name in {others!r}: __import__(f'functions.{{name}}.handler')\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))\n"
    )
    found = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True, timeout=120
    )
    assert json.loads(found.stdout.strip().replace("'", '"')) == []
    assert {"login", "refresh", "authorizer", "mfa"} <= set(others)


def test_the_passkey_functions_do() -> None:
    probe = (
        "import sys, tests.conftest\n"
        "import functions.passkeys.handler, functions.passkey_login.handler\n"
        "print('webauthn' in sys.modules)\n"
    )
    found = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True, timeout=120
    )
    assert found.stdout.strip() == "True"


def test_the_passkey_lock_holds_only_what_the_layer_lacks() -> None:
    passkeys, layer = _pinned(PASSKEY_REQUIREMENTS), _pinned(LAYER_REQUIREMENTS)
    assert {"webauthn", "cbor2", "pyopenssl", "pyasn1", "pyasn1-modules"} == passkeys
    assert not passkeys & layer and "cryptography" in layer

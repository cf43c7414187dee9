# Every target bootstraps what it needs: a fresh machine needs only python3 (3.11+) and Node.js.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help install browser run test test-fast test-proof mutate lint docs flags bandit audit typecheck synth bench capacity smoke lock clean

help:
	@echo "make run        serve the whole service locally at http://127.0.0.1:$${PORT:-3000}"
	@echo "make test       set everything up and run the whole test suite"
	@echo "make test-fast  unit and integration tests only"
	@echo "make browser    get the Chromium the browser tests drive (make test does it first)"
	@echo "make test-proof the slow proofs only: schemathesis fuzzing and the load test"
	@echo "make mutate     mutation testing of the security core (mutmut; about 30 minutes) -> docs/mutation.md"
	@echo "make lint       ruff (lint and format check), mypy and the layer contracts (import-linter)"
	@echo "make docs       regenerate the configuration tables (README, docs/deploy.md) and docs/requests.http"
	@echo "make flags      write the CDK feature flags of the pinned aws-cdk-lib into cdk.json"
	@echo "make bandit     bandit over the code (offline; CI runs it)"
	@echo "make audit      bandit, then pip-audit over both lock files (needs PyPI's JSON API)"
	@echo "make synth      synthesize the CDK app (no Docker, no AWS account)"
	@echo "make smoke      smoke-test a running API: BASE_URL=... SMOKE_EMAIL=... SMOKE_PASSWORD=..."
	@echo "make bench      benchmark the hot paths (and race a Node.js peer), write docs/benchmarks.md and docs/capacity.md"
	@echo "make capacity   the capacity model: which AWS quota binds first, 10 thousand to 10 million users (docs/capacity.md)"
	@echo "make lock       regenerate the hash-pinned lock files from pyproject.toml"

ifeq ($(origin VENV),file)
# The project's own environment: (re)installed whenever the lock file is newer than its stamp.
$(STAMP): requirements/dev.txt
	@echo "Installing Python dependencies into $(VENV) (first run: a few minutes)..."
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/dev.txt
	touch $(STAMP)
else
# VENV=... names an existing environment (another checkout's, a CI cache): used as it is, never
# installed into, whatever the age of this checkout's lock file (a fresh clone's is always newer).
.PHONY: $(STAMP)
$(STAMP):
	@test -x $(BIN)/python || { echo "VENV=$(VENV) has no $(BIN)/python: drop VENV= to install one"; exit 1; }
endif

install: $(STAMP)

node_modules/.installed: package.json package-lock.json
	@echo "Installing Node.js dependencies into node_modules (first run: about a minute)..."
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

run: $(STAMP)
	$(BIN)/python -m local

# The browser tests' Chromium: apt-get as root, else Playwright's download; a loud warning (and the
# browser tests skipped) when neither works, a failure with REQUIRE_BROWSER=1. See tests/browser.py.
browser: $(STAMP)
	@$(BIN)/python -m tests.browser

# One pytest worker per core (pytest-xdist); a module whose tests share one world (an xdist_group
# marker) runs whole on one worker.
PARALLEL = -n auto --dist loadgroup

test: $(STAMP) node_modules/.installed browser
	$(WITH_NODE) $(BIN)/python -m pytest $(PARALLEL)

test-fast: $(STAMP) node_modules/.installed
	$(BIN)/python -m pytest $(PARALLEL) tests/unit tests/integration

test-proof: $(STAMP)
	$(BIN)/python -m pytest -m slow

# Mutants of the security core, each run against the focused tests that cover it: docs/mutation.md.
# `make mutate ARGS="--group access --keep"` runs one group and keeps its copy for `mutmut show`.
mutate: $(STAMP)
	$(BIN)/python -m tests.mutation $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

docs: $(STAMP)
	$(BIN)/python -m operations.configuration_docs
	$(BIN)/python -m operations.http_requests

flags: $(STAMP)
	$(BIN)/python -m infra.feature_flags

# Exceptions and their reasons: docs/security-checks.md. pip-audit reads the vulnerability database
# on PyPI. The layer lock is read as pinned (--disable-pip: it is what every function ships); the dev
# lock holds per-Python-version pins, so pip resolves it for this interpreter.
bandit: $(STAMP)
	$(BIN)/bandit -c pyproject.toml -q -r shared functions local infra operations -x tests

audit: bandit
	$(BIN)/pip-audit --strict --require-hashes --disable-pip -r requirements/layer.txt
	$(BIN)/pip-audit --strict --require-hashes --disable-pip -r requirements/passkeys.txt
	$(BIN)/pip-audit --strict --require-hashes -r requirements/dev.txt

# CDK synthesis runs on a Node.js the CDK supports (22+): the system's, or one npm installs into .node/
# (infra/toolchain.py). On an older one, jsii prints an end-of-life banner as Python byte strings.
WITH_NODE = node_dir="$$($(BIN)/python -m infra.toolchain node)" && PATH="$$node_dir:$(abspath $(BIN)):$$PATH"

synth: $(STAMP) node_modules/.installed
	$(WITH_NODE) VIRTUAL_ENV="$(abspath $(VENV))" PATH="$(abspath $(BIN)):$$PATH" npx cdk synth --quiet

bench: synth node_modules/.installed capacity
	$(WITH_NODE) $(BIN)/python -m tests.bench

capacity: $(STAMP)
	$(BIN)/python -m tests.capacity

smoke: $(STAMP)
	$(BIN)/python -m operations.smoke $${BASE_URL:-http://127.0.0.1:3000}

# The passkey functions' own packages (py_webauthn and what only it needs) are installed into their
# assets on top of the shared layer: these, already in the layer at the pinned versions, are left out.
PASSKEY_LAYER_PACKAGES = cryptography cffi pycparser typing-extensions

lock: $(STAMP)
	$(BIN)/uv pip compile --quiet --universal --generate-hashes --python-version 3.11 requirements/layer.in -o requirements/layer.txt
	$(BIN)/uv pip compile --quiet --universal --generate-hashes --python-version 3.11 requirements/passkeys.in -c requirements/layer.txt $(PASSKEY_LAYER_PACKAGES:%=--no-emit-package %) -o requirements/passkeys.txt
	$(BIN)/uv pip compile --quiet --universal --generate-hashes --python-version 3.11 pyproject.toml --all-extras -o requirements/dev.txt
	$(BIN)/python -m operations.common_passwords

clean:
	rm -rf $(if $(filter file,$(origin VENV)),$(VENV)) node_modules .node cdk.out .pytest_cache .mypy_cache .ruff_cache

#!/bin/sh
# The CDK app command (cdk.json): infra/app.py under the first of these Pythons that exists:
#   1. the active virtualenv, $VIRTUAL_ENV;
#   2. a virtualenv's python3 first on PATH (`make synth`, or `PATH=venv/bin:$PATH npx cdk ...`);
#   3. the repository's .venv, which `make` creates;
#   4. else python3 on PATH, with a warning.
repo=$(dirname "$0")/..
on_path=$(command -v python3)
if [ -n "$VIRTUAL_ENV" ] && [ -x "$VIRTUAL_ENV/bin/python" ]; then
    python=$VIRTUAL_ENV/bin/python
elif [ -n "$on_path" ] && [ -f "${on_path%/bin/*}/pyvenv.cfg" ]; then
    python=$on_path
elif [ -x "$repo/.venv/bin/python" ]; then
    python=$repo/.venv/bin/python
else
    echo "infra/app.sh: no virtualenv (VIRTUAL_ENV, PATH, .venv), trying python3: 'make install' creates .venv" >&2
    python=python3
fi
exec "$python" -m infra.app "$@"

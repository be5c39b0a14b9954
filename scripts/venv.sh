#!/usr/bin/env bash
# A Python venv from PyPI, made once: scripts/venv.sh DIR CHECK PACKAGE... (re)creates DIR with
# the packages unless its python already runs CHECK; prints the interpreter. Serves
# python-examples.sh and torch-venv.sh.
set -euo pipefail
env=$1 check=$2
shift 2
if [ ! -x "$env/bin/python" ] || ! "$env/bin/python" -c "$check" 2>/dev/null; then
    rm -rf "$env"
    /usr/bin/python3 -m venv "$env"
    "$env/bin/pip" install --quiet --disable-pip-version-check "$@"
fi
echo "$env/bin/python"

#!/usr/bin/env bash
# The test suite: install what is missing, build, run every test (unit, fixture, process
# integration). Extra arguments go to `swift test` (e.g. --filter WireTests).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
scripts/format.sh --check   # the house's formatting (.swift-format); scripts/format.sh fixes it
python3 scripts/module-graph.py --check >/dev/null || python3 scripts/module-graph.py --check
scripts/fetch-pngsuite.sh >/dev/null
scripts/python-examples.sh >/dev/null
scripts/torch-venv.sh >/dev/null
scripts/dicom-venv.sh >/dev/null
swift build --build-tests
exec swift test --skip-build "$@"

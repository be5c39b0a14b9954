#!/usr/bin/env bash
# The main job: install what is missing, build (release), run `comcl demo` (args pass through).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release
exec .build/release/comcl demo "$@"

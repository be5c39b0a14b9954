#!/usr/bin/env bash
# The long fault test (README "Reliability"): ROUNDS rounds (default 5) of 10 steps, each killing
# a cropper, an augmenter and an embedding worker while they hold work (SIGKILL; a replacement
# starts) and the coordinator (SIGKILL; restarted with --resume), compared step by step and
# bitwise with the same run undisturbed. CI runs one round as part of the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
swift build --build-tests
COMCL_FAULT_ROUNDS="${1:-5}" swift test --skip-build --filter FaultToleranceTests

#!/usr/bin/env bash
# Runs the message round-trip / validation, image codec and socket tests under
# AddressSanitizer + LeakSanitizer (separate build folder .build-asan). Fails on any leak or
# memory error outside the toolchain's own libraries (scripts/lsan.supp).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
swift build --build-tests --sanitize=address --scratch-path .build-asan
ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$PWD/scripts/lsan.supp:print_suppressions=1 \
    swift test --skip-build --scratch-path .build-asan --sanitize=address \
    --filter "${1:-WireTests|ImagesTests|WorkDistributorTests|SocketTests|FuzzTests}"

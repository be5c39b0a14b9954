#!/usr/bin/env bash
# The long fuzz run (README "Reliability"): `comcl fuzz` over every network and file decoder,
# INPUTS mutated inputs per target (default 1,000,000), built with AddressSanitizer and run with
# LeakSanitizer (separate build folder .build-asan), PngSuite and the JPEG fixtures as extra seeds.
# A crash or a hang prints the input's number and how to reproduce it; a leak or a memory error
# fails the run. CI runs 20,000 inputs per target as part of the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
corpus=$(mktemp -d); trap 'rm -rf "$corpus"' EXIT
cp -r "$(scripts/fetch-pngsuite.sh)" "$corpus/pngsuite"
cp -r Tests/Fixtures/jpeg "$corpus/jpeg"
swift build --product comcl --sanitize=address --scratch-path .build-asan
ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$PWD/scripts/lsan.supp \
    .build-asan/debug/comcl fuzz --inputs "${1:-1000000}" --seed "${2:-1}" --corpus "$corpus"
echo "fuzz: no crash, hang, leak or memory error"

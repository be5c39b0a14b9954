#!/usr/bin/env bash
# The soak (README "Reliability"): STEPS training steps (default 1000) of the whole pipeline on
# this machine, every service a process, while `comcl soak` samples each one's resident memory,
# open descriptors and threads; it fails if any grows after the warm-up (the first tenth).
# Small model and batch so 1000 steps take about 2 minutes here; the samples stay in
# runs/soak/soak.csv. Any other `comcl train` option can follow STEPS.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release
steps="${1:-1000}"; shift || true
data=runs/soak-data
[ -f "$data/labels.csv" ] || .build/release/comcl synth --count 40 --size 256 --seed 3 --out "$data"
rm -rf runs/soak
.build/release/comcl soak --labels "$data/labels.csv" --run-folder runs/soak --steps "$steps" \
    --batch 16 --bn-group 4 --width 0.125 --recipe Tests/Fixtures/training/small-views.json \
    --worker-threads 1 --checkpoint-every 100 --base-port 6600 "$@"

#!/usr/bin/env bash
# The container check (not part of the default tests): builds the image from release binaries,
# runs the demo pipeline with compose (coordinator, detector/cropper, 3 augmenters, 2 embedding
# workers, evaluator) on the synthetic benchmark, checks every worker healthy and the run's
# result, and stops it. Podman + podman-compose here (../shared/docs/CONTAINERS.md); the
# Containerfile and compose.yaml are standard for Docker users.
# Usage: scripts/containers.sh [--curve] [STEPS]. With --curve, compose.curve.yaml turns CurveZMQ on
# (keys from `comcl keys`), and the check adds: every link encrypted, and a client with an unlisted
# key or none refused.
set -euo pipefail
cd "$(dirname "$0")/.."
curve=0
if [[ ${1:-} == --curve ]]; then curve=1; shift; fi
steps=${1:-150}
need=()
for tool in podman-compose; do command -v "$tool" >/dev/null || need+=("$tool"); done
if ((${#need[@]})); then apt-get install -y "${need[@]}"; fi
scripts/container-image.sh
source scripts/container-checks.sh

export COMCL_DATA=$PWD/runs/containers/data COMCL_RUNS=$PWD/runs/containers/run COMCL_STEPS=$steps
if [[ ! -e $COMCL_DATA/labels.csv ]]; then .build/release/comcl synth --count 400 --size 384 --seed 0 --out "$COMCL_DATA"; fi
rm -rf "$COMCL_RUNS" && mkdir -p "$COMCL_RUNS"
# The services run as the image's unprivileged user (.env: COMCL_UID, COMCL_GID).
chown "${COMCL_UID:-10001}:${COMCL_GID:-10001}" "$COMCL_RUNS"

project=comcl-check
files=(-f compose.yaml)
if ((curve)); then
  export COMCL_KEYS=$PWD/runs/containers/keys
  rm -rf "$COMCL_KEYS"
  .build/release/comcl keys --out "$COMCL_KEYS" --names detector-cropper,augmenter,embedding-worker,evaluator,status >/dev/null
  COMCL_SERVER_KEY=$(head -1 "$COMCL_KEYS/coordinator.key"); export COMCL_SERVER_KEY
  files+=(-f compose.curve.yaml)
fi
compose() { podman-compose -p "$project" "${files[@]}" "$@"; }
trap 'compose down -t 30 >/dev/null 2>&1 || true' EXIT
echo "== compose up: coordinator, detector-cropper, 3 augmenters, 2 embedding workers, evaluator ($steps steps)"
start=$(date +%s)
compose up -d >/dev/null
coordinator=${project}_coordinator_1
workers=$(podman ps --filter "label=io.podman.compose.project=$project" --format '{{.Names}}' | grep -v coordinator | sort)
echo "$workers" | sed 's/^/  /'
[[ $(echo "$workers" | grep -c augmenter) == 3 ]] || { echo "FAIL: expected 3 augmenters"; exit 1; }

# Every worker joined: its healthcheck (the coordinator lists it) passes.
# shellcheck disable=SC2086
require_probes $workers
echo "  every worker healthy (listed by the coordinator)"

if ((curve)); then
  # Workers joined over CURVE (above). Now two strangers on the same network: one with a key the
  # coordinator does not list, one without CURVE. Neither gets an answer; both are logged.
  stranger() { podman run --rm --network "${project}_default" localhost/comcl:latest comcl status --control tcp://coordinator:5570 --timeout 3 "$@" >/dev/null 2>&1; }
  if stranger --curve-server-key "$COMCL_SERVER_KEY"; then echo "FAIL: an unlisted key got a status answer"; exit 1; fi
  if stranger; then echo "FAIL: a plaintext client got a status answer"; exit 1; fi
  log=$(podman logs "$coordinator" 2>&1)
  for expected in "CurveZMQ on" "CurveZMQ clients: 5 listed keys" "refused a CURVE client" "control link: a handshake failed: mechanism mismatch"; do
    grep -q "$expected" <<<"$log" || { echo "FAIL: the coordinator's log lacks \"$expected\""; tail -20 <<<"$log"; exit 1; }
  done
  echo "  CurveZMQ on every link; an unlisted key and a plaintext client were refused and logged"
fi

require_finished_run "$coordinator" "$COMCL_RUNS/pretrain/metrics.jsonl" "$steps" "$COMCL_RUNS"
seconds=$(( $(date +%s) - start ))
# Every worker was told to stop and left cleanly (exit 0).
compose stop -t 30 >/dev/null 2>&1 || true
for name in $workers; do
  code=$(podman inspect -f '{{.State.ExitCode}}' "$name")
  [[ $code == 0 ]] || { echo "FAIL: $name exited with $code"; podman logs "$name" | tail -5; exit 1; }
done
echo "OK: the pipeline ran in containers$( ((curve)) && echo " with CurveZMQ on") ($seconds s after start; 3 augmenters, 2 embedding workers), every worker exited 0"

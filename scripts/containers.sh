#!/usr/bin/env bash
# The container check (not part of the default tests): builds the image from release binaries,
# runs the demo pipeline with compose (coordinator, detector/cropper, 3 augmenters, 2 embedding
# workers, evaluator) on the synthetic benchmark, checks every worker healthy and the run's
# result, and stops it. Podman + podman-compose here (../shared/docs/CONTAINERS.md); the
# Containerfile and compose.yaml are standard for Docker users. Usage: scripts/containers.sh [STEPS]
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${1:-150}
base=localhost/comcl-base:bookworm
runtime_packages=libzmq5,libprotobuf-c1,libopenblas0-pthread,libpng16-16,libturbojpeg0,libcairo2,fonts-dejavu-core

need=()
for tool in podman runc podman-compose debootstrap; do command -v "$tool" >/dev/null || need+=("$tool"); done
if ((${#need[@]})); then apt-get install -y "${need[@]}"; fi
# These sandboxes refuse setrlimit and have hybrid cgroups: runc, cgroupfs, no default ulimits.
if [[ ! -e /etc/containers/containers.conf ]]; then
  mkdir -p /etc/containers
  printf '[containers]\ndefault_ulimits = []\n[engine]\ncgroup_manager = "cgroupfs"\nruntime = "runc"\n' > /etc/containers/containers.conf
fi

echo "== release build"
scripts/install-deps.sh
swift build -c release
stage=.build/container
rm -rf "$stage" && mkdir -p "$stage/bin" "$stage/lib"
for exe in comcl comcl-coordinator comcl-detector-cropper comcl-augmenter comcl-embedding-worker comcl-evaluator; do
  cp ".build/release/$exe" "$stage/bin/"
  # The Swift runtime libraries it links (the C ones come from Debian packages in the image).
  ldd ".build/release/$exe" | awk '$3 ~ /\/swift\// {print $3}' | xargs -r -I{} cp -u {} "$stage/lib/"
done

if ! podman image exists "$base"; then
  echo "== base image $base (debootstrap from the apt mirror; no registry here)"
  rootfs=$(mktemp -d)
  mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources)
  debootstrap --variant=minbase --include="$runtime_packages" bookworm "$rootfs" "$mirror" >/dev/null
  tar -C "$rootfs" -c . | podman import - "$base"
  rm -rf "$rootfs"
fi
echo "== image localhost/comcl:latest"
podman build -q --build-arg BASE="$base" -t localhost/comcl:latest -f Containerfile "$stage"

export COMCL_DATA=$PWD/runs/containers/data COMCL_RUNS=$PWD/runs/containers/run COMCL_STEPS=$steps
if [[ ! -e $COMCL_DATA/labels.csv ]]; then .build/release/comcl synth --count 400 --size 384 --seed 0 --out "$COMCL_DATA"; fi
rm -rf "$COMCL_RUNS" && mkdir -p "$COMCL_RUNS"

project=comcl-check
compose() { podman-compose -p "$project" -f compose.yaml "$@"; }
trap 'compose down -t 30 >/dev/null 2>&1 || true' EXIT
echo "== compose up: coordinator, detector-cropper, 3 augmenters, 2 embedding workers, evaluator ($steps steps)"
start=$(date +%s)
compose up -d >/dev/null
coordinator=${project}_coordinator_1
workers=$(podman ps --filter "label=io.podman.compose.project=$project" --format '{{.Names}}' | grep -v coordinator | sort)
echo "$workers" | sed 's/^/  /'
[[ $(echo "$workers" | grep -c augmenter) == 3 ]] || { echo "FAIL: expected 3 augmenters"; exit 1; }

# Every worker joined: its healthcheck (the coordinator lists it) passes within 60 s.
for name in $workers; do
  for _ in $(seq 30); do podman healthcheck run "$name" >/dev/null 2>&1 && break; sleep 2; done
  podman healthcheck run "$name" >/dev/null 2>&1 || { echo "FAIL: $name never became healthy"; podman logs "$name" | tail -5; exit 1; }
done
echo "  every worker healthy (listed by the coordinator)"

shown=0
while [[ $(podman inspect -f '{{.State.Running}}' "$coordinator") == true ]]; do
  done_steps=$(wc -l < "$COMCL_RUNS/pretrain/metrics.jsonl" 2>/dev/null || echo 0)
  if ((done_steps >= shown + 25 || (done_steps == steps && shown < steps))); then echo "  step $done_steps/$steps"; shown=$done_steps; fi
  sleep 2
done
status=$(podman inspect -f '{{.State.ExitCode}}' "$coordinator")
seconds=$(( $(date +%s) - start ))
[[ $status == 0 ]] || { echo "FAIL: the coordinator exited with $status"; podman logs "$coordinator" | tail -20; exit 1; }
[[ -s $COMCL_RUNS/evaluation/results.json && -s $COMCL_RUNS/pretrain/evaluation.md ]] || { echo "FAIL: no evaluation in $COMCL_RUNS"; exit 1; }
cat "$COMCL_RUNS/pretrain/evaluation.md"
# Every worker was told to stop and left cleanly (exit 0).
compose stop -t 30 >/dev/null 2>&1 || true
for name in $workers; do
  code=$(podman inspect -f '{{.State.ExitCode}}' "$name")
  [[ $code == 0 ]] || { echo "FAIL: $name exited with $code"; podman logs "$name" | tail -5; exit 1; }
done
echo "OK: the pipeline ran in containers ($seconds s after start; 3 augmenters, 2 embedding workers), every worker exited 0"

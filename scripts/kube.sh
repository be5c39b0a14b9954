#!/usr/bin/env bash
# The Kubernetes check (not part of the default tests): deploy/kubernetes's manifests under
# `podman kube play`, the demo pipeline on the synthetic benchmark: the coordinator, a
# detector/cropper, 3 augmenters, 2 embedding workers and the evaluator, each in its own pod on
# one network; checks every worker alive (its probe), the run's result and exit, then removes it.
# podman 4.3 plays Pods, Deployments (with their replicas), ConfigMaps and PersistentVolumeClaims,
# not Jobs or Services, so the check plays a copy where the coordinator's Job is the Pod it
# templates, named "coordinator" (which its network resolves, as a cluster resolves the Service).
# Usage: scripts/kube.sh [STEPS]   (150 by default, as scripts/containers.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${1:-150}
scripts/container-image.sh
source scripts/container-checks.sh
python3 -c "import yaml" 2>/dev/null || apt-get install -y python3-yaml

work=runs/kube
data=$work/data play=$work/play.yaml network=comcl-kube
if [[ ! -e $data/labels.csv ]]; then .build/release/comcl synth --count 400 --size 384 --seed 0 --out "$data"; fi
python3 - "$steps" deploy/kubernetes/comcl.yaml "$play" <<'PY'
import sys, yaml
steps, source, target = int(sys.argv[1]), sys.argv[2], sys.argv[3]
played = []
for doc in yaml.safe_load_all(open(source)):
    if doc["kind"] == "Service":
        continue
    if doc["kind"] == "Job":
        template = doc["spec"]["template"]
        doc = {"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": doc["metadata"]["name"], "labels": template["metadata"]["labels"]}, "spec": template["spec"]}
    if doc["kind"] == "ConfigMap":
        settings = yaml.safe_load(doc["data"]["settings.yaml"])
        settings["steps"] = steps
        doc["data"]["settings.yaml"] = yaml.safe_dump(settings)
    played.append(doc)
yaml.safe_dump_all(played, open(target, "w"), sort_keys=False)
PY

cleanup() {
  podman kube down "$play" >/dev/null 2>&1 || true
  # What kube down leaves (a pod of an interrupted play): the manifests' pods by name.
  podman pod ps --format '{{.Name}}' | grep -E '^(coordinator|(detector-cropper|augmenter|embedding-worker|evaluator)-pod-[0-9]+)$' \
    | xargs -r podman pod rm -f >/dev/null 2>&1 || true
  podman network rm -f "$network" >/dev/null 2>&1 || true
}
trap cleanup EXIT
cleanup
# The claims' volumes, made first and filled: the dataset, and the run folder owned by the pods' user.
podman volume rm -f comcl-data comcl-runs >/dev/null 2>&1 || true
podman volume create comcl-data >/dev/null && podman volume create comcl-runs >/dev/null
cp -a "$data/." "$(podman volume inspect -f '{{.Mountpoint}}' comcl-data)/"
runs=$(podman volume inspect -f '{{.Mountpoint}}' comcl-runs)
chown 10001:10001 "$runs"
podman network create "$network" >/dev/null

echo "== podman kube play deploy/kubernetes/comcl.yaml ($steps steps)"
start=$(date +%s)
podman kube play --network "$network" "$play" >/dev/null
coordinator=coordinator-coordinator
workers=$(podman ps --format '{{.Names}}' | grep -E '^(detector-cropper|augmenter|embedding-worker|evaluator)-pod-[0-9]+-' | sort)
echo "$workers" | sed 's/^/  /'
[[ $(grep -c '^augmenter' <<<"$workers") == 3 && $(grep -c '^embedding-worker' <<<"$workers") == 2 ]] \
  || { echo "FAIL: expected 3 augmenters and 2 embedding workers"; exit 1; }
# Every worker's liveness probe (the coordinator lists it) passes.
# shellcheck disable=SC2086
require_probes $workers
echo "  every worker passes its probe (listed by the coordinator)"

require_finished_run "$coordinator" "$runs/pretrain/metrics.jsonl" "$steps" "$runs"
seconds=$(( $(date +%s) - start ))
owner=$(stat -c %u "$runs/pretrain/metrics.jsonl")
[[ $owner == 10001 ]] || { echo "FAIL: the run's files belong to uid $owner, not the pods' 10001"; exit 1; }
mkdir -p "$work/result" && cp -r "$runs/pretrain/evaluation.md" "$runs/pretrain/settings-comcl-coordinator.yaml" "$work/result/"
echo "OK: the manifests ran under podman kube play ($seconds s after start; 3 augmenters, 2 embedding workers, every pod as uid 10001)"

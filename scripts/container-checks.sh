# Shared by scripts/containers.sh and scripts/kube.sh (sourced): what both checks wait for and
# require of a pipeline running in containers.

# Every named container's health check (its probe: the coordinator lists it) passes within 60 s.
# Podman logs "unable to get systemd connection to start healthchecks" (no systemd here to run
# them on a timer), so each is run by hand.
require_probes() {
  for name in "$@"; do
    for _ in $(seq 30); do podman healthcheck run "$name" >/dev/null 2>&1 && break; sleep 2; done
    podman healthcheck run "$name" >/dev/null 2>&1 || { echo "FAIL: $name never passed its health check"; podman logs "$name" | tail -5; exit 1; }
  done
}

# Follows the coordinator container $1 until it exits, printing progress from the metrics file $2
# of a run of $3 steps; then requires exit status 0 and the evaluation in the run folder $4.
require_finished_run() {
  local coordinator=$1 metrics=$2 steps=$3 runs=$4 shown=0 done_steps status
  while [[ $(podman inspect -f '{{.State.Running}}' "$coordinator") == true ]]; do
    done_steps=$(wc -l < "$metrics" 2>/dev/null || echo 0)
    if ((done_steps >= shown + 25 || (done_steps == steps && shown < steps))); then echo "  step $done_steps/$steps"; shown=$done_steps; fi
    sleep 2
  done
  status=$(podman inspect -f '{{.State.ExitCode}}' "$coordinator")
  [[ $status == 0 ]] || { echo "FAIL: the coordinator exited with $status"; podman logs "$coordinator" | tail -20; exit 1; }
  [[ -s $runs/evaluation/results.json && -s $runs/pretrain/evaluation.md ]] || { echo "FAIL: no evaluation in $runs"; exit 1; }
  cat "$runs/pretrain/evaluation.md"
}

#!/usr/bin/env bash
# Starts Examples/pytorch-worker against a running coordinator, e.g.
#     scripts/pytorch-worker.sh --coordinator tcp://COORDINATOR-HOST:5573 --device cuda
# (arguments go to worker.py; --help lists them). Sets up what it needs first, once: PyTorch 2.13,
# torchvision, pyzmq and protobuf in .cache/torch-venv (scripts/torch-venv.sh; on a machine with a
# CUDA GPU, PyPI's torch wheel is the CUDA build) and the protocol's Python classes
# (scripts/python-examples.sh, which needs protoc: Debian's protobuf-compiler).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v protoc >/dev/null || { echo "protoc is missing: apt-get install protobuf-compiler (it makes the protocol's Python classes)" >&2; exit 1; }
python=$(scripts/torch-venv.sh)
scripts/python-examples.sh >/dev/null
exec "$python" Examples/pytorch-worker/worker.py --proto-dir .cache/python-examples/gen "$@"

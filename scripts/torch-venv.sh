#!/usr/bin/env bash
# PyTorch 2.13 (CPU) and torchvision 0.28 in .cache/torch-venv: the anchor `comcl bench-encoder`
# measures against (PyPI's torch 2.13.0 for this machine is the CPU wheel; torchvision 0.28 is a
# CUDA build whose model code is plain Python, see scripts/bench_torch.py). Idempotent; prints the
# interpreter. Not part of the tests (a ~200 MB download).
set -euo pipefail
cd "$(dirname "$0")/.."
env=.cache/torch-venv
if [ ! -x "$env/bin/python" ] || ! "$env/bin/python" -c "import torch, numpy; assert torch.__version__.startswith('2.13.')" 2>/dev/null; then
    rm -rf "$env"
    /usr/bin/python3 -m venv "$env"
    "$env/bin/pip" install --quiet --disable-pip-version-check torch==2.13.0 torchvision==0.28.0 numpy
fi
echo "$env/bin/python"

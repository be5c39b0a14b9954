#!/usr/bin/env bash
# PyTorch 2.13 (CPU) and torchvision 0.28 in .cache/torch-venv: the anchor `comcl bench encoder`
# measures against and the reference of the PyTorch-comparison tests (PyPI's torch 2.13.0 for this
# machine is the CPU wheel; torchvision 0.28 is a CUDA build whose model code is plain Python, see
# scripts/bench_torch.py), TensorBoard, whose own reader checks our event files (TensorBoardTests),
# and pyzmq and protobuf for Examples/pytorch-worker (the mixed-pool tests run it).
# Idempotent; prints the interpreter. About 200 MB the first time.
set -euo pipefail
cd "$(dirname "$0")/.."
exec scripts/venv.sh .cache/torch-venv "import torch, torchvision.models, numpy, tensorboard, zmq, google.protobuf; assert torch.__version__.startswith('2.13.')" \
    torch==2.13.0 torchvision==0.28.0 numpy tensorboard==2.21.0 pyzmq protobuf

#!/usr/bin/python3
"""Loads a checkpoint written by CoMCL-Swift into the PyTorch model of the same shape with
load_state_dict(strict=True), runs it in eval mode on an input batch, and writes its pooled features.
Used by EncoderTests (on PyTorch 2.13 from .cache/torch-venv) to prove PyTorch users can load our weights.
Usage: check_torch_load.py WEIGHTS.safetensors ARCH WIDTH INPUT.npy OUTPUT.npy"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402
from make_encoder_fixtures import NarrowResNet  # noqa: E402
from torchvision.models.resnet import BasicBlock, Bottleneck  # noqa: E402

weights, arch, width, source, target = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4], sys.argv[5]
layouts = {"resnet18": (BasicBlock, [2, 2, 2, 2]), "resnet34": (BasicBlock, [3, 4, 6, 3]), "resnet50": (Bottleneck, [3, 4, 6, 3])}
model = NarrowResNet(*layouts[arch], width)
tensors, _ = safetensors_io.load(weights)
model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in tensors.items()}, strict=True)
model.eval()
with torch.no_grad():
    features = model.features(torch.from_numpy(np.load(source)))
np.save(target, features.numpy().astype(np.float32))
print(f"loaded {len(tensors)} tensors strictly; features {tuple(features.shape)}")

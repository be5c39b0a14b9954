#!/usr/bin/env python3
"""torchvision's own ResNet, seeded, with running statistics moved off their defaults: writes its
weights as safetensors (torchvision names, as a user's downloaded weights have) and its eval-mode
pooled features of every PNG in a folder (sorted by name, ImageNet normalisation), so a test can
check `comcl embed` on the same files against PyTorch.
Usage: torchvision_features.py ARCH IMAGES_DIR WEIGHTS_OUT.safetensors FEATURES_OUT.npy"""
import os
import sys

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402
from make_encoder_fixtures import torchvision  # noqa: E402  (imported there with the CPU-wheel stub)

arch, images, weights_out, features_out = sys.argv[1:5]
torch.manual_seed(0)
model = getattr(torchvision.models, arch)()
with torch.no_grad():
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 1.5)
            m.weight.uniform_(0.5, 1.5)
            m.bias.uniform_(-0.2, 0.2)
            m.num_batches_tracked.fill_(7)
safetensors_io.save(weights_out, {k: v.numpy() for k, v in model.state_dict().items()})
model.fc = torch.nn.Identity()
model.eval()
mean = np.array([0.485, 0.456, 0.406], dtype=np.float32)  # torchvision's ImageNet statistics
std = np.array([0.229, 0.224, 0.225], dtype=np.float32)
rows = []
for name in sorted(n for n in os.listdir(images) if n.endswith(".png")):
    rgb = np.asarray(Image.open(os.path.join(images, name)).convert("RGB"), dtype=np.float32) / 255
    x = torch.from_numpy(((rgb - mean) / std).transpose(2, 0, 1)[None].copy())
    with torch.no_grad():
        rows.append(model(x).numpy()[0])
np.save(features_out, np.stack(rows).astype(np.float32))
print(f"{arch}: {len(rows)} images, features {rows[0].shape}, torch {torch.__version__}")

#!/usr/bin/python3
"""PyTorch's side of `comcl bench-encoder`: one training step (forward, backward, Adam) of the same
model (torchvision ResNet, fc = Linear-ReLU-Linear projection, L2-normalised, loss sum(z * probe))
on the same batch and threads. Prints one JSON line. Usage: bench_torch.py ARCH BATCH SIZE THREADS STEPS"""
import json
import resource
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

arch, batch, size, threads, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
torch.set_num_threads(threads)
torch.manual_seed(0)
model = getattr(torchvision.models, arch)()
d = model.fc.in_features
model.fc = nn.Sequential(nn.Linear(d, d), nn.ReLU(), nn.Linear(d, 128))
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
x = torch.randn(batch, 3, size, size)
probe = torch.randn(batch, 128)
times = []
for i in range(steps + 2):
    t = time.perf_counter()
    opt.zero_grad()
    z = F.normalize(model(x), dim=1)
    (z * probe).sum().backward()
    opt.step()
    if i >= 2:  # two warm-up steps
        times.append(time.perf_counter() - t)
mean = sum(times) / len(times)
print(json.dumps({"seconds_per_step": mean, "images_per_second": batch / mean,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "torch": torch.__version__, "threads": torch.get_num_threads()}))

#!/usr/bin/env python3
"""PyTorch's side of `comcl bench encoder`: one training step (forward, backward, Adam) of the same
model (torchvision ResNet, fc = Linear-ReLU-Linear projection, L2-normalised, loss sum(z * probe))
on the same batch and threads, in NCHW or channels_last. Prints one JSON line.
With a 7th argument `split`, also profiles one more step (torch.profiler) and reports the time in
convolutions (forward and backward) against the rest, to compare with our own split.
ARCH may carry a width multiplier, "resnet18:0.25": every stage's planes scaled as our ResNet scales
them (planes * width rounded half up, at least 1), the projection head as wide as the pooled features.
Usage: bench_torch.py ARCH[:WIDTH] BATCH SIZE THREADS STEPS [nchw|channels_last] [split]"""
import json
import resource
import sys
import time
import types

# torchvision 0.28 from PyPI is a CUDA build; its model code is pure Python, but importing it
# registers CUDA meta kernels that the CPU wheel of torch lacks. Nothing here needs them.
sys.modules["torchvision._meta_registrations"] = types.ModuleType("torchvision._meta_registrations")

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

arch, _, width = sys.argv[1].partition(":")
width = float(width or 1)
batch, size, threads, steps = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
layout = sys.argv[6] if len(sys.argv) > 6 else "nchw"
torch.set_num_threads(threads)
torch.manual_seed(0)
model = getattr(torchvision.models, arch)()
if width != 1:
    # Rebuild the stem and stages narrower with torchvision's own layer builder.
    planes = [max(1, int(p * width + 0.5)) for p in (64, 128, 256, 512)]
    block = type(model.layer1[0])
    model.inplanes = planes[0]
    model.conv1 = nn.Conv2d(3, planes[0], kernel_size=7, stride=2, padding=3, bias=False)
    model.bn1 = nn.BatchNorm2d(planes[0])
    for i, p in enumerate(planes):
        setattr(model, f"layer{i + 1}", model._make_layer(block, p, len(getattr(model, f"layer{i + 1}")), stride=1 if i == 0 else 2))
    model.fc = nn.Linear(planes[3] * block.expansion, 1)
d = model.fc.in_features
model.fc = nn.Sequential(nn.Linear(d, d), nn.ReLU(), nn.Linear(d, 128))
x = torch.randn(batch, 3, size, size)
if layout == "channels_last":
    model = model.to(memory_format=torch.channels_last)
    x = x.contiguous(memory_format=torch.channels_last)
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
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
result = {"seconds_per_step": mean, "images_per_second": batch / mean,
          "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
          "torch": torch.__version__, "threads": torch.get_num_threads(), "layout": layout}
if len(sys.argv) > 7 and sys.argv[7] == "split":
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        t = time.perf_counter()
        opt.zero_grad()
        z = F.normalize(model(x), dim=1)
        (z * probe).sum().backward()
        opt.step()
        profiled = time.perf_counter() - t
    # Convolution ops at the top of their call trees (forward and backward), in seconds.
    conv = sum(e.cpu_time_total for e in prof.key_averages()
               if e.key in ("aten::convolution", "aten::convolution_backward")) / 1e6
    result["split"] = {"convolutions": conv, "profiled_step": profiled}
print(json.dumps(result))

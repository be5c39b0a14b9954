#!/usr/bin/env python3
"""Writes the PyTorch reference values the Swift encoder tests compare against.

Run with PyTorch 2.13 (scripts/torch-venv.sh; the committed files were made with it):
    .cache/torch-venv/bin/python Tests/Fixtures/encoder/make_encoder_fixtures.py
Outputs (safetensors, metadata `format=comcl-encoder-fixture`, `version=1`):
  resnet18_w0.125.safetensors, resnet50_w0.0625.safetensors: a torchvision-structured ResNet with
    narrowed stages and a projection head fc = Linear-ReLU-Linear + L2 normalisation; a batch
    `input` (NCHW); the loss sum(z * probe); `init.*` state, `out.*` forward values, `grad.*` every
    parameter's gradient at the first step, and `final.*` state after three Adam steps (lr 1e-3, the paper's,
    L2 weight decay 1e-4) on the same batch, `out.eval_z` the eval-mode output after them.
  optim.safetensors: a parameter vector under a fixed gradient sequence through Adam (L2 decay),
    AdamW (decoupled) and SGD with momentum, with the values after every step.
"""
import os
import sys
import types

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# PyPI's torchvision 0.28 is a CUDA build: its model code is plain Python, but its import registers
# CUDA meta kernels the CPU wheel of torch lacks. Nothing here needs them (older torchvisions
# ignore this).
sys.modules.setdefault("torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations"))
import torchvision  # noqa: E402
from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
META = {"format": "comcl-encoder-fixture", "version": "1", "torch": torch.__version__,
        "torchvision": torchvision.__version__}


class NarrowResNet(ResNet):
    """torchvision's ResNet with every stage's planes scaled by `width` (rounded, at least 1), built
    with torchvision's own blocks, _make_layer and initialisation."""

    def __init__(self, block, layers, width):
        nn.Module.__init__(self)
        planes = [max(1, round(p * width)) for p in (64, 128, 256, 512)]
        self._norm_layer = nn.BatchNorm2d
        self.inplanes, self.dilation, self.groups, self.base_width = planes[0], 1, 1, 64
        self.conv1 = nn.Conv2d(3, planes[0], kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(planes[0])
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, planes[0], layers[0])
        self.layer2 = self._make_layer(block, planes[1], layers[1], stride=2)
        self.layer3 = self._make_layer(block, planes[2], layers[2], stride=2)
        self.layer4 = self._make_layer(block, planes[3], layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        d = planes[3] * block.expansion
        self.fc = nn.Sequential(nn.Linear(d, d), nn.ReLU(), nn.Linear(d, 128))
        for m in self.modules():  # torchvision's init
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def features(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return torch.flatten(self.avgpool(x), 1)

    def forward(self, x):
        f = self.features(x)
        return f, F.normalize(self.fc(f), dim=1)


def state_arrays(model, prefix):
    return {f"{prefix}.{k}": v.detach().numpy().copy() for k, v in model.state_dict().items()}


def model_fixture(name, block, layers, width, shape, seed):
    torch.manual_seed(seed)
    model = NarrowResNet(block, layers, width)
    # Non-trivial batch norm affine parameters and running statistics, so loading them matters.
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    x = torch.randn(*shape)
    probe = torch.randn(shape[0], 128)
    tensors = {"input": x.numpy(), "probe": probe.numpy()}
    tensors.update(state_arrays(model, "init"))

    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
    losses = []
    for step in range(3):
        model.train()
        optimizer.zero_grad()
        features, z = model(x)
        loss = (z * probe).sum()
        loss.backward()
        losses.append(loss.item())
        if step == 0:
            tensors["out.features"] = features.detach().numpy()
            tensors["out.z"] = z.detach().numpy()
            tensors.update({f"grad.{k}": p.grad.numpy().copy() for k, p in model.named_parameters()})
            tensors.update({f"after1.{k}": v.detach().numpy().copy() for k, v in model.state_dict().items()
                            if "running" in k or "num_batches" in k})
        optimizer.step()
    tensors["losses"] = np.array(losses, dtype=np.float32)
    tensors.update(state_arrays(model, "final"))
    model.eval()
    with torch.no_grad():
        tensors["out.eval_z"] = model(x)[1].numpy()
    path = os.path.join(HERE, f"{name}.safetensors")
    safetensors_io.save(path, tensors, {**META, "arch": name.split("_")[0], "width": str(width)})
    print(f"{path}: {sum(p.numel() for p in model.parameters())} parameters, losses {losses}")


def optim_fixture():
    torch.manual_seed(7)
    start = torch.randn(64)
    grads = torch.randn(5, 64)
    tensors = {"start": start.numpy(), "grads": grads.numpy()}
    makers = {
        "adam": lambda p: torch.optim.Adam([p], lr=1e-2, weight_decay=0.1),
        "adamw": lambda p: torch.optim.AdamW([p], lr=1e-2, weight_decay=0.1),
        "sgd": lambda p: torch.optim.SGD([p], lr=1e-1, momentum=0.9, weight_decay=0.01),
        "sgd_nesterov": lambda p: torch.optim.SGD([p], lr=1e-1, momentum=0.9, weight_decay=0.01, nesterov=True),
    }
    for name, make in makers.items():
        p = nn.Parameter(start.clone())
        opt = make(p)
        values = []
        for g in grads:
            p.grad = g.clone()
            opt.step()
            values.append(p.detach().clone())
        tensors[name] = torch.stack(values).numpy()
    path = os.path.join(HERE, "optim.safetensors")
    safetensors_io.save(path, tensors, META)
    print(path)


if __name__ == "__main__":
    torch.set_num_threads(1)
    model_fixture("resnet18_w0.125", BasicBlock, [2, 2, 2, 2], 0.125, (4, 3, 64, 56), seed=18)
    model_fixture("resnet50_w0.0625", Bottleneck, [3, 4, 6, 3], 0.0625, (4, 3, 48, 40), seed=50)
    optim_fixture()

"""The PyTorch twin of our distributed pre-training step, and the fixture the Swift test
(Tests/ServicesTests/PyTorchTwinTests.swift) compares our run against.

Run with the PyTorch venv (scripts/torch-venv.sh), after `swift build`:
    .cache/torch-venv/bin/python Tests/Fixtures/training/make_twin_fixture.py [path/to/comcl]
It runs our real `comcl train` (coordinator, detector/cropper, 2 augmenters, 2 embedding workers
over loopback ZeroMQ) on 16 synthetic images with --export-views, then trains the same model from
the same initial weights on the very same view batches in PyTorch, in float64:
- torchvision's ResNet-18 narrowed as ours (planes x0.125), projection head Linear-ReLU-Linear,
  L2-normalised;
- batch norm in fixed groups of G consecutive samples, the batch laid out block by block (G first
  views, then the same G patches' second views), running statistics updated once per group in
  order (ghost batch norm, as our workers and coordinator do it);
- the CoMCL loss with SPL from the independent NumPy reference
  (Tests/Fixtures/contrastive/multilevel_loss_reference.py), its dL/dz fed to autograd;
- torch.optim.Adam with coupled L2 weight decay 1e-4, the learning rate per step as our cosine
  schedule with warm-up sets it (linear warm-up to the peak, then cosine to 0).
Two comparisons, because Adam makes a free-running comparison of float32 against float64 chaotic:
its first updates are nearly lr * sign(gradient), so a gradient at rounding-noise level moves a
weight by a whole step either way, and the two trajectories part after about five steps (measured:
relative loss difference 1e-6 at step 1, 1e-4 at step 4, 1e-1 by step 9).
- free: the twin trains on its own from our initial weights; its first steps must agree;
- synced: before each step k the twin loads our checkpoint k (weights and Adam moments; the run
  checkpoints every step), so every step of the trajectory is compared, and the final weights are
  the twin's one step from our checkpoint 49.
Writes twin.safetensors beside this script: the free and synced losses per step, the final
weights, and each step's batch digest (which views; our run writes the same digests when its
views are the same).
"""
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import types

sys.modules["torchvision._meta_registrations"] = types.ModuleType("torchvision._meta_registrations")
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402
import torchvision  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "encoder"))
sys.path.insert(0, os.path.join(HERE, "..", "contrastive"))
import safetensors_io  # noqa: E402
from multilevel_loss_reference import loss_and_grad  # noqa: E402

# The run; PyTorchTwinTests.swift runs `comcl train` with these very settings.
# Lesion patches are cut around the synthetic set's true boxes (lesions.csv), so the views do not
# change when the built-in detector does.
RUN = {"steps": 50, "batch": 16, "bn_group": 4, "width": 0.125, "recipe": "small-views", "seed": 11, "detector": "truth",
       "lr": 1e-3, "weight_decay": 1e-4, "warmup": 10, "tau": 0.07, "k_min": 1, "rho0": 0.5,
       "synth": {"count": 40, "size": 256, "seed": 3}}


def comcl_train(comcl, work):
    data = os.path.join(work, "data")
    subprocess.run([comcl, "synth", "--count", str(RUN["synth"]["count"]), "--size", str(RUN["synth"]["size"]),
                    "--seed", str(RUN["synth"]["seed"]), "--out", data], check=True, capture_output=True)
    # Four images per level, the first of each in file order (as TrainingIntegrationTests picks them).
    lines = open(os.path.join(data, "labels.csv")).read().split("\n")
    kept = {}
    for line in lines[1:]:
        if not line:
            continue
        f = line.split(",")
        kept.setdefault(f"{f[3] != '0'}{f[2] != '0'}", [])
        if len(kept[f"{f[3] != '0'}{f[2] != '0'}"]) < 4:
            kept[f"{f[3] != '0'}{f[2] != '0'}"].append(line)
    with open(os.path.join(data, "labels16.csv"), "w") as out:
        out.write("\n".join([lines[0]] + [l for k in sorted(kept) for l in kept[k]]) + "\n")
    views = os.path.join(work, "views")
    run = subprocess.run([comcl, "train", "--labels", os.path.join(data, "labels16.csv"), "--images", os.path.join(data, "images"),
                    "--run-folder", os.path.join(work, "run"), "--steps", str(RUN["steps"]), "--batch", str(RUN["batch"]),
                    "--bn-group", str(RUN["bn_group"]), "--width", str(RUN["width"]), "--recipe", RUN["recipe"],
                    "--seed", str(RUN["seed"]), "--lr-warmup-steps", str(RUN["warmup"]), "--embedding-workers", "2",
                    "--worker-threads", "1", "--checkpoint-every", "1", "--base-port", "6750",
                    "--detector", "boxes:" + os.path.join(data, "lesions.csv"),
                    "--export-views", views], capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit("comcl train failed (%d):\n%s\n%s" % (run.returncode, run.stdout[-3000:], run.stderr[-3000:]))
    return views, os.path.join(work, "run", "checkpoints")


class GhostBatchNorm(nn.Module):
    """nn.BatchNorm2d's parameters and buffers, with training statistics per group of G samples."""

    def __init__(self, bn, group):
        super().__init__()
        self.bn, self.group = bn, group

    def forward(self, x):
        bn = self.bn
        if not self.training:
            return F.batch_norm(x, bn.running_mean, bn.running_var, bn.weight, bn.bias, False, 0.0, bn.eps)
        n, c, h, w = x.shape
        xs = x.view(n // self.group, self.group, c, h, w)
        mean = xs.mean(dim=(1, 3, 4), keepdim=True)
        var = xs.var(dim=(1, 3, 4), unbiased=False, keepdim=True)
        y = (xs - mean) / torch.sqrt(var + bn.eps)
        with torch.no_grad():
            count = self.group * h * w
            for g in range(n // self.group):
                bn.running_mean.mul_(1 - bn.momentum).add_(bn.momentum * mean[g].flatten())
                bn.running_var.mul_(1 - bn.momentum).add_(bn.momentum * var[g].flatten() * count / (count - 1))
                bn.num_batches_tracked += 1
        return y.view(n, c, h, w) * bn.weight[None, :, None, None] + bn.bias[None, :, None, None]


def model(width, group):
    m = torchvision.models.resnet18()
    planes = [max(1, int(p * width + 0.5)) for p in (64, 128, 256, 512)]
    m.inplanes = planes[0]
    m.conv1 = nn.Conv2d(3, planes[0], kernel_size=7, stride=2, padding=3, bias=False)
    m.bn1 = nn.BatchNorm2d(planes[0])
    for i, p in enumerate(planes):
        setattr(m, f"layer{i + 1}", m._make_layer(torchvision.models.resnet.BasicBlock, p, 2, stride=1 if i == 0 else 2))
    m.fc = nn.Sequential(nn.Linear(planes[3], planes[3]), nn.ReLU(), nn.Linear(planes[3], 128))

    def ghost(module):
        for name, child in module.named_children():
            if isinstance(child, nn.BatchNorm2d):
                setattr(module, name, GhostBatchNorm(child, group))
            else:
                ghost(child)
    ghost(m)
    return m


def learning_rate(step):
    total, warm = RUN["steps"], min(RUN["warmup"], RUN["steps"])
    if step < warm:
        return RUN["lr"] * (step + 1) / warm
    progress = min((step - warm) / max(total - warm, 1), 1)
    return RUN["lr"] * (1 + math.cos(math.pi * progress)) / 2


def load_views(views, step, group):
    """Step `step`'s batch in the shard layout, the rows' places in the loss layout, the levels."""
    tensors, meta = safetensors_io.load(os.path.join(views, f"step-{step:06d}.safetensors"))
    first, second = torch.from_numpy(tensors["first"].copy()).double(), torch.from_numpy(tensors["second"].copy()).double()
    b = first.shape[0]
    # Block by block: G first views, then the same patches' second views (Sharding.inputs).
    order, rows = [], []
    for block in range(0, b, group):
        order += [first[i] for i in range(block, block + group)] + [second[i] for i in range(block, block + group)]
        rows += list(range(block, block + group)) + [b + i for i in range(block, block + group)]
    return torch.stack(order), torch.tensor(rows), np.asarray(tensors["levels"]), meta["digest"]


def train_step(net, optimizer, batch, step):
    x, rows, levels, _ = batch
    optimizer.zero_grad()
    z = F.normalize(net(x), dim=1)
    zl = torch.empty_like(z)
    zl[rows] = z  # rows into the loss layout: first views 0..B-1, then second views
    out = loss_and_grad(zl.detach().numpy(), levels, step, RUN["steps"], tau=RUN["tau"], k_min=RUN["k_min"], rho0=RUN["rho0"])
    zl.backward(torch.from_numpy(out["grad"]))
    for g in optimizer.param_groups:
        g["lr"] = learning_rate(step)
    optimizer.step()
    return out["total"]


def load_state(net, optimizer, mapping, weights, moments=None, step=0):
    """Our weights (torchvision names and layouts) and Adam state into the twin."""
    own = net.state_dict()
    net.load_state_dict({mapping[k]: torch.from_numpy(np.array(v)).to(own[mapping[k]].dtype) for k, v in weights.items()})
    optimizer.state.clear()
    if moments is None:
        return
    params = dict(net.named_parameters())
    for ours, theirs in mapping.items():
        if theirs not in params:
            continue
        p = params[theirs]
        state = {}
        for key in ("exp_avg", "exp_avg_sq"):
            m = np.array(moments[f"{key}.{ours}"], dtype=np.float64)
            if m.ndim == 4:  # convolution moments stay in our [out][kh][kw][in] order, under torch's shape
                o, i, kh, kw = m.shape
                m = m.reshape(o, kh, kw, i).transpose(0, 3, 1, 2)
            state[key] = torch.from_numpy(np.ascontiguousarray(m))
        state["step"] = torch.tensor(float(step), dtype=torch.float64)
        optimizer.state[p] = state


def main():
    comcl = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "..", ".build", "release", "comcl")
    torch.manual_seed(0)
    work = tempfile.mkdtemp(prefix="comcl-twin-")
    try:
        views, checkpoints = comcl_train(os.path.abspath(comcl), work)
        group = RUN["bn_group"]
        net = model(RUN["width"], group).double()
        net.train()
        mapping = {k.replace(".bn.", "."): k for k in net.state_dict()}
        optimizer = torch.optim.Adam(net.parameters(), lr=RUN["lr"], weight_decay=RUN["weight_decay"])
        initial = safetensors_io.load(os.path.join(views, "initial.safetensors"))[0]
        assert set(mapping) == set(initial), set(mapping) ^ set(initial)
        batches = [load_views(views, step, group) for step in range(RUN["steps"])]

        load_state(net, optimizer, mapping, initial)
        free = [train_step(net, optimizer, batches[step], step) for step in range(RUN["steps"])]

        synced, worst = [], 0.0
        for step in range(RUN["steps"]):
            if step == 0:
                load_state(net, optimizer, mapping, initial)
            else:
                folder = os.path.join(checkpoints, f"step-{step:06d}")
                moments, meta = safetensors_io.load(os.path.join(folder, "optimizer.safetensors"))
                load_state(net, optimizer, mapping, safetensors_io.load(os.path.join(folder, "model.safetensors"))[0], moments, int(meta["step"]))
            synced.append(train_step(net, optimizer, batches[step], step))
        final = {k: v.detach().numpy().astype(np.float32) for k, v in
                 ((ours, net.state_dict()[theirs]) for ours, theirs in mapping.items()) if v.dtype == torch.float64}
        ours = safetensors_io.load(os.path.join(checkpoints, f"step-{RUN['steps']:06d}", "model.safetensors"))[0]
        for k, v in final.items():
            worst = max(worst, float(np.abs(v - ours[k]).max() / max(np.abs(v).max(), 1e-12)))

        # The ISA oneDNN ran on (the worker's banner): our trajectory is reproducible bit for bit on it.
        log = open(os.path.join(work, "run", "logs", "embedding-worker-1.log")).read()
        isa = log.split("ISA ", 1)[1].split(")", 1)[0]
        tensors = {"free_losses": np.array(free), "synced_losses": np.array(synced)}
        tensors.update({f"final.{k}": v for k, v in final.items()})
        safetensors_io.save(os.path.join(HERE, "twin.safetensors"), tensors, metadata={
            "format": "comcl-twin-fixture", "version": "2", "run": json.dumps(RUN, sort_keys=True),
            "digests": json.dumps([b[3] for b in batches]), "torch": torch.__version__, "isa": isa,
        })
        print("twin (ISA %s): %d steps, free loss %.4f -> %.4f, synced %.4f -> %.4f; final weights vs ours: %.2e of a tensor's scale"
              % (isa, len(free), free[0], free[-1], synced[0], synced[-1], worst))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

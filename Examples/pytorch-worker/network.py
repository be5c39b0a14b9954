"""The encoder in PyTorch, as the contract names it ("<arch>:<width>"): torchvision's ResNet with
every stage's channel count scaled by `width`, batch norm over fixed groups of rows, and the
projection head Linear-ReLU-Linear whose output is L2-normalised. Also the conversion between
torch's tensors and the contract's layout, where a convolution weight's values run
[out][kh][kw][in] under torch's shape [out, in, kh, kw]."""
import sys
import types

# torchvision's wheel on PyPI is a CUDA build; its model code is plain Python, but importing it
# registers CUDA meta kernels that a CPU torch lacks. Nothing here needs them.
sys.modules.setdefault("torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations"))
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torchvision.models import resnet  # noqa: E402

ARCHS = {
    "resnet18": (resnet.BasicBlock, [2, 2, 2, 2]),
    "resnet34": (resnet.BasicBlock, [3, 4, 6, 3]),
    "resnet50": (resnet.Bottleneck, [3, 4, 6, 3]),
}
EMBEDDING = 128  # the projection's output (SimCLR's 128-d)
BN_EPS, BN_MOMENTUM = 1e-5, 0.1  # torch.nn.BatchNorm2d's defaults, which our encoder uses


def planes(base, width):
    """A stage's channels: torchvision's base times the width, rounded half up, at least 1."""
    return max(1, int(base * width + 0.5))


class GroupBatchNorm(nn.Module):
    """Batch norm in training mode over fixed groups of `group` consecutive rows (0: the whole
    batch), each normalised by its own mean and biased variance. It keeps each group's mean and
    unbiased variance for the step's update; the running statistics are the replica's (the update
    replays every shard's groups into them), so a forward leaves its buffers alone."""

    def __init__(self, channels):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.register_buffer("running_mean", torch.zeros(channels))  # named as torchvision names them
        self.register_buffer("running_var", torch.ones(channels))
        self.group = 0
        self.statistics = None

    def forward(self, x):
        n, c, h, w = x.shape
        g = self.group or n
        k = n // g
        # The k groups side by side as channels of one batch of g rows: torch's own batch norm
        # (its fused backward is the accurate formula) normalises each group by itself.
        xs = x if k == 1 else x.reshape(k, g, c, h, w).transpose(0, 1).reshape(g, k * c, h, w)
        # With momentum 1 its running statistics become the batch's own (mean, unbiased variance):
        # the groups' statistics the update needs, without a second pass over the activations.
        mean, var = torch.zeros(k * c, device=x.device), torch.ones(k * c, device=x.device)
        y = F.batch_norm(xs, mean, var, self.weight.repeat(k), self.bias.repeat(k), training=True, momentum=1.0, eps=BN_EPS)
        self.statistics = (mean.reshape(k, c), var.reshape(k, c))
        return y if k == 1 else y.reshape(g, k, c, h, w).transpose(0, 1).reshape(n, c, h, w)


def build(name):
    """The network a ForwardRequest's `model` names; ValueError for a name we do not know."""
    arch, _, width = name.partition(":")
    if arch not in ARCHS:
        raise ValueError(f'model "{name}": arch must be one of {", ".join(ARCHS)}')
    try:
        width = float(width)
    except ValueError:
        raise ValueError(f'model "{name}": expected <arch>:<width>') from None
    if not 0 < width <= 4:
        raise ValueError(f'model "{name}": width must be in (0, 4]')
    block, layers = ARCHS[arch]
    p = [planes(b, width) for b in (64, 128, 256, 512)]
    net = resnet.ResNet(block, layers, norm_layer=GroupBatchNorm)
    net.inplanes = p[0]
    net.conv1 = nn.Conv2d(3, p[0], kernel_size=7, stride=2, padding=3, bias=False)
    net.bn1 = GroupBatchNorm(p[0])
    for i, planes_i in enumerate(p):
        setattr(net, f"layer{i + 1}", net._make_layer(block, planes_i, layers[i], stride=1 if i == 0 else 2))
    d = p[3] * block.expansion
    net.fc = nn.Sequential(nn.Linear(d, d), nn.ReLU(inplace=True), nn.Linear(d, EMBEDDING))
    return net


def batch_norms(net):
    """Every batch norm in model order (the order the contract's statistics use)."""
    return [m for m in net.modules() if isinstance(m, GroupBatchNorm)]


def embed(net, x, group):
    """The training forward: L2-normalised embeddings of x [N, 3, H, W] with batch-norm groups of
    `group` rows (F.normalize's eps, as ours)."""
    for bn in batch_norms(net):
        bn.group = group
    return F.normalize(net(x), dim=1, eps=1e-12)


def to_ours(tensor):
    """A torch tensor as the contract lays it out (a flat float32 numpy array)."""
    t = tensor.detach()
    if t.dim() == 4:  # [out, in, kh, kw] -> [out][kh][kw][in]
        t = t.permute(0, 2, 3, 1)
    return t.contiguous().to("cpu", torch.float32).numpy().reshape(-1)


def from_ours(values, shape):
    """Contract-layout values (flat) as a torch tensor of torch's `shape`."""
    t = torch.from_numpy(values)
    if len(shape) == 4:
        o, i, kh, kw = shape
        return t.reshape(o, kh, kw, i).permute(0, 3, 1, 2).contiguous()
    return t.reshape(shape)

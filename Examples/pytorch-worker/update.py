"""The part of the contract every replica must compute bit for bit: the weights checksum, Adam's
state file, the gradient sum, the Adam step and the running-statistics replay. It runs on the
CPU in NumPy float32, one IEEE operation at a time in the order our C kernel takes them
(Shared/CEngineKernels/engine_kernels.c, comcl_adam), so a PyTorch replica's state after a step
has the same bits as ours: only the shard's own gradient and statistics (the engine's arithmetic)
differ between engines, and those travel, so every replica adds the same numbers."""
import ctypes
import hashlib
import json
import math
import os
import shutil
import struct
import subprocess
import sys
import tempfile

import numpy as np

FNV_OFFSET, FNV_PRIME, MASK = 0xCBF29CE484222325, 0x100000001B3, (1 << 64) - 1
HERE = os.path.dirname(os.path.abspath(__file__))


def _native_fnv():
    """comcl_fnv1a64 from fnv1a64.c, built once into a cache folder; None without a C compiler."""
    source = os.path.join(HERE, "fnv1a64.c")
    compiler = shutil.which(os.environ.get("CC", "cc"))
    if compiler is None:
        return None
    digest = hashlib.sha256(open(source, "rb").read()).hexdigest()[:16]
    cache = os.path.join(os.environ.get("XDG_CACHE_HOME", os.path.join(tempfile.gettempdir(), f"comcl-{os.getuid()}")), "pytorch-worker")
    library = os.path.join(cache, f"fnv1a64-{digest}.so")
    if not os.path.exists(library):
        os.makedirs(cache, exist_ok=True)
        partial = f"{library}.{os.getpid()}"
        if subprocess.run([compiler, "-O2", "-shared", "-fPIC", "-o", partial, source], capture_output=True).returncode != 0:
            return None
        os.replace(partial, library)
    function = ctypes.CDLL(library).comcl_fnv1a64
    function.restype, function.argtypes = ctypes.c_uint64, [ctypes.c_uint64, ctypes.c_void_p, ctypes.c_uint64]
    return function


_FNV = _native_fnv()
if _FNV is None:
    print("no C compiler: the weights checksum runs in Python (seconds a step for large models)", file=sys.stderr)


def checksum(arrays):
    """FNV-1a 64 over each float32 array's bytes in turn, a word at a time (Shared/Basics/FNV1a64.swift)."""
    h = FNV_OFFSET
    for a in arrays:
        a = np.ascontiguousarray(a, dtype="<f4")  # the state's arrays already are: no copy
        if _FNV is not None:
            h = _FNV(h, a.ctypes.data, a.nbytes)
            continue
        data = a.tobytes()
        words = len(data) // 8
        for w in np.frombuffer(data, dtype="<u8", count=words).tolist():
            h = ((h ^ w) * FNV_PRIME) & MASK
        for b in data[8 * words:]:
            h = ((h ^ b) * FNV_PRIME) & MASK
    return h


# --- Adam's state file: safetensors (an 8-byte header length, a JSON header, the data) ---------

def read_safetensors(data):
    """(name -> (shape, float32 values), metadata) of a safetensors file's bytes."""
    (size,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + size])
    metadata = header.pop("__metadata__", {})
    tensors = {}
    for name, entry in header.items():
        if entry["dtype"] != "F32":
            raise ValueError(f"optimizer state: {name} is {entry['dtype']}, not F32")
        start, end = entry["data_offsets"]
        tensors[name] = (entry["shape"], np.frombuffer(data, dtype="<f4", count=(end - start) // 4, offset=8 + size + start).copy())
    return tensors, metadata


def write_safetensors(tensors, metadata):
    """The bytes of a safetensors file of float32 tensors: [(name, shape, values)] and metadata."""
    header, offset, blobs = {"__metadata__": metadata}, 0, []
    for name, shape, values in tensors:
        blob = np.ascontiguousarray(values, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [offset, offset + len(blob)]}
        offset += len(blob)
        blobs.append(blob)
    encoded = json.dumps(header, separators=(",", ":")).encode()
    encoded += b" " * (-len(encoded) % 8)  # the data starts 8-byte aligned
    return struct.pack("<Q", len(encoded)) + encoded + b"".join(blobs)


class Adam:
    """Adam as our replicas take it: torch.optim.Adam's step with coupled L2 decay (or decoupled,
    as the state file says), moments in the contract's layout."""

    def __init__(self, file, names):
        tensors, meta = read_safetensors(file)
        if meta.get("optimizer") != "adam":
            raise ValueError(f"optimizer state: not an Adam state file (metadata {meta})")
        try:
            self.step = int(meta["step"])
            self.beta1, self.beta2 = np.float32(meta["beta1"]), np.float32(meta["beta2"])
            self.eps, self.weight_decay = np.float32(meta["eps"]), np.float32(meta["weight_decay"])
            self.lr, self.decay = np.float32(meta["lr"]), meta["decay"]
        except (KeyError, ValueError) as error:
            raise ValueError(f"optimizer state without its settings ({error}): metadata {meta}") from None
        missing = [n for n in names for k in ("exp_avg", "exp_avg_sq") if f"{k}.{n}" not in tensors]
        if missing:
            raise ValueError(f"optimizer state lacks {', '.join(missing[:3])}")
        self.shapes = {n: tensors[f"exp_avg.{n}"][0] for n in names}
        self.m = {n: tensors[f"exp_avg.{n}"][1] for n in names}
        self.v = {n: tensors[f"exp_avg_sq.{n}"][1] for n in names}

    def encoded(self, names):
        meta = {"optimizer": "adam", "step": str(self.step), "decay": self.decay}
        for key, value in (("lr", self.lr), ("beta1", self.beta1), ("beta2", self.beta2), ("eps", self.eps),
                           ("weight_decay", self.weight_decay)):
            meta[key] = repr(float(value))  # reads back as the same float32
        tensors = [(f"{k}.{n}", self.shapes[n], (self.m if k == "exp_avg" else self.v)[n])
                   for n in names for k in ("exp_avg", "exp_avg_sq")]
        return write_safetensors(tensors, meta)

    def update(self, weights, gradients, learning_rate):
        """One step over every parameter (name -> float32 arrays, updated in place). The scalars
        as our Adam.update makes them (in float64, then rounded to float32), then per element
        exactly comcl_adam's operations."""
        self.step += 1
        self.lr = np.float32(learning_rate)
        t = float(self.step)
        correction1 = 1 - math.pow(float(self.beta1), t)
        step_size = np.float32(float(self.lr) / correction1)
        c2 = np.float32(math.sqrt(1 - math.pow(float(self.beta2), t)))
        one = np.float32(1)
        decoupled = self.decay == "decoupled"
        l2 = np.float32(0) if decoupled else self.weight_decay
        shrink = one - self.lr * self.weight_decay if decoupled else one
        b1, b2, eps = self.beta1, self.beta2, self.eps
        for name, w in weights.items():
            g, m, v = gradients[name], self.m[name], self.v[name]
            grad = g + l2 * w
            mi = b1 * m + (one - b1) * grad
            vi = b2 * v + (one - b2) * grad * grad
            m[...] = mi
            v[...] = vi
            w[...] = w * shrink - step_size * mi / (np.sqrt(vi) / c2 + eps)


def replay(running_mean, running_var, mean, variance):
    """One batch norm's groups ([groups, C] each) into its running statistics, group after group,
    as our BatchNorm2d.updateRunningStatistics: momentum 0.1 toward each group's mean and unbiased
    variance."""
    m = np.float32(0.1)
    keep = np.float32(1) - m
    for g in range(mean.shape[0]):
        running_mean[...] = keep * running_mean + m * mean[g]
        running_var[...] = keep * running_var + m * variance[g]


def slices(length, n):
    """Shard k's slice of the flattened gradient: [length * k / n, length * (k + 1) / n)."""
    return [range(length * k // n, length * (k + 1) // n) for k in range(n)]


def add_in_order(parts, length):
    """The parts added in the order given, starting from zeros: every replica's sum has these bits."""
    total = np.zeros(length, dtype=np.float32)
    for part in parts:
        total += part
    return total

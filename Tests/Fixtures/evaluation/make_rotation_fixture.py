"""torchvision's rotation and flips for the fine-tune's training augmentation
(Tests/EvaluationTests/ImageTransformTests.swift).

Run with the PyTorch venv (scripts/torch-venv.sh):
    .cache/torch-venv/bin/python Tests/Fixtures/evaluation/make_rotation_fixture.py
Writes rotation.safetensors beside this script: a 20x20 RGB image (float32, 0-255, [H, W, 3], our
layout) and, per case, torchvision's F.rotate on the tensor (bilinear, default fill: grid_sample's
zero padding) followed by the flips. (An explicit fill=0 differs at the border: torchvision then
also scales each pixel by the interpolated in-image mask.)
"""
import json
import os
import sys
import types

sys.modules["torchvision._meta_registrations"] = types.ModuleType("torchvision._meta_registrations")
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torchvision  # noqa: E402
import torchvision.transforms.functional as F  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "encoder"))
import safetensors_io  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(3)
image = rng.integers(0, 256, size=(20, 20, 3)).astype(np.float32)
tensor = torch.from_numpy(image).permute(2, 0, 1).contiguous()

CASES = {
    "ccw30": {"degrees": 30.0, "h": False, "v": False},
    "cw123": {"degrees": -123.4, "h": True, "v": False},
    "quarter": {"degrees": 90.0, "h": False, "v": True},
    "near_half": {"degrees": 179.0, "h": True, "v": True},
    "small": {"degrees": 2.5, "h": False, "v": False},
}
tensors = {"image": image}
for name, case in CASES.items():
    out = F.rotate(tensor, case["degrees"], interpolation=F.InterpolationMode.BILINEAR)
    if case["h"]:
        out = F.hflip(out)
    if case["v"]:
        out = F.vflip(out)
    tensors[name] = out.permute(1, 2, 0).contiguous().numpy()

safetensors_io.save(os.path.join(HERE, "rotation.safetensors"), tensors, metadata={
    "format": "comcl-rotation-fixture", "version": "1", "cases": json.dumps(CASES, sort_keys=True),
    "torch": torch.__version__, "torchvision": torchvision.__version__,
})
print("wrote", len(CASES), "cases")

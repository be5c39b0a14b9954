"""Reference outputs of torchvision's functional ops for the augmenter's parity tests
(Tests/AugmentationTests/TorchvisionParityTests.swift).

Run with Debian's python3 (python3-torch, python3-torchvision 0.14, python3-skimage):
    /usr/bin/python3 Tests/Fixtures/augmentation/make_augmentation_fixtures.py
Writes torchvision_ops.safetensors beside this script: the input patch and one output per case,
all float32 in [H, W, 3] (our layout); each case's op and parameters are in the metadata.
"""
import json
import os
import sys

import numpy as np
import torch
import torchvision
import torchvision.transforms.functional as F
from skimage import data

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "encoder"))
import safetensors_io  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))

# A 40x32 piece of skimage's retina photograph at the rim of the field: vessels, the orange
# fundus, and black surround (grey pixels, where hue is undefined).
retina = data.retina()  # 1411 x 1411 RGB
patch = retina[1180:1180 + 32 * 4:4, 300:300 + 40 * 4:4].astype(np.float32) / 255.0
assert patch.shape == (32, 40, 3)
image = torch.from_numpy(patch).permute(2, 0, 1).contiguous()  # [3, H, W]

CASES = {
    "brightness": {"op": "brightness", "factor": 1.3},
    "brightness_dark": {"op": "brightness", "factor": 0.62},
    "contrast": {"op": "contrast", "factor": 0.65},
    "contrast_up": {"op": "contrast", "factor": 1.37},
    "saturation": {"op": "saturation", "factor": 1.35},
    "saturation_down": {"op": "saturation", "factor": 0.61},
    "hue_plus": {"op": "hue", "factor": 0.07},
    "hue_minus": {"op": "hue", "factor": -0.09},
    "grayscale": {"op": "grayscale"},
    # ColorJitter with a drawn order and factors: hue, contrast, brightness, saturation.
    "jitter_sequence": {"op": "jitter", "order": ["hue", "contrast", "brightness", "saturation"],
                        "factors": {"hue": -0.04, "contrast": 1.21, "brightness": 0.83, "saturation": 1.12}},
    "crop_up": {"op": "resized_crop", "top": 3, "left": 5, "height": 22, "width": 27, "size": 48},
    "crop_down": {"op": "resized_crop", "top": 1, "left": 2, "height": 30, "width": 36, "size": 20},
    "affine_nearest": {"op": "affine", "angle": 37.5, "translate": [3, -2], "interpolation": "nearest"},
    "affine_bilinear": {"op": "affine", "angle": -123.4, "translate": [-5, 4], "interpolation": "bilinear"},
    "affine_quarter": {"op": "affine", "angle": 90.0, "translate": [0, 0], "interpolation": "nearest"},
    "affine_half_bilinear": {"op": "affine", "angle": 180.0, "translate": [2, 1], "interpolation": "bilinear"},
}

COLOUR = {"brightness": F.adjust_brightness, "contrast": F.adjust_contrast,
          "saturation": F.adjust_saturation, "hue": F.adjust_hue}
MODES = {"nearest": F.InterpolationMode.NEAREST, "bilinear": F.InterpolationMode.BILINEAR}


def run(case):
    op = case["op"]
    if op in COLOUR:
        return COLOUR[op](image, case["factor"])
    if op == "grayscale":
        return F.rgb_to_grayscale(image, num_output_channels=3)
    if op == "jitter":
        out = image
        for name in case["order"]:
            out = COLOUR[name](out, case["factors"][name])
        return out
    if op == "resized_crop":
        return F.resized_crop(image, case["top"], case["left"], case["height"], case["width"],
                              [case["size"], case["size"]], interpolation=F.InterpolationMode.BILINEAR,
                              antialias=True)
    if op == "affine":
        return F.affine(image, angle=case["angle"], translate=case["translate"], scale=1.0,
                        shear=[0.0, 0.0], interpolation=MODES[case["interpolation"]])
    raise ValueError(op)


tensors = {"input": patch}
for name, case in CASES.items():
    out = run(case)
    tensors[name] = out.permute(1, 2, 0).contiguous().numpy().astype(np.float32)

safetensors_io.save(os.path.join(HERE, "torchvision_ops.safetensors"), tensors, metadata={
    "format": "comcl-augmentation-fixture",
    "version": "1",
    "cases": json.dumps(CASES, sort_keys=True),
    "torchvision": torchvision.__version__,
    "torch": torch.__version__,
})
print("wrote", len(CASES), "cases with torchvision", torchvision.__version__)

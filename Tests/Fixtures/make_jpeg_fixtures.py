#!/usr/bin/python3
"""Writes JPEG fixtures with Pillow and Pillow's own decode of each, for ImagesTests.

Run with Debian's python3 (python3-pil): /usr/bin/python3 Tests/Fixtures/make_jpeg_fixtures.py
Output: Tests/Fixtures/jpeg/<name>.jpg, <name>.rgb (raw RGB8, row-major) and manifest.json.
The expected pixels are what a Pillow user sees: a CMYK JPEG converted to RGB, and the EXIF
orientation applied (ImageOps.exif_transpose), as torchvision pipelines commonly do.
"""
import json
import math
import os

import PIL
from PIL import Image, ImageOps

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "jpeg")
W, H = 61, 47  # odd sizes exercise partial MCUs


def scene():
    """A smooth fundus-like disc with a few sharp features (edges stress the IDCT)."""
    img = Image.new("RGB", (W, H))
    px = img.load()
    for y in range(H):
        for x in range(W):
            r = math.hypot(x - W / 2, y - H / 2) / (W / 2)
            inside = r < 0.95
            base = (int(180 * (1 - 0.5 * r)), int(80 * (1 - 0.3 * r)), int(40 + 20 * r)) if inside else (0, 0, 0)
            if inside and (x - 20) ** 2 + (y - 15) ** 2 < 16:  # a bright spot
                base = (250, 230, 120)
            if inside and abs(x - y) < 1:  # a dark line
                base = (60, 10, 10)
            px[x, y] = base
    return img


def main():
    os.makedirs(OUT, exist_ok=True)
    img = scene()
    cases = [
        ("baseline_420", img, dict(quality=85, subsampling=2)),
        ("baseline_444", img, dict(quality=95, subsampling=0)),
        ("progressive_420", img, dict(quality=80, subsampling=2, progressive=True)),
        ("progressive_444", img, dict(quality=90, subsampling=0, progressive=True)),
        ("grayscale", img.convert("L"), dict(quality=85)),
    ]
    cases.append(("cmyk", img.convert("CMYK"), dict(quality=90)))
    for orientation in range(2, 9):
        exif = Image.Exif()
        exif[0x0112] = orientation
        cases.append((f"exif_orientation_{orientation}", img, dict(quality=90, subsampling=0, exif=exif.tobytes())))
    files = []
    for name, source, options in cases:
        path = os.path.join(OUT, name + ".jpg")
        source.save(path, "JPEG", **options)
        decoded = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
        options = {k: v for k, v in options.items() if k != "exif"}
        with open(os.path.join(OUT, name + ".rgb"), "wb") as f:
            f.write(decoded.tobytes())
        files.append({"name": name, "width": decoded.width, "height": decoded.height, "options": options})
    manifest = {"format": "comcl-jpeg-fixtures", "version": 2, "pillow": PIL.__version__, "files": files}
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()

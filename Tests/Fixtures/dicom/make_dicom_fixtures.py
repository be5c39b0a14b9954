"""Makes the DICOM fixtures and what pydicom shows for each (expected.json).

Small files, one per photometric interpretation and display rule we read, written with pydicom;
and, for the real CR chest radiograph RG1_J2KR.dcm of pydicom-data (JPEG 2000, MONOCHROME1,
15 bits, window 15000/30000), pydicom's rendering on a grid of pixels. Every rendering is in
[0, 1]: pydicom's modality LUT, then its VOI LUT (apply_voi_lut: the file's first window), then
(value - y_min) / (y_max - y_min) over apply_windowing's output range, inverted for MONOCHROME1.
Files without a window get our rule (docs/data.md): the linear window between the 0.5th
(lower nearest rank) and 99.5th (upper nearest rank) percentiles of the modality values.

Run: scripts/dicom-venv.sh, then .cache/dicom-venv/bin/python Tests/Fixtures/dicom/make_dicom_fixtures.py
"""
import hashlib
import json
import os

import numpy as np
import pydicom
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.pixels import apply_modality_lut, apply_voi_lut
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(7)
H, W = 24, 32


def dataset(photometric, samples, bits_stored, signed=False, bits_allocated=16):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.1"  # CR image storage
    meta.MediaStorageSOPInstanceUID = generate_uid(entropy_srcs=[photometric, str(bits_stored)])
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(None, {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "CR"
    ds.Rows, ds.Columns = H, W
    ds.SamplesPerPixel = samples
    ds.PhotometricInterpretation = photometric
    ds.BitsAllocated = bits_allocated
    ds.BitsStored = bits_stored
    ds.HighBit = bits_stored - 1
    ds.PixelRepresentation = 1 if signed else 0
    if samples == 3:
        ds.PlanarConfiguration = 0
    return ds


def grey(ds, values):
    dtype = {(16, False): np.uint16, (16, True): np.int16, (8, False): np.uint8}[(ds.BitsAllocated, ds.PixelRepresentation == 1)]
    stored = values.astype(dtype)
    ds.PixelData = stored.tobytes()
    return ds


def percentile_window(modality):
    flat = np.sort(modality.ravel().astype(np.float64))
    last = flat.size - 1
    low, high = flat[int(np.floor(0.005 * last))], flat[int(np.ceil(0.995 * last))]
    centre, width = (low + high) / 2, high - low
    out = np.where(modality <= centre - width / 2, 0.0, np.where(modality > centre + width / 2, 1.0, 0.0))
    between = (modality > centre - width / 2) & (modality <= centre + width / 2)
    out[between] = (modality[between] - centre) / width + 0.5
    return out


def render_grey(ds):
    arr = ds.pixel_array
    modality = apply_modality_lut(arr, ds).astype(np.float64)
    if "WindowCenter" in ds:
        shown = apply_voi_lut(modality, ds).astype(np.float64)
        # apply_windowing's output range (pydicom/pixels/processing.py).
        if ds.PixelRepresentation == 0:
            y_min, y_max = 0, 2 ** ds.BitsStored - 1
        else:
            y_min, y_max = -(2 ** (ds.BitsStored - 1)), 2 ** (ds.BitsStored - 1) - 1
        if "RescaleSlope" in ds and "RescaleIntercept" in ds:
            y_min, y_max = y_min * float(ds.RescaleSlope) + float(ds.RescaleIntercept), y_max * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
        shown = (shown - y_min) / (y_max - y_min)
    else:
        shown = percentile_window(modality)
    return 1 - shown if ds.PhotometricInterpretation == "MONOCHROME1" else shown


def made_files():
    files = {}
    # MONOCHROME1, 12 of 16 bits, rescaled, LINEAR window: a CR as modalities write it.
    ds = dataset("MONOCHROME1", 1, 12)
    ds.RescaleSlope, ds.RescaleIntercept = "2", "-100"
    ds.WindowCenter, ds.WindowWidth = "3000", "5000"
    files["mono1-12bit-rescaled-window.dcm"] = grey(ds, rng.integers(0, 4096, (H, W)))
    # MONOCHROME2, signed 16 bits (a CT-like intercept), SIGMOID window, two windows (the first counts).
    ds = dataset("MONOCHROME2", 1, 16, signed=True)
    ds.RescaleSlope, ds.RescaleIntercept = "1", "-1024"
    ds.WindowCenter, ds.WindowWidth = ["40", "400"], ["400", "1500"]
    ds.VOILUTFunction = "SIGMOID"
    files["mono2-signed-sigmoid.dcm"] = grey(ds, rng.integers(-2000, 3000, (H, W)))
    # MONOCHROME2, signed 12 of 16 bits, LINEAR_EXACT: sign extension from bit 11.
    ds = dataset("MONOCHROME2", 1, 12, signed=True)
    ds.WindowCenter, ds.WindowWidth = "100", "1200"
    ds.VOILUTFunction = "LINEAR_EXACT"
    values = rng.integers(-2048, 2048, (H, W))
    files["mono2-signed12-linear-exact.dcm"] = grey(ds, values)
    # MONOCHROME2, 10 bits, no window: the percentile window.
    ds = dataset("MONOCHROME2", 1, 10)
    files["mono2-10bit-no-window.dcm"] = grey(ds, rng.integers(0, 1024, (H, W)))
    # RGB, 8 bits, planar configuration 1 (colour by plane).
    ds = dataset("RGB", 3, 8, bits_allocated=8)
    ds.PlanarConfiguration = 1
    rgb = rng.integers(0, 256, (H, W, 3)).astype(np.uint8)
    ds.PixelData = np.ascontiguousarray(rgb.transpose(2, 0, 1)).tobytes()
    files["rgb-planar.dcm"] = ds
    # YBR_FULL, 8 bits, uncompressed.
    ds = dataset("YBR_FULL", 3, 8, bits_allocated=8)
    ds.PixelData = rng.integers(0, 256, (H, W, 3)).astype(np.uint8).tobytes()
    files["ybr-full.dcm"] = ds
    return files


def render_colour(ds):
    # pydicom 3's pixel_array converts YBR_FULL to RGB itself (as_rgb=True, its default).
    return ds.pixel_array.astype(np.float64) / (2 ** ds.BitsStored - 1)


def main():
    expected = {"made": {}, "real": {}}
    for name, ds in made_files().items():
        path = os.path.join(HERE, name)
        ds.save_as(path, enforce_file_format=True)
        ds = pydicom.dcmread(path)
        shown = render_grey(ds) if ds.SamplesPerPixel == 1 else render_colour(ds)
        expected["made"][name] = {
            "photometric": ds.PhotometricInterpretation, "width": W, "height": H,
            "values": [round(float(v), 7) for v in shown.ravel()],
        }
    import data_store
    real = os.path.join(os.path.dirname(data_store.__file__), "data", "RG1_J2KR.dcm")
    ds = pydicom.dcmread(real)
    shown = render_grey(ds)
    step = 61
    rows, cols = np.arange(0, ds.Rows, step), np.arange(0, ds.Columns, step)
    expected["real"]["RG1_J2KR.dcm"] = {
        "sha256": hashlib.sha256(open(real, "rb").read()).hexdigest(),
        "description": f"{ds.Modality} {ds.BodyPartExamined}, {ds.PhotometricInterpretation}, {ds.BitsStored} bits, "
        f"window {ds.WindowCenter}/{ds.WindowWidth}, {ds.file_meta.TransferSyntaxUID.name}",
        "width": int(ds.Columns), "height": int(ds.Rows), "step": step,
        "values": [round(float(v), 7) for v in shown[np.ix_(rows, cols)].ravel()],
        "mean": float(shown.mean()),
    }
    with open(os.path.join(HERE, "expected.json"), "w") as f:
        json.dump({"generator": "make_dicom_fixtures.py, pydicom " + pydicom.__version__, **expected}, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()

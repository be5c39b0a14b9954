"""A replacement lesion detector for CoMCL-Swift, and the template to copy for your own model.

The detector/cropper sends one DetectRequest per image (PNG bytes, or a path under a data root
both sides share) over ZeroMQ REQ/REP; this process answers a DetectReply with boxes in pixels of
that image. Replace `detect` with your model; keep the rest. Run it, then start the cropper with
`--detector remote:tcp://HOST:5590`. Needs: pip install pyzmq protobuf numpy pillow, and
`protoc --python_out=. comcl.proto` (Shared/Protocol/comcl.proto) to make comcl_pb2.py.
"""
import argparse, io, os

import numpy as np
import zmq
from PIL import Image

import comcl_pb2 as pb

NAME = "example-python-dark-cells 1"  # your model's name and version: part of the cache key
DARK, BRIGHT = 1, 2  # class ids the cropper reads as dark (red) and bright lesions


def detect(rgb):
    """rgb: H x W x 3 uint8 -> [(x, y, w, h, score, class_id)]. A stand-in model: 16-px cells of
    the green channel much darker or brighter than the field's median."""
    green = rgb[:, :, 1].astype(np.float32)
    field = rgb.max(axis=2) > 20
    if not field.any():
        return []
    median, boxes = np.median(green[field]), []
    for y in range(0, green.shape[0] - 15, 16):
        for x in range(0, green.shape[1] - 15, 16):
            if field[y:y + 16, x:x + 16].mean() < 0.9:
                continue
            contrast = green[y:y + 16, x:x + 16].min() / median - 1
            if abs(contrast) > 0.35:
                boxes.append((x, y, 16, 16, min(1.0, abs(contrast)), DARK if contrast < 0 else BRIGHT))
    return boxes


def answer(raw, data_root):
    request = pb.Envelope()
    try:
        request.ParseFromString(raw)
    except Exception as error:
        return pb.Error(code=pb.ERROR_CODE_MALFORMED, message=f"undecodable: {error}")
    if request.protocol_version != pb.PROTOCOL_VERSION_CURRENT:
        return pb.Error(code=pb.ERROR_CODE_PROTOCOL_VERSION, message=f"I speak version {pb.PROTOCOL_VERSION_CURRENT}")
    if request.WhichOneof("body") != "detect_request":
        return pb.Error(code=pb.ERROR_CODE_UNSUPPORTED, message="I answer DetectRequest only")
    req = request.detect_request
    try:
        data = req.encoded if req.WhichOneof("image") == "encoded" else open(os.path.join(data_root, req.path), "rb").read()
        rgb = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    except Exception as error:
        return pb.Error(code=pb.ERROR_CODE_BAD_INPUT, message=f"{req.image_id}: {error}", id=req.id)
    boxes = [pb.Box(x=x, y=y, w=w, h=h, score=s, class_id=c) for x, y, w, h, s, c in detect(rgb)]
    return pb.DetectReply(id=req.id, image_id=req.image_id, boxes=boxes, detector=NAME)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bind", default="tcp://127.0.0.1:5590")
    parser.add_argument("--data-root", default=".", help="where request paths are relative to")
    args = parser.parse_args()
    socket = zmq.Context().socket(zmq.REP)
    socket.bind(args.bind)
    print(f"{NAME} listening on {socket.getsockopt_string(zmq.LAST_ENDPOINT)}", flush=True)
    while True:
        body = answer(socket.recv(), args.data_root)
        reply = pb.Envelope(protocol_version=pb.PROTOCOL_VERSION_CURRENT, sender=NAME)
        (reply.detect_reply if isinstance(body, pb.DetectReply) else reply.error).CopyFrom(body)
        socket.send(reply.SerializeToString())


if __name__ == "__main__":
    main()

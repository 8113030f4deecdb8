"""The tutorial-style reference pipeline: Pillow decodes and resizes, onnxruntime
infers, one photo at a time. Run by `photofinder bench` with the Python it
installed; prints one JSON line.

    python reference.py MODEL.onnx SPEC.json PHOTO...
"""
import json
import sys
import time

import numpy as np
import onnxruntime as ort
import pillow_heif
import pillow_jxl  # noqa: F401 (registers JPEG XL with Pillow)
import rawpy
from PIL import Image

pillow_heif.register_heif_opener()
RAW = (".dng", ".cr2", ".cr3", ".nef", ".arw", ".orf", ".raf", ".rw2")


def open_rgb(path):
    """A photo as Pillow gives it; a camera RAW developed by rawpy (LibRaw)."""
    if path.lower().endswith(RAW):
        with rawpy.imread(path) as raw:
            return Image.fromarray(raw.postprocess(use_camera_wb=True))
    return Image.open(path).convert("RGB")


def main():
    model, spec_path, photos = sys.argv[1], sys.argv[2], sys.argv[3:]
    with open(spec_path) as f:
        spec = json.load(f)
    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    resample = Image.BICUBIC if spec["filter"] == "bicubic" else Image.BILINEAR
    mean = np.array(spec["mean"], dtype=np.float32).reshape(3, 1, 1)
    std = np.array(spec["std"], dtype=np.float32).reshape(3, 1, 1)
    resize, crop = spec["resize"], spec["crop"]

    def tensor(path):
        img = open_rgb(path)
        w, h = img.size
        s = resize / min(w, h)
        img = img.resize((max(crop, round(w * s)), max(crop, round(h * s))), resample)
        w, h = img.size
        left, top = (w - crop) // 2, (h - crop) // 2
        img = img.crop((left, top, left + crop, top + crop))
        x = np.asarray(img, dtype=np.float32).transpose(2, 0, 1) / 255.0
        return ((x - mean) / std)[None]

    # One warm-up photo, as the Rust side gets, then the timed loop.
    session.run([spec["output"]], {spec["input"]: tensor(photos[0])})
    started = time.perf_counter()
    for p in photos:
        v = session.run([spec["output"]], {spec["input"]: tensor(p)})[0][0]
        v = v / np.linalg.norm(v)
    seconds = time.perf_counter() - started
    print(json.dumps({"photos": len(photos), "seconds": seconds}))


if __name__ == "__main__":
    main()

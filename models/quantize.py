"""Static int8 quantisation of an image model with ONNX Runtime (QDQ, per channel).

    python quantize.py MODEL.onnx OUT.onnx PHOTO_DIR --input NAME --resize 256 --crop 224

Calibrated on the photos in PHOTO_DIR (the test photos the install fetches
from PyPI wheels), each at five crops and their mirror images, preprocessed
as photofinder preprocesses for the model. Activations are uint8 with 99.99th
percentile ranges (min-max lets a few outliers stretch the ranges); weights
int8 per output channel. The first convolution (raw pixels in), the last
(the embedding's features) and the classifier stay fp32: they are the most
sensitive to rounding and cost little. Measured with photofinder eval on the
shared labelled set before it was offered (BENCHMARKS.md).
"""
import argparse
import glob
import os

import numpy as np
import onnx
from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType, quantize_static
from onnxruntime.quantization.shape_inference import quant_pre_process
from PIL import Image

MEAN = np.array([0.485, 0.456, 0.406], np.float32).reshape(3, 1, 1)
STD = np.array([0.229, 0.224, 0.225], np.float32).reshape(3, 1, 1)
CROPS = [(0, 0, 1), (0.1, 0.1, 0.7), (0.3, 0.2, 0.6), (0, 0.3, 0.6), (0.2, 0, 0.8)]


def tensor(img, resize, crop):
    w, h = img.size
    s = resize / min(w, h)
    img = img.resize((max(crop, round(w * s)), max(crop, round(h * s))), Image.BILINEAR)
    w, h = img.size
    left, top = (w - crop) // 2, (h - crop) // 2
    x = np.asarray(img.crop((left, top, left + crop, top + crop)), np.float32).transpose(2, 0, 1) / 255.0
    return ((x - MEAN) / STD)[None]


def calibration(photo_dir, resize, crop):
    out = []
    for path in sorted(glob.glob(os.path.join(photo_dir, "*"))):
        img = Image.open(path).convert("RGB")
        w, h = img.size
        for fx, fy, fs in CROPS:
            part = img.crop((int(fx * w), int(fy * h), int((fx + fs) * w), int((fy + fs) * h)))
            out += [tensor(part, resize, crop), tensor(part.transpose(Image.FLIP_LEFT_RIGHT), resize, crop)]
    if not out:
        raise SystemExit(f"no calibration photos in {photo_dir}")
    return out


class Reader(CalibrationDataReader):
    def __init__(self, tensors, input_name):
        self.it = iter(tensors)
        self.input_name = input_name

    def get_next(self):
        t = next(self.it, None)
        return None if t is None else {self.input_name: t}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("out")
    ap.add_argument("photos")
    ap.add_argument("--input", default="pixels")
    ap.add_argument("--resize", type=int, default=256)
    ap.add_argument("--crop", type=int, default=224)
    a = ap.parse_args()
    pre = a.out + ".pre.onnx"
    quant_pre_process(a.model, pre, skip_symbolic_shape=True)
    model = onnx.load(pre)
    # Exclusion is by node name: name the ones the exporter left unnamed.
    for i, node in enumerate(model.graph.node):
        if not node.name:
            node.name = f"{node.op_type}_{i}"
    onnx.save(model, pre)
    convs = [n.name for n in model.graph.node if n.op_type == "Conv"]
    keep_fp32 = convs[:1] + convs[-1:] + [n.name for n in model.graph.node if n.op_type in ("Gemm", "MatMul")]
    tensors = calibration(a.photos, a.resize, a.crop)
    quantize_static(
        pre, a.out, Reader(tensors, a.input),
        quant_format=QuantFormat.QDQ, per_channel=True,
        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
        calibrate_method=CalibrationMethod.Percentile, extra_options={"CalibPercentile": 99.99},
        nodes_to_exclude=keep_fp32,
    )
    os.remove(pre)
    print(f"{len(tensors)} calibration tensors; kept in fp32: {', '.join(keep_fp32)}")


if __name__ == "__main__":
    main()

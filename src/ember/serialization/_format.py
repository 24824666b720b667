"""The names a checkpoint uses, shared by the writer and the readers.

A checkpoint names PyTorch's globals (``torch._utils._rebuild_tensor_v2``,
``torch.FloatStorage``, ``torch.float32``...) so that the same file works in
both libraries; ember maps them to its own objects when loading.
"""
from .. import _dtype

STORAGE_NAMES = {
    _dtype.float32: "FloatStorage", _dtype.float64: "DoubleStorage", _dtype.float16: "HalfStorage",
    _dtype.bfloat16: "BFloat16Storage", _dtype.int64: "LongStorage", _dtype.int32: "IntStorage",
    _dtype.int16: "ShortStorage", _dtype.int8: "CharStorage", _dtype.uint8: "ByteStorage",
    _dtype.bool: "BoolStorage", _dtype.complex64: "ComplexFloatStorage", _dtype.complex128: "ComplexDoubleStorage",
}

# the legacy (non-zip) format: the pickled numbers that open a file, in this order
LEGACY_MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL_VERSION = 1001


def dtype_name(dt):
    """``float32`` for ``ember.float32``: the attribute of ``torch`` that names the dtype."""
    return str(dt).rpartition(".")[2]


class StorageType:
    """What ``torch.FloatStorage`` & co. stand for in a checkpoint: the dtype of a storage record."""

    def __init__(self, dtype):
        self.dtype = dtype

    def __repr__(self):
        return f"StorageType(dtype={self.dtype})"


STORAGE_TYPES = {f"torch.{name}": StorageType(dt) for dt, name in STORAGE_NAMES.items()}
STORAGE_TYPES["torch.UntypedStorage"] = STORAGE_TYPES["torch.storage.UntypedStorage"] = StorageType(_dtype.uint8)


class TorchGlobal:
    """Stands for a PyTorch global (``torch._utils._rebuild_tensor_v2``...) in a pickle ember writes."""

    def __init__(self, module, name):
        self.module, self.name = module, name

    def __call__(self, *args):  # pickle's save_reduce insists on a callable; this is never called
        raise RuntimeError(f"{self.module}.{self.name} is a placeholder for writing checkpoints")

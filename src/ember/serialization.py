"""save / load in PyTorch's zip checkpoint format, so files move between ember and PyTorch.

A checkpoint is an uncompressed zip archive: ``<name>/data.pkl`` holds the
pickled object, in which every tensor is a call to
``torch._utils._rebuild_tensor_v2`` on a *storage* whose raw little-endian bytes
are the entry ``<name>/data/<key>``.  ember writes those global names itself
(it never imports torch) and maps them back to ember objects when loading.
"""
import collections
import io
import os
import pickle
import zipfile

import numpy as np

from . import _dtype
from ._tensor import Tensor, _make

__all__ = ["save", "load", "add_safe_globals", "get_safe_globals", "safe_globals"]

_STORAGE_NAMES = {
    _dtype.float32: "FloatStorage", _dtype.float64: "DoubleStorage", _dtype.float16: "HalfStorage",
    _dtype.bfloat16: "BFloat16Storage", _dtype.int64: "LongStorage", _dtype.int32: "IntStorage",
    _dtype.int16: "ShortStorage", _dtype.int8: "CharStorage", _dtype.uint8: "ByteStorage",
    _dtype.bool: "BoolStorage", _dtype.complex64: "ComplexFloatStorage", _dtype.complex128: "ComplexDoubleStorage",
}
_STORAGE_DTYPES = {name: dt for dt, name in _STORAGE_NAMES.items()}


class _Global:
    """Stands for a PyTorch global (``torch._utils._rebuild_tensor_v2``...) in a pickle ember writes."""

    def __init__(self, module, name):
        self.module, self.name = module, name

    def __call__(self, *args):  # pickle's save_reduce insists on a callable; this is never called
        raise RuntimeError(f"{self.module}.{self.name} is a placeholder for writing checkpoints")


_REBUILD_TENSOR = _Global("torch._utils", "_rebuild_tensor_v2")
_REBUILD_PARAMETER = _Global("torch._utils", "_rebuild_parameter")
_STORAGE_GLOBALS = {dt: _Global("torch", name) for dt, name in _STORAGE_NAMES.items()}


class _Storage:
    """The data of one saved tensor: written as a persistent id, its bytes as a zip entry."""

    def __init__(self, key, array, dtype):
        self.key, self.array, self.dtype = key, array, dtype


class _CheckpointPickler(pickle._Pickler):
    """Pickles tensors the way PyTorch does, naming PyTorch's rebuild functions."""

    def __init__(self, file, protocol):
        super().__init__(file, protocol)
        self.storages = []

    def save_global(self, obj, name=None):
        if isinstance(obj, _Global):
            self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode("utf-8"))
            self.memoize(obj)
            return
        super().save_global(obj, name)

    def reducer_override(self, obj):
        if not isinstance(obj, Tensor):
            return NotImplemented
        from .nn.parameter import Parameter
        if isinstance(obj, Parameter):
            data = _make(obj._data)
            return _REBUILD_PARAMETER, (data, obj.requires_grad, collections.OrderedDict())
        array = obj._data if obj._data.flags.c_contiguous else obj._data.copy(order="C")
        storage = _Storage(str(len(self.storages)), array, obj.dtype)
        self.storages.append(storage)
        size = tuple(array.shape)
        stride = tuple(s // array.itemsize for s in array.strides) if array.size else (1,) * array.ndim
        return _REBUILD_TENSOR, (storage, 0, size, stride, obj.requires_grad, collections.OrderedDict())

    def persistent_id(self, obj):
        if isinstance(obj, _Storage):
            return ("storage", _STORAGE_GLOBALS[obj.dtype], obj.key, "cpu", obj.array.size)
        return None

    # pure-Python pickler: route reducer_override through save()
    def save(self, obj, save_persistent_id=True):
        if save_persistent_id and not isinstance(obj, (_Global,)):
            pid = self.persistent_id(obj)
            if pid is not None:
                self.save_pers(pid)
                return
        if isinstance(obj, _Global):
            memo = self.memo.get(id(obj))
            if memo is not None:
                self.write(self.get(memo[0]))
            else:
                self.save_global(obj)
            return
        reduced = self.reducer_override(obj) if id(obj) not in self.memo else NotImplemented
        if reduced is not NotImplemented:
            self.save_reduce(*reduced, obj=obj)
            return
        super().save(obj, save_persistent_id)


def _archive_name(f):
    if isinstance(f, (str, os.PathLike)):
        base = os.path.splitext(os.path.basename(os.fspath(f)))[0]
        return base or "archive"
    return "archive"


def save(obj, f, pickle_module=pickle, pickle_protocol=2, _use_new_zipfile_serialization=True,
         _disable_byteorder_record=False):
    """Save ``obj`` (tensors, state_dicts, modules, optimizers' state...) to a file path or binary file object.

    The file is PyTorch's zip format, which ``torch.load`` reads too.  Saving
    to a path writes a temporary file and renames it, so a failure leaves any
    old file intact.
    """
    buffer = io.BytesIO()
    pickler = _CheckpointPickler(buffer, pickle_protocol)
    pickler.dump(obj)
    name = "archive" if not isinstance(f, (str, os.PathLike)) else _archive_name(f)

    def write(target):
        with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED) as z:
            z.writestr(f"{name}/data.pkl", buffer.getvalue())
            z.writestr(f"{name}/.format_version", "1")
            z.writestr(f"{name}/.storage_alignment", "64")
            z.writestr(f"{name}/byteorder", "little")
            for storage in pickler.storages:
                z.writestr(f"{name}/data/{storage.key}", storage.array.astype(
                    storage.array.dtype.newbyteorder("<"), copy=False).tobytes())
            z.writestr(f"{name}/version", "3\n")

    if isinstance(f, (str, os.PathLike)):
        path = os.fspath(f)
        tmp = f"{path}.tmp{os.getpid()}"
        try:
            with open(tmp, "wb") as out:
                write(out)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
    else:
        write(f)


# ------------------------------------------------------------------------------------------- load
_safe_globals = {}


def add_safe_globals(safe_globals):
    """Allow these classes/functions in ``load(weights_only=True)``."""
    for g in safe_globals:
        obj, name = g if isinstance(g, tuple) else (g, f"{g.__module__}.{g.__qualname__}")
        _safe_globals[name] = obj


def get_safe_globals():
    return list(_safe_globals.values())


class safe_globals:
    """Context manager allowing extra globals in ``load(weights_only=True)`` inside its block."""

    def __init__(self, safe_globals):
        self.globals = safe_globals

    def __enter__(self):
        self.saved = dict(_safe_globals)
        add_safe_globals(self.globals)

    def __exit__(self, *exc):
        _safe_globals.clear()
        _safe_globals.update(self.saved)
        return False


def _rebuild_tensor(storage, offset, size, stride, requires_grad=False, hooks=None, metadata=None):
    array, itemsize = storage, storage.itemsize
    if not size:
        t = _make(array[offset:offset + 1].reshape(()).copy() if array.size else np.zeros((), array.dtype))
    else:
        view = np.lib.stride_tricks.as_strided(array[offset:], shape=tuple(size),
                                               strides=tuple(s * itemsize for s in stride))
        t = _make(view.copy())
    t._requires_grad = bool(requires_grad) and t.dtype._category >= 2
    return t


def _rebuild_parameter(data, requires_grad, hooks=None, state=None):
    from .nn.parameter import Parameter
    p = Parameter(data, requires_grad)
    if state:
        p.__dict__.update(state)
    return p


def _rebuild_parameter_with_state(data, requires_grad, hooks, state):
    return _rebuild_parameter(data, requires_grad, hooks, state)


class _StorageType:
    def __init__(self, dtype):
        self.dtype = dtype


_TORCH_GLOBALS = {
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor"): lambda storage, offset, size, stride: _rebuild_tensor(
        storage, offset, size, stride),
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter_with_state,
    ("collections", "OrderedDict"): collections.OrderedDict,
}
_SAFE_BUILTINS = {("builtins", n) for n in ("set", "frozenset", "dict", "list", "tuple", "int", "float", "bool",
                                             "complex", "str", "bytes", "bytearray", "slice", "range")}


class _CheckpointUnpickler(pickle.Unpickler):
    def __init__(self, file, read_storage, weights_only):
        super().__init__(file, encoding="utf-8")
        self.read_storage = read_storage
        self.weights_only = weights_only

    def find_class(self, module, name):
        if (module, name) in _TORCH_GLOBALS:
            return _TORCH_GLOBALS[module, name]
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(_STORAGE_DTYPES[name])
        if module == "torch" and name == "Size":
            from ._tensor import Size
            return Size
        if module == "torch" and name == "device":
            from ._device import device
            return device
        if module.startswith("torch"):
            module = "ember" + module[len("torch"):]
        full = f"{module}.{name}"
        if self.weights_only:
            if (module, name) in _SAFE_BUILTINS or full in _safe_globals or _is_safe_ember(module, name):
                return super().find_class(module, name)
            raise pickle.UnpicklingError(
                f"Weights only load failed. In PyTorch 2.6, we changed the default value of the `weights_only` "
                f"argument in `torch.load` from `False` to `True`. Re-running `torch.load` with `weights_only` set "
                f"to `False` will likely succeed, but it can result in arbitrary code execution. Do it only if you "
                f"got the file from a trusted source.\nWeightsUnpickler error: Unsupported global: GLOBAL {full} "
                f"was not an allowed global by default. Please use `torch.serialization.add_safe_globals([{name}])` "
                f"to allowlist this global if you trust this class/function.")
        return super().find_class(module, name)

    def persistent_load(self, pid):
        if not isinstance(pid, tuple) or pid[0] != "storage":
            raise pickle.UnpicklingError(f"unsupported persistent id {pid!r}")
        _, storage_type, key, _location, numel = pid
        return self.read_storage(key, storage_type.dtype, numel)


def _is_safe_ember(module, name):
    # the ember types a state_dict or optimizer state can hold
    return (module, name) in {("ember._dtype", "_dtype_by_name"), ("ember._device", "device"),
                              ("ember._tensor", "_rebuild_tensor"), ("ember._tensor", "Size"),
                              ("ember.nn.parameter", "Parameter"), ("ember._tensor", "Tensor")}


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None, **pickle_load_args):
    """Load an object saved by ``ember.save`` or ``torch.save`` (zip format) or by plain pickle.

    Args:
        f: a path or a binary file object.
        map_location: accepted for compatibility; everything loads on the CPU.
        weights_only: only allow tensors, containers and primitive types (PyTorch's default, True);
            ``False`` also rebuilds whole modules and other classes (only for trusted files).
    """
    if weights_only is None:
        weights_only = os.environ.get("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "0") in ("0", "")
    opened = None
    if isinstance(f, (str, os.PathLike)):
        opened = f = open(f, "rb")
    try:
        data = f.read()
    finally:
        if opened is not None:
            opened.close()
    if zipfile.is_zipfile(io.BytesIO(data)):
        z = zipfile.ZipFile(io.BytesIO(data))
        names = z.namelist()
        pkl = next((n for n in names if n.endswith("/data.pkl") or n == "data.pkl"), None)
        if pkl is None:
            raise RuntimeError("PytorchStreamReader failed locating file data.pkl: file not found")
        prefix = pkl[:-len("data.pkl")]
        cache = {}

        def read_storage(key, dtype, numel):
            if key not in cache:
                raw = z.read(f"{prefix}data/{key}")
                cache[key] = np.frombuffer(raw, dtype=dtype.np.newbyteorder("<")).astype(dtype.np).copy()
            return cache[key]

        return _CheckpointUnpickler(io.BytesIO(z.read(pkl)), read_storage, weights_only).load()
    try:
        return _CheckpointUnpickler(io.BytesIO(data), None, weights_only).load()
    except pickle.UnpicklingError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise RuntimeError(f"Invalid checkpoint: {exc}") from None

"""``save``: write objects in PyTorch's zip checkpoint format.

Tensors that share memory are written as one storage record, so views stay
views of each other after loading (in ember and in PyTorch), and an expanded
tensor is written as its small storage, not as its broadcast shape.
"""
import collections
import io
import os
import pickle
import zipfile

import numpy as np

from .. import _dtype
from .._device import address, backend_of, device as _device_type
from .._tensor import Size, Tensor
from ._format import STORAGE_NAMES, TorchGlobal, dtype_name
from ._rebuild import is_loaded_storage

_REBUILD_TENSOR = TorchGlobal("torch._utils", "_rebuild_tensor_v2")
# dtypes without a legacy typed storage (uint16/32/64) are written on an untyped (byte) storage, with the dtype
_REBUILD_TENSOR_V3 = TorchGlobal("torch._utils", "_rebuild_tensor_v3")
_UNTYPED_STORAGE = TorchGlobal("torch.storage", "UntypedStorage")
_REBUILD_PARAMETER = TorchGlobal("torch._utils", "_rebuild_parameter")
_REBUILD_SPARSE = TorchGlobal("torch._utils", "_rebuild_sparse_tensor")
_GET_LAYOUT = TorchGlobal("torch.serialization", "_get_layout")
_TORCH_SIZE = TorchGlobal("torch", "Size")
_TORCH_DEVICE = TorchGlobal("torch", "device")
_STORAGE_GLOBALS = {dt: TorchGlobal("torch", name) for dt, name in STORAGE_NAMES.items()}


class _StorageRecord:
    """One storage written to the archive: a 1-D host array (``data/<key>``) that tensors index into, and the
    device it came from ('cpu', 'cuda:0'...: PyTorch's location tag, which ``map_location`` sees on load)."""

    def __init__(self, key, flat, location="cpu"):
        self.key, self.flat, self.location = key, flat, location
        self.dtype = _dtype.from_numpy_dtype(flat.dtype)


class _Call:
    """Pickles as ``func(*args)``."""

    def __init__(self, func, args):
        self.func, self.args = func, args


def _memory_owner(arr):
    """The array at the end of ``arr``'s chain of bases (NumPy's, or its own backend's): the one whose memory
    ``arr`` lies in."""
    while isinstance(arr.base, (np.ndarray, type(arr))):
        arr = arr.base
    return arr


def _compact(arr):
    """A C-contiguous copy of ``arr`` without its broadcast dimensions, and the strides (in elements) that
    index it with ``arr``'s shape (0 along the broadcast dimensions)."""
    broadcast = [n > 1 and s == 0 for n, s in zip(arr.shape, arr.strides)]
    core = np.ascontiguousarray(arr[tuple(slice(0, 1) if b else slice(None) for b in broadcast)])
    strides = [0 if b else s // core.itemsize for b, s in zip(broadcast, core.strides)] if core.size else \
        [int(np.prod([max(n, 1) for n in arr.shape[d + 1:]])) for d in range(arr.ndim)]
    return core.reshape(-1), strides


class _CheckpointPickler(pickle._Pickler):
    """Pickles tensors as PyTorch does: ``_rebuild_tensor_v2(storage, offset, size, stride, ...)`` with each
    storage a persistent id, and dtypes, devices and sizes under PyTorch's names.

    The pure-Python pickler is used because it lets ``save_global`` write names of our choosing."""

    def __init__(self, file, protocol):
        super().__init__(file, protocol)
        self.records = []
        self._by_owner = {}   # id(owner array) -> (owner, record); holding the owner keeps its id unique

    def save_global(self, obj, name=None):
        if isinstance(obj, TorchGlobal):
            module, name = obj.module, obj.name
        elif isinstance(obj, _dtype.dtype):
            module, name = "torch", dtype_name(obj)
        else:
            return super().save_global(obj, name)
        self.write(pickle.GLOBAL + f"{module}\n{name}\n".encode("utf-8"))
        self.memoize(obj)

    def reducer_override(self, obj):
        if isinstance(obj, (TorchGlobal, _dtype.dtype)):
            return "global"   # any string: pickle then calls save_global, which writes the name
        if isinstance(obj, Tensor):
            return self._reduce_tensor(obj)
        if isinstance(obj, _Call):
            return obj.func, obj.args
        if isinstance(obj, Size):
            return _TORCH_SIZE, (tuple(obj),)
        if isinstance(obj, _device_type):
            return _TORCH_DEVICE, (obj.type,) if obj.index is None else (obj.type, obj.index)
        return NotImplemented

    def persistent_id(self, obj):
        if isinstance(obj, _StorageRecord):
            if obj.dtype not in _STORAGE_GLOBALS:
                return ("storage", _UNTYPED_STORAGE, obj.key, obj.location, obj.flat.nbytes)
            return ("storage", _STORAGE_GLOBALS[obj.dtype], obj.key, obj.location, obj.flat.size)
        return None

    def _reduce_tensor(self, t):
        from ..nn.parameter import Parameter
        if t._sparse:
            from ..ops.sparse_tensor import checkpoint_parts
            layout, data = checkpoint_parts(t)
            return _REBUILD_SPARSE, (_Call(_GET_LAYOUT, (str.__str__(layout),)), data)   # a plain name
        record, offset, stride = self._layout(t)
        if isinstance(t, Parameter):   # the parameter's data is pickled as a plain tensor call inside
            data = _Call(*self._rebuild_call(record, offset, t._data.shape, stride, False))
            return _REBUILD_PARAMETER, (data, t.requires_grad, collections.OrderedDict())
        return self._rebuild_call(record, offset, t._data.shape, stride, t.requires_grad)

    @staticmethod
    def _rebuild_call(record, offset, shape, stride, requires_grad):
        args = (record, offset, tuple(shape), tuple(stride), requires_grad, collections.OrderedDict())
        if record.dtype not in _STORAGE_GLOBALS:
            return _REBUILD_TENSOR_V3, args + (record.dtype,)
        return _REBUILD_TENSOR, args

    def _layout(self, t):
        """(storage record, offset, strides) placing tensor ``t`` in a storage: the memory it shares with other
        tensors (it is a view, or was loaded from a storage) when that memory is one dense block of its dtype,
        else a compact copy of its own (so a tensor over a slice of a big NumPy array saves only its part)."""
        arr = t._data
        # another device's memory (a GPU's) is laid out the same way and copied to the host once per storage,
        # tagged with its device
        host = None if type(arr) is np.ndarray else backend_of(arr).to_host
        location = "cpu" if host is None else str(t.device)
        owner = _memory_owner(arr)
        shares = arr is owner or t._base is not None or is_loaded_storage(owner)
        dense = owner.flags.c_contiguous or owner.flags.f_contiguous
        if shares and dense and arr.size and owner.dtype == arr.dtype:
            item = arr.itemsize
            flat = owner.reshape(-1, order="A")
            start = address(arr) - address(flat)
            if start % item == 0 and all(s >= 0 and s % item == 0 for s in arr.strides):
                offset, stride = start // item, list(t.stride())   # PyTorch's strides for size-1 dimensions
                if offset + sum((n - 1) * s // item for n, s in zip(arr.shape, arr.strides)) < flat.size:
                    known = self._by_owner.get(id(owner))
                    if known is None:
                        record = self._new_record(flat if host is None else host(flat), location)
                        known = self._by_owner[id(owner)] = (owner, record)
                    return known[1], offset, stride
        flat, stride = _compact(arr if host is None else host(arr))
        return self._new_record(flat, location), 0, stride

    def _new_record(self, flat, location="cpu"):
        record = _StorageRecord(str(len(self.records)), flat, location)
        self.records.append(record)
        return record


def _archive_name(f):
    if isinstance(f, (str, os.PathLike)):
        return os.path.splitext(os.path.basename(os.fspath(f)))[0] or "archive"
    return "archive"


def _write_archive(target, name, pickled, records):
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED) as z:
        z.writestr(f"{name}/data.pkl", pickled)
        z.writestr(f"{name}/.format_version", "1")
        z.writestr(f"{name}/.storage_alignment", "64")
        z.writestr(f"{name}/byteorder", "little")
        for record in records:
            little = record.flat.astype(record.flat.dtype.newbyteorder("<"), copy=False)
            with z.open(f"{name}/data/{record.key}", "w", force_zip64=little.nbytes >= 2 ** 31) as out:
                out.write(memoryview(np.ascontiguousarray(little).view(np.uint8)))
        z.writestr(f"{name}/version", "3\n")


def save(obj, f, pickle_module=pickle, pickle_protocol=2, _use_new_zipfile_serialization=True,
         _disable_byteorder_record=False):
    """Save ``obj`` (tensors, state_dicts, modules, optimizers' state...) to a file path or binary file object.

    The file is PyTorch's zip format, which ``torch.load`` reads too.  Tensors that
    share memory (views, an expanded tensor and its source) share one storage in
    the file and again after loading.  Saving to a path writes a temporary file
    and renames it, so a failure leaves any old file intact.

    Args:
        obj: the object to save.
        f: a path (``str`` or ``os.PathLike``) or a writable binary file object.
        pickle_module, pickle_protocol: accepted for compatibility; the pickle is protocol ``pickle_protocol``.

    Raises:
        RuntimeError: when the directory that should hold ``f`` does not exist.
    """
    if isinstance(f, (str, os.PathLike)):
        path = os.fspath(f)
        parent = os.path.dirname(path)
        if parent and not os.path.isdir(parent):
            raise RuntimeError(f"Parent directory {parent} does not exist.")
    buffer = io.BytesIO()
    pickler = _CheckpointPickler(buffer, pickle_protocol)
    pickler.dump(obj)
    name = _archive_name(f)
    if not isinstance(f, (str, os.PathLike)):
        _write_archive(f, name, buffer.getvalue(), pickler.records)
        return
    tmp = f"{path}.tmp{os.getpid()}"
    try:
        with open(tmp, "wb") as out:
            _write_archive(out, name, buffer.getvalue(), pickler.records)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)

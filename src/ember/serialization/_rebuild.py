"""Loading's safety line: storages read from a file, and tensors built on them only after every
size, stride and offset is checked against the storage (a hostile file must never make a tensor that
reaches memory outside its record)."""
import weakref

import numpy as np

from .. import _dtype
from .._device import CPU, backend_for, cuda_device, resolve
from .._tensor import Tensor, _make

_MAX_NBYTES = 2 ** 63


_loaded_arrays = weakref.WeakValueDictionary()   # id -> array of every storage array load has made


def is_loaded_storage(array):
    """Whether ``array`` is the memory of a storage that ``load`` read (its tensors share it as views)."""
    return _loaded_arrays.get(id(array)) is array


class LoadedStorage:
    """The data of one storage record, as ``map_location`` functions receive it (PyTorch's ``UntypedStorage``
    plays this part): ``array`` is a 1-D, writable NumPy array of the record's dtype, and ``device`` where the
    tensors built on it go (``cuda()``/``to()`` change it; the data stays on the host until each tensor is
    built, so tensors of one storage on a GPU do not share memory)."""

    def __init__(self, array, device=CPU):
        self.array, self.device = array, device
        if array.base is None:
            _loaded_arrays[id(array)] = array

    @property
    def dtype(self):
        return _dtype.from_numpy_dtype(self.array.dtype)

    @property
    def is_cuda(self):
        return self.device.type == "cuda"

    def nbytes(self):
        """Size in bytes."""
        return self.array.nbytes

    def size(self):
        """Size in elements of the record's dtype."""
        return self.array.size

    def cpu(self):
        """This storage on the CPU."""
        return self._on(CPU)

    def cuda(self, device=None, non_blocking=False):
        """This storage on a CUDA device (``Tensor.cuda``'s devices and errors where there is no CUDA)."""
        return self._on(cuda_device(device))

    def to(self, device=None, non_blocking=False):
        """This storage on ``device`` (PyTorch's error for a device this process cannot hold tensors on)."""
        d = resolve(device)
        if d.type == "cuda":
            return self.cuda(d)
        backend_for(d)
        return self._on(d)

    def _on(self, device):
        return self if device == self.device else LoadedStorage(self.array, device)

    def element(self, offset, count):
        """The storage of ``count`` elements starting at ``offset`` (a legacy-format storage view), sharing
        memory with this one."""
        _check_int("storage view offset", offset)
        _check_int("storage view size", count)
        if offset < 0 or count < 0 or offset + count > self.array.size:
            raise RuntimeError(f"storage view of {count} elements at offset {offset} is out of bounds for a "
                               f"storage of {self.array.size} elements")
        return LoadedStorage(self.array[offset:offset + count], self.device)

    def __repr__(self):
        return f"LoadedStorage(dtype={self.dtype}, size={self.array.size})"


def storage_nbytes(dtype, numel, where):
    """The byte size of a storage of ``numel`` elements of ``dtype``; ``numel`` comes from the file, so it is
    checked (PyTorch raises TypeError for counts that do not fit its byte size)."""
    if not isinstance(numel, int) or isinstance(numel, bool) or numel < 0 or numel * dtype.itemsize >= _MAX_NBYTES:
        raise TypeError(f"storage {where} declares an invalid number of elements: {numel!r}")
    return numel * dtype.itemsize


def _check_int(what, value):
    if not isinstance(value, int) or isinstance(value, bool) or not -_MAX_NBYTES <= value < _MAX_NBYTES:
        raise TypeError(f"{what} must be an int within int64, got {value!r}")


def _int_list(what, values):
    if not isinstance(values, (tuple, list)):
        raise TypeError(f"{what} must be a tuple of ints, got {type(values).__name__}")
    for v in values:
        _check_int(f"{what} entry", v)
    return [int(v) for v in values]


def strided_array(storage, offset, size, stride):
    """A NumPy view of ``storage`` with the given offset, sizes and strides (in elements), or PyTorch's
    RuntimeError when they are negative or reach past the storage's end.  Nothing is created before the
    checks pass, and NumPy's own buffer check stands behind them."""
    if not isinstance(storage, LoadedStorage):
        raise TypeError(f"expected a storage to rebuild a tensor on, got {type(storage).__name__}")
    _check_int("storage offset", offset)
    size, stride = _int_list("size", size), _int_list("stride", stride)
    if len(size) != len(stride):
        raise RuntimeError(f"unequal size length ({len(size)}) and stride length ({len(stride)})")
    for n in size:
        if n < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {n}: {size}")
    if offset < 0:
        raise RuntimeError(f"Tensor: invalid storage offset {offset}")
    array = storage.array
    item = array.itemsize
    numel = int(np.prod(size, dtype=object))
    if numel >= _MAX_NBYTES:
        raise RuntimeError(f"numel: integer multiplication overflow (sizes {size})")
    if numel * item >= _MAX_NBYTES:   # PyTorch can hold such an expanded tensor; a NumPy array cannot
        raise RuntimeError(f"sizes {size} with itemsize {item} span more bytes than an array can address")
    if 0 in size:   # reads nothing, so PyTorch checks no stride
        try:
            return np.empty(size, dtype=array.dtype)
        except ValueError:  # a dimension so large that NumPy cannot describe even an empty array
            raise RuntimeError(f"sizes {size} are too large for a tensor") from None
    if any(s < 0 and n > 1 for n, s in zip(size, stride)):
        raise RuntimeError(f"as_strided: Negative strides are not supported at the moment, got strides: {stride}")
    needed = offset + 1 + sum((n - 1) * s for n, s in zip(size, stride))
    if needed > array.size:
        raise RuntimeError(f"setStorage: sizes {size}, strides {stride}, storage offset {offset}, and itemsize "
                           f"{item} requiring a storage size of {needed * item} are out of bounds for storage of "
                           f"size {array.nbytes}")
    # a size-1 dimension never steps, whatever its stride (which may not even fit NumPy's byte strides)
    return np.ndarray(tuple(size), dtype=array.dtype, buffer=array, offset=offset * item,
                      strides=tuple(s * item if n > 1 else 0 for n, s in zip(size, stride)))


def rebuild_tensor(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None, metadata=None):
    """``torch._utils._rebuild_tensor_v2``: a tensor on a loaded storage, sharing its memory."""
    t = _make(strided_array(storage, storage_offset, size, stride))
    if storage.device != CPU:
        t = t.to(storage.device)
    if requires_grad:
        t.requires_grad = True   # raises PyTorch's error for integer dtypes
    return t


def rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks, dtype, metadata=None):
    """``torch._utils._rebuild_tensor_v3``: a tensor of ``dtype`` on an untyped (byte) storage, as PyTorch writes
    the dtypes that have no typed storage (uint16/32/64)."""
    if not isinstance(storage, LoadedStorage):
        raise TypeError(f"expected a storage to rebuild a tensor on, got {type(storage).__name__}")
    if not isinstance(dtype, _dtype.dtype):
        raise TypeError(f"expected a dtype to rebuild a tensor of, got {dtype!r}")
    array = storage.array.view(np.uint8)
    if array.size % dtype.itemsize:
        raise RuntimeError(f"an untyped storage of {array.size} bytes does not hold whole elements of {dtype}")
    typed = LoadedStorage(array.view(dtype.np), storage.device)
    return rebuild_tensor(typed, storage_offset, size, stride, requires_grad, backward_hooks, metadata)


def rebuild_tensor_v1(storage, storage_offset, size, stride):
    """``torch._utils._rebuild_tensor`` (older files)."""
    return rebuild_tensor(storage, storage_offset, size, stride)


def rebuild_parameter(data, requires_grad, backward_hooks=None, state=None):
    """``torch._utils._rebuild_parameter(_with_state)``: a Parameter over ``data``, with its attributes."""
    from ..nn.parameter import Parameter
    p = Parameter(data, bool(requires_grad))
    set_tensor_state(p, state)
    return p


def rebuild_from_type(func, new_type, args, state):
    """``torch._tensor._rebuild_from_type_v2``: a tensor of class ``new_type`` with attributes ``state``;
    ``func`` must be one of the tensor rebuild functions (a file may not call anything else through it)."""
    if func not in (rebuild_tensor, rebuild_tensor_v1, rebuild_tensor_v3, rebuild_parameter, rebuild_device_tensor_from_cpu_tensor):
        raise RuntimeError(f"cannot rebuild a tensor with {func!r}")
    t = func(*args)
    if type(t) is not new_type:
        if not (isinstance(new_type, type) and issubclass(new_type, Tensor) and isinstance(t, Tensor)):
            raise TypeError(f"cannot rebuild a tensor as {new_type!r}")
        t = new_type._make_subclass(t, t.requires_grad)
    set_tensor_state(t, state)
    return t


def rebuild_device_tensor_from_cpu_tensor(data, dtype, device, requires_grad):
    """``torch._utils._rebuild_device_tensor_from_cpu_tensor``: ``data`` moved to ``device``."""
    if not isinstance(data, Tensor):
        raise TypeError(f"expected a tensor to move to {device}, got {type(data).__name__}")
    t = data.to(dtype=dtype, device=device)
    if requires_grad:
        t.requires_grad = True
    return t


def set_tensor_state(t, state):
    """Set the attributes a checkpoint saved with tensor ``t``: ``state`` is a dict, or PyTorch's pair
    ``(dict, slots dict)``.  Names of ember's own tensor internals (``_data``, ``_base``...) are refused, so a
    file cannot point a tensor at other memory."""
    if not state:
        return
    if isinstance(state, tuple):
        if len(state) != 2:
            raise RuntimeError(f"Invalid serialized state: {state}")
        items = [*(state[0] or {}).items(), *(state[1] or {}).items()]
    elif isinstance(state, dict):
        items = state.items()
    else:
        raise TypeError(f"tensor state must be a dict, got {type(state).__name__}")
    for key, value in items:
        if not isinstance(key, str) or (key.startswith("_") and hasattr(type(t), key)):
            raise RuntimeError(f"a checkpoint may not set the tensor attribute {key!r}")
        setattr(t, key, value)


def unsupported_rebuild(kind):
    """A stand-in for PyTorch's rebuild functions of tensor kinds ember lacks (sparse, quantized, nested...)."""

    def rebuild(*args, **kwargs):
        raise RuntimeError(f"this checkpoint holds {kind} tensors, which ember does not support")

    return rebuild

"""Checked conversions: a Python number written into a tensor of some dtype, the values of a sequence given to
``tensor(..., dtype=)``, and the sizes of a tensor about to be allocated — each raising PyTorch's error where
NumPy would silently wrap, produce garbage (NaN -> int), or raise its own exception types.
"""
import math

from .. import _dtype

_MAX_BYTES = 2 ** 63 - 1
_2_POW_63 = 2 ** 63


def _bounds(dtype):
    """``(lowest, highest, unsigned)`` for a number written into the real ``dtype``: an integer type's range
    (negatives down to ``-max`` for unsigned ones, which wrap), a floating type's largest finite magnitude."""
    b = _BOUNDS.get(dtype)
    if b is None:
        if dtype._category == 1:
            info = _dtype.iinfo(dtype)
            b = (info.min if info.min else -info.max, info.max, not info.min)
        else:
            top = _dtype.finfo(dtype).max
            b = (-top, top, False)
        _BOUNDS[dtype] = b
    return b


_BOUNDS = {}   # dtype -> _bounds(dtype)


def _fits(value, dtype):
    """Whether PyTorch converts the number ``value`` to ``dtype`` without an overflow error.

    Integers into an unsigned type may be negative down to ``-max`` (they wrap, as PyTorch's ``a - b`` needs);
    NaN and infinities go only into floating types; floats beyond a floating type's range overflow."""
    category = dtype._category
    if type(value) is bool or category == 3 or dtype is _dtype.bool:
        return True
    low, high, _ = _bounds(dtype)
    if category == 1:
        if type(value) is float and not math.isfinite(value):
            return False
        return low <= value <= high
    return low <= value <= high or math.isinf(value) or math.isnan(value)


def checked_scalar(value, dtype):
    """The number ``value`` as written into a ``dtype`` tensor (full, fill_, masked_fill, index_fill, item
    assignment): PyTorch's RuntimeError when it cannot be converted; a float truncated and a negative int
    wrapped for an integer type.  A complex number goes into a real type when its imaginary part is 0 (into
    bool, by its truth)."""
    if isinstance(value, complex) and dtype._category != 3:
        if dtype is _dtype.bool:
            return bool(value)
        if value.imag:
            raise RuntimeError(f"value cannot be converted to type {_dtype.cpp_name(dtype, 'fixed')} without overflow")
        value = value.real
    if not _fits(value, dtype):
        raise RuntimeError(f"value cannot be converted to type {_dtype.cpp_name(dtype, 'fixed')} without overflow")
    if dtype._category == 1 and type(value) is not bool:
        value = int(value)
        if value < 0 and _bounds(dtype)[2]:
            value += _bounds(dtype)[1] + 1
    return value


def check_values(arr, dtype):
    """PyTorch's RuntimeError when ``tensor(data, dtype=dtype)`` meets a value of ``arr`` (the data as parsed:
    int64 or float64) that ``dtype`` cannot hold: NaN or infinity into an integer type, an integer out of
    range (negatives into unsigned types wrap down to ``-max``)."""
    if dtype._category != 1 or not arr.size or arr.dtype.kind not in "iuf":
        return
    info = _dtype.iinfo(dtype)
    lo, hi = arr.min(), arr.max()
    low = info.min if info.min else -info.max
    if not (low <= lo and hi <= info.max):   # NaN compares false: it fails here too
        raise RuntimeError(f"value cannot be converted to type {dtype.name} without overflow")


def check_size(shape, itemsize):
    """PyTorch's RuntimeError for a size with a negative dimension, or whose byte count overflows int64; returns
    the number of elements."""
    n = 1
    for s in shape:
        if not 0 <= s < _2_POW_63:
            _size_error(shape)
        n *= s
    if n * itemsize > _MAX_BYTES:
        raise RuntimeError(f"Storage size calculation overflowed with sizes={list(shape)}")
    return n


def _size_error(shape):
    for i, s in enumerate(shape):
        if s >= _2_POW_63:
            raise TypeError(f"argument 'size' failed to unpack the object at pos {i + 1} with error "
                            "\"Overflow when unpacking long long\"")
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(shape)}")


def allocation_error(exc, shape, itemsize):
    """PyTorch's RuntimeError for an allocation the memory cannot hold (NumPy raises MemoryError)."""
    nbytes = itemsize * math.prod(shape)
    return RuntimeError(f"DefaultCPUAllocator: can't allocate memory: you tried to allocate {nbytes} bytes. "
                        f"Error code 12 (Cannot allocate memory) [{exc}]")


"""Tensor creation: tensor / as_tensor / asarray / from_numpy, zeros / ones / full / empty (and _like), arange,
range, linspace, logspace, eye.

Every factory makes its array with the array module of its ``device=`` (``backend_for(device).xp``; None is
the default device, the CPU); a ``*_like`` factory uses its input's device unless ``device=`` is given.
"""
import collections.abc
import math
import os
import warnings

import numpy   # only to recognise host values the caller passes (NumPy arrays and scalars)

from .. import _dtype
from .. import _device
from ._common import Tensor, _make, backend_of, backend_for, function, write_out
from ._unsigned import refuse_wide_unsigned
from .shape import shape_arg, sizes_arg
from ._checked import checked_scalar, check_size, check_values, allocation_error
from ._ieee import cast, ignore_array_fp_errors
from ..kernels.pointwise import fill_large


def wrap_leaf(arr, requires_grad):
    """``arr`` as a new leaf tensor (that requires grad when asked)."""
    t = _make(arr)
    if requires_grad:
        t.requires_grad = True
    return t


def place(arr, device):
    """``arr`` moved to ``device`` when that is another device type (None keeps it where it is)."""
    if device is None:
        return arr
    target = backend_for(device)
    source = backend_of(arr)
    if source is target:
        return arr
    return target.from_host(source.to_host(arr), _device.device(device).index)


def like_device(input, device):
    """The device a ``*_like`` factory creates on: ``device`` when given, else ``input``'s."""
    return device if device is not None else _device.device_of(input._data)


def _flatten_tensors(data):
    """Replace 0-d tensors inside nested sequences by their Python values."""
    if isinstance(data, Tensor):
        if data._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return data.item()
    if isinstance(data, (list, tuple)) or (isinstance(data, collections.abc.Sequence)
                                           and not isinstance(data, (str, bytes))):
        return [_flatten_tensors(d) for d in data]
    return data


def _check_ragged(data, dim=0):
    """PyTorch's ValueError for nested sequences of unequal lengths."""
    if not isinstance(data, (list, tuple)) or not data:
        return
    first = data[0]
    if isinstance(first, (list, tuple)):
        n = len(first)
        for d in data[1:]:
            if not isinstance(d, (list, tuple)):
                raise TypeError("not a sequence")
            if len(d) != n:
                raise ValueError(f"expected sequence of length {n} at dim {dim + 1} (got {len(d)})")
        for d in data:
            _check_ragged(d, dim + 1)
    else:
        for d in data[1:]:
            if isinstance(d, (list, tuple)):
                raise TypeError(f"'{type(d).__name__}' object cannot be interpreted as an integer")


def is_backend_array(data):
    """True when ``data`` is an array of a registered backend (kept on its own device by ``tensor``)."""
    if not hasattr(data, "dtype") or not hasattr(data, "shape"):
        return False
    try:
        backend_of(data)
    except TypeError:
        return False
    return True


_FLAT_KINDS = {int: lambda: "int64", bool: lambda: "bool", float: lambda: _dtype.get_default_dtype().np}


class Int64Overflow(ValueError):
    """A Python int in the data beyond int64 (PyTorch's ValueError; a floating ``dtype`` still accepts it)."""


def _infer_array(data, xp, exact=False, as_float=False):
    """An array of ``data`` with PyTorch's inferred dtype (floats -> default dtype, ints -> int64).

    Nested sequences and numbers become arrays of module ``xp``; a tensor or a backend array is copied
    where it lives.  With ``exact`` Python floats stay float64 (the caller casts to an explicit dtype);
    with ``as_float`` numbers are parsed as float64.  An int beyond int64 raises PyTorch's ValueError.
    """
    if as_float:
        return xp.array(_flatten_tensors(data) if isinstance(data, (list, tuple)) else data, dtype="float64")
    try:
        return _parse(data, xp, exact)
    except OverflowError:
        raise Int64Overflow("Overflow when unpacking long long") from None


def _parse(data, xp, exact):
    if isinstance(data, Tensor):
        return data._data.copy()
    if type(data) in (list, tuple) and data:
        # fast path: a flat sequence of Python numbers of one type (what collate and most code pass)
        kind = type(data[0])
        if kind in _FLAT_KINDS and all(type(x) is kind for x in data):
            return xp.array(data, dtype="float64" if exact and kind is float else _FLAT_KINDS[kind]())
    if isinstance(data, numpy.generic):  # before the Python types: np.float64 is a float subclass
        return xp.asarray(data)
    if is_backend_array(data):
        _dtype.from_numpy_dtype(data.dtype)
        return data.copy()
    if isinstance(data, (bool, int, float, complex)):
        return xp.array(data, dtype=None if exact else _dtype.scalar_dtype(data).np)
    if isinstance(data, (str, bytes)):
        raise TypeError(f"new(): invalid data type '{type(data).__name__}'")
    if not isinstance(data, collections.abc.Iterable):
        raise RuntimeError(f"Could not infer dtype of {type(data).__name__}")
    seq = _flatten_tensors(list(data) if not isinstance(data, (list, tuple)) else data)
    _check_ragged(seq)
    try:
        arr = xp.array(seq)
    except ValueError as exc:
        raise ValueError(str(exc)) from None
    kind = arr.dtype.kind
    if exact and kind in "fc":
        return arr
    if kind == "f" and type(_first_leaf(seq)) is int and _all_ints(seq):
        raise OverflowError   # NumPy made floats of Python ints beyond int64
    if kind == "f":
        if not _has_numpy_float(seq):
            arr = arr.astype(_dtype.get_default_dtype().np)
    elif kind == "c":
        arr = arr.astype(_dtype.default_complex().np)
    elif kind in "iu":
        if arr.dtype != "int64" and not isinstance(_first_leaf(seq), (numpy.generic, numpy.ndarray)):
            if arr.dtype == "uint64" and arr.size and arr.max() > 2 ** 63 - 1:
                raise OverflowError   # Python ints beyond int64
            arr = arr.astype("int64")
    elif kind == "O" and isinstance(_first_leaf(seq), int):
        raise OverflowError
    elif kind == "O":
        raise TypeError("Could not infer dtype of " + type(_first_leaf(seq)).__name__)
    elif kind != "b":
        raise TypeError(f"can't convert data of kind {arr.dtype} to a tensor")
    return arr


def _first_leaf(seq):
    while isinstance(seq, list) and seq:
        seq = seq[0]
    return seq


def _leaves(seq):
    """The non-list leaves of the nested lists ``seq``."""
    stack = [seq]
    while stack:
        s = stack.pop()
        if isinstance(s, list):
            stack.extend(s)
        else:
            yield s


def _all_ints(seq):
    """True when every leaf of the nested lists ``seq`` is a Python int (not a bool)."""
    return all(type(s) is int for s in _leaves(seq))


def _has_numpy_float(seq):
    """True when some leaf is a NumPy float64 (PyTorch then infers float64, not the default dtype)."""
    return any(isinstance(s, (numpy.floating, numpy.ndarray)) and getattr(s, "dtype", None) == numpy.float64
               for s in _leaves(seq))


def _uint64_array(data, xp):
    """``data`` (numbers or nested sequences) as uint64: PyTorch reads each number as an unsigned int, so a
    float, a negative int or one of 2**64 and more is an error, and ints beyond int64 are fine."""
    if isinstance(data, (list, tuple)):
        data = _flatten_tensors(data)
        _check_ragged(data)
    values = numpy.array(data, dtype=object)
    if not all(isinstance(v, (int, numpy.integer)) for v in values.flat):
        raise TypeError("an integer is required")
    if (values < 0).any():
        raise OverflowError("can't convert negative int to unsigned")
    if (values >= 2 ** 64).any():
        raise OverflowError("int too big to convert")
    return xp.asarray(values.astype(numpy.uint64))


@function
def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor holding a copy of ``data`` (nested lists/tuples, numbers, arrays, tensors).

    Without ``dtype``: floats give the default dtype, ints int64, bools bool, and arrays keep their
    dtype.  The tensor is on ``device``; without it, on the default device when one was set (arrays and
    tensors too, as in PyTorch), else a tensor or backend array stays on its device.
    """
    if device is None:
        device = _device.get_default_device() if _device._default_device is not None else None
    xp = backend_for(device).xp
    if isinstance(data, Tensor):
        warnings.warn("To copy construct from a tensor, it is recommended to use sourceTensor.detach().clone() or "
                      "sourceTensor.detach().clone().requires_grad_(True), rather than torch.tensor(sourceTensor).",
                      UserWarning, stacklevel=2)
    if dtype is None:
        return wrap_leaf(place(_infer_array(data, xp), device), requires_grad)
    if dtype is _dtype.uint64 and not (isinstance(data, Tensor) or is_backend_array(data)):
        return wrap_leaf(place(_uint64_array(data, xp), device), requires_grad)
    try:
        arr = _infer_array(data, xp, exact=True)
    except Int64Overflow:
        if dtype._category < 2:
            raise
        arr = _infer_array(data, xp, exact=True, as_float=True)   # ints beyond int64 are parsed as doubles
    if arr.dtype != dtype.np:
        if not (isinstance(data, Tensor) or is_backend_array(data)):
            check_values(arr, dtype)
        arr = cast(arr, dtype.np)   # a float beyond the dtype's range becomes inf, as in PyTorch
    return wrap_leaf(place(arr, device), requires_grad)


@function
def as_tensor(data, dtype=None, device=None):
    """``data`` as a tensor, sharing memory with a tensor or array of the same dtype and device."""
    backend_for(device)
    if isinstance(data, Tensor):
        t = data
    elif isinstance(data, numpy.ndarray):
        t = from_numpy(data) if data.strides and min(data.strides) >= 0 or not data.strides else \
            _make(data.copy())
    elif is_backend_array(data):
        _dtype.from_numpy_dtype(data.dtype)
        t = _make(data)
    else:
        return tensor(data, dtype=dtype, device=device)
    if device is not None and backend_of(t._data) is not backend_for(device):
        t = t.to(device)
    return t if dtype is None or t.dtype is dtype else t.to(dtype)


@function
def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=False):
    """Convert ``obj`` to a tensor, sharing memory when possible (``copy=True`` forces a copy)."""
    t = as_tensor(obj, dtype=dtype, device=device)
    if copy:
        t = _make(t._data.copy())
    if requires_grad:
        t.requires_grad = True
    return t


@function
def from_numpy(ndarray):
    """A CPU tensor sharing memory with the NumPy array ``ndarray`` and keeping its dtype."""
    if not isinstance(ndarray, numpy.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    _dtype.from_numpy_dtype(ndarray.dtype)
    if any(s < 0 for s in ndarray.strides):
        raise ValueError("At least one stride in the given numpy array is negative, and tensors with negative "
                         "strides are not currently supported. (You can probably work around this by making a "
                         "copy of your array  with array.copy().) ")
    if not ndarray.flags.writeable:
        warnings.warn("The given NumPy array is not writable, and PyTorch does not support non-writable tensors. "
                      "This means writing to this tensor will result in undefined behavior.", UserWarning,
                      stacklevel=2)
    arr = ndarray if ndarray.dtype.isnative else ndarray.astype(ndarray.dtype.newbyteorder("="))
    return _make(arr)


@function
def from_file(filename, shared=None, size=0, *, dtype=None, layout=None, device=None, pin_memory=False):
    """A 1-D CPU tensor of ``size`` elements over the memory-mapped file ``filename``.

    With ``shared=True`` writes to the tensor reach the file (created, or grown, to ``size`` elements when
    shorter); otherwise the mapping is copy-on-write and the file must hold ``size * itemsize`` bytes.
    """
    dt = _dtype.get_default_dtype() if dtype is None else dtype
    if _device.device(device or "cpu").type != "cpu":
        raise RuntimeError("from_file: only CPU tensors can be mapped from a file")
    nbytes = size * dt.itemsize
    if shared:
        with open(filename, "ab") as f:   # create it when missing
            if f.tell() < nbytes:
                f.truncate(nbytes)
    elif not os.path.exists(filename):
        raise RuntimeError(f"unable to open file <{filename}> in read-only mode: No such file or directory (2)")
    elif os.path.getsize(filename) < nbytes:
        raise RuntimeError(f"file <{filename}> size <{os.path.getsize(filename)}> is smaller than the required "
                           f"mapping size <{nbytes}>")
    if size == 0:
        return _make(numpy.empty(0, dt.np))
    mapped = numpy.memmap(filename, dtype=dt.np, mode="r+" if shared else "c", shape=(size,))
    return _make(mapped.view(numpy.ndarray))   # a plain array over the mapping, which it keeps alive


def _sized(shape, dtype, fill, requires_grad, device):
    """A tensor of ``shape`` on ``device``: uninitialised (``fill`` None), zeros, or ``fill`` everywhere."""
    xp = backend_for(device).xp
    dtype = dtype or _dtype.get_default_dtype()
    dt = dtype.np
    check_size(shape, dt.itemsize)
    try:
        if fill is None:
            arr = xp.empty(shape, dtype=dt)
        elif type(fill) is int and fill == 0:   # not a float: -0.0 keeps its sign
            arr = xp.zeros(shape, dtype=dt)
        else:
            value = checked_scalar(fill, dtype)
            arr = xp.empty(shape, dtype=dt)
            fill_large(arr, value)   # what xp.full does, without its Python-level steps, large ones split
    except MemoryError as exc:
        raise allocation_error(exc, shape, dt.itemsize) from None
    return wrap_leaf(arr, requires_grad)


@function
def zeros(*sizes, size=None, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """A tensor of zeros; sizes as varargs, one sequence or the keyword ``size``."""
    shape = sizes_arg("zeros", sizes, size)
    for s in shape:
        if s < 0:
            raise RuntimeError("zeros: Dimension size must be non-negative.")
    res = _sized(shape, dtype, 0, requires_grad, device)
    return write_out(out, res) if out is not None else res


@function
def ones(*sizes, size=None, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """A tensor of ones; sizes as varargs, one sequence or the keyword ``size``."""
    res = _sized(sizes_arg("ones", sizes, size), dtype, 1, requires_grad, device)
    return write_out(out, res) if out is not None else res


@function
def empty(*sizes, size=None, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False,
          memory_format=None):
    """An uninitialised tensor; sizes as varargs, one sequence or the keyword ``size``."""
    res = _sized(sizes_arg("empty", sizes, size), dtype, None, requires_grad, device)
    return write_out(out, res) if out is not None else res


def _item(x):
    """A 0-d tensor or NumPy scalar as its Python number; other values unchanged."""
    return x.item() if isinstance(x, (Tensor, numpy.generic)) else x


@function
def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """A tensor filled with ``fill_value``; the dtype follows the value when not given."""
    fill_value = _item(fill_value)
    if dtype is None:
        dtype = _dtype.scalar_dtype(fill_value)
    res = _sized((size,) if isinstance(size, int) else shape_arg((size,)), dtype, fill_value, requires_grad,
                 device)
    return write_out(out, res) if out is not None else res


@function
def zeros_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    """Zeros with ``input``'s shape, dtype and device."""
    return _sized(input._data.shape, dtype or input.dtype, 0, requires_grad, like_device(input, device))


@function
def ones_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    """Ones with ``input``'s shape, dtype and device."""
    return _sized(input._data.shape, dtype or input.dtype, 1, requires_grad, like_device(input, device))


@function
def empty_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    """Uninitialised memory with ``input``'s shape, dtype and device."""
    return _sized(input._data.shape, dtype or input.dtype, None, requires_grad, like_device(input, device))


@function
def full_like(input, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    """``fill_value`` everywhere, with ``input``'s shape, dtype and device."""
    return _sized(input._data.shape, dtype or input.dtype, _item(fill_value), requires_grad,
                  like_device(input, device))


@function
def arange(start=0, end=None, step=1, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """Values from ``start`` (inclusive) to ``end`` (exclusive) by ``step``; int64 unless a bound is a float."""
    xp = backend_for(device).xp
    if dtype is not None:
        refuse_wide_unsigned("arange_cpu", dtype.np)
    if end is None:
        start, end = 0, start
    start, end, step = _item(start), _item(end), _item(step)
    for v in (start, end):
        if isinstance(v, float) and not math.isfinite(v):
            raise RuntimeError(f"unsupported range: {start} -> {end}")
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) / step < 0:
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    if dtype is None:
        dtype = _dtype.get_default_dtype() if any(isinstance(v, float) for v in (start, end, step)) else _dtype.int64
    n = max(0, math.ceil((end - start) / step))
    if n >= 2 ** 63:
        raise RuntimeError("invalid size, possible overflow?")
    check_size((n,), dtype.np.itemsize)
    if dtype.is_floating_point:
        arr = (start + xp.arange(n, dtype="float64") * step).astype(dtype.np)
    else:
        arr = xp.arange(start, start + n * step, step, dtype="float64" if isinstance(step, float) else None)[:n]
        arr = arr.astype(dtype.np)
    res = wrap_leaf(arr, requires_grad)
    return write_out(out, res) if out is not None else res


@function
def range(start=0, end=None, step=1, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """Deprecated: values from ``start`` to ``end`` inclusive."""
    warnings.warn("torch.range is deprecated and will be removed in a future release because its behavior is "
                  "inconsistent with Python's range builtin. Instead, use torch.arange, which produces values in "
                  "[start, end).", UserWarning, stacklevel=2)
    xp = backend_for(device).xp
    n = int((end - start) / step) + 1
    arr = (start + xp.arange(n, dtype="float64") * step).astype((dtype or _dtype.get_default_dtype()).np)
    res = wrap_leaf(arr, requires_grad)
    return write_out(out, res) if out is not None else res


def _linspace_array(xp, start, end, steps, dt):
    """``steps`` evenly spaced values as PyTorch computes them: forward from ``start`` for the first half and
    backward from ``end`` for the second, so both ends are exact."""
    if not dt.is_floating_point:
        return xp.linspace(start, end, steps).astype(dt.np)
    work = dt.np if dt.itemsize >= 4 else _dtype.float32.np
    idx = xp.arange(steps, dtype=work)
    if steps == 1:
        arr = xp.full(1, start, dtype=work)
    else:
        step = work.type((end - start) / (steps - 1))
        half = steps // 2
        with ignore_array_fp_errors(idx):   # an infinite end gives PyTorch's inf/nan quietly
            arr = xp.where(idx < half, work.type(start) + step * idx, work.type(end) - step * (steps - 1 - idx))
    return cast(arr, dt.np)


@function
def linspace(start, end, steps, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    xp = backend_for(device).xp
    start, end = _item(start), _item(end)
    if not isinstance(steps, int) or steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    check_size((steps,), (dtype or _dtype.get_default_dtype()).np.itemsize)
    res = wrap_leaf(_linspace_array(xp, start, end, steps, dtype or _dtype.get_default_dtype()), requires_grad)
    return write_out(out, res) if out is not None else res


@function
def logspace(start, end, steps, base=10.0, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """``base ** linspace(start, end, steps)``."""
    xp = backend_for(device).xp
    start, end = _item(start), _item(end)
    if not isinstance(steps, int) or steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    check_size((steps,), (dtype or _dtype.get_default_dtype()).np.itemsize)
    lin = _linspace_array(xp, start, end, steps, _dtype.float64)
    res = wrap_leaf(xp.power(base, lin).astype((dtype or _dtype.get_default_dtype()).np), requires_grad)
    return write_out(out, res) if out is not None else res


@function
def eye(n, m=None, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """A 2-D tensor with ones on the diagonal: ``n`` rows and ``m`` (default ``n``) columns."""
    xp = backend_for(device).xp
    if n < 0:
        raise RuntimeError(f"n must be greater or equal to 0, got {n}")
    res = wrap_leaf(xp.eye(n, m if m is not None else n, dtype=(dtype or _dtype.get_default_dtype()).np),
                    requires_grad)
    return write_out(out, res) if out is not None else res

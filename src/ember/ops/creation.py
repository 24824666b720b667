"""Tensor creation: tensor / as_tensor / from_numpy, zeros / ones / full / empty (and _like), arange,
linspace, logspace, eye."""
import collections.abc
import warnings

from .. import _dtype
from .._device import as_cpu
from ._common import xp, Tensor, _make, Size
from .shape import _shape_arg


def _finish(arr, requires_grad):
    t = _make(arr)
    if requires_grad:
        t.requires_grad = True
    return t


def _flatten_tensors(data):
    """Replace 0-d tensors inside nested sequences by their Python values."""
    if isinstance(data, Tensor):
        if data._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return data.item()
    if isinstance(data, (list, tuple)) or isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
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


def _infer_array(data, exact=False):
    """A NumPy array of ``data`` with PyTorch's inferred dtype (floats -> default dtype, ints -> int64).

    With ``exact`` Python floats stay float64 (the caller casts to an explicit dtype itself).
    """
    if isinstance(data, xp.ndarray):
        _dtype.from_numpy_dtype(data.dtype)
        return data.copy()
    if isinstance(data, Tensor):
        return data._data.copy()
    if isinstance(data, xp.generic):  # before the Python types: np.float64 is a float subclass
        return xp.array(data)
    if isinstance(data, (bool, int, float, complex)):
        return xp.array(data, dtype=None if exact else _dtype.scalar_dtype(data).np)
    if isinstance(data, (str, bytes)):
        raise TypeError(f"new(): invalid data type '{type(data).__name__}'")
    if not isinstance(data, collections.abc.Iterable):
        raise RuntimeError(f"Could not infer dtype of {type(data).__name__}")
    if type(data) in (list, tuple) and data:
        # fast path: a flat sequence of Python numbers of one type (what collate and most code pass)
        kind = type(data[0])
        if kind in _FLAT_KINDS and all(type(x) is kind for x in data):
            return xp.array(data, dtype=xp.float64 if exact and kind is float else _FLAT_KINDS[kind]())
    seq = _flatten_tensors(list(data) if not isinstance(data, (list, tuple)) else data)
    _check_ragged(seq)
    try:
        arr = xp.array(seq)
    except (ValueError, OverflowError) as exc:
        raise ValueError(str(exc)) from None
    kind = arr.dtype.kind
    if exact and kind in "fc":
        return arr
    if kind == "f":
        if not _has_numpy_float(seq):
            arr = arr.astype(_dtype.get_default_dtype().np)
    elif kind == "c":
        arr = arr.astype(_dtype.default_complex().np)
    elif kind in "iu":
        if arr.dtype != xp.int64 and not _has_numpy_scalar(seq):
            arr = arr.astype(xp.int64)
    elif kind == "b":
        pass
    elif kind == "O":
        raise TypeError("Could not infer dtype of " + type(_first_leaf(seq)).__name__)
    else:
        raise TypeError(f"can't convert data of kind {arr.dtype} to a tensor")
    return arr


_FLAT_KINDS = {int: lambda: xp.int64, bool: lambda: xp.bool_,
               float: lambda: _dtype.get_default_dtype().np}


def _first_leaf(seq):
    while isinstance(seq, list) and seq:
        seq = seq[0]
    return seq


def _has_numpy_float(seq):
    """True when some leaf is a NumPy float64 (PyTorch then infers float64, not the default dtype)."""
    stack = [seq]
    while stack:
        s = stack.pop()
        if isinstance(s, list):
            stack.extend(s)
        elif isinstance(s, (xp.floating, xp.ndarray)) and getattr(s, "dtype", None) == xp.float64:
            return True
    return False


def _has_numpy_scalar(seq):
    return isinstance(_first_leaf(seq), (xp.generic, xp.ndarray))


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor holding a copy of ``data`` (nested lists/tuples, numbers, arrays, tensors).

    Without ``dtype``: floats give the default dtype, ints int64, bools bool,
    and NumPy arrays keep their dtype.
    """
    as_cpu(device)
    if isinstance(data, Tensor):
        warnings.warn("To copy construct from a tensor, it is recommended to use sourceTensor.detach().clone() or "
                      "sourceTensor.detach().clone().requires_grad_(True), rather than torch.tensor(sourceTensor).",
                      UserWarning, stacklevel=2)
    if dtype is None:
        return _finish(_infer_array(data), requires_grad)
    arr = _infer_array(data, exact=True)
    if arr.dtype != dtype.np:
        if dtype._category == 1 and arr.size and arr.dtype.kind in "iuf" and not isinstance(data, (xp.ndarray, Tensor)):
            info = xp.iinfo(dtype.np)
            lo, hi = arr.min(), arr.max()
            if hi > info.max or (lo < info.min if info.min else lo < -info.max - 1):
                raise RuntimeError(f"value cannot be converted to type {dtype.name} without overflow")
        arr = arr.astype(dtype.np)
    return _finish(arr, requires_grad)


def as_tensor(data, dtype=None, device=None):
    """``data`` as a tensor, sharing memory with a tensor or NumPy array of the same dtype."""
    as_cpu(device)
    if isinstance(data, Tensor):
        return data if dtype is None or data.dtype is dtype else data.to(dtype)
    if isinstance(data, xp.ndarray):
        t = from_numpy(data) if data.strides and min(data.strides) >= 0 or not data.strides else \
            _make(data.copy())
        return t if dtype is None or t.dtype is dtype else t.to(dtype)
    return tensor(data, dtype=dtype)


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=False):
    """Convert ``obj`` to a tensor, sharing memory when possible (``copy=True`` forces a copy)."""
    if copy:
        t = as_tensor(obj, dtype=dtype, device=device)
        t = _make(t._data.copy())
    else:
        t = as_tensor(obj, dtype=dtype, device=device)
    if requires_grad:
        t.requires_grad = True
    return t


def from_numpy(ndarray):
    """A tensor sharing memory with ``ndarray`` and keeping its dtype."""
    if not isinstance(ndarray, xp.ndarray):
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


def _sized(size, dtype, fill, requires_grad, device):
    as_cpu(device)
    shape = _shape_arg(size)
    for s in shape:
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(shape)}")
    dt = (dtype or _dtype.get_default_dtype()).np
    if fill is None:
        arr = xp.empty(shape, dtype=dt)
    elif fill == 0:
        arr = xp.zeros(shape, dtype=dt)
    else:
        arr = xp.full(shape, fill, dtype=dt)
    return _finish(arr, requires_grad)


def _out(out, res):
    if out is None:
        return res
    from .elementwise import write_out
    return write_out(out, res)


def zeros(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """A tensor of zeros; sizes as varargs or one sequence."""
    shape = _shape_arg(size)
    for s in shape:
        if s < 0:
            raise RuntimeError("zeros: Dimension size must be non-negative.")
    return _out(out, _sized((shape,), dtype, 0, requires_grad, device))


def ones(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """A tensor of ones; sizes as varargs or one sequence."""
    return _out(out, _sized(size, dtype, 1, requires_grad, device))


def empty(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False,
          memory_format=None):
    """An uninitialised tensor; sizes as varargs or one sequence."""
    return _out(out, _sized(size, dtype, None, requires_grad, device))


def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """A tensor filled with ``fill_value``; the dtype follows the value when not given."""
    if dtype is None:
        fill_value = fill_value.item() if isinstance(fill_value, (Tensor, xp.generic)) else fill_value
        dtype = _dtype.scalar_dtype(fill_value)
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    return _out(out, _sized((size,) if isinstance(size, int) else tuple(size), dtype, fill_value, requires_grad,
                            device))


def _like(input, dtype, fill, requires_grad):
    return _sized((input._data.shape,), dtype or input.dtype, fill, requires_grad, None)


def zeros_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    """Zeros with ``input``'s shape and dtype."""
    return _like(input, dtype, 0, requires_grad)


def ones_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    """Ones with ``input``'s shape and dtype."""
    return _like(input, dtype, 1, requires_grad)


def empty_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    """Uninitialised memory with ``input``'s shape and dtype."""
    return _like(input, dtype, None, requires_grad)


def full_like(input, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    """``fill_value`` everywhere, with ``input``'s shape and dtype."""
    return _like(input, dtype, fill_value, requires_grad)


def _number(x):
    return x.item() if isinstance(x, (Tensor, xp.generic)) else x


def arange(start=0, end=None, step=1, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """Values from ``start`` (inclusive) to ``end`` (exclusive) by ``step``; int64 unless a bound is a float."""
    as_cpu(device)
    if end is None:
        start, end = 0, start
    start, end, step = _number(start), _number(end), _number(step)
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) / step < 0:
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    if dtype is None:
        dtype = _dtype.get_default_dtype() if any(isinstance(v, float) for v in (start, end, step)) else _dtype.int64
    import math
    n = max(0, math.ceil((end - start) / step))
    if dtype.is_floating_point:
        arr = (start + xp.arange(n, dtype=xp.float64) * step).astype(dtype.np)
    else:
        arr = xp.arange(start, start + n * step, step, dtype=xp.float64 if isinstance(step, float) else None)[:n]
        arr = arr.astype(dtype.np)
    return _out(out, _finish(arr, requires_grad))


def range(start=0, end=None, step=1, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """Deprecated: values from ``start`` to ``end`` inclusive."""
    warnings.warn("torch.range is deprecated and will be removed in a future release because its behavior is "
                  "inconsistent with Python's range builtin. Instead, use torch.arange, which produces values in "
                  "[start, end).", UserWarning, stacklevel=2)
    n = int((end - start) / step) + 1
    arr = (start + xp.arange(n, dtype=xp.float64) * step).astype((dtype or _dtype.get_default_dtype()).np)
    return _out(out, _finish(arr, requires_grad))


def linspace(start, end, steps, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    as_cpu(device)
    start, end = _number(start), _number(end)
    if not isinstance(steps, int) or steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    dt = dtype or _dtype.get_default_dtype()
    if dt.is_floating_point:
        work = dt.np if dt.itemsize >= 4 else xp.float32
        idx = xp.arange(steps, dtype=work)
        if steps == 1:
            arr = xp.full(1, start, dtype=work)
        else:
            step = work.type((end - start) / (steps - 1))
            half = steps // 2
            arr = xp.where(idx < half, work.type(start) + step * idx, work.type(end) - step * (steps - 1 - idx))
        arr = arr.astype(dt.np)
    else:
        arr = xp.linspace(start, end, steps).astype(dt.np)
    return _out(out, _finish(arr, requires_grad))


def logspace(start, end, steps, base=10.0, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """``base ** linspace(start, end, steps)``."""
    dt = dtype or _dtype.get_default_dtype()
    lin = linspace(start, end, steps, dtype=_dtype.float64)
    arr = xp.power(base, lin._data).astype(dt.np)
    return _out(out, _finish(arr, requires_grad))


def eye(n, m=None, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """A 2-D tensor with ones on the diagonal: ``n`` rows and ``m`` (default ``n``) columns."""
    as_cpu(device)
    if n < 0:
        raise RuntimeError(f"n must be greater or equal to 0, got {n}")
    arr = xp.eye(n, m if m is not None else n, dtype=(dtype or _dtype.get_default_dtype()).np)
    return _out(out, _finish(arr, requires_grad))

"""Helpers shared by every op family: wrapping arrays, dtype promotion of operands, gradient shaping,
writing into ``out=``, in-place forms, and PyTorch's dtype names for messages.

An op gets its array module from its inputs (``array_module(t)``), never from a
module bound at import.  ``numpy`` here only recognises and converts the NumPy
values a caller passes as operands (scalars, arrays); it computes nothing.
"""
import numpy

from .. import _dtype
from .._device import array_module, module_of_array, backend_of, backend_for
from .._tensor import Tensor, _make, _make_view, Size
from ..autograd.graph import Node
from ..autograd.grad_mode import GradMode
from ._record import record
from ._declare import op, method, function

__all__ = ["Autocast", "autocast_args", "array_module", "module_of_array", "backend_of", "backend_for",
           "ignore_fp_errors", "Tensor", "Node", "record", "op", "method",
           "function", "GradMode", "_make", "_make_view", "Size", "needs_grad", "float_array", "unbroadcast",
           "grad_for", "as_tensor_arg", "same_device_arrays", "broadcast_error", "norm_dims", "scalar_value",
           "binary_arrays", "zero_of", "one_of", "wrap_dim",
           "write_out", "inplace", "check_inplace_leaf", "assign_result", "dtype_name"]

_NUMBER = (int, float, bool, complex)


class Autocast:
    """What autocast regions ask of matmul/conv ops; set by ``ember.amp`` when a region opens or closes.

    Attributes:
        cpu_dtype: not None while an autocast region of any device is on (the ops' one-attribute test; the
            CPU region's dtype when that one is on).
        dtypes: device type -> the dtype its region casts to (None: off there).
        bf16_gemm: a CUDA bfloat16 region is on: float32 GEMMs run in bfloat16 (CuPy has no bfloat16
            arrays, so CUDA tensors stay float32).
    """
    cpu_dtype = None
    dtypes = {}
    bf16_gemm = False


def autocast_args(*tensors):
    """``tensors`` with floating ones (except float64) cast to their device's active autocast dtype."""
    out = []
    for t in tensors:
        if isinstance(t, Tensor) and t._data.dtype.kind == "f" and t._data.dtype != "float64":
            dt = Autocast.dtypes.get(t.device.type)
            if dt is not None and t.dtype is not dt and not (dt is _dtype.bfloat16 and t.device.type == "cuda"):
                t = t.to(dt)
        out.append(t)
    return tuple(out)


def needs_grad(*tensors):
    """True when grad mode is on and any of ``tensors`` requires grad."""
    if not GradMode.enabled:
        return False
    for t in tensors:
        if isinstance(t, Tensor) and t._requires_grad:
            return True
    return False


def float_array(t):
    """``t``'s array, promoted to the default float dtype when it is integral or bool."""
    a = t._data
    if a.dtype.kind in "fcV" or a.dtype.name == "bfloat16":
        return a
    return a.astype(_dtype.get_default_dtype().np)


def scalar_value(x):
    """A NumPy scalar or 0-d array as the matching Python number; other values unchanged."""
    if isinstance(x, numpy.generic):
        return x.item()
    return x


def as_tensor_arg(x, like=None):
    """Turn a Python number / sequence / ndarray operand into a tensor."""
    if isinstance(x, Tensor):
        return x
    from .creation import tensor
    if isinstance(x, numpy.ndarray):
        return _make(x)
    if like is not None and isinstance(x, _NUMBER):
        return tensor(x, dtype=_dtype.result_type(like, x))
    return tensor(x)


# NumPy 2 takes ``array * 1.5`` 0.3-1 us longer on small arrays than ``array * array(1.5, array.dtype)`` (its Python
# scalar path); the two compute alike (the weak scalar is cast to the array's dtype first), so a Python float meeting
# a floating CPU array becomes a cached read-only 0-d array of that dtype.  Zero and NaN are left alone: -0.0 == 0.0
# and NaN != NaN would confuse the cache.
_SCALAR_ARRAYS = {}


def _scalar_array(da, b):
    if type(da) is not numpy.ndarray or not b or b != b:
        return b
    key = (b, da.dtype.char)
    z = _SCALAR_ARRAYS.get(key)
    if z is None:
        if len(_SCALAR_ARRAYS) >= 256:   # bounded: a loop over changing numbers keeps at most ~50 KB here
            _SCALAR_ARRAYS.clear()
        try:
            z = numpy.array(b, da.dtype)
        except RuntimeWarning:   # beyond the dtype's range under a warning filter that raises: NumPy's own path
            return b
        z.flags.writeable = False
        _SCALAR_ARRAYS[key] = z
    return z


def _read_only(value, np_dtype):
    z = numpy.array(value, np_dtype)
    z.flags.writeable = False
    return z


_ZEROS = {"f": _read_only(0, numpy.float32), "d": _read_only(0, numpy.float64)}
_ONES = {"f": _read_only(1, numpy.float32), "d": _read_only(1, numpy.float64)}


def zero_of(da):
    """A read-only 0-d zero of float32/float64 NumPy array ``da``'s dtype, else the number 0: ``maximum(a, 0)`` and
    ``a > 0`` give the same with it and skip NumPy 2's conversion of the Python number (0.4-0.5 us a call)."""
    if type(da) is numpy.ndarray:
        return _ZEROS.get(da.dtype.char, 0)
    return 0


def one_of(da):
    """A read-only 0-d one of float32/float64 NumPy array ``da``'s dtype, else the number 1 (as ``zero_of``): for
    the array formulas of tanh and sigmoid, ``_scalar_array(da, 1.0)`` without its checks."""
    if type(da) is numpy.ndarray:
        return _ONES.get(da.dtype.char, 1.0)
    return 1.0


def binary_arrays(a, b):
    """The arrays (or Python scalar) for a binary op on ``a`` and ``b``, cast to PyTorch's result dtype.

    ``a`` or ``b`` may be a Python number (a weak scalar that never upcasts a tensor).
    Returns ``(array_a, array_b)``.
    """
    if type(b) is float:   # tensor and Python float (x * 0.5), the commonest mixed case: a cached scalar array
        da = a._data
        z = _SCALAR_ARRAYS.get((b, da.dtype.char)) if type(da) is numpy.ndarray else None
        if z is not None:
            return da, z
    elif isinstance(b, Tensor):
        if isinstance(a, Tensor):
            da, db = a._data, b._data
            if type(da) is not type(db):
                da, db = same_device_arrays(a, b)
            if da.dtype == db.dtype:
                return da, db
            rd = _dtype.result_type(a, b).np
            return da.astype(rd, copy=False), db.astype(rd, copy=False)
        a, b = b, a
        db, da = binary_arrays(a, b)
        return da, db
    da = a._data
    if isinstance(b, numpy.generic):
        b = b.item()
    elif isinstance(b, numpy.ndarray):
        return binary_arrays(a, _make(b))
    kind = da.dtype.kind
    if type(b) is float:
        if kind in "fc":
            return da, _scalar_array(da, b)
        if da.dtype.name == "bfloat16":
            # ml_dtypes promotes bfloat16 with a Python float to float32; a bfloat16 scalar keeps the tensor's dtype
            return da, da.dtype.type(b)
    elif type(b) is int:
        if kind in "fc" or kind == "i" and (-128 <= b <= 127 or da.itemsize == 8) or kind == "u" and 0 <= b <= 255:
            return da, b
        if kind in "iu":
            # PyTorch casts the scalar to the tensor's integer type, wrapping around (int8 + 1000 == int8 - 24)
            return da, numpy.array(b, dtype=numpy.int64).astype(da.dtype)[()]
    elif not isinstance(b, _NUMBER):
        raise TypeError(f"unsupported operand type: Tensor and {type(b).__name__}")
    rd = _dtype.result_type(a, b).np
    return da.astype(rd, copy=False), b


def same_device_arrays(*tensors):
    """The arrays of ``tensors``, all on one device, or PyTorch's RuntimeError when they are on two.

    A 0-d CPU tensor among tensors of another device is copied there: PyTorch takes it as a scalar.
    """
    arrays = [t._data for t in tensors]
    backends = [backend_of(a) for a in arrays]
    main = next((i for i, (a, b) in enumerate(zip(arrays, backends)) if a.ndim or b.device_type != "cpu"), 0)
    target, where = backends[main], arrays[main]
    for i, (a, b) in enumerate(zip(arrays, backends)):
        if b is target:
            continue
        if a.ndim == 0 and b.device_type == "cpu":
            arrays[i] = target.from_host(a, target.device_index(where))
            continue
        first, other = tensors[main].device, tensors[i].device
        if first.type == "cpu":   # PyTorch names the accelerator's device first
            first, other = other, first
        raise RuntimeError(f"Expected all tensors to be on the same device, but found at least two devices, "
                           f"{first} and {other}!")
    return arrays


def broadcast_error(a_shape, b_shape):
    """PyTorch's message for shapes that do not broadcast."""
    a, b = list(a_shape), list(b_shape)
    n = max(len(a), len(b))
    a, b = [1] * (n - len(a)) + a, [1] * (n - len(b)) + b
    for i in range(n - 1, -1, -1):
        if a[i] != b[i] and a[i] != 1 and b[i] != 1:
            return RuntimeError(f"The size of tensor a ({a[i]}) must match the size of tensor b ({b[i]}) "
                                f"at non-singleton dimension {i}")
    return RuntimeError(f"shapes {tuple(a_shape)} and {tuple(b_shape)} cannot be broadcast")


def unbroadcast(grad, shape):
    """Sum ``grad`` down to ``shape`` (the inverse of broadcasting), with ember ops."""
    gshape = grad._data.shape
    if gshape == shape:
        return grad
    lead = len(gshape) - len(shape)
    dims = tuple(range(lead)) + tuple(i + lead for i, s in enumerate(shape) if s == 1 and gshape[i + lead] != 1)
    if dims:
        grad = grad.sum(dims, keepdim=True)
    if lead:
        grad = grad.reshape(shape)
    return grad


def grad_for(grad, t):
    """``grad`` reduced to the shape of tensor ``t`` and cast to its dtype (None when t needs none)."""
    if not getattr(t, "_requires_grad", False):  # t may be a Python number
        return None
    g = unbroadcast(grad, t._data.shape)
    dt = t.dtype
    if g.dtype is not dt:
        g = g.to(dt)
    return g


def wrap_dim(dim, ndim):
    """``dim`` made non-negative for a tensor of ``ndim`` dims (IndexError when out of range)."""
    lo, hi = (-1, 0) if ndim == 0 else (-ndim, ndim - 1)
    if dim < lo or dim > hi:
        raise IndexError(f"Dimension out of range (expected to be in range of [{lo}, {hi}], but got {dim})")
    return dim % ndim if ndim else 0


def norm_dims(dim, ndim):
    """A tuple of non-negative dims from an int, a sequence, or None (all dims).

    A 0-d tensor accepts dim 0 / -1 but has no axis to reduce: its dims are ``()``."""
    if dim is None:
        return tuple(range(ndim))
    if ndim == 0:
        for d in (dim if isinstance(dim, (list, tuple, Size)) else (dim,)):
            wrap_dim(d, 0)
        return ()
    if isinstance(dim, (list, tuple, Size)):
        if not dim:
            return tuple(range(ndim))
        out = tuple(wrap_dim(d, ndim) for d in dim)
        if len(set(out)) != len(out):
            raise RuntimeError(f"dim {out[0]} appears multiple times in the list of dims")
        return out
    return (wrap_dim(dim, ndim),)


def ignore_fp_errors(t):
    """A context in which ``t``'s array module raises no floating-point warnings (0/0, overflow ...): PyTorch
    computes those silently, with IEEE results."""
    return backend_of(t._data).errstate(all="ignore")


# ---------------------------------------------------------------------------- messages
dtype_name = _dtype.scalar_name   # 'Float', 'Long', ... as PyTorch's messages print dtypes


# ---------------------------------------------------------------------------- out= and in-place forms
def write_out(out, result):
    """Copy ``result`` into the user's ``out=`` tensor (resizing an empty one) and return ``out``."""
    if not isinstance(out, Tensor):
        raise TypeError(f"out must be a Tensor, not {type(out).__name__}")
    if out._requires_grad and GradMode.enabled:
        raise RuntimeError("out=... arguments don't support automatic differentiation, but one of the "
                           "arguments requires grad.")
    if out._data.shape != result._data.shape:
        if out._data.size:
            import warnings
            warnings.warn(f"An output with one or more elements was resized since it had shape "
                          f"{list(out.shape)}, which does not match the required output shape {list(result.shape)}. "
                          "This behavior is deprecated.", UserWarning, stacklevel=3)
        out._data = array_module(out).empty(result._data.shape, dtype=out._data.dtype)
    elif not _dtype.can_cast(result.dtype, out.dtype):
        raise RuntimeError(f"result type {dtype_name(result.dtype)} can't be cast to the desired output type "
                           f"{dtype_name(out.dtype)}")
    out._data[...] = result._data
    out._version[0] += 1
    return out


def check_inplace_leaf(t):
    """PyTorch's error for an in-place op on a leaf that requires grad, while grad mode is on."""
    if t._requires_grad and t._grad_fn is None and GradMode.enabled:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")


def inplace(op):
    """The in-place form of an out-of-place op: ``op_(self, *args)`` writes the result into ``self``.

    Under grad mode the op is recorded out-of-place and ``self`` takes over
    the result's history, so backward sees the new value.
    """
    def op_(self, *args, **kwargs):
        check_inplace_leaf(self)
        if self._base is not None:
            from ._views import prepare
            prepare(self)
        if GradMode.enabled and (self._requires_grad or any(isinstance(a, Tensor) and a._requires_grad
                                                                for a in args)):
            old = _make(self._data.copy())
            old._version = [self._version[0]]
            old._requires_grad = self._requires_grad
            old._grad_fn = self._grad_fn
            old.__dict__["_output_nr"] = self._output_nr
            res = op(old, *args, **kwargs)
            assign_result(self, res)
            self._grad_fn = res._grad_fn
            self._requires_grad = res._requires_grad
            self.__dict__.pop("_output_nr", None)
            if self._base is not None:
                from ._views import rebase
                rebase(self)
            return self
        res = op(self, *args, **kwargs)
        assign_result(self, res)
        return self
    op_.__name__ = op_.__qualname__ = op.__name__ + "_"
    op_.__doc__ = f"In-place form of ``{op.__name__}``; returns self."
    return op_


def assign_result(self, res):
    """Write ``res`` into ``self`` for an in-place op (PyTorch's errors for an uncastable dtype, a shape that
    does not match, and memory that several elements share); bumps the version."""
    if res.dtype is not self.dtype and not _dtype.can_cast(res.dtype, self.dtype):
        raise RuntimeError(f"result type {dtype_name(res.dtype)} can't be cast to the desired output type "
                           f"{dtype_name(self.dtype)}")
    if res._data.shape != self._data.shape:
        raise RuntimeError(f"output with shape {list(self.shape)} doesn't match the broadcast shape "
                           f"{list(res.shape)}")
    try:
        self._data[...] = res._data
    except ValueError:  # a read-only (expanded) array: several elements share one memory location
        raise RuntimeError("unsupported operation: more than one element of the written-to tensor refers to a "
                           "single memory location. Please clone() the tensor before performing the operation.") \
            from None
    self._version[0] += 1


def require_tensor(x, function, arg="other", position=2):
    """Raise PyTorch's TypeError when argument ``arg`` (at ``position``) of ``function`` is not a Tensor."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{function}(): argument '{arg}' (position {position}) must be Tensor, not "
                        f"{type(x).__name__}")

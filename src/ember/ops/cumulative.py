"""Scans along one dimension: cumsum, cumprod, cummax, cummin, logcumsumexp, and diff.

Each forward is one array-module accumulate; the backward of a scan is a reverse scan,
written with ember ops (a reverse-cumsum op and ``flip``) so double backward works.
"""
from .. import _dtype, return_types
from ._common import array_module, module_of_array, Node, record, op, _make, wrap_dim, write_out, dtype_name, \
    ignore_fp_errors
from .elementwise import where
from ._ieee import cast, ignore_array_fp_errors
from .joining import cat, stack
from .shape import flip, narrow, select


def _dim(input, dim, name):
    if dim is None:
        raise TypeError(f"{name}() missing 1 required positional arguments: \"dim\"")
    if not isinstance(dim, int) or isinstance(dim, bool):
        if hasattr(dim, "__index__") and not isinstance(dim, (tuple, list)):
            dim = dim.__index__()
        else:
            raise TypeError(f"{name}(): argument 'dim' must be int, not {type(dim).__name__}")
    return wrap_dim(dim, input._data.ndim)


def _axis_view(a, d):
    """``a`` with at least one dimension (a 0-d tensor scans as a 1-element vector)."""
    return (a.reshape(1), 0) if a.ndim == 0 else (a, d)


# ---------------------------------------------------------------------------- reverse cumsum (differentiable)
class RevCumsumBackward(Node):
    """Gradient of the reverse cumsum: a forward cumsum (PyTorch names this node CumsumBackward0)."""

    def name(self):
        return "CumsumBackward0"

    def backward(self, grad):
        return (cumsum(grad, self.dim),)


def _rev_cumsum(t, dim):
    """``out[i] = sum_{j >= i} t[j]`` along ``dim``: the gradient of cumsum."""
    xp = array_module(t)
    a, d = _axis_view(t._data, dim)
    r = xp.flip(_running_sum(xp, xp.flip(a, d), d), d).reshape(t._data.shape)
    res = _make(r.copy())
    record(res, RevCumsumBackward, (t,), dim=dim)
    return res


# ---------------------------------------------------------------------------- cumsum / cumprod
def _scan_dtype(arr, dtype):
    if dtype is not None:
        return arr.astype(dtype.np, copy=False)
    if arr.dtype.kind in "biu":
        return arr.astype(module_of_array(arr).int64, copy=False)
    return arr


# by dtype.char (dtype.name costs microseconds): float16, bfloat16 (ml_dtypes), float32, complex64
_WIDER = {"e": "float32", "E": "float32"}
_WIDER_SUM = {"e": "float64", "E": "float64", "f": "float64", "F": "complex128"}


def _compute(xp, a, fn, d):
    """``fn(a, axis=d)``; half-precision inputs accumulate in float32, rounded once."""
    wide = _WIDER.get(a.dtype.char)
    with ignore_array_fp_errors(a):   # products overflow to inf quietly, as in PyTorch
        return fn(a, axis=d) if wide is None else cast(fn(a.astype(wide), axis=d), a.dtype)


def _running_sum(xp, a, d):
    """``cumsum`` of ``a`` along ``d``; float32/half/complex64 accumulate in double precision and round once
    (a float32 running sum drifts by ~n * eps: 4e-6 relative over 10**6 values)."""
    wide = _WIDER_SUM.get(a.dtype.char)
    return xp.cumsum(a, axis=d) if wide is None else cast(xp.cumsum(a, axis=d, dtype=wide), a.dtype)


class CumsumBackward0(Node):
    def backward(self, grad):
        g = _rev_cumsum(grad, self.dim)
        return (g.to(self.in_dtype) if g.dtype is not self.in_dtype else g,)


@op(inplace=True)
def cumsum(input, dim, *, dtype=None, out=None):
    """Running sum along ``dim``; integer and bool inputs accumulate in int64."""
    d = _dim(input, dim, "cumsum")
    xp = array_module(input)
    a = _scan_dtype(input._data, dtype)
    av, dv = _axis_view(a, d)
    res = _make(_running_sum(xp, av, dv).reshape(a.shape))
    if res.dtype._category >= 2:
        record(res, CumsumBackward0, (input,), dim=d, in_dtype=input.dtype)
    return write_out(out, res) if out is not None else res


class CumprodBackward0(Node):
    def backward(self, grad):
        (x,) = self.saved_tensors
        d = self.dim
        if x.dtype is not grad.dtype:
            x = x.to(grad.dtype)
        if not (x._data == 0).any():
            g = _rev_cumsum(grad * self.result(), d) / x
        else:
            g = _cumprod_grad_with_zeros(grad, x, d)
        return (g.to(self.in_dtype) if g.dtype is not self.in_dtype else g,)


def _cumprod_grad_with_zeros(grad, x, d):
    """grad_i = prefix_{<i} * T_i with T_i = g_i + x_{i+1} T_{i+1} (exact where inputs are zero)."""
    if x.ndim == 0:
        return grad
    n = x.shape[d]
    prefix = cumprod(x, d)
    outs = [None] * n
    t = None
    for i in range(n - 1, -1, -1):
        gi = select(grad, d, i)
        t = gi if t is None else gi + select(x, d, i + 1) * t
        outs[i] = t if i == 0 else select(prefix, d, i - 1) * t
    return stack(outs, d)


@op(inplace=True)
def cumprod(input, dim, *, dtype=None, out=None):
    """Running product along ``dim``; integer and bool inputs accumulate in int64."""
    d = _dim(input, dim, "cumprod")
    xp = array_module(input)
    a = _scan_dtype(input._data, dtype)
    av, dv = _axis_view(a, d)
    res = _make(_compute(xp, av, xp.cumprod, dv).reshape(a.shape))
    if res.dtype._category >= 2:
        record(res, CumprodBackward0, (input,), (input,), output=True, dim=d, in_dtype=input.dtype)
    return write_out(out, res) if out is not None else res


# ---------------------------------------------------------------------------- cummax / cummin
class CummaxBackward0(Node):
    def backward(self, grad):
        if grad.ndim == 0:
            return (grad,)
        return (grad.new_zeros(grad.shape).scatter_add(self.dim, self.indices, grad),)


class CumminBackward0(CummaxBackward0):
    """Gradient of cummin: each input gets the gradients of the outputs that picked it."""


def _cum_extreme(input, dim, is_max, out):
    name = "cummax" if is_max else "cummin"
    d = _dim(input, dim, name)
    a = input._data
    xp = array_module(input)
    av, dv = _axis_view(a, d)
    ufunc = xp.maximum if is_max else xp.minimum
    if av.shape[dv] == 0:
        vals, idx = av.copy(), xp.zeros(av.shape, dtype=xp.int64)
    else:
        vals = ufunc.accumulate(av, axis=dv)
        update = av == vals
        if av.dtype.kind in "fc":
            update |= xp.isnan(av)
        shape = [1] * av.ndim
        shape[dv] = av.shape[dv]
        pos = xp.arange(av.shape[dv], dtype=xp.int64).reshape(shape)
        idx = xp.maximum.accumulate(xp.where(update, pos, 0), axis=dv)
    values, indices = _make(vals.reshape(a.shape)), _make(idx.reshape(a.shape))
    record(values, CummaxBackward0 if is_max else CumminBackward0, (input,), dim=d, indices=indices)
    if out is not None:
        write_out(out[0], values)
        write_out(out[1], indices)
        return getattr(return_types, name)(out[0], out[1])
    return getattr(return_types, name)(values, indices)


@op
def cummax(input, dim, *, out=None):
    """Running maximum along ``dim`` and the index where it was attained: (values, indices)."""
    return _cum_extreme(input, dim, True, out)


@op
def cummin(input, dim, *, out=None):
    """Running minimum along ``dim`` and the index where it was attained: (values, indices)."""
    return _cum_extreme(input, dim, False, out)


# ---------------------------------------------------------------------------- logcumsumexp
class LogcumsumexpBackward0(Node):
    def backward(self, grad):
        (x,) = self.saved_tensors
        r = self.result()
        d = self.dim
        lowest = float(array_module(grad).finfo(grad._data.dtype).min)
        log_abs = grad.abs().log()
        pos = where(grad > 0, log_abs, lowest)
        neg = where(grad < 0, log_abs, lowest)

        def rev_lcse(t):
            return flip(logcumsumexp(flip(t, (d,)), d), (d,))
        return ((rev_lcse(pos - r) + x).exp() - (rev_lcse(neg - r) + x).exp(),)


@op
def logcumsumexp(input, dim, *, out=None):
    """``log(cumsum(exp(input)))`` along ``dim``, without overflow."""
    d = _dim(input, dim, "logcumsumexp")
    a = input._data
    xp = array_module(input)
    if a.dtype.kind not in "fc" and a.dtype.name != "bfloat16":
        raise NotImplementedError(f"\"logcumsumexp_out_cpu\" not implemented for '{dtype_name(input.dtype)}'")
    av, dv = _axis_view(a, d)
    with ignore_fp_errors(input):
        r = _compute(xp, av, xp.logaddexp.accumulate, dv).reshape(a.shape)
    res = _make(r)
    record(res, LogcumsumexpBackward0, (input,), (input,), output=True, dim=d)
    return write_out(out, res) if out is not None else res


# ---------------------------------------------------------------------------- diff
@op
def diff(input, n=1, dim=-1, prepend=None, append=None):
    """The ``n``-th forward difference along ``dim`` (``prepend`` / ``append`` are joined first)."""
    if input._data.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    d = wrap_dim(dim, input._data.ndim)
    parts = [p for p in (prepend, input, append) if p is not None]
    for p in parts:
        if p._data.ndim != input._data.ndim:
            raise RuntimeError("diff expects prepend or append to be the same dimension as input")
    x = cat(parts, d) if len(parts) > 1 else input
    is_bool = x.dtype is _dtype.bool
    for _ in range(n):
        size = x.shape[d]
        if size == 0:
            break
        hi, lo = narrow(x, d, 1, size - 1), narrow(x, d, 0, size - 1)
        x = hi.logical_xor(lo) if is_bool else hi - lo
    return x

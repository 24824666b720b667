"""Reductions over dimensions: sum, mean, max/min, arg-max/min, var/std, all/any, logsumexp."""
from .. import _dtype, return_types
from ._common import xp, Tensor, Node, attach, GradMode, _make, norm_dims, wrap_dim
from .elementwise import write_out, _dtype_name, maximum, minimum


def _expand_back(grad, shape, dims, keepdim):
    """Broadcast a reduced gradient back to the input ``shape``."""
    if not keepdim and dims:
        for d in sorted(dims):
            grad = grad.unsqueeze(d)
    return grad.expand(shape)


class SumBackward0(Node):
    def backward(self, grad):
        return (grad.expand(self.shape),)


class SumBackward1(Node):
    def backward(self, grad):
        return (_expand_back(grad, self.shape, self.dims, self.keepdim),)


def _int_sum_dtype(arr, dtype):
    if dtype is not None:
        return dtype.np
    return xp.int64 if arr.dtype.kind in "biu" else None


def _half(arr):
    """float16 or bfloat16 (ml_dtypes' bfloat16 sums in bfloat16 itself: 512 * 3.8 would give 1024)."""
    return arr.dtype.itemsize == 2 and (arr.dtype.kind == "f" or arr.dtype.name == "bfloat16")


def _sum(arr, axis, keepdims, acc):
    if acc is None and _half(arr):  # accumulate in float32 as PyTorch does, round the result once
        return xp.sum(arr, axis=axis, keepdims=keepdims, dtype=xp.float32).astype(arr.dtype)
    return xp.sum(arr, axis=axis, keepdims=keepdims, dtype=acc)


def sum(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Sum of elements over ``dim`` (int, tuple, or None for all); ints and bools sum as int64."""
    if dtype is not None and input._requires_grad and dtype is not input.dtype:
        input = input.to(dtype)  # the gradient flows back through the cast, in the input's dtype
    arr = input._data
    acc = _int_sum_dtype(arr, dtype)
    if dim is None:
        res = _make(_sum(arr, None, False, acc))
        if input._requires_grad and GradMode.enabled:
            node = SumBackward0()
            node.shape = arr.shape
            attach(res, node, input)
    else:
        dims = norm_dims(dim, arr.ndim)
        res = _make(_sum(arr, dims, keepdim, acc))
        if input._requires_grad and GradMode.enabled:
            node = SumBackward1()
            node.shape, node.dims, node.keepdim = arr.shape, dims, keepdim
            attach(res, node, input)
    return write_out(out, res) if out is not None else res


class MeanBackward0(Node):
    def backward(self, grad):
        return (grad.expand(self.shape) / self.count,)


class MeanBackward1(Node):
    def backward(self, grad):
        return (_expand_back(grad, self.shape, self.dims, self.keepdim) / self.count,)


def _count(shape, dims):
    n = 1
    for d in dims:
        n *= shape[d]
    return n


def mean(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Arithmetic mean over ``dim``; needs a floating (or complex) input or ``dtype``."""
    arr = input._data
    if dtype is not None:
        arr = arr.astype(dtype.np)
    elif arr.dtype.kind in "biu":
        raise RuntimeError("mean(): could not infer output dtype. Input dtype must be either a floating point or "
                           f"complex dtype. Got: {_dtype_name(input.dtype)}")
    dims = norm_dims(dim, arr.ndim)
    if _half(arr):  # PyTorch accumulates half and bfloat16 in float32
        r = xp.mean(arr, axis=dims, keepdims=keepdim, dtype=xp.float32).astype(arr.dtype)
    else:
        r = xp.mean(arr, axis=dims, keepdims=keepdim)
    res = _make(r)
    if input._requires_grad and GradMode.enabled:
        if dim is None:
            node = MeanBackward0()
        else:
            node = MeanBackward1()
            node.dims, node.keepdim = dims, keepdim
        node.shape, node.count = arr.shape, _count(arr.shape, dims)
        attach(res, node, input)
    return write_out(out, res) if out is not None else res


class AmaxBackward0(Node):
    """Gradient of max/min reductions over values: shared evenly among tied extremes."""

    def backward(self, grad):
        (x,) = self.saved_tensors
        r = self.result()
        r_b = _expand_back(r, self.shape, self.dims, self.keepdim)
        g_b = _expand_back(grad, self.shape, self.dims, self.keepdim)
        mask = (x == r_b).to(grad.dtype)
        count = mask.sum(self.dims, keepdim=True)
        return (g_b * mask / count,)


def _extreme(input, dims, keepdim, fn, name):
    arr = input._data
    if arr.size == 0 and any(arr.shape[d] == 0 for d in dims):
        raise IndexError(f"{name}(): Expected reduction dim {dims[0]} to have non-zero size.")
    res = _make(fn(arr, axis=dims, keepdims=keepdim))
    if input._requires_grad and GradMode.enabled:
        node = _EXTREME_NODES[name]()
        node.shape, node.dims, node.keepdim = arr.shape, dims, keepdim
        node.save(input)
        node.save_result(res)
        attach(res, node, input)
    return res


_EXTREME_NODES = {n: type(k, (AmaxBackward0,), {}) for n, k in (
    ("amax", "AmaxBackward0"), ("amin", "AminBackward0"), ("max", "MaxBackward1"), ("min", "MinBackward1"))}


def amax(input, dim=(), keepdim=False, *, out=None):
    """Maximum over ``dim`` (all dims by default); ties share the gradient."""
    res = _extreme(input, norm_dims(dim, input.ndim), keepdim, xp.max, "amax")
    return write_out(out, res) if out is not None else res


def amin(input, dim=(), keepdim=False, *, out=None):
    """Minimum over ``dim`` (all dims by default); ties share the gradient."""
    res = _extreme(input, norm_dims(dim, input.ndim), keepdim, xp.min, "amin")
    return write_out(out, res) if out is not None else res


class MaxBackward0(Node):
    """Gradient of max/min along a dim: flows to the chosen index."""

    def backward(self, grad):
        from .indexing import scatter_grad
        return (scatter_grad(grad, self.indices, self.shape, self.dim, self.keepdim),)


def _extreme_dim(input, dim, keepdim, argfn, name):
    arr = input._data
    d = wrap_dim(dim, arr.ndim)
    if arr.ndim and arr.shape[d] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
    if arr.ndim == 0:
        idx = xp.zeros((), dtype=xp.int64)
        vals = arr.copy()
    else:
        idx = argfn(arr, axis=d, keepdims=True)
        vals = xp.take_along_axis(arr, idx, axis=d)
        if arr.dtype.kind in "fc":
            # NaN wins, as in PyTorch
            nan_any = xp.isnan(arr).any(axis=d, keepdims=True)
            if nan_any.any():
                nan_idx = xp.argmax(xp.isnan(arr), axis=d, keepdims=True)
                idx = xp.where(nan_any, nan_idx, idx)
                vals = xp.take_along_axis(arr, idx, axis=d)
        if not keepdim:
            idx, vals = idx.squeeze(d), vals.squeeze(d)
    values, indices = _make(vals), _make(idx.astype(xp.int64, copy=False))
    if input._requires_grad and GradMode.enabled:
        node = MaxBackward0() if name == "max" else _MinDimBackward()
        node.indices, node.shape, node.dim, node.keepdim = indices, arr.shape, d, keepdim
        attach(values, node, input)
    return getattr(return_types, name)(values, indices)


_MinDimBackward = type("MinBackward0", (MaxBackward0,), {})


def max(input, dim=None, keepdim=False, *, out=None):
    """``max(input)``: the largest value; ``max(input, dim, keepdim)``: (values, indices) along ``dim``;
    ``max(input, other)``: elementwise maximum."""
    if isinstance(dim, Tensor):
        return maximum(input, dim, out=out)
    if dim is None:
        if input._data.size == 0:
            raise RuntimeError("max(): Expected reduction dim to be specified for input.numel() == 0. "
                               "Specify the reduction dim with the 'dim' argument.")
        return _extreme(input, tuple(range(input.ndim)), False, xp.max, "max")
    return _extreme_dim(input, dim, keepdim, xp.argmax, "max")


def min(input, dim=None, keepdim=False, *, out=None):
    """``min(input)``, ``min(input, dim, keepdim)`` -> (values, indices), or ``min(input, other)``."""
    if isinstance(dim, Tensor):
        return minimum(input, dim, out=out)
    if dim is None:
        if input._data.size == 0:
            raise RuntimeError("min(): Expected reduction dim to be specified for input.numel() == 0. "
                               "Specify the reduction dim with the 'dim' argument.")
        return _extreme(input, tuple(range(input.ndim)), False, xp.min, "min")
    return _extreme_dim(input, dim, keepdim, xp.argmin, "min")


def _arg_extreme(input, dim, keepdim, fn, name):
    arr = input._data
    if arr.size == 0:
        raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0.")
    if dim is None:
        flat = arr.reshape(-1)
        if flat.dtype.kind in "fc" and xp.isnan(flat).any():
            i = int(xp.argmax(xp.isnan(flat)))
        else:
            i = int(fn(flat))
        r = xp.array(i, dtype=xp.int64)
        if keepdim:
            r = r.reshape((1,) * arr.ndim)
        return _make(r)
    d = wrap_dim(dim, arr.ndim)
    if arr.ndim == 0:
        return _make(xp.zeros((), dtype=xp.int64))
    idx = fn(arr, axis=d, keepdims=keepdim)
    if arr.dtype.kind in "fc":
        isn = xp.isnan(arr)
        if isn.any():
            idx = xp.where(isn.any(axis=d, keepdims=keepdim), xp.argmax(isn, axis=d, keepdims=keepdim), idx)
    return _make(idx.astype(xp.int64, copy=False))


def argmax(input, dim=None, keepdim=False, *, out=None):
    """Index of the largest value (over the flattened tensor when ``dim`` is None)."""
    res = _arg_extreme(input, dim, keepdim, xp.argmax, "argmax")
    return write_out(out, res) if out is not None else res


def argmin(input, dim=None, keepdim=False, *, out=None):
    """Index of the smallest value (over the flattened tensor when ``dim`` is None)."""
    res = _arg_extreme(input, dim, keepdim, xp.argmin, "argmin")
    return write_out(out, res) if out is not None else res


class VarBackward0(Node):
    def backward(self, grad):
        (x,) = self.saved_tensors
        g = _expand_back(grad, self.shape, self.dims, self.keepdim)
        centered = x - x.mean(self.dims, keepdim=True)
        return (g * centered * (2.0 / self.denom),)


class StdBackward0(Node):
    def backward(self, grad):
        (x,) = self.saved_tensors
        r = self.result()
        g = _expand_back(grad / r, self.shape, self.dims, self.keepdim)
        centered = x - x.mean(self.dims, keepdim=True)
        return (g * centered / self.denom,)


def _correction(unbiased, correction):
    if correction is not None:
        return correction
    if unbiased is None:
        return 1
    return 1 if unbiased else 0


def _var_args(dim, unbiased, correction):
    # var(x, True) passes ``unbiased`` positionally in the old signature
    if isinstance(dim, bool):
        return None, dim
    return dim, unbiased


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    """Variance over ``dim`` with Bessel's ``correction`` (default 1; ``unbiased=False`` means 0)."""
    dim, unbiased = _var_args(dim, unbiased, correction)
    res = _moments(input, dim, _correction(unbiased, correction), keepdim, sqrt=False)
    return write_out(out, res) if out is not None else res


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    """Standard deviation over ``dim`` with Bessel's ``correction`` (default 1)."""
    dim, unbiased = _var_args(dim, unbiased, correction)
    res = _moments(input, dim, _correction(unbiased, correction), keepdim, sqrt=True)
    return write_out(out, res) if out is not None else res


def _moments(input, dim, corr, keepdim, sqrt):
    arr = input._data
    if arr.dtype.kind in "biu":
        raise RuntimeError(f"std and var only support floating point and complex dtypes")
    dims = norm_dims(dim, arr.ndim)
    n = _count(arr.shape, dims)
    m = xp.mean(arr, axis=dims, keepdims=True)
    c = arr - m
    ss = xp.sum(c * c if c.dtype.kind != "c" else (c * c.conj()).real, axis=dims, keepdims=keepdim)
    denom = n - corr
    with xp.errstate(divide="ignore", invalid="ignore"):
        v = ss / (denom if denom > 0 else 0)  # too few elements gives inf or nan, as in PyTorch
    r = xp.sqrt(v) if sqrt else v
    res = _make(xp.asarray(r, dtype=arr.dtype if arr.dtype.kind != "c" else arr.real.dtype))
    if input._requires_grad and GradMode.enabled:
        node = StdBackward0() if sqrt else VarBackward0()
        node.shape, node.dims, node.keepdim, node.denom = arr.shape, dims, keepdim, denom
        node.save(input)
        if sqrt:
            node.save_result(res)
        attach(res, node, input)
    return res


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``(var, mean)`` over ``dim``."""
    dim, unbiased = _var_args(dim, unbiased, correction)
    return var(input, dim, keepdim=keepdim, correction=_correction(unbiased, correction)), \
        mean(input, dim, keepdim)


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``(std, mean)`` over ``dim``."""
    dim, unbiased = _var_args(dim, unbiased, correction)
    return std(input, dim, keepdim=keepdim, correction=_correction(unbiased, correction)), \
        mean(input, dim, keepdim)


def all(input, dim=None, keepdim=False, *, out=None):
    """True when every element (along ``dim``) is non-zero."""
    res = _make(xp.all(input._data, axis=None if dim is None else norm_dims(dim, input.ndim), keepdims=keepdim))
    if input._data.dtype == xp.uint8:
        res = _make(res._data.astype(xp.uint8))
    return write_out(out, res) if out is not None else res


def any(input, dim=None, keepdim=False, *, out=None):
    """True when some element (along ``dim``) is non-zero."""
    res = _make(xp.any(input._data, axis=None if dim is None else norm_dims(dim, input.ndim), keepdims=keepdim))
    if input._data.dtype == xp.uint8:
        res = _make(res._data.astype(xp.uint8))
    return write_out(out, res) if out is not None else res


class LogsumexpBackward0(Node):
    def backward(self, grad):
        (x,) = self.saved_tensors
        r = self.result()
        r_b = _expand_back(r, self.shape, self.dims, self.keepdim)
        g_b = _expand_back(grad, self.shape, self.dims, self.keepdim)
        return (g_b * (x - r_b).exp(),)


def logsumexp(input, dim, keepdim=False, *, out=None):
    """``log(sum(exp(input)))`` over ``dim``, computed without overflow."""
    arr = input._data
    if arr.dtype.kind in "biu":
        arr = arr.astype(_dtype.get_default_dtype().np)
    dims = norm_dims(dim, arr.ndim)
    if arr.size == 0:
        r = xp.log(xp.sum(xp.exp(arr), axis=dims, keepdims=keepdim))
    else:
        m = xp.max(arr, axis=dims, keepdims=True)
        m = xp.where(xp.isfinite(m), m, 0)
        r = xp.log(xp.sum(xp.exp(arr - m), axis=dims, keepdims=True)) + m
        if not keepdim:
            r = r.squeeze(dims)
    res = _make(r.astype(arr.dtype, copy=False))
    if input._requires_grad and GradMode.enabled:
        node = LogsumexpBackward0()
        node.shape, node.dims, node.keepdim = arr.shape, dims, keepdim
        node.save(input)
        node.save_result(res)
        attach(res, node, input)
    return write_out(out, res) if out is not None else res

"""Reductions over dimensions: sum, mean, prod, nansum, nanmean, max/min, amax/amin, aminmax, arg-max/min,
var/std, all/any, count_nonzero, logsumexp.

Each reduces with one array-module call and records a node whose backward
broadcasts the gradient back over the reduced dims, written with ember ops.
"""
import numpy

from .. import _dtype, return_types
from ._common import (array_module, Tensor, Node, record, op, function, _make, _make_view, norm_dims, wrap_dim,
                      write_out, dtype_name, ignore_fp_errors, GradMode)
from .elementwise import maximum, minimum
from ._ieee import cast
from ._unsigned import refuse_wide_unsigned


def expand_back(grad, shape, dims, keepdim):
    """Broadcast a gradient reduced over ``dims`` back to the input ``shape`` (the backward of a reduction)."""
    if not keepdim and dims:
        for d in sorted(dims):
            grad = grad.unsqueeze(d)
    return grad.expand(shape)


def _int_dim(dim, name):
    """``dim`` as an int, with PyTorch's TypeError for a tuple or another non-integer."""
    if isinstance(dim, (tuple, list)) or isinstance(dim, bool) or not isinstance(dim, int) and not hasattr(
            dim, "__index__"):
        raise TypeError(f"{name}(): argument 'dim' must be int, not {type(dim).__name__}")
    return dim.__index__() if not isinstance(dim, int) else dim


def _count(shape, dims):
    n = 1
    for d in dims:
        n *= shape[d]
    return n


def _half(arr):
    """float16 or bfloat16 (ml_dtypes' bfloat16 sums in bfloat16 itself: 512 * 3.8 would give 1024)."""
    return arr.dtype.itemsize == 2 and (arr.dtype.kind == "f" or arr.dtype.name == "bfloat16")


# ---------------------------------------------------------------------------- sum, mean
class SumBackward0(Node):
    def backward(self, grad):
        d = grad._data
        if not GradMode.enabled and type(d) is numpy.ndarray and d.ndim == 0 and d.dtype.char in "fd":
            # first order (loss.sum().backward()): the read-only broadcast expand makes, built directly (no checks,
            # no Python-level numpy.broadcast_to: 0.3 us against 3.5)
            shape = self.shape
            b = numpy.ndarray(shape, d.dtype, d, 0, (0,) * len(shape))
            b.flags.writeable = False
            return (_make_view(grad, b),)
        return (grad.expand(self.shape),)


class SumBackward1(Node):
    def backward(self, grad):
        return (expand_back(grad, self.shape, self.dims, self.keepdim),)


# by dtype.char (dtype.name costs microseconds): float16, bfloat16 (ml_dtypes), float32, complex64
_WIDER = {"e": "float64", "E": "float64", "f": "float64", "F": "complex128"}
_NARROW = 16   # at most this many sums at once: the reduced axes are copied to the end and summed pairwise
_SHORT = 64    # sums of at most this many terms: NumPy's own loop is as exact (and the copy would cost more)


def accurate_sum(xp, arr, dims, keepdims):
    """The sum of floating ``arr`` over the non-negative ``dims`` (None: all), about as exact as PyTorch's
    cascade sums.

    NumPy sums pairwise only along a contiguous reduced axis; over other axes it adds one slice at a time
    (error growing with the length, so short sums stay as they are).  Those reductions accumulate in float64
    (complex128) for narrower dtypes; when few sums are taken at once (``x.sum(0)`` of an (n, 4) array) the
    reduced axes are moved to the end of a contiguous copy, where the pairwise loop is also much faster.
    Returns the sum in the accumulation dtype (the caller rounds once).
    """
    nd = arr.ndim
    if dims is None:
        dims = range(nd)
    k = len(dims)
    if k == nd and arr.flags.c_contiguous or k == 0 or _count(arr.shape, dims) <= _SHORT or \
            tuple(dims) == tuple(range(nd - k, nd)) and arr.flags.c_contiguous:
        return xp.sum(arr, axis=None if k == nd else tuple(dims), keepdims=keepdims,
                      dtype=xp.float32 if _half(arr) else None)
    kept = [d for d in range(nd) if d not in dims]
    width = _count(arr.shape, kept)
    wide = _WIDER.get(arr.dtype.char)
    if width > _NARROW or arr.size == 0:
        return xp.sum(arr, axis=tuple(dims), keepdims=keepdims, dtype=wide)
    moved = xp.moveaxis(arr, tuple(dims), tuple(range(nd - k, nd)))
    r = moved.astype(wide or arr.dtype, order="C").reshape(width, -1).sum(-1)
    return r.reshape([1 if d in dims else arr.shape[d] for d in range(nd)] if keepdims else
                     [arr.shape[d] for d in kept])


def _sum(xp, arr, axis, keepdims, acc):
    if acc is None and arr.dtype.kind in "fcV":  # floating (incl. bfloat16): accumulate wider, round once
        if axis is None and not keepdims and arr.flags.c_contiguous and arr.dtype.itemsize > 2:
            # the whole buffer, pairwise (the common loss.sum()); NumPy's sum is add.reduce behind a Python layer
            return numpy.add.reduce(arr, None) if xp is numpy else xp.sum(arr)
        r = accurate_sum(xp, arr, axis, keepdims)
        return r if r.dtype == arr.dtype else cast(xp.asarray(r), arr.dtype)
    return xp.sum(arr, axis=axis, keepdims=keepdims, dtype=acc)


@op
def sum(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Sum of elements over ``dim`` (int, tuple, or None for all); ints and bools sum as int64."""
    if dtype is not None and input._requires_grad and dtype is not input.dtype:
        input = input.to(dtype)  # the gradient flows back through the cast, in the input's dtype
    arr = input._data
    xp = array_module(input)
    acc = dtype.np if dtype is not None else (xp.int64 if arr.dtype.kind in "biu" else None)
    if dim is None:
        res = _make(_sum(xp, arr, None, False, acc))
        record(res, SumBackward0, (input,), shape=arr.shape)
    else:
        dims = norm_dims(dim, arr.ndim)
        res = _make(_sum(xp, arr, dims, keepdim, acc))
        record(res, SumBackward1, (input,), shape=arr.shape, dims=dims, keepdim=keepdim)
    return write_out(out, res) if out is not None else res


class MeanBackward0(Node):
    def backward(self, grad):
        return (grad.expand(self.shape) / self.count,)


class MeanBackward1(Node):
    def backward(self, grad):
        return (expand_back(grad, self.shape, self.dims, self.keepdim) / self.count,)


@op
def mean(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Arithmetic mean over ``dim``; needs a floating (or complex) input or ``dtype``."""
    arr = input._data
    xp = array_module(input)
    if dtype is not None:
        arr = arr.astype(dtype.np)
    elif arr.dtype.kind in "biu":
        raise RuntimeError("mean(): could not infer output dtype. Input dtype must be either a floating point or "
                           f"complex dtype. Got: {dtype_name(input.dtype)}")
    dims = norm_dims(dim, arr.ndim)
    n = _count(arr.shape, dims)
    with ignore_fp_errors(input):   # the mean over no element is nan, as in PyTorch
        r = accurate_sum(xp, arr, dims, keepdim) / n
    res = _make(cast(xp.asarray(r), arr.dtype))
    if dim is None:
        record(res, MeanBackward0, (input,), shape=arr.shape, count=_count(arr.shape, dims))
    else:
        record(res, MeanBackward1, (input,), shape=arr.shape, count=_count(arr.shape, dims), dims=dims,
               keepdim=keepdim)
    return write_out(out, res) if out is not None else res


# ---------------------------------------------------------------------------- prod
def _promoted(xp, input, dtype):
    """``input``'s array cast to ``dtype``, or to int64 when it is integral or bool (prod and nansum)."""
    a = input._data
    if dtype is not None:
        return a.astype(dtype.np, copy=False)
    return a.astype(xp.int64) if a.dtype.kind in "biu" else a


class ProdBackward0(Node):
    """Gradient of a product: the product of all the other factors (exact when some factors are zero)."""

    def backward(self, grad):
        g = self._grad(grad)
        in_dtype = self.saved_tensors[0].dtype
        return (g.to(in_dtype) if g.dtype is not in_dtype else g,)

    def _grad(self, grad):
        (x,) = self.saved_tensors
        if x.dtype is not grad.dtype:
            x = x.to(grad.dtype)
        if self.dim is None:
            if x.ndim == 0:
                return grad
            if not (x._data == 0).any():
                return grad * self.result() / x
            return grad * _prod_others(x.reshape(-1), 0).reshape(x.shape)
        d, keepdim = self.dim, self.keepdim
        g = expand_back(grad, x.shape, (d,), keepdim) if x.ndim else grad
        if not (x._data == 0).any():
            r = expand_back(self.result(), x.shape, (d,), keepdim) if x.ndim else self.result()
            return g * r / x
        return g * _prod_others(x, d)


class ProdBackward1(ProdBackward0):
    """Gradient of a product along one dim."""


def _prod_others(x, d):
    """``out_i = prod_{j != i} x_j`` along ``d``: exclusive cumprods from both ends (differentiable)."""
    from .cumulative import cumprod
    from .joining import cat
    from .shape import flip, narrow
    if x.ndim == 0:
        return x.new_ones(())
    n = x.shape[d]
    ones_shape = list(x.shape)
    ones_shape[d] = 1
    ones = x.new_ones(ones_shape)
    left = cat([ones, narrow(cumprod(x, d), d, 0, n - 1)], d)
    right = flip(cat([ones, narrow(cumprod(flip(x, (d,)), d), d, 0, n - 1)], d), (d,))
    return left * right


@op
def prod(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Product of all elements, or along the int ``dim``; integer and bool inputs multiply as int64."""
    xp = array_module(input)
    a = _promoted(xp, input, dtype)
    half = a.dtype.kind == "f" and a.dtype.itemsize < 4 or a.dtype.name == "bfloat16"
    work = a.astype(xp.float32) if half else a
    d = None if dim is None else wrap_dim(_int_dim(dim, "prod"), a.ndim)
    with ignore_fp_errors(input):   # overflow gives inf quietly, as in PyTorch
        if d is None:
            r = xp.prod(work)
        else:
            r = xp.prod(work, axis=d, keepdims=keepdim) if a.ndim else work.copy()
        res = _make(xp.asarray(r).astype(a.dtype, copy=False))
    if res.dtype._category >= 2:
        record(res, ProdBackward0 if d is None else ProdBackward1, (input,), (input,), output=True, dim=d,
               keepdim=keepdim)
    return write_out(out, res) if out is not None else res


# ---------------------------------------------------------------------------- nansum / nanmean
class NansumBackward0(Node):
    def backward(self, grad):
        (x,) = self.saved_tensors
        g = expand_back(grad, x.shape, self.dims, self.keepdim)
        g = g * x.isnan().logical_not()
        return (g.to(x.dtype) if g.dtype is not x.dtype else g,)


@op
def nansum(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Sum treating NaN as zero."""
    xp = array_module(input)
    a = _promoted(xp, input, dtype)
    dims = norm_dims(dim, a.ndim)
    if a.dtype.kind in "fcV":
        r = accurate_sum(xp, xp.where(xp.isnan(a), 0, a), dims, keepdim)
    else:
        r = xp.sum(a, axis=dims, keepdims=keepdim)
    res = _make(xp.asarray(r).astype(a.dtype, copy=False))
    if res.dtype._category >= 2:
        record(res, NansumBackward0, (input,), (input,), dims=dims, keepdim=keepdim)
    return write_out(out, res) if out is not None else res


@op
def nanmean(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Mean of the non-NaN elements (NaN where there are none)."""
    if dtype is None and input.dtype._category < 2:
        raise RuntimeError(f"nanmean(): expected input to have floating point or complex dtype but got "
                           f"{dtype_name(input.dtype)}")
    x = input.to(dtype) if dtype is not None else input
    count = x.isnan().logical_not().sum(dim, keepdim=keepdim) if dim is not None else \
        x.isnan().logical_not().sum()
    res = nansum(x, dim, keepdim) / count
    return write_out(out, res) if out is not None else res


# ---------------------------------------------------------------------------- max / min
class AmaxBackward0(Node):
    """Gradient of max/min reductions over values: shared evenly among tied extremes."""

    def backward(self, grad):
        (x,) = self.saved_tensors
        r = self.result()
        r_b = expand_back(r, self.shape, self.dims, self.keepdim)
        g_b = expand_back(grad, self.shape, self.dims, self.keepdim)
        mask = (x == r_b).to(grad.dtype)
        count = mask.sum(self.dims, keepdim=True)
        return (g_b * mask / count,)


class AminBackward0(AmaxBackward0):
    """Gradient of amin: shared evenly among tied minima."""


class MaxBackward1(AmaxBackward0):
    """Gradient of max over everything: shared evenly among tied maxima."""


class MinBackward1(AmaxBackward0):
    """Gradient of min over everything: shared evenly among tied minima."""


_EXTREME_NODES = {"amax": AmaxBackward0, "amin": AminBackward0, "max": MaxBackward1, "min": MinBackward1}


def check_empty_reduction(arr, dim, prefix):
    """PyTorch's errors for reducing an empty ``arr`` with an op that has no identity (max, min, hash_tensor):
    over every dim (``dim`` None or ()), or over a dim of size 0; ``prefix`` starts the message ("amax()").
    Checked before repeated dims, as PyTorch does."""
    if arr.size:
        return
    given = tuple(dim) if isinstance(dim, (tuple, list)) else (() if dim is None else (dim,))
    if not given:
        raise RuntimeError(f"{prefix}: Expected reduction dim to be specified for input.numel() == 0. "
                           "Specify the reduction dim with the 'dim' argument.")
    for g in given:  # PyTorch names the first empty one as the caller wrote it
        if arr.shape[wrap_dim(g, arr.ndim)] == 0:
            raise IndexError(f"{prefix}: Expected reduction dim {g} to have non-zero size.")


# PyTorch's kernel names, in its error for the dtypes they lack
_EXTREME_KERNELS = {"max": "max_all", "min": "min_all", "amax": "max_values_cpu", "amin": "min_values_cpu"}


def _extreme(input, dim, keepdim, fn_name, name):
    """``xp.<fn_name>`` ("max" or "min") of ``input`` over ``dim`` (an int, a sequence, or None / () for every
    dim), recording the ``name`` op's node."""
    arr = input._data
    refuse_wide_unsigned(_EXTREME_KERNELS[name], arr.dtype)
    check_empty_reduction(arr, dim, f"{name}()")
    dims = norm_dims(dim, arr.ndim)
    res = _make(getattr(array_module(input), fn_name)(arr, axis=dims, keepdims=keepdim))
    record(res, _EXTREME_NODES[name], (input,), (input,), output=True, shape=arr.shape, dims=dims, keepdim=keepdim)
    return res


@op
def amax(input, dim=(), keepdim=False, *, out=None):
    """Maximum over ``dim`` (all dims by default); ties share the gradient."""
    res = _extreme(input, dim, keepdim, "max", "amax")
    return write_out(out, res) if out is not None else res


@op
def amin(input, dim=(), keepdim=False, *, out=None):
    """Minimum over ``dim`` (all dims by default); ties share the gradient."""
    res = _extreme(input, dim, keepdim, "min", "amin")
    return write_out(out, res) if out is not None else res


class MaxBackward0(Node):
    """Gradient of max/min along a dim: flows to the chosen index."""

    def backward(self, grad):
        from .indexing import scatter_grad
        return (scatter_grad(grad, self.indices, self.shape, self.dim, self.keepdim),)


class MinBackward0(MaxBackward0):
    """Gradient of min along a dim: flows to the chosen index."""


def _extreme_dim(input, dim, keepdim, argfn_name, name):
    arr = input._data
    refuse_wide_unsigned(f"{name}_cpu", arr.dtype)
    xp = array_module(input)
    d = wrap_dim(dim, arr.ndim)
    if arr.ndim and arr.shape[d] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
    if arr.ndim == 0:
        idx = xp.zeros((), dtype=xp.int64)
        vals = arr.copy()
    else:
        idx = getattr(xp, argfn_name)(arr, axis=d, keepdims=True)
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
    record(values, MaxBackward0 if name == "max" else MinBackward0, (input,), indices=indices, shape=arr.shape,
           dim=d, keepdim=keepdim)
    return getattr(return_types, name)(values, indices)


@op
def max(input, dim=None, keepdim=False, *, out=None):
    """``max(input)``: the largest value; ``max(input, dim, keepdim)``: (values, indices) along ``dim``;
    ``max(input, other)``: elementwise maximum."""
    if isinstance(dim, Tensor):
        return maximum(input, dim, out=out)
    if dim is None:
        return _extreme(input, None, False, "max", "max")
    return _extreme_dim(input, dim, keepdim, "argmax", "max")


@op
def min(input, dim=None, keepdim=False, *, out=None):
    """``min(input)``, ``min(input, dim, keepdim)`` -> (values, indices), or ``min(input, other)``."""
    if isinstance(dim, Tensor):
        return minimum(input, dim, out=out)
    if dim is None:
        return _extreme(input, None, False, "min", "min")
    return _extreme_dim(input, dim, keepdim, "argmin", "min")


@op
def aminmax(input, *, dim=None, keepdim=False, out=None):
    """``(min, max)`` of ``input`` (over everything, or along the int ``dim``)."""
    refuse_wide_unsigned("aminmax_cpu", input._data.dtype)
    if dim is not None:
        dim = _int_dim(dim, "aminmax")
        d = wrap_dim(dim, input._data.ndim)
        if input._data.ndim and input._data.shape[d] == 0:
            raise IndexError(f"aminmax: Expected reduction dim {d} to have non-zero size.")
        dims = (d,) if input._data.ndim else ()
    else:
        if input._data.size == 0:
            raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the operation has no "
                               "identity.")
        dims = ()
    if dims == () and dim is None:
        lo = amin(input, (), keepdim)
        hi = amax(input, (), keepdim)
    elif input._data.ndim == 0:
        lo, hi = amin(input), amax(input)
    else:
        lo, hi = amin(input, dims, keepdim), amax(input, dims, keepdim)
    if out is not None:
        write_out(out[0], lo)
        write_out(out[1], hi)
        lo, hi = out
    return return_types.aminmax(lo, hi)


def _arg_extreme(input, dim, keepdim, fn_name, name):
    arr = input._data
    refuse_wide_unsigned(f"{name}_cpu", arr.dtype)
    xp = array_module(input)
    fn = getattr(xp, fn_name)
    if arr.size == 0 and dim is None:
        raise IndexError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0.")
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
    if arr.shape[d] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
    idx = fn(arr, axis=d, keepdims=keepdim)
    if arr.dtype.kind in "fc":
        isn = xp.isnan(arr)
        if isn.any():
            idx = xp.where(isn.any(axis=d, keepdims=keepdim), xp.argmax(isn, axis=d, keepdims=keepdim), idx)
    return _make(idx.astype(xp.int64, copy=False))


@op
def argmax(input, dim=None, keepdim=False, *, out=None):
    """Index of the largest value (over the flattened tensor when ``dim`` is None)."""
    res = _arg_extreme(input, dim, keepdim, "argmax", "argmax")
    return write_out(out, res) if out is not None else res


@op
def argmin(input, dim=None, keepdim=False, *, out=None):
    """Index of the smallest value (over the flattened tensor when ``dim`` is None)."""
    res = _arg_extreme(input, dim, keepdim, "argmin", "argmin")
    return write_out(out, res) if out is not None else res


# ---------------------------------------------------------------------------- var / std
class VarBackward0(Node):
    def backward(self, grad):
        (x,) = self.saved_tensors
        g = expand_back(grad, self.shape, self.dims, self.keepdim)
        centered = x - x.mean(self.dims, keepdim=True)
        return (g * centered * (2.0 / self.denom),)


class StdBackward0(Node):
    def backward(self, grad):
        (x,) = self.saved_tensors
        r = self.result()
        g = expand_back(grad / r, self.shape, self.dims, self.keepdim)
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


@op
def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    """Variance over ``dim`` with Bessel's ``correction`` (default 1; ``unbiased=False`` means 0)."""
    dim, unbiased = _var_args(dim, unbiased, correction)
    res = _moments(input, dim, _correction(unbiased, correction), keepdim, sqrt=False)
    return write_out(out, res) if out is not None else res


@op
def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    """Standard deviation over ``dim`` with Bessel's ``correction`` (default 1)."""
    dim, unbiased = _var_args(dim, unbiased, correction)
    res = _moments(input, dim, _correction(unbiased, correction), keepdim, sqrt=True)
    return write_out(out, res) if out is not None else res


def _moments(input, dim, corr, keepdim, sqrt):
    arr = input._data
    xp = array_module(input)
    if arr.dtype.kind in "biu":
        raise RuntimeError("std and var only support floating point and complex dtypes")
    dims = norm_dims(dim, arr.ndim)
    n = _count(arr.shape, dims)
    denom = n - corr
    with ignore_fp_errors(input):   # too few elements give inf or nan, as in PyTorch
        c = arr - (accurate_sum(xp, arr, dims, True) / n).astype(arr.dtype, copy=False)
        ss = accurate_sum(xp, c * c if c.dtype.kind != "c" else (c * c.conj()).real, dims, keepdim)
        v = ss / (denom if denom > 0 else 0)
    r = xp.sqrt(v) if sqrt else v
    res = _make(xp.asarray(r, dtype=arr.dtype if arr.dtype.kind != "c" else arr.real.dtype))
    record(res, StdBackward0 if sqrt else VarBackward0, (input,), (input,), output=sqrt, shape=arr.shape, dims=dims,
           keepdim=keepdim, denom=denom)
    return res


@function
def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``(var, mean)`` over ``dim``."""
    dim, unbiased = _var_args(dim, unbiased, correction)
    return var(input, dim, keepdim=keepdim, correction=_correction(unbiased, correction)), \
        mean(input, dim, keepdim)


@function
def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``(std, mean)`` over ``dim``."""
    dim, unbiased = _var_args(dim, unbiased, correction)
    return std(input, dim, keepdim=keepdim, correction=_correction(unbiased, correction)), \
        mean(input, dim, keepdim)


# ---------------------------------------------------------------------------- all / any / count_nonzero
def _truth(input, dim, keepdim, fn_name):
    xp = array_module(input)
    r = getattr(xp, fn_name)(input._data, axis=None if dim is None else norm_dims(dim, input.ndim), keepdims=keepdim)
    if input._data.dtype == xp.uint8:   # PyTorch keeps uint8 for uint8 inputs
        r = xp.asarray(r).astype(xp.uint8)
    return _make(r)


@op
def all(input, dim=None, keepdim=False, *, out=None):
    """True when every element (along ``dim``) is non-zero."""
    res = _truth(input, dim, keepdim, "all")
    return write_out(out, res) if out is not None else res


@op
def any(input, dim=None, keepdim=False, *, out=None):
    """True when some element (along ``dim``) is non-zero."""
    res = _truth(input, dim, keepdim, "any")
    return write_out(out, res) if out is not None else res


@op
def count_nonzero(input, dim=None):
    """Number of non-zero elements (along ``dim``, an int or a tuple of ints), as int64."""
    a = input._data
    refuse_wide_unsigned("nonzero_count_cpu", a.dtype)
    xp = array_module(input)
    axis = None if dim is None else norm_dims(dim, a.ndim)
    return _make(xp.asarray(xp.count_nonzero(a, axis=axis), dtype=xp.int64))


# ---------------------------------------------------------------------------- logsumexp
class LogsumexpBackward0(Node):
    def backward(self, grad):
        (x,) = self.saved_tensors
        r = self.result()
        r_b = expand_back(r, self.shape, self.dims, self.keepdim)
        g_b = expand_back(grad, self.shape, self.dims, self.keepdim)
        return (g_b * (x - r_b).exp(),)


@op
def logsumexp(input, dim, keepdim=False, *, out=None):
    """``log(sum(exp(input)))`` over ``dim``, computed without overflow."""
    arr = input._data
    xp = array_module(input)
    if arr.dtype.kind in "biu":
        arr = arr.astype(_dtype.get_default_dtype().np)
    dims = norm_dims(dim, arr.ndim)
    with ignore_fp_errors(input):   # log(0) of an all -inf slice is -inf, as in PyTorch
        if arr.size == 0:
            r = xp.log(xp.sum(xp.exp(arr), axis=dims, keepdims=keepdim))
        else:
            m = xp.max(arr, axis=dims, keepdims=True)
            m = xp.where(xp.isfinite(m), m, 0)
            r = xp.log(xp.sum(xp.exp(arr - m), axis=dims, keepdims=True)) + m
            if not keepdim:
                r = r.squeeze(dims)
    res = _make(r.astype(arr.dtype, copy=False))
    record(res, LogsumexpBackward0, (input,), (input,), output=True, shape=arr.shape, dims=dims, keepdim=keepdim)
    return write_out(out, res) if out is not None else res

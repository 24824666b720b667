"""More reductions: prod, nansum, nanmean, count_nonzero, aminmax."""
from .. import return_types
from ._common import xp, Node, attach, GradMode, _make, norm_dims, wrap_dim
from .elementwise import write_out, _dtype_name
from .reduction import _expand_back, amax, amin


def _int_dim(dim, name):
    if isinstance(dim, (tuple, list)) or isinstance(dim, bool) or not isinstance(dim, int) and not hasattr(
            dim, "__index__"):
        raise TypeError(f"{name}(): argument 'dim' must be int, not {type(dim).__name__}")
    return dim.__index__() if not isinstance(dim, int) else dim


# ---------------------------------------------------------------------------- prod
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
        g = _expand_back(grad, x.shape, (d,), keepdim) if x.ndim else grad
        if not (x._data == 0).any():
            r = _expand_back(self.result(), x.shape, (d,), keepdim) if x.ndim else self.result()
            return g * r / x
        return g * _prod_others(x, d)


_ProdDimBackward = type("ProdBackward1", (ProdBackward0,), {})


def _prod_others(x, d):
    """``out_i = prod_{j != i} x_j`` along ``d``: exclusive cumprods from both ends (differentiable)."""
    from . import OPS
    from .cumulative import cumprod, _flip
    if x.ndim == 0:
        return x.new_ones(())
    n = x.shape[d]
    ones_shape = list(x.shape)
    ones_shape[d] = 1
    ones = x.new_ones(ones_shape)
    narrow, cat = OPS["narrow"], OPS["cat"]
    left = cat([ones, narrow(cumprod(x, d), d, 0, n - 1)], d)
    right = _flip(cat([ones, narrow(cumprod(_flip(x, d), d), d, 0, n - 1)], d), d)
    return left * right


def prod(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Product of all elements, or along the int ``dim``; integer and bool inputs multiply as int64."""
    a = input._data
    if dtype is not None:
        a = a.astype(dtype.np, copy=False)
    elif a.dtype.kind in "biu":
        a = a.astype(xp.int64)
    half = a.dtype.kind == "f" and a.dtype.itemsize < 4 or a.dtype.name == "bfloat16"
    work = a.astype(xp.float32) if half else a
    if dim is None:
        r = xp.prod(work)
        d = None
    else:
        d = wrap_dim(_int_dim(dim, "prod"), a.ndim)
        r = xp.prod(work, axis=d, keepdims=keepdim) if a.ndim else work.copy()
    res = _make(xp.asarray(r).astype(a.dtype, copy=False))
    if input._requires_grad and GradMode.enabled and res.dtype._category >= 2:
        node = ProdBackward0() if d is None else _ProdDimBackward()
        node.dim, node.keepdim = d, keepdim
        node.save(input)
        node.save_result(res)
        attach(res, node, input)
    return write_out(out, res) if out is not None else res


# ---------------------------------------------------------------------------- nansum / nanmean
class NansumBackward0(Node):
    def backward(self, grad):
        (x,) = self.saved_tensors
        g = _expand_back(grad, x.shape, self.dims, self.keepdim)
        g = g * x.isnan().logical_not()
        return (g.to(x.dtype) if g.dtype is not x.dtype else g,)


def nansum(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Sum treating NaN as zero."""
    a = input._data
    if dtype is not None:
        a = a.astype(dtype.np, copy=False)
    elif a.dtype.kind in "biu":
        a = a.astype(xp.int64)
    dims = norm_dims(dim, a.ndim)
    half = a.dtype.kind == "f" and a.dtype.itemsize < 4
    r = xp.nansum(a.astype(xp.float32) if half else a, axis=dims, keepdims=keepdim)
    res = _make(xp.asarray(r).astype(a.dtype, copy=False))
    if input._requires_grad and GradMode.enabled and res.dtype._category >= 2:
        node = NansumBackward0()
        node.dims, node.keepdim = dims, keepdim
        node.save(input)
        attach(res, node, input)
    return write_out(out, res) if out is not None else res


def nanmean(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Mean of the non-NaN elements (NaN where there are none)."""
    if dtype is None and input.dtype._category < 2:
        raise RuntimeError(f"nanmean(): expected input to have floating point or complex dtype but got "
                           f"{_dtype_name(input.dtype)}")
    x = input.to(dtype) if dtype is not None else input
    count = x.isnan().logical_not().sum(dim, keepdim=keepdim) if dim is not None else \
        x.isnan().logical_not().sum()
    res = nansum(x, dim, keepdim) / count
    return write_out(out, res) if out is not None else res


# ---------------------------------------------------------------------------- count_nonzero, aminmax
def count_nonzero(input, dim=None):
    """Number of non-zero elements (along ``dim``, an int or a tuple of ints), as int64."""
    a = input._data
    axis = None if dim is None else norm_dims(dim, a.ndim)
    return _make(xp.asarray(xp.count_nonzero(a, axis=axis), dtype=xp.int64))


def aminmax(input, *, dim=None, keepdim=False, out=None):
    """``(min, max)`` of ``input`` (over everything, or along the int ``dim``)."""
    if dim is not None:
        dim = _int_dim(dim, "aminmax")
        d = wrap_dim(dim, input._data.ndim)
        if input._data.ndim and input._data.shape[d] == 0:
            raise IndexError(f"aminmax(): Expected reduction dim {d} to have non-zero size.")
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

"""Norms: linalg.vector_norm, linalg.matrix_norm (imported by ember.linalg), torch.norm, dist.

vector_norm has its own node with PyTorch's gradient rules (zero where the norm is zero,
ties of the inf-norms sharing the gradient); matrix norms are compositions of vector norms,
abs/sum/amax, and singular values.
"""
import math

from .. import _dtype
from ._common import array_module, Node, record, op, _make, norm_dims, wrap_dim, scalar_value, write_out, \
    dtype_name, ignore_fp_errors
from .elementwise import where
from .pnorm import check_empty_reduction
from .reduction import expand_back

_INF = math.inf


def _is_floating(t):
    return t.dtype._category >= 2


def _check_ord(ord):
    if isinstance(ord, bool) or not isinstance(ord, (int, float)):
        ord = scalar_value(ord)
        if isinstance(ord, bool) or not isinstance(ord, (int, float)):
            raise TypeError(f"linalg_vector_norm(): argument 'ord' (position 2) must be Number, not "
                            f"{type(ord).__name__}")
    return float(ord)


class LinalgVectorNormBackward0(Node):
    def backward(self, grad):
        (x,) = self.saved_tensors
        p, dims, keepdim = self.ord, self.dims, self.keepdim
        norm = expand_back(self.result(), x.shape, dims, keepdim)
        g = expand_back(grad, x.shape, dims, keepdim)
        if p == 0:
            return (x * 0 if not x.dtype.is_complex else x.abs() * 0,)
        if p == 1:
            return (x.sgn() * g,)
        zero_norm = norm == 0
        if p == 2:
            return (x * where(zero_norm, 0.0, g / norm).to(g.dtype),)
        if math.isinf(p):
            mask = (x.abs() == norm).to(g.dtype)
            count = mask.sum(dims, keepdim=True)
            return (x.sgn() * (g / count) * mask,)
        if p < 1:
            scaled = x.sgn() * where(x == 0, 0.0, x.abs().pow(p - 1)).to(x.abs().dtype)
            return (scaled * g * norm.pow(1 - p),)
        if p < 2:
            scaled = x.sgn() * x.abs().pow(p - 1)
        else:
            scaled = x * x.abs().pow(p - 2)
        return (scaled * where(zero_norm, 0.0, g / norm.pow(p - 1)).to(g.dtype),)


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None, out=None):
    """The ``ord``-norm of ``x`` viewed as a vector (over ``dim``: None, an int or a tuple of ints)."""
    p = _check_ord(ord)
    if not _is_floating(x):
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got "
                           f"{dtype_name(x.dtype)}")
    if dtype is not None:
        if dtype._category < 2:
            raise RuntimeError(f"linalg.vector_norm: dtype should be floating point or complex, but got "
                               f"{dtype_name(dtype)}")
        x = x.to(dtype)
    a = x._data
    xp = array_module(x)
    dims = norm_dims(dim, a.ndim)
    check_empty_reduction(a, p, dim, ord)
    mag = xp.abs(a)
    rdt = mag.dtype
    if rdt.itemsize < 4 or rdt.name == "bfloat16":
        mag = mag.astype(xp.float32)
    with ignore_fp_errors(x):
        if p == _INF:
            r = xp.max(mag, axis=dims, keepdims=keepdim)
        elif p == -_INF:
            r = xp.min(mag, axis=dims, keepdims=keepdim)
        elif p == 0:
            r = xp.sum(mag != 0, axis=dims, keepdims=keepdim).astype(mag.dtype)
        elif p == 1:
            r = xp.sum(mag, axis=dims, keepdims=keepdim)
        elif p == 2:
            r = xp.sqrt(xp.sum(mag * mag, axis=dims, keepdims=keepdim))
        else:
            r = xp.sum(mag ** p, axis=dims, keepdims=keepdim) ** (1.0 / p)
    res = _make(xp.asarray(r).astype(rdt, copy=False))
    record(res, LinalgVectorNormBackward0, (x,), (x,), output=True, ord=p, dims=dims, keepdim=keepdim)
    return write_out(out, res) if out is not None else res


_MATRIX_ORDS = ("fro", "nuc", _INF, -_INF, 1, -1, 2, -2)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None, out=None):
    """The ``ord``-norm of the matrices in dims ``dim`` of ``A``: 'fro', 'nuc', inf, -inf, 1, -1, 2 or -2."""
    if A._data.ndim < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 dimensions.")
    if not _is_floating(A):
        raise RuntimeError(f"linalg.matrix_norm: Expected a floating point or complex tensor as input. Got "
                           f"{dtype_name(A.dtype)}")
    if isinstance(dim, int) or len(dim) != 2:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {1 if isinstance(dim, int) else len(dim)}")
    if isinstance(ord, str):
        if ord not in ("fro", "nuc"):
            raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    elif scalar_value(ord) not in _MATRIX_ORDS:
        raise RuntimeError(f"linalg.matrix_norm: Order {_fmt_ord(ord)} not supported.")
    nd = A._data.ndim
    d0, d1 = wrap_dim(dim[0], nd), wrap_dim(dim[1], nd)
    if d0 == d1:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({dim[0]}, {dim[1]})")
    if dtype is not None:
        A = A.to(dtype)
    if ord == "fro":
        res = vector_norm(A, 2, (d0, d1), keepdim)
    else:
        out_shape = [s for i, s in enumerate(A.shape) if i not in (d0, d1)]
        keep_shape = [1 if i in (d0, d1) else s for i, s in enumerate(A.shape)]
        if ord in ("nuc", 2, -2):
            from .. import linalg   # its svdvals differentiates through U and V too (second derivatives)
            s = linalg.svdvals(A.movedim((d0, d1), (-2, -1)))
            r = s.sum(-1) if ord == "nuc" else (_norm_max(s, -1, False) if ord == 2 else s.amin(-1))
        else:
            inner, outer = (d0, d1) if abs(ord) == 1 else (d1, d0)
            summed = A.abs().sum(inner, keepdim=keepdim)
            if not keepdim and inner < outer:
                outer -= 1  # the sum removed a dim before it (PyTorch's empty-dim error names this position)
            r = _norm_max(summed, outer, keepdim) if ord > 0 else summed.amin(outer, keepdim=keepdim)
        res = r.reshape(keep_shape if keepdim else out_shape)
    return write_out(out, res) if out is not None else res


def _norm_max(t, dim, keepdim):
    """``t.amax(dim, keepdim)`` of non-negative ``t``; over an empty ``dim`` PyTorch's matrix norms give 0, with
    no graph."""
    if t.shape[dim] == 0:
        shape = list(t.shape)
        shape[dim] = 1
        return t.detach().new_zeros(shape if keepdim else shape[:dim % t.dim()] + shape[dim % t.dim() + 1:])
    return t.amax(dim, keepdim=keepdim)


def _fmt_ord(ord):
    v = scalar_value(ord)
    return int(v) if isinstance(v, float) and v.is_integer() else v


@op
def norm(input, p="fro", dim=None, keepdim=False, out=None, dtype=None):
    """``torch.norm``: vector norms for numbers and 'fro' (over ``dim``), the nuclear norm for 'nuc'."""
    if not _is_floating(input):
        raise RuntimeError(f"norm(): input dtype should be either floating point or complex. Got "
                           f"{dtype_name(input.dtype)} instead.")
    dims = [dim] if isinstance(dim, int) else dim
    if isinstance(p, str):
        if p == "fro" and (dim is None or isinstance(dim, int) or len(dim) <= 2):
            return vector_norm(input, 2, dims, keepdim, dtype=dtype, out=out)
        if dims is None:
            dims = list(range(input.ndim))
        return matrix_norm(input, p, dims, keepdim, dtype=dtype, out=out)
    return vector_norm(input, 2.0 if p is None else p, dims, keepdim, dtype=dtype, out=out)


@op
def dist(input, other, p=2):
    """``vector_norm(input - other, p)``."""
    diff = input - other
    if not _is_floating(diff):
        diff = diff.to(_dtype.float64)
    return vector_norm(diff, p)

"""The regularized incomplete gamma functions ``igamma`` (P, ``special.gammainc``) and ``igammac``
(Q = 1 - P, ``special.gammaincc``).

Computed in float64: the power series of P where ``x < a + 1`` and the continued fraction of Q (modified
Lentz) elsewhere, each giving the smaller of the two accurately.  PyTorch differentiates them with respect
to ``x`` only (``d P / d x = x^(a-1) e^-x / Gamma(a)``); a gradient for ``a`` raises, as there.
"""
import math

from .. import _dtype
from ._common import (array_module, Tensor, Node, record, op, _make, binary_arrays, broadcast_error, dtype_name,
                      grad_for, ignore_fp_errors, write_out)
from .special_math import lgamma

_EPS = 1e-16
_MAX_TERMS = 2000


def _series_p(xp, a, x):
    """P(a, x) by its power series (converges fast for x < a + 1)."""
    term = xp.ones_like(x) / a
    total = term.copy()
    ap = a.copy()
    for _ in range(_MAX_TERMS):
        ap = ap + 1
        term = term * x / ap
        total = total + term
        if not (xp.abs(term) > xp.abs(total) * _EPS).any():
            break
    log_front = a * xp.log(x) - x - lgamma(_make(a))._data
    return total * xp.exp(log_front)


def _fraction_q(xp, a, x):
    """Q(a, x) by its continued fraction, evaluated with the modified Lentz method (x >= a + 1)."""
    tiny = 1e-300
    b = x + 1 - a
    c = xp.full_like(x, 1 / tiny)
    d = 1 / b
    h = d.copy()
    for i in range(1, _MAX_TERMS):
        an = -i * (i - a)
        b = b + 2
        d = an * d + b
        d = xp.where(xp.abs(d) < tiny, tiny, d)
        c = b + an / c
        c = xp.where(xp.abs(c) < tiny, tiny, c)
        d = 1 / d
        delta = d * c
        h = h * delta
        if not (xp.abs(delta - 1) > _EPS).any():
            break
    log_front = a * xp.log(x) - x - lgamma(_make(a))._data
    return xp.exp(log_front) * h


def regularized_gamma_arrays(xp, a, x, upper):
    """Q(a, x) when ``upper`` else P(a, x), elementwise over broadcast float64 arrays, with PyTorch's values at
    the edges (NaN for negative arguments or a = x = 0; x = 0 and x = inf and a = inf are exact)."""
    a, x = xp.broadcast_arrays(xp.asarray(a, dtype="float64"), xp.asarray(x, dtype="float64"))
    p = xp.full(a.shape, math.nan)
    q = xp.full(a.shape, math.nan)
    finite = (a > 0) & (x > 0) & xp.isfinite(a) & xp.isfinite(x)
    use_series = finite & (x < a + 1)
    use_fraction = finite & ~use_series
    if use_series.any():
        p[use_series] = _series_p(xp, a[use_series], x[use_series])
        q[use_series] = 1 - p[use_series]
    if use_fraction.any():
        q[use_fraction] = _fraction_q(xp, a[use_fraction], x[use_fraction])
        p[use_fraction] = 1 - q[use_fraction]
    valid = (a >= 0) & (x >= 0) & ~((a == 0) & (x == 0))
    for cond, pv in (((x == 0) & (a > 0), 0.0), ((a == 0) & (x > 0), 1.0), (xp.isinf(x) & valid, 1.0),
                     (xp.isinf(a) & xp.isfinite(x) & valid, 0.0)):
        p[cond] = pv
        q[cond] = 1 - pv
    return q if upper else p


class IgammaBackward0(Node):
    def backward(self, grad):
        a0, x0 = self.saved_tensors
        if a0._requires_grad:
            raise NotImplementedError(f"the derivative for '{self.op_name}: input' is not implemented.")
        a, x = a0.to(grad.dtype), x0.to(grad.dtype)
        density = ((a - 1) * x.log() - x - a.lgamma()).exp()
        g = grad * density
        return None, grad_for(-g if self.upper else g, x0)


class IgammacBackward0(IgammaBackward0):
    """Gradient of igammac (the negative of igamma's)."""


def _igamma(name, input, other, upper, out):
    if not isinstance(other, Tensor):
        raise TypeError(f"{name}(): argument 'other' (position 2) must be Tensor, not {type(other).__name__}")
    da, dx = binary_arrays(input, other)
    if da.dtype.kind not in "f":
        raise NotImplementedError(f'"{name}_cpu" not implemented for '
                                  f"'{dtype_name(_dtype.from_numpy_dtype(da.dtype))}'")
    xp = array_module(input)
    try:
        xp.broadcast_shapes(da.shape, dx.shape)
    except ValueError:
        raise broadcast_error(da.shape, dx.shape) from None
    with ignore_fp_errors(input):
        res = _make(regularized_gamma_arrays(xp, da, dx, upper).astype(da.dtype))
    record(res, IgammacBackward0 if upper else IgammaBackward0, (input, other), (input, other), upper=upper,
           op_name=name)
    return write_out(out, res) if out is not None else res


@op(inplace=True)
def igamma(input, other, *, out=None):
    """The regularized lower incomplete gamma function ``P(input, other)``."""
    return _igamma("igamma", input, other, False, out)


@op(inplace=True)
def igammac(input, other, *, out=None):
    """The regularized upper incomplete gamma function ``Q(input, other) = 1 - P(input, other)``."""
    return _igamma("igammac", input, other, True, out)

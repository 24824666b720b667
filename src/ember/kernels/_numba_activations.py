"""Numba CPU implementations of ``kernels/activations.py`` (one pass over the input, chunks over threads).

Sigmoid and SiLU compute float32 in float32 and float64 in float64 (``_numba_math``'s ``fsigmoid``; tanh's
forward is NumPy's, its gradient compiled here) with PyTorch's CPU formulas, so the special values come out as there: sigmoid 1 / (1 + exp(-x)) (0 where
exp(-x) overflows), its gradient g (1 - y) y; tanh's gradient g (1 - y^2); silu x sigmoid(x) (NaN at -inf, -0.0 where
sigmoid underflows to 0) and its gradient g s (1 + x (1 - s)).  leaky_relu, hardswish and hardsigmoid are selects,
PyTorch's too: NaN passes forward, and the gradient is 0, not g * 0, where the unit is off.
"""
import math
from fractions import Fraction

import numpy as np
from numba import prange

from ._numba import inline, jit, pjit, chunks
from ._numba_math import exp32, exp32_nonpositive, exp64, tanh64, fexp, fsigmoid, ftanh, _by_precision
from .activations import (ERF_SMALL, ERFCX_LARGE, HALF_ERFCX_FIT32, FIT32_U, SQRT_2_OVER_PI, INV_SQRT_2PI,
                          TANH_CUBIC)

_INV_SQRT2 = 0.7071067811865476


def _chebyshev_to_powers(coeffs, scale=1, shift=0):
    """The power-series coefficients (degree 0 up) in ``s`` of ``sum c_k T_k(u)``, ``u = scale * s + shift``
    (first coefficient pre-halved): exact rational arithmetic, each coefficient rounded once.  For the series
    below the two bases' coefficients have about the same absolute sum, so Horner's rounding stays Clenshaw's."""
    def times_u(p):
        return [a * shift + b * scale for a, b in zip(p + [0], [0] + p)]
    t = [[Fraction(1)], times_u([Fraction(1)])]
    while len(t) < len(coeffs):
        t.append([2 * a - b for a, b in zip(times_u(t[-1]), t[-2] + [0, 0])])
    return tuple(float(sum(Fraction(c) * tk[j] for c, tk in zip(coeffs, t) if j < len(tk)))
                 for j in range(len(coeffs)))


def _power_series(coeffs, name):
    """An inlined Numba function ``s -> sum c_j s^j`` as two Horner chains in ``s^2`` (even and odd terms), which
    halves the dependent multiply-adds of one chain; the coefficients are written into its code (see
    ``_numba_math.chebyshev``)."""
    lines = [f"def {name}(s):", "    s2 = s * s"]
    for part, terms in (("e", coeffs[0::2]), ("o", coeffs[1::2])):
        lines.append(f"    {part} = {terms[-1]!r}")
        lines += [f"    {part} = {part} * s2 + {c!r}" for c in terms[-2::-1]]
    lines.append("    return e + s * o")
    namespace = {}
    exec("\n".join(lines), namespace)   # generated from numbers only
    return inline(namespace[name])


_erf_small = _power_series(_chebyshev_to_powers(ERF_SMALL, 2, -1), "erf_small")   # erf(x)/x in s = x^2, |x| < 1
_erfcx_large = _power_series(_chebyshev_to_powers(ERFCX_LARGE), "erfcx_large")   # (x + 1) erfcx(x) in t, x >= 1
_FIT_DOWN = tuple(HALF_ERFCX_FIT32[::-1])   # Horner's order


@inline
def _cdf_pdf32(a):
    """Phi(a) and phi(a) of a float32 by the ``HALF_ERFCX_FIT32`` form of erfc; phi reuses its exp(-a^2/2)."""
    z = a * np.float32(-_INV_SQRT2)
    az = abs(z)
    t = np.float32(2) / (az + np.float32(2))
    u = t * np.float32(FIT32_U[0]) + np.float32(FIT32_U[1])
    q = np.float32(_FIT_DOWN[0])
    for c in _FIT_DOWN[1:]:
        q = q * u + np.float32(c)
    eq = exp32_nonpositive(-(az * az))
    h = t * q * eq   # erfc(|z|) / 2
    cdf = h if z >= 0 else np.float32(1) - h
    return cdf, eq * np.float32(INV_SQRT_2PI)


@inline
def _exp_neg_sq(a):
    """exp(-a*a) for a float64 0 <= a <= 28 with a*a split exactly (a float32-rounded head); the tail's factor
    exp(-lo), |lo| < 6e-5, by its cubic Taylor polynomial (error < 1e-18)."""
    hi = np.float64(np.float32(a))
    lo = (a - hi) * (a + hi)
    return exp64(-hi * hi) * (1.0 - lo * (1.0 - lo * (0.5 - lo * (1.0 / 6.0))))


@inline
def _cdf_pdf64(a):
    """Phi(a) and phi(a) of a float64 by erf's series (float64-accurate): erf(z)/z in z^2 for |z| < 1,
    erfcx(z) in (z - 5)/(z + 3) beyond (z capped at 28, where exp(-z^2) is already 0)."""
    z = a * -_INV_SQRT2
    az = abs(z)
    eq = _exp_neg_sq(min(az, 28.0))
    small = 1.0 - z * _erf_small(z * z)
    ac = min(max(az, 1.0), 28.0)
    r = 1.0 / ((ac + 3.0) * (ac + 1.0))   # one division for (ac - 5) / (ac + 3) and 1 / (ac + 1)
    e = eq * _erfcx_large((ac - 5.0) * (ac + 1.0) * r) * ((ac + 3.0) * r)
    big = e if z >= 0 else 2.0 - e
    cdf = (small if az < 1.0 else big) * 0.5
    return (cdf if a == a else a), eq * INV_SQRT_2PI


@inline
def _tanh_parts(a):
    """tanh(u) and du/da of the tanh approximation ``u = sqrt(2/pi) (a + 0.044715 a^3)``, in float64."""
    u = SQRT_2_OVER_PI * (a + TANH_CUBIC * a * a * a)
    th = tanh64(u)   # not 1 - 2 / (exp(2u) + 1): that cancels near 0
    return th, SQRT_2_OVER_PI * (1.0 + 3 * TANH_CUBIC * a * a)


_EXPM1_SMALL = 0.6   # below it expm1(z) = z P(z); beyond, exp(z) - 1 keeps its relative accuracy (|expm1| > 0.45)
# P's Taylor coefficients, 1/(k+1)!: the first left out is below 2e-9 (float32) / 5e-19 (float64) of P on |z| < 0.6
_EXPM1_32 = tuple(1 / math.factorial(k + 1) for k in range(9))[::-1]   # Horner's order
_expm1_over_z64 = _power_series(tuple(1 / math.factorial(k + 1) for k in range(17)), "expm1_over_z64")


@inline
def _expm1_32(z):
    """expm1 of a float32 in float32 (about 3 ulp; inf, NaN and -inf's -1 through exp32)."""
    p = np.float32(_EXPM1_32[0])
    for c in _EXPM1_32[1:]:
        p = p * z + np.float32(c)
    return z * p if abs(z) < np.float32(_EXPM1_SMALL) else exp32(z) - np.float32(1)


@inline
def _expm1_64(z):
    """expm1 of a float64 (a few ulp)."""
    return z * _expm1_over_z64(z) if abs(z) < _EXPM1_SMALL else exp64(z) - 1.0


def fexpm1(z):
    """expm1 in the precision of ``z`` (Numba only)."""


_by_precision(fexpm1, _expm1_32, _expm1_64, inline="always")


# log(m) = 2 atanh(s), s = (m - 1) / (m + 1), |s| <= 0.1716 for m in [sqrt(1/2), sqrt(2)): 2 s sum s^2k / (2k + 1),
# the first term left out below 1e-9 (float32, 6 terms) / 4e-18 (float64, 13 terms) of the sum
_ATANH_32 = tuple(2 / (2 * k + 1) for k in range(6))[::-1]   # Horner's order, in s^2
_atanh_series64 = _power_series(tuple(2 / (2 * k + 1) for k in range(13)), "atanh_series64")
_SQRT2 = 1.4142135623730951


@inline
def _log1p32(u):
    """log1p of a float32 ``u >= 0`` in float32 (about 2 ulp; inf and NaN pass): log(w), w = 1 + u, from w's
    exponent and mantissa, plus the rounding of 1 + u, (u - (w - 1)) / w."""
    one = np.float32(1)
    w = one + u
    bits = np.float32(w).view(np.int32)
    m = np.int32((bits & 0x007FFFFF) | 0x3F800000).view(np.float32)   # np.int32: Numba's int32 ops give int64
    big = m > np.float32(_SQRT2)
    k = np.float32((bits >> 23) - 127) + (one if big else np.float32(0))
    f = (m * np.float32(0.5) if big else m) - one
    sx = f / (np.float32(2) + f)
    s2 = sx * sx
    p = np.float32(_ATANH_32[0])
    for c in _ATANH_32[1:]:
        p = p * s2 + np.float32(c)
    r = k * np.float32(0.693145751953125) + (sx * p + (k * np.float32(1.428606765330187e-06) + (u - (w - one)) / w))
    return r if w < np.float32(np.inf) else w


@inline
def _log1p64(u):
    """log1p of a float64 ``u >= 0`` (a few ulp; inf and NaN pass), as ``_log1p32``."""
    w = 1.0 + u
    bits = np.float64(w).view(np.int64)
    m = np.int64((bits & 0x000FFFFFFFFFFFFF) | 0x3FF0000000000000).view(np.float64)
    big = m > _SQRT2
    k = np.float64((bits >> 52) - 1023) + (1.0 if big else 0.0)
    f = (m * 0.5 if big else m) - 1.0
    sx = f / (2.0 + f)
    r = k * 0.6931471803691238 + (sx * _atanh_series64(sx * sx) + (k * 1.9082149292705877e-10 + (u - (w - 1.0)) / w))
    return r if w < np.inf else w


# exp of float32 z <= -87 (exp32 flushes results below the smallest normal) as exp(z + SHIFT) exp(-SHIFT): SHIFT, near
# 24 ln2, on the grid of float32s in [64, 128) (2^-17), so z + SHIFT is exact for -128 < z < -64
_EXP_SHIFT32 = round(24 * math.log(2) * 2 ** 17) / 2 ** 17
_EXP_UNSHIFT32 = math.exp(-_EXP_SHIFT32)


@inline
def _exp_subnormal32(z):
    """exp of a float32 in float32 that keeps subnormal results (softplus and mish of x < -87 are subnormal or
    near them, as PyTorch's)."""
    small = exp32(z + np.float32(_EXP_SHIFT32)) * np.float32(_EXP_UNSHIFT32)
    return exp32(z) if z > np.float32(-87.0) else small


def fexp_subnormal(z):
    """exp in the precision of ``z`` (Numba only): float32's with subnormal results, ``exp64`` for float64."""


_by_precision(fexp_subnormal, _exp_subnormal32, exp64, inline="always")


def flog1p(u):
    """log1p of ``u >= 0`` in the precision of ``u`` (Numba only)."""


_by_precision(flog1p, _log1p32, _log1p64, inline="always")


@inline
def _relu6(c, zero, six):
    """min(max(c, 0), 6) (``zero``, ``six``: in ``c``'s precision) as selects that keep NaN, as PyTorch's."""
    return zero if c < zero else six if c > six else c


_FIT, _SERIES, _TANH = 0, 1, 2   # GELU: float32 erfc fit, float64 erf series, tanh approximation
SIGMOID, TANH, SILU, LEAKY_RELU, HARDSWISH, HARDSIGMOID, ELU, SOFTPLUS, MISH = 3, 4, 5, 6, 7, 8, 9, 10, 11
_ONE_SIXTH = 0.1666666716337204   # PyTorch's hardsigmoid gradient: 1.0f / 6.0f in either precision


@jit
def _fwd_block(a, y, kind, p):
    # one loop per kind, the branch outside it, so each loop vectorises
    if kind == _FIT:
        for i in range(a.size):
            y[i] = a[i] * _cdf_pdf32(a[i])[0]
    elif kind == _SERIES:
        for i in range(a.size):
            y[i] = a[i] * _cdf_pdf64(a[i])[0]
    elif kind == _TANH:
        for i in range(a.size):
            x = np.float64(a[i])
            y[i] = 0.5 * x * (_tanh_parts(x)[0] + 1.0)
    elif kind == SIGMOID:
        for i in range(a.size):
            y[i] = fsigmoid(a[i])
    elif kind == SILU:
        for i in range(a.size):
            y[i] = a[i] * fsigmoid(a[i])
    elif kind == LEAKY_RELU:
        slope = a.dtype.type(p[0])
        for i in range(a.size):
            x = a[i]
            y[i] = x if x > 0 else x * slope
    elif kind == ELU:   # p: alpha, scale, input scale; the coefficients rounded to a's type first, as PyTorch's
        t = a.dtype.type
        neg, pos, ipt = t(p[0]) * t(p[1]), t(p[1]), t(p[2])
        for i in range(a.size):
            x = a[i]
            y[i] = x * pos if x > 0 else fexpm1(x * ipt) * neg
    elif kind == SOFTPLUS:   # p: beta, threshold
        beta, threshold = a.dtype.type(p[0]), a.dtype.type(p[1])
        for i in range(a.size):
            x = a[i]
            z = x * beta
            y[i] = x if z > threshold else flog1p(fexp_subnormal(z)) / beta
    elif kind == MISH:
        for i in range(a.size):
            x = a[i]
            y[i] = x * ftanh(flog1p(fexp_subnormal(x)))
    elif kind == HARDSWISH:
        zero, three, six = a.dtype.type(0), a.dtype.type(3), a.dtype.type(6)
        for i in range(a.size):
            y[i] = a[i] * _relu6(a[i] + three, zero, six) / six
    else:
        zero, three, six = a.dtype.type(0), a.dtype.type(3), a.dtype.type(6)
        for i in range(a.size):
            y[i] = _relu6(a[i] + three, zero, six) / six


@jit
def _bwd_block(g, a, gx, kind, p):
    """``a``: the saved array, sigmoid's and tanh's output, the others' input; ``p``: leaky_relu's slope, or ELU's
    alpha, scale and input scale."""
    t = g.dtype.type   # typed constants: a literal 1 would make float32 arithmetic float64
    one, zero = t(1), t(0)
    if kind == _FIT:
        for i in range(a.size):
            cdf, pdf = _cdf_pdf32(a[i])
            gx[i] = g[i] * (cdf + a[i] * pdf)
    elif kind == _SERIES:
        for i in range(a.size):
            cdf, pdf = _cdf_pdf64(a[i])
            gx[i] = g[i] * (cdf + a[i] * pdf)
    elif kind == _TANH:
        for i in range(a.size):
            x = np.float64(a[i])
            th, du = _tanh_parts(x)
            gx[i] = g[i] * (0.5 * (th + 1.0) + 0.5 * x * (1.0 - th * th) * du)
    elif kind == SIGMOID:
        for i in range(a.size):
            gx[i] = g[i] * (one - a[i]) * a[i]
    elif kind == TANH:
        for i in range(a.size):
            gx[i] = g[i] * (one - a[i] * a[i])
    elif kind == SILU:
        for i in range(a.size):
            x = a[i]
            s = fsigmoid(x)
            gx[i] = g[i] * s * (one + x * (one - s))
    elif kind == LEAKY_RELU:
        slope = t(p[0])
        for i in range(a.size):
            gx[i] = g[i] if a[i] > 0 else g[i] * slope
    elif kind == ELU:
        neg, pos, ipt = t(p[0]) * t(p[1]), t(p[1]), t(p[2])
        for i in range(a.size):
            x = a[i]
            gx[i] = g[i] * ipt * neg * fexp(x * ipt) if x <= 0 else g[i] * pos   # NaN: g * scale, as PyTorch
    elif kind == SOFTPLUS:
        beta, threshold = t(p[0]), t(p[1])
        for i in range(a.size):
            z = a[i] * beta
            e = fexp_subnormal(z)
            gx[i] = g[i] if z > threshold else g[i] * e / (e + one)
    elif kind == MISH:
        for i in range(a.size):
            x = a[i]
            tsp = ftanh(flog1p(fexp_subnormal(x)))
            gx[i] = g[i] * (tsp + x * fsigmoid(x) * (one - tsp * tsp))
    elif kind == HARDSWISH:
        three, half = t(3), t(0.5)
        for i in range(a.size):
            x = a[i]
            gx[i] = zero if x <= -three else g[i] * (x / three + half) if x < three else g[i]
    else:
        sixth = t(_ONE_SIXTH)
        for i in range(a.size):
            x = a[i]
            gx[i] = g[i] * sixth if -3 < x < 3 else zero


@pjit
def _fwd(a, y, kind, p, nch):
    per = (a.size + nch - 1) // nch
    for ch in prange(nch):   # each chunk a call: a loop inside prange itself is not vectorised
        _fwd_block(a[ch * per:(ch + 1) * per], y[ch * per:(ch + 1) * per], kind, p)


@pjit
def _bwd(g, a, gx, kind, p, nch):
    per = (a.size + nch - 1) // nch
    for ch in prange(nch):
        sl = slice(ch * per, (ch + 1) * per)
        _bwd_block(g[sl], a[sl], gx[sl], kind, p)


_PER_CHUNK = 1 << 14   # elements (see ``row_chunks``): one thread takes ~0.6 ns an element either way


def _kind(x, approximate):
    return _TANH if approximate == "tanh" else _FIT if x.dtype == np.float32 else _SERIES


def gelu_forward(a, approximate):
    """See ``activations.gelu_forward_reference``."""
    x = np.ascontiguousarray(a).reshape(-1)
    y = np.empty_like(x)
    _fwd(x, y, _kind(x, approximate), _param(()), chunks(x.size, _PER_CHUNK))
    return y.reshape(a.shape)


def gelu_backward(g, a, approximate):
    """See ``activations.gelu_backward_reference``."""
    x = np.ascontiguousarray(a).reshape(-1)
    gg = np.ascontiguousarray(g, dtype=x.dtype).reshape(-1)
    gx = np.empty_like(x)
    _bwd(gg, x, gx, _kind(x, approximate), _param(()), chunks(x.size, _PER_CHUNK))
    return gx.reshape(a.shape)


# elements per chunk (see ``row_chunks``) by itemsize, so that a chunk holds some 6-40 us of one thread's work: sigmoid,
# tanh, SiLU, ELU and softplus take 0.1-0.65 ns a float32 element (softplus's forward the most) and 0.33-1.7 ns a
# float64 one; the piecewise leaky_relu, hardswish and hardsigmoid 0.06-0.09 and 0.15; mish 1.2-1.6 and 4.8-5.6
_SMOOTH_CHUNK, _PIECEWISE_CHUNK = {4: 1 << 16, 8: 1 << 14}, {4: 1 << 17, 8: 1 << 16}
_MISH_CHUNK = {4: 1 << 14, 8: 1 << 12}


def _param(params):
    """The drivers' three float parameters: those given (leaky_relu's slope; ELU's alpha, scale, input scale), then
    zeros."""
    return tuple(float(v) for v in params) + (0.0,) * (3 - len(params))


def _pointwise(name, kind, per_chunk):
    """The compiled forward ``(a, *params)`` and backward ``(g, saved, *params)`` of ``kind``, documented by
    ``activations.<name>_forward_reference`` / ``_backward_reference``; ``per_chunk``: elements per chunk by
    itemsize."""
    def forward(a, *params):
        y = np.empty_like(a)
        _fwd(a.reshape(-1), y.reshape(-1), kind, _param(params), chunks(a.size, per_chunk[a.itemsize]))
        return y

    def backward(g, saved, *params):
        gx = np.empty_like(g)
        _bwd(g.reshape(-1), saved.reshape(-1), gx.reshape(-1), kind, _param(params),
             chunks(g.size, per_chunk[g.itemsize]))
        return gx
    forward.__name__, backward.__name__ = f"{name}_forward", f"{name}_backward"
    forward.__doc__ = f"See ``activations.{name}_forward_reference``."
    backward.__doc__ = f"See ``activations.{name}_backward_reference``."
    return forward, backward


sigmoid_forward, sigmoid_backward = _pointwise("sigmoid", SIGMOID, _SMOOTH_CHUNK)
tanh_backward = _pointwise("tanh", TANH, _SMOOTH_CHUNK)[1]   # the forward is NumPy's (see activations.py)
silu_forward, silu_backward = _pointwise("silu", SILU, _SMOOTH_CHUNK)
leaky_relu_forward, leaky_relu_backward = _pointwise("leaky_relu", LEAKY_RELU, _PIECEWISE_CHUNK)
hardswish_forward, hardswish_backward = _pointwise("hardswish", HARDSWISH, _PIECEWISE_CHUNK)
hardsigmoid_forward, hardsigmoid_backward = _pointwise("hardsigmoid", HARDSIGMOID, _PIECEWISE_CHUNK)
elu_forward, elu_backward = _pointwise("elu", ELU, _SMOOTH_CHUNK)
softplus_forward, softplus_backward = _pointwise("softplus", SOFTPLUS, _SMOOTH_CHUNK)
mish_forward, mish_backward = _pointwise("mish", MISH, _MISH_CHUNK)

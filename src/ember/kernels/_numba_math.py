"""Scalar math for Numba kernels that LLVM can vectorise: ``fexp`` (exp for float32 or float64 by
Cody-Waite reduction and a Taylor polynomial; Numba's own ``np.exp`` on scalars calls libm one element
at a time, ~12x slower than NumPy's SIMD exp), ``fexp_nonpositive`` (the same for arguments known <= 0),
``fmax`` (a max reduction that vectorises) and the float64 Chebyshev sums behind erf/erfc.

Results underflow to 0 (no subnormals) below the smallest normal, overflow to inf, and keep NaN.
"""
import math

import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic, overload

from ._numba import FASTMATH, inline

_LOG2E = 1.4426950408889634


def _by_precision(stub, single, double, **options):
    """Give the Numba-only function ``stub`` its implementation: ``single(x)`` for a float32 ``x``, ``double(x)``
    otherwise (``options``: Numba's ``overload`` options, e.g. ``inline="always"``)."""
    def typed(x):
        if isinstance(x, types.Float) and x.bitwidth == 32:
            return lambda x: single(x)
        return lambda x: double(x)
    overload(stub, jit_options={"fastmath": FASTMATH}, **options)(typed)


# e^r ~ sum c_k r^k on |r| <= 0.35 (ln2/2 and k's rounding), highest first: a relative-error minimax fit of degree 6
# (2e-9, below float32's rounding; a degree-7 Taylor series, one more multiply-add per exp, was 7.6e-9)
_EXP32 = (0.0013835809525702375, 0.008375635549715196, 0.04166828807877346, 0.16666410358573316,
          0.49999991599384797, 1.0000000385048584, 1.0000000005993437)


@inline
def _exp_reduced32(x):
    """``(k, e^r)`` for a float32 ``x = k ln2 + r``, |r| <= ln2/2 (Cody-Waite: ln2 in two parts)."""
    k = np.floor(x * np.float32(_LOG2E) + np.float32(0.5))
    r = x - k * np.float32(0.693145751953125) - k * np.float32(1.428606765330187e-06)
    p = np.float32(_EXP32[0])   # not 0 * r + c: without fast-math's no-NaN flag that multiply-add stays
    for c in _EXP32[1:]:
        p = p * r + np.float32(c)
    return k, p


@inline
def exp32(x):
    """exp of a float32 (about 1 ulp): 2^k e^r with |r| <= ln2/2 and a degree-6 polynomial."""
    k, p = _exp_reduced32(x)
    ki = np.int32(min(max(k, np.float32(-126.0)), np.float32(127.0)))
    e = p * np.int32((ki + 127) << 23).view(np.float32) * (np.float32(2) if k > 127 else np.float32(1))
    e = np.float32(0.0) if x < np.float32(-87.33654) else e
    return np.float32(np.inf) if x > np.float32(88.72283) else e if x == x else x


@inline
def exp64(x):
    """exp of a float64 (about 1 ulp): 2^k e^r with |r| <= ln2/2 and a degree-13 Taylor polynomial."""
    k = np.floor(x * _LOG2E + 0.5)
    r = x - k * 0.6931471803691238 - k * 1.9082149292705877e-10
    p = 1 / 6227020800
    for c in (1 / 479001600, 1 / 39916800, 1 / 3628800, 1 / 362880, 1 / 40320, 1 / 5040, 1 / 720, 1 / 120,
              1 / 24, 1 / 6, 0.5, 1.0, 1.0):
        p = p * r + c
    ki = np.int64(min(max(k, -1022.0), 1023.0))
    e = p * np.int64((ki + 1023) << 52).view(np.float64) * (2.0 if k > 1023 else 1.0)
    e = 0.0 if x < -708.3964185322641 else e
    return np.inf if x > 709.782712893384 else e if x == x else x


@inline
def exp32_nonpositive(x):
    """exp of a float32 ``x <= 0`` (about 1 ulp; 0 below the smallest normal's log, NaN kept): ``exp32`` without
    the overflow and exponent-clamping selects an argument that is never positive needs not (a softmax's
    ``x - max``, a Gaussian's ``-z^2``): 1.6x faster in a softmax row loop."""
    xc = max(x, np.float32(-87.33654))
    k, p = _exp_reduced32(xc)
    e = p * np.int32((np.int32(k) + 127) << 23).view(np.float32)
    return np.float32(0.0) if x < np.float32(-87.33654) else e


def fexp(x):
    """exp in the precision of ``x`` (Numba only; see ``exp32`` / ``exp64``)."""


_by_precision(fexp, exp32, exp64)


def fexp_nonpositive(x):
    """exp of ``x <= 0`` in the precision of ``x`` (Numba only; ``exp32_nonpositive`` / ``exp64``)."""


_by_precision(fexp_nonpositive, exp32_nonpositive, exp64)


@intrinsic
def fmax(typingctx, a, b):
    """``max(a, b)`` of two floats of one type, ignoring a NaN operand (LLVM's ``maxnum``), for max reductions:
    a loop ``m = fmax(m, x[i])`` vectorises.  ``max(m, x[i])`` or ``x[i] if x[i] > m else m`` stay scalar
    (Numba emits the select without fast-math flags, and LLVM vectorises no select-based reduction then)."""
    if not (isinstance(a, types.Float) and a == b):
        return None

    def codegen(context, builder, signature, args):
        ty = context.get_value_type(signature.return_type)
        suffix = "f32" if a.bitwidth == 32 else "f64"
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ty, [ty, ty]), "llvm.maxnum." + suffix)
        return builder.call(fn, args)

    return a(a, b), codegen


def chebyshev(coeffs, name):
    """An inlined Numba function ``u -> sum c_k T_k(u)`` (first coefficient pre-halved, ``u`` in [-1, 1])
    by Clenshaw's recurrence, with the coefficients written into its code: a loop over a long constant
    tuple indexes it at run time (a switch per term), and that keeps the caller's loop scalar."""
    lines = [f"def {name}(u):", "    u2 = u + u", f"    b1 = {coeffs[-1]!r}", "    b2 = 0.0"]
    lines += [f"    b1, b2 = u2 * b1 - b2 + {c!r}, b1" for c in coeffs[-2:0:-1]]
    lines.append(f"    return u * b1 - b2 + {coeffs[0]!r}")
    namespace = {}
    exec("\n".join(lines), namespace)   # generated from numbers only
    return inline(namespace[name])


TANH_SMALL = 0.625   # below it tanh = x * series (the exp form would lose bits to cancellation)


def _tanh_over_x_coeffs(n=15):
    """Chebyshev coefficients of ``tanh(x) / x`` in ``u = 2 x^2 / TANH_SMALL^2 - 1`` (|x| < TANH_SMALL), by
    interpolation at ``n`` Chebyshev nodes in long double (in float64 the sums' rounding, ~1e-15, would be
    the series' error).  tanh's poles at +-i pi/2 lie far outside the interval: 15 terms reach 1e-17."""
    ld = np.longdouble
    theta = (np.arange(n, dtype=ld) + ld(0.5)) * (np.pi / ld(n))   # pi in float64: any node set interpolates
    x = np.sqrt((np.cos(theta) + 1) / 2) * ld(TANH_SMALL)
    f = np.tanh(x) / x
    c = [2 * (f * np.cos(k * theta)).sum() / n for k in range(n)]
    c[0] /= 2
    return tuple(float(v) for v in c)


_TANH_OVER_X = _tanh_over_x_coeffs()
_tanh_over_x = chebyshev(_TANH_OVER_X, "tanh_over_x")


@inline
def tanh64(x):
    """tanh of a float64 (within ~12 ulp): ``x * series(x^2)`` for |x| < 0.625, ``1 - 2 / (exp(2|x|) + 1)`` beyond
    (inf and NaN pass through exp64).  Both branches are computed and one selected, so a loop calling it
    vectorises (an extra NaN test would not)."""
    ax = abs(x)
    small = x * _tanh_over_x(x * x * (2.0 / (TANH_SMALL * TANH_SMALL)) - 1.0)
    big = 1.0 - 2.0 / (exp64(ax + ax) + 1.0)
    return small if ax < TANH_SMALL else big if x > 0 else -big


def _tanh_over_x_poly32(degree=6):
    """Power-series coefficients (highest first) in ``x^2`` of ``tanh(x) / x`` on |x| < TANH_SMALL to float32
    precision: the Chebyshev series truncated after ``degree`` (the next term is < 4e-9)."""
    from numpy.polynomial import chebyshev as C
    c = np.array(_TANH_OVER_X[:degree + 1])
    p = C.cheb2poly(c)                                   # in u = 2 s / TANH_SMALL^2 - 1, s = x^2
    scale = 2.0 / (TANH_SMALL * TANH_SMALL)
    # substitute u = scale * s - 1: expand each u^k by the binomial theorem
    out = np.zeros(degree + 1)
    for k, pk in enumerate(p):
        for j in range(k + 1):
            out[j] += pk * math.comb(k, j) * scale ** j * (-1.0) ** (k - j)
    return tuple(float(v) for v in out[::-1])


_TANH32 = _tanh_over_x_poly32()


@inline
def tanh32(x):
    """tanh of a float32 in float32 (about 2 ulp): ``x * P(x^2)`` for |x| < 0.625, ``1 - 2 / (exp(2|x|) + 1)``
    beyond."""
    ax = abs(x)
    s = x * x
    p = np.float32(_TANH32[0])
    for c in _TANH32[1:]:
        p = p * s + np.float32(c)
    big = np.float32(1) - np.float32(2) / (exp32(ax + ax) + np.float32(1))
    return x * p if ax < np.float32(TANH_SMALL) else big if x > 0 else -big


@inline
def sigmoid64(x):
    """1 / (1 + exp(-x)) of a float64 (exp overflowing to inf gives 0, as it should)."""
    return 1.0 / (1.0 + exp64(-x))


@inline
def sigmoid32(x):
    """1 / (1 + exp(-x)) of a float32, in float32 (about 2 ulp)."""
    return np.float32(1) / (np.float32(1) + exp32(-x))


def ftanh(x):
    """tanh in the precision of ``x`` (Numba only; see ``tanh32`` / ``tanh64``)."""


def fsigmoid(x):
    """The logistic sigmoid in the precision of ``x`` (Numba only; see ``sigmoid32`` / ``sigmoid64``)."""


_by_precision(ftanh, tanh32, tanh64, inline="always")


_by_precision(fsigmoid, sigmoid32, sigmoid64, inline="always")

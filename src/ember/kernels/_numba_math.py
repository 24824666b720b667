"""Scalar math for Numba kernels that LLVM can vectorise: ``fexp`` (exp for float32 or float64 by
Cody-Waite reduction and a Taylor polynomial; Numba's own ``np.exp`` on scalars calls libm one element
at a time, ~12x slower than NumPy's SIMD exp) and the float64 Chebyshev sums behind erf/erfc.

Results underflow to 0 (no subnormals) below the smallest normal, overflow to inf, and keep NaN.
"""
import numpy as np
from numba import types
from numba.extending import overload

from ._numba import inline

_LOG2E = 1.4426950408889634


@inline
def exp32(x):
    """exp of a float32 (about 1 ulp): 2^k e^r with |r| <= ln2/2 and a degree-7 Taylor polynomial."""
    k = np.floor(x * np.float32(_LOG2E) + np.float32(0.5))
    r = x - k * np.float32(0.693145751953125) - k * np.float32(1.428606765330187e-06)
    p = np.float32(1 / 5040)
    for c in (1 / 720, 1 / 120, 1 / 24, 1 / 6, 0.5, 1.0, 1.0):
        p = p * r + np.float32(c)
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


def fexp(x):
    """exp in the precision of ``x`` (Numba only; see ``exp32`` / ``exp64``)."""


@overload(fexp, jit_options={"fastmath": {"reassoc", "contract", "arcp"}})
def _fexp(x):
    if isinstance(x, types.Float) and x.bitwidth == 32:
        return lambda x: exp32(x)
    return lambda x: exp64(x)


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

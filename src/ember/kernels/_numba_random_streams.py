"""Numba CPU implementations of ``kernels/random_streams.py``.

Compiled without fast-math: PyTorch's numbers depend on every rounding, so no reassociation and no
contraction happen but the fused multiply-adds written out with ``_fma`` (LLVM's ``llvm.fma``: one
rounding, the FMA instruction on CPUs that have it).  ``math.log``/``log1p``/``sin``/``cos``/``tan``/``exp``
compile to calls of the C library's functions, the ones PyTorch calls.
"""
import math

import numba
import numpy as np
from llvmlite import ir
from numba.extending import intrinsic

from .random_streams import _COSCOF, _DP, _FOPI, _LOG_P, _LOG_Q1, _LOG_Q2, _SINCOF, _SQRTHF, _TWO_PI

exact = numba.njit(cache=True, nogil=True, error_model="numpy")
exact_inline = numba.njit(inline="always", nogil=True, error_model="numpy")


@intrinsic
def _fma(typingctx, a, b, c):
    """``a * b + c`` with one rounding (three floats of one type)."""
    def codegen(context, builder, signature, args):
        ty = args[0].type
        fn = builder.module.declare_intrinsic("llvm.fma", [ty], ir.FunctionType(ty, [ty, ty, ty]))
        return builder.call(fn, args)
    return a(a, a, a), codegen


@intrinsic
def _sqrt(typingctx, a):
    """The correctly rounded square root (LLVM's ``llvm.sqrt``: unlike the C library's ``sqrtf``, it sets no
    ``errno``, so loops calling it vectorize)."""
    def codegen(context, builder, signature, args):
        ty = args[0].type
        fn = builder.module.declare_intrinsic("llvm.sqrt", [ty], ir.FunctionType(ty, [ty]))
        return builder.call(fn, args)
    return a(a), codegen


@exact
def _fma_loop(a, b, c, out):
    for i in range(a.size):
        out[i] = _fma(a[i], b, c)


def fma(a, b, c):
    """See ``random_streams.fma_reference`` (1-D ``a``; ``b`` and ``c`` numbers)."""
    out = np.empty_like(a)
    _fma_loop(a, a.dtype.type(b), a.dtype.type(c), out)
    return out


@exact
def _words_to_float(w, out):
    for i in range(out.size):
        out[i] = np.float32(np.int32(w[i] & np.uint32(0xFFFFFF))) * np.float32(2.0 ** -24)


@exact
def _words_to_double(w, out):
    for i in range(out.size):
        hi = np.float64(w[2 * i] & np.uint32(0x1FFFFF))
        out[i] = (hi * 4294967296.0 + np.float64(w[2 * i + 1])) * (2.0 ** -53)


def uniform_from_words(words, double):
    """See ``random_streams.uniform_from_words_reference``."""
    if double:
        out = np.empty(words.size // 2, np.float64)
        _words_to_double(words, out)
    else:
        out = np.empty(words.size, np.float32)
        _words_to_float(words, out)
    return out


_U64 = np.uint64


@exact
def _integers(w, low, span, out):
    # w % span by Lemire's multiply-shift (exact for 32-bit w and span < 2**32: "Faster remainder by direct
    # computation", 2019): the loop vectorizes, where a division per element does not
    m = _U64(0xFFFFFFFFFFFFFFFF) // span + _U64(1)
    for i in range(w.size):
        frac = m * _U64(w[i])
        t = (frac & _U64(0xFFFFFFFF)) * span
        out[i] = np.int64(((frac >> _U64(32)) * span + (t >> _U64(32))) >> _U64(32)) + low


def integers_from_words(words, low, span):
    """See ``random_streams.integers_from_words_reference``."""
    out = np.empty(words.size, np.int64)
    _integers(words, np.int64(low), np.uint64(span), out)
    return out


# float32 constants (a Python float would promote the arithmetic to double)
_f = np.float32
P0, P1, P2, P3, P4, P5, P6, P7, P8 = (_f(p) for p in _LOG_P)
Q1, Q2, SQRTHF = _f(_LOG_Q1), _f(_LOG_Q2), _f(_SQRTHF)
DP1, DP2, DP3 = (_f(d) for d in _DP)
S0, S1, S2 = (_f(c) for c in _SINCOF)
C0, C1, C2 = (_f(c) for c in _COSCOF)
FOPI, TWO_PI32 = _f(_FOPI), _f(_TWO_PI)
ONE, HALF, ZERO, MINUS_TWO = _f(1), _f(0.5), _f(0), _f(-2)
MIN_NORM = np.array(0x00800000, np.int32).view(np.float32)[()]   # the smallest normal float32
HALF_BITS = np.int32(0x3F000000)
_CHUNK = 16384   # lanes per pass of normal_fill_float (a multiple of 8)


@exact_inline
def _log_cephes(x):
    bits = np.float32(max(x, MIN_NORM)).view(np.int32)
    e = np.float32((bits >> 23) - 0x7F) + ONE
    m = np.int32((bits & np.int32(~0x7F800000)) | HALF_BITS).view(np.float32)
    small = m < SQRTHF
    xs = (m - ONE) + (m if small else ZERO)
    e = e - (ONE if small else ZERO)
    z = xs * xs
    y = _fma(P0, xs, P1)
    y = _fma(y, xs, P2)
    y = _fma(y, xs, P3)
    y = _fma(y, xs, P4)
    y = _fma(y, xs, P5)
    y = _fma(y, xs, P6)
    y = _fma(y, xs, P7)
    y = _fma(y, xs, P8)
    y = _fma(y * xs, z, e * Q1)
    y = y - z * HALF
    return (xs + y) + e * Q2


@exact
def _fill16_float(u, mean, std, out):
    # Lane i of the blocks (element i + (i & ~7) of ``u`` and the one 8 after it) is copied to contiguous
    # scratch arrays (a chunk at a time: they stay in cache) so that the main loop, branch-free (selects, as
    # the reference's np.where), vectorizes: LLVM does not vectorize the 8-iteration loop over a block's lanes.
    a = np.empty(min(_CHUNK, u.size // 2), np.float32)
    b = np.empty(min(_CHUNK, u.size // 2), np.float32)
    for start in range(0, u.size // 2, _CHUNK):
        _fill16_float_chunk(u, mean, std, out, a, b, start * 2, min(_CHUNK, u.size // 2 - start))


@exact
def _fill16_float_chunk(u, mean, std, out, a, b, offset, half):
    for i in range(half):
        j = offset + i + (i & ~7)
        a[i] = u[j]
        b[i] = u[j + 8]
    for i in range(half):
        radius = _sqrt(MINUS_TWO * _log_cephes(ONE - a[i]))
        x = TWO_PI32 * b[i]            # >= 0: no sign to strip
        j = (np.int32(x * FOPI) + 1) & np.int32(~1)
        y = np.float32(j)
        sin_sign = (j & 4) << 29
        cos_sign = (~(j - 2) & 4) << 29
        x = _fma(y, DP1, x)
        x = _fma(y, DP2, x)
        x = _fma(y, DP3, x)
        z = x * x
        yc = _fma(_fma(C0, z, C1), z, C2)
        yc = _fma(yc * z, z, -(z * HALF)) + ONE
        ys = _fma(_fma(S0, z, S1), z, S2)
        ys = _fma(ys * z, x, x)
        first = (j & 2) == 0              # which polynomial gives the sine
        s_part = ys if first else ZERO
        c_part = ZERO if first else yc
        s = c_part + s_part
        c = (yc - c_part) + (ys - s_part)
        s = np.int32(np.float32(s).view(np.int32) ^ sin_sign).view(np.float32)
        c = np.int32(np.float32(c).view(np.int32) ^ cos_sign).view(np.float32)
        a[i] = _fma(radius * c, std, mean)
        b[i] = _fma(radius * s, std, mean)
    for i in range(half):
        j = offset + i + (i & ~7)
        out[j] = a[i]
        out[j + 8] = b[i]


def normal_fill_float(u, mean, std):
    """See ``random_streams.normal_fill_float_reference``."""
    out = np.empty(u.shape, np.float32)
    _fill16_float(np.ascontiguousarray(u).reshape(-1), np.float32(mean), np.float32(std), out.reshape(-1))
    return out


@exact
def _fill16_double(u, mean, std, out):
    for b in range(u.shape[0]):
        for k in range(8):
            radius = math.sqrt(-2.0 * math.log(1.0 - u[b, k]))
            theta = _TWO_PI * u[b, k + 8]
            out[b, k] = _fma(radius * math.cos(theta), std, mean)
            out[b, k + 8] = _fma(radius * math.sin(theta), std, mean)


def normal_fill_double(u, mean, std):
    """See ``random_streams.normal_fill_double_reference``."""
    out = np.empty_like(u)
    _fill16_double(np.ascontiguousarray(u), float(mean), float(std), out)
    return out


@exact
def _box_muller(u, out):
    for i in range(u.shape[0]):
        r = math.sqrt(-2.0 * math.log1p(-u[i, 1]))
        t = _TWO_PI * u[i, 0]
        out[i, 0] = r * math.cos(t)
        out[i, 1] = r * math.sin(t)


def box_muller(u):
    """See ``random_streams.box_muller_reference``."""
    out = np.empty_like(u)
    _box_muller(np.ascontiguousarray(u), out)
    return out


@exact
def _libm(x, which, out):
    for i in range(x.size):
        v = x[i]
        if which == 0:
            out[i] = math.log(v)
        elif which == 1:
            out[i] = math.log1p(v)
        elif which == 2:
            out[i] = math.tan(v)
        else:
            out[i] = math.exp(v)


_WHICH = {"log": 0, "log1p": 1, "tan": 2, "exp": 3}


def libm(x, name):
    """See ``random_streams.libm_reference``."""
    flat = np.ascontiguousarray(x, dtype=np.float64).reshape(-1)
    out = np.empty_like(flat)
    _libm(flat, _WHICH[name], out)
    return out.reshape(x.shape)


@exact
def _shuffle(out, offsets):
    for i in range(offsets.size):
        j = i + offsets[i]
        t = out[i]
        out[i] = out[j]
        out[j] = t


def shuffle(out, offsets):
    """See ``random_streams.shuffle_reference``."""
    _shuffle(out, offsets)
    return out


@exact
def _inside_out(out, draws):
    for i in range(draws.size):
        z = draws[i] % np.uint64(i + 1)
        out[i] = out[z]
        out[z] = i


def inside_out(out, draws):
    """See ``random_streams.inside_out_reference``."""
    _inside_out(out, draws)
    return out

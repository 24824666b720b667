"""PyTorch's CPU transforms from uniform draws to samples, exactly: the kernels behind ``ops/random.py``.

Bit-for-bit equality with PyTorch rests on three facts of its CPU build, checked against it:

* its AVX2/AVX512 kernels are compiled with floating-point contraction, so every ``a * b + c`` of its
  transforms is one fused multiply-add (``fma``: one rounding);
* ``randn``/``normal_`` of >= 16 contiguous float32 elements run the AVX2 ``NormalFill16`` (an AVX512 CPU
  uses it too): Box-Muller over blocks of 16 with Cephes' single-precision ``log`` and ``sincos``
  polynomials, contracted as GCC contracts them (``normal_fill_float``);
* the double-precision transforms call the C library's ``log``, ``log1p``, ``sin``, ``cos``, ``tan``,
  ``exp`` (glibc here), which NumPy's own SIMD ``log``/``log1p``/``exp`` do not reproduce to the last bit:
  the references call Python's ``math`` functions (the same C library) element by element, the Numba
  versions call it from compiled loops.

Every kernel has a NumPy reference (exact, slow where it calls ``math``) and a Numba implementation
compiled without fast-math (no reassociation, no contraction but the explicit fused multiply-adds).
"""
import math

import numpy as np

from ._dispatch import Kernel

_F32, _F64 = np.float32, np.float64
_TWO_PI = 2.0 * math.pi
_2_POW_M53 = 2.0 ** -53
_sqrt, _log1p, _cos, _sin = math.sqrt, math.log1p, math.cos, math.sin   # module names: cheaper per call


# ---------------------------------------------------------------------------- exact fused multiply-add
def _two_sum(a, b):
    """``(s, e)`` with ``s = fl(a + b)`` and ``s + e == a + b`` exactly."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _round_odd(s, e):
    """``s + e`` rounded to odd: ``s`` when exact, else the neighbour of ``s`` toward ``e`` with an odd
    last bit.  Rounding such a double once more to a narrower precision gives the correctly rounded result."""
    bump = (e != 0) & ((s.view(np.int64) & 1) == 0)
    return np.where(bump, np.nextafter(s, np.where(e > 0, np.inf, -np.inf)), s)


def _split(a):
    t = 134217729.0 * a     # Veltkamp: 2**27 + 1
    hi = t - (t - a)
    return hi, a - hi


def fma_reference(a, b, c):
    """``a * b + c`` rounded once, elementwise, in the dtype of ``a`` (float32 or float64; ``b`` and ``c``
    scalars or arrays broadcasting against it).  float32 goes through exact double products and a round-to-odd sum; float64 through
    Dekker's exact product and Boldo and Melquiond's correctly rounded three-term sum.  Finite inputs whose
    products neither overflow nor underflow (all that the samplers pass)."""
    dt = np.asarray(a).dtype
    if dt == _F32:
        p = np.asarray(a, _F64) * np.asarray(b, _F32).astype(_F64)
        return _round_odd(*_two_sum(p, np.asarray(c, _F32).astype(_F64))).astype(_F32)
    a, b, c = (np.asarray(v, _F64) for v in (a, b, c))
    ph = a * b
    ah, al = _split(a)
    bh, bl = _split(b)
    pl = ((ah * bh - ph) + ah * bl + al * bh) + al * bl
    uh, ul = _two_sum(pl, c)
    th, tl = _two_sum(ph, uh)
    return th + _round_odd(*_two_sum(tl, ul))


fma = Kernel("fma", fma_reference, numba="ember.kernels._numba_random_streams:fma",
             accepts=lambda a, b, c: a.dtype.char in "fd" and a.ndim == 1 and np.ndim(b) == np.ndim(c) == 0)


# ---------------------------------------------------------------------------- words -> uniforms
def uniform_from_words_reference(words, double):
    """PyTorch's uniform draws on [0, 1) from MT19937 words (uint32): ``double`` False gives float32 from
    the low 24 bits of each word; True gives float64 from the low 53 bits of each 64-bit draw (word pairs,
    the first as the high half)."""
    if not double:
        u = (words & np.uint32(0xFFFFFF)).view(np.int32).astype(_F32)
        u *= _F32(2.0 ** -24)
        return u
    w = words.reshape(-1, 2)
    u = (w[:, 0] & np.uint32(0x1FFFFF)).astype(_F64)
    u *= 4294967296.0
    u += w[:, 1]
    u *= 2.0 ** -53
    return u


uniform_from_words = Kernel("uniform_from_words", uniform_from_words_reference,
                            numba="ember.kernels._numba_random_streams:uniform_from_words",
                            accepts=lambda words, double: words.size > 0)


# ---------------------------------------------------------------------------- words -> integers
def integers_from_words_reference(words, low, span):
    """PyTorch's ``random_from_to`` below ``2**28`` values: int64 ``low + word % span`` of MT19937 words
    (uint32; ``0 < span < 2**28`` and ``low + span - 1`` within int64)."""
    w = words % np.uint32(span)
    return w.astype(np.int64) + low


integers_from_words = Kernel("integers_from_words", integers_from_words_reference,
                             numba="ember.kernels._numba_random_streams:integers_from_words",
                             accepts=lambda words, low, span: words.size > 0)


# ---------------------------------------------------------------------------- float32 NormalFill16 (AVX2)
_LOG_P = (7.0376836292E-2, -1.1514610310E-1, 1.1676998740E-1, -1.2420140846E-1, 1.4249322787E-1,
          -1.6668057665E-1, 2.0000714765E-1, -2.4999993993E-1, 3.3333331174E-1)
_LOG_Q1, _LOG_Q2, _SQRTHF = -2.12194440e-4, 0.693359375, 0.707106781186547524
_DP = (-0.78515625, -2.4187564849853515625e-4, -3.77489497744594108e-8)
_SINCOF = (-1.9515295891E-4, 8.3321608736E-3, -1.6666654611E-1)
_COSCOF = (2.443315711809948E-005, -1.388731625493765E-003, 4.166664568298827E-002)
_FOPI = 1.27323954473516


def _log_cephes(x):
    """Cephes' single-precision log (PyTorch's ``log256_ps``) of float32 ``x`` in (0, 1], contracted."""
    bits = np.maximum(x, np.array(0x00800000, np.int32).view(_F32)).view(np.int32)
    e = ((bits >> 23) - 0x7F).astype(_F32) + _F32(1)
    m = ((bits & ~0x7F800000) | np.array(0.5, _F32).view(np.int32)).view(_F32)   # mantissa in [0.5, 1)
    small = m < _F32(_SQRTHF)
    x = (m - _F32(1)) + np.where(small, m, _F32(0))
    e = e - np.where(small, _F32(1), _F32(0))
    z = x * x
    y = np.full_like(x, _F32(_LOG_P[0]))
    for p in _LOG_P[1:]:
        y = fma_reference(y, x, _F32(p))
    y = fma_reference(y * x, z, e * _F32(_LOG_Q1))
    y = y - z * _F32(0.5)
    return (x + y) + e * _F32(_LOG_Q2)


def _sincos_cephes(x):
    """Cephes' single-precision ``(sin, cos)`` (PyTorch's ``sincos256_ps``) of float32 ``x >= 0``, contracted."""
    sign_sin = x.view(np.int32) & np.int32(-0x80000000)
    x = np.abs(x)
    j = ((x * _F32(_FOPI)).astype(np.int32) + 1) & ~1
    y = j.astype(_F32)
    sign_sin = sign_sin ^ ((j & 4) << 29)
    sign_cos = (~(j - 2) & 4) << 29
    first = (j & 2) == 0            # which polynomial gives the sine
    for dp in _DP:
        x = fma_reference(y, _F32(dp), x)
    z = x * x
    yc = fma_reference(fma_reference(np.full_like(x, _F32(_COSCOF[0])), z, _F32(_COSCOF[1])), z, _F32(_COSCOF[2]))
    yc = fma_reference(yc * z, z, -(z * _F32(0.5))) + _F32(1)
    ys = fma_reference(fma_reference(np.full_like(x, _F32(_SINCOF[0])), z, _F32(_SINCOF[1])), z, _F32(_SINCOF[2]))
    ys = fma_reference(ys * z, x, x)
    s_part = np.where(first, ys, _F32(0))
    c_part = np.where(first, _F32(0), yc)
    s = c_part + s_part
    c = (yc - c_part) + (ys - s_part)
    return (s.view(np.int32) ^ sign_sin).view(_F32), (c.view(np.int32) ^ sign_cos).view(_F32)


def normal_fill_float_reference(u, mean, std):
    """PyTorch's float32 ``NormalFill16``: ``u`` (k, 16) float32 uniforms on [0, 1) -> (k, 16) normals.

    Per block, ``u[:, :8]`` give the radius ``sqrt(-2 log(1 - u))`` and ``u[:, 8:]`` the angle
    ``2 pi u`` (float32 product); the block becomes ``fma(r cos, std, mean)`` then ``fma(r sin, std, mean)``.
    """
    mean, std = _F32(mean), _F32(std)
    radius = np.sqrt(_F32(-2) * _log_cephes(_F32(1) - u[:, :8]))
    s, c = _sincos_cephes(_F32(_TWO_PI) * u[:, 8:])
    return np.concatenate([fma_reference(radius * c, std, mean), fma_reference(radius * s, std, mean)], axis=1)


normal_fill_float = Kernel("normal_fill_float", normal_fill_float_reference,
                           numba="ember.kernels._numba_random_streams:normal_fill_float",
                           accepts=lambda u, mean, std: u.dtype == _F32 and u.size > 0)


# ---------------------------------------------------------------------------- double precision (libm)
def _libm(fn, x):
    """``fn`` (a ``math`` function: the C library's) of each element of float64 ``x``; where Python raises
    instead of returning the C result (a pole, a domain error, an overflow) NumPy's IEEE value stands in."""
    def call(v):
        try:
            return fn(v)
        except (ValueError, OverflowError):
            with np.errstate(all="ignore"):
                return float(getattr(np, fn.__name__)(v))
    return np.fromiter((call(v) for v in x.reshape(-1).tolist()), _F64, x.size).reshape(x.shape)


def normal_fill_double_reference(u, mean, std):
    """PyTorch's float64 ``NormalFill16``: ``u`` (k, 16) float64 -> (k, 16) normals, with the C library's
    log/cos/sin: radius ``sqrt(-2 log(1 - u[:, :8]))``, angle ``2 pi u[:, 8:]``, ``fma(r cos, std, mean)``
    then ``fma(r sin, std, mean)``."""
    radius = np.sqrt(-2.0 * _libm(math.log, 1.0 - u[:, :8]))
    theta = _TWO_PI * u[:, 8:]
    return np.concatenate([fma_reference(radius * _libm(math.cos, theta), std, mean),
                           fma_reference(radius * _libm(math.sin, theta), std, mean)], axis=1)


normal_fill_double = Kernel("normal_fill_double", normal_fill_double_reference,
                            numba="ember.kernels._numba_random_streams:normal_fill_double",
                            accepts=lambda u, mean, std: u.dtype == _F64 and u.size > 0)


def box_muller_reference(u):
    """PyTorch's scalar normal path: ``u`` (m, 2) float64 uniform pairs -> (m, 2) normals ``(r cos t, r sin t)``
    with ``t = 2 pi u[:, 0]`` and ``r = sqrt(-2 log1p(-u[:, 1]))`` (the C library's functions)."""
    r = np.sqrt(-2.0 * _libm(math.log1p, -u[:, 1]))
    t = _TWO_PI * u[:, 0]
    return np.stack([r * _libm(math.cos, t), r * _libm(math.sin, t)], axis=1)


box_muller = Kernel("box_muller", box_muller_reference, numba="ember.kernels._numba_random_streams:box_muller",
                    accepts=lambda u: u.size > 0)


def box_muller_words(words):
    """``box_muller`` on a few pairs as Python floats, from MT19937 words (a list of ints, four per pair: the two
    64-bit draws of ``u[:, 0]`` then ``u[:, 1]``, each high word first) -> ``[r cos t, r sin t, ...]``: the
    same 53-bit uniforms and C library calls, without NumPy's per-call costs."""
    out = []
    for i in range(0, len(words), 4):
        r = _sqrt(-2.0 * _log1p(-(((words[i + 2] & 0x1FFFFF) << 32 | words[i + 3]) * _2_POW_M53)))
        t = _TWO_PI * (((words[i] & 0x1FFFFF) << 32 | words[i + 1]) * _2_POW_M53)
        out.append(r * _cos(t))
        out.append(r * _sin(t))
    return out


_LIBM = {"log": math.log, "log1p": math.log1p, "tan": math.tan, "exp": math.exp}


def libm_reference(x, name):
    """The C library's ``name`` ("log", "log1p", "tan" or "exp") of each element of float64 ``x``."""
    return _libm(_LIBM[name], x)


libm = Kernel("libm", libm_reference, numba="ember.kernels._numba_random_streams:libm",
              accepts=lambda x, name: x.size > 0)


# ---------------------------------------------------------------------------- randperm
def shuffle_reference(out, offsets):
    """PyTorch's CPU randperm for n < 2**32 / 20, in place: ``out`` holds ``0 .. n-1``; for ``i`` in
    ``0 .. n-2`` swap ``out[i]`` with ``out[i + offsets[i]]`` (``offsets[i] = random() % (n - i)``).  ``out`` and
    ``offsets`` may be arrays or lists."""
    for i, z in enumerate(offsets.tolist() if isinstance(offsets, np.ndarray) else offsets):
        j = i + z
        out[i], out[j] = out[j], out[i]
    return out


def inside_out_reference(out, draws):
    """PyTorch's CPU randperm for n >= 2**32 / 20, in place on ``out`` (length n): for ``i`` in ``0 .. n-1``,
    ``z = draws[i] % (i + 1)`` (``draws`` uint64 ``random64()`` words), ``out[i] = out[z]; out[z] = i``."""
    for i, w in enumerate(draws.tolist()):
        z = w % (i + 1)
        out[i] = out[z]
        out[z] = i
    return out


shuffle = Kernel("shuffle", shuffle_reference, numba="ember.kernels._numba_random_streams:shuffle",
                 accepts=lambda out, offsets: out.size > 1)
inside_out = Kernel("inside_out", inside_out_reference, numba="ember.kernels._numba_random_streams:inside_out",
                    accepts=lambda out, draws: out.size > 0)

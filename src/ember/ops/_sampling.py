"""PyTorch's CPU samplers on host arrays: which words each one draws from the generator and how it turns
them into values, so that ``ops/random.py`` gives PyTorch's numbers after the same seed.

Each function takes a ``Generator`` (``ember.random``) and returns a flat host array of the values PyTorch's
serial kernel writes, in the order it visits the elements (``fill_order``).  The exact transforms live in
``kernels/random_streams.py``.  What PyTorch does, per sampler:

* uniform on [a, b): one word per element (24 bits, float arithmetic) for float/half/bfloat16, one 64-bit
  draw (53 bits, double) for double; ``fma(u, b - a, a)``; a value that rounds to ``b`` becomes ``a``.
* normal: >= 16 contiguous elements: all uniforms first (plus 16 more for a ragged tail, whose last 16
  elements are redrawn), then Box-Muller on blocks of 16 (``NormalFill16``); otherwise the scalar double
  Box-Muller path, which keeps the second sample of each pair in the generator for the next element.
* integers on [low, low + range): ``random() % range`` (``random64()`` when range >= 2**28) plus low.
"""
import math

import numpy as np

from .. import _dtype
from ..kernels import random_streams as K

_ONE_FILL = 1 << 16   # up to this many normals, a ragged fill copies its uniforms to run one kernel call
_RANDPERM_64BIT = (2 ** 32 - 1) // 20   # from this n on, PyTorch's randperm switches to 64-bit draws
FEW = 16   # up to this many values, samplers compute in Python floats: NumPy's per-call costs would dominate


def fill_axes(arr):
    """The axes of ``arr`` in the order PyTorch's TensorIterator walks a written tensor (largest stride
    outermost), or None when that is C order."""
    if arr.ndim < 2 or arr.flags.c_contiguous:
        return None
    return sorted(range(arr.ndim), key=lambda d: -abs(arr.strides[d]) if arr.shape[d] > 1 else 0)


def fill_order(arr):
    """``arr`` transposed to ``fill_axes`` order: a flat sequence assigned to it in C order lands on the
    elements in the order PyTorch writes them."""
    axes = fill_axes(arr)
    return arr if axes is None else arr.transpose(axes)


def _compute_dtype(dt):
    """The NumPy dtype PyTorch computes a float sample of dtype ``dt`` in (float64 for double, else float32)."""
    return np.float64 if dt is _dtype.float64 else np.float32


def _draw_uniform(gen, n, work):
    return gen.uniform_double(n) if work is np.float64 else gen.uniform_float(n)


def few_standard(gen, n, dt, normal):
    """``n < 16`` samples of N(0, 1) (``normal``) or U[0, 1) in float32 or float64 ``dt``: the values of
    ``normal_values`` / ``uniform_values``, computed in Python floats."""
    if normal:
        return np.fromiter(_standard_normals(gen, n), dt.np, n)
    return np.fromiter(gen.uniform_list(n, dt is _dtype.float64), dt.np, n)


def uniform_values(gen, n, dt, low, high):
    """``n`` samples of U[low, high) in the float dtype ``dt`` (PyTorch's ``uniform_kernel``)."""
    work = _compute_dtype(dt)
    if n <= FEW and (low, high) == (0, 1) and dt.itemsize >= 4:   # float32, float64: no fma, no rounding to 1
        return np.array(gen.uniform_list(n, work is np.float64), work)
    u = _draw_uniform(gen, n, work)
    lo, hi = work(low), work(high)
    v = u if (lo, hi) == (0, 1) else K.fma(u, work(hi - lo), lo)
    v = v.astype(dt.np, copy=False)
    if (lo, hi) != (0, 1) or v.dtype.itemsize < 4:   # U[0, 1) rounds to 1 only in half/bfloat16
        top = dt.np.type(high)
        if v.dtype.itemsize < 4 or (v == top).any():
            v = np.where(v == top, dt.np.type(low), v)
    return v


def normal_values(gen, n, dt, mean, std, contiguous):
    """``n`` samples of N(mean, std^2) in the float dtype ``dt`` (PyTorch's ``normal_kernel``)."""
    if n >= 16 and contiguous:
        return _normal_fill(gen, n, dt, mean, std)
    z = _standard_normals(gen, n) if (mean, std) == (0, 1) else scalar_normals(gen, n, mean, std)
    z = np.asarray(z, _compute_dtype(dt))
    return z if dt.itemsize >= 4 else z.astype(dt.np)


def _normal_fill(gen, n, dt, mean, std):
    work = _compute_dtype(dt)
    fill = K.normal_fill_double if work is np.float64 else K.normal_fill_float
    whole = n - n % 16
    if whole == n:
        return fill(_draw_uniform(gen, n, work).reshape(-1, 16), mean, std).reshape(-1).astype(dt.np, copy=False)
    # PyTorch redraws the last 16 elements (overlapping the last whole block) from 16 more uniforms; float and
    # double draw the whole tensor's uniforms first, half and bfloat16 go block by block through a float buffer
    # (the ragged part's uniforms are not drawn)
    tail = n if dt.itemsize >= 4 else whole
    u = _draw_uniform(gen, tail + 16, work)
    if n <= _ONE_FILL:   # one kernel call: the tail's block after the whole ones
        z = fill(np.concatenate([u[:whole], u[tail:]]).reshape(-1, 16), mean, std).reshape(-1)
        out = np.concatenate([z[:n - 16], z[whole:]])
    else:
        out = np.concatenate([fill(u[:whole].reshape(-1, 16), mean, std).reshape(-1)[:n - 16],
                              fill(u[tail:].reshape(1, 16), mean, std).reshape(-1)])
    return out.astype(dt.np, copy=False)


def _standard_normals(gen, n):
    """``n`` float64 samples of PyTorch's scalar normal path (a list when few, else an array): double
    Box-Muller pairs ``(r cos, r sin)``; the sine of an odd pair out stays cached in ``gen``."""
    head = gen._next_double
    if n and head is not None:
        gen._next_double = None
        m = n - 1
    else:
        head, m = None, n
    pairs = (m + 1) >> 1
    if 2 * pairs <= FEW:
        z = K.box_muller_words(gen.random32_list(4 * pairs))
        if head is not None:
            z.insert(0, head)
    else:
        z = K.box_muller(gen.uniform_double(2 * pairs).reshape(pairs, 2)).reshape(-1)
        if head is not None:
            z = np.concatenate([[head], z])
    if m & 1:
        gen._next_double = float(z[-1])
        return z[:n]
    return z


def scalar_normals(gen, n, mean=0.0, std=1.0):
    """``n`` float64 samples of PyTorch's scalar normal path: ``fma(z, std, mean)`` with ``z`` from double
    Box-Muller pairs ``(r cos, r sin)``; the sine of an odd pair out stays cached in ``gen``."""
    z = np.asarray(_standard_normals(gen, n), np.float64)
    return z if (mean, std) == (0, 1) else K.fma(z, np.float64(std), np.float64(mean))


def integers_from_to(gen, n, low, span):
    """``n`` int64 values ``low + word % span`` (PyTorch's ``random_from_to``; 64-bit words when
    ``span >= 2**28``)."""
    if span < 1 << 28:   # low + word % span stays inside int64: no wraparound to reproduce
        if n <= FEW:
            return np.array([low + w % span for w in gen.random32_list(n)], np.int64)
        return K.integers_from_words(gen.random32(n), low, span)
    w = gen.random64(n) % np.uint64(span)
    return (w + np.uint64(low & 0xFFFF_FFFF_FFFF_FFFF)).view(np.int64)


def integers_default(gen, n, dt):
    """``n`` values of ``random_()`` without bounds in dtype ``dt``: a word modulo the dtype's range
    (``[0, 2**mantissa]`` for floats, ``[0, max]`` for integers, a bit for bool)."""
    if dt is _dtype.bool:
        return (gen.random32(n) & np.uint32(1)).astype(np.bool_)
    if dt in (_dtype.int64, _dtype.float64):
        w = gen.random64(n)
    else:
        w = gen.random32(n).astype(np.uint64)
    if dt.is_floating_point:
        span = (1 << {_dtype.float64: 53, _dtype.float32: 24, _dtype.float16: 11, _dtype.bfloat16: 8}[dt]) + 1
    else:
        span = int(np.iinfo(dt.np).max) + 1
    return (w % np.uint64(span)).astype(np.int64)


def bernoulli_scalar(gen, n, p):
    """``n`` booleans ``u < p`` with double uniforms (PyTorch's ``bernoulli_(p)`` for a number ``p``)."""
    return gen.uniform_double(n) < p


def bernoulli_tensor(gen, probs):
    """Booleans ``u < p`` for the flat probabilities ``probs``: 24-bit float uniforms for float, half and
    bfloat16 probabilities, 53-bit doubles for double ones (PyTorch's ``bernoulli_(p_tensor)``)."""
    if probs.dtype == np.float64:
        return gen.uniform_double(probs.size) < probs
    return gen.uniform_float(probs.size) < probs.astype(np.float32)


def randperm(gen, n):
    """PyTorch's CPU ``randperm(n)`` as int64: Fisher-Yates with ``random() % (n - i)`` below
    ``(2**32 - 1) / 20``, the inside-out shuffle on 64-bit words from there on."""
    if n <= FEW:
        out = list(range(n))
        if n > 1:
            K.shuffle_reference(out, [w % (n - i) for i, w in enumerate(gen.random32_list(n - 1))])
        return np.array(out, np.int64)
    if n < _RANDPERM_64BIT:
        out = np.arange(n, dtype=np.int64)
        if n > 1:
            k = np.arange(n, 1, -1, dtype=np.uint64)       # n - i for i in 0 .. n-2
            K.shuffle(out, (gen.random32(n - 1).astype(np.uint64) % k).astype(np.int64))
        return out
    return K.inside_out(np.zeros(n, dtype=np.int64), gen.random64(n))


def exponentials(gen, n, lambd):
    """``n`` float64 samples ``-1/lambd * log1p(-u)`` (PyTorch's ``exponential_``)."""
    return (-1.0 / lambd) * K.libm(-gen.uniform_double(n), "log1p")


def geometrics(gen, n, p):
    """``n`` float64 samples ``ceil(log(u) / log1p(-p))`` (PyTorch's ``geometric_``)."""
    return np.ceil(K.libm(gen.uniform_double(n), "log") / math.log1p(-p))


def cauchys(gen, n, median, sigma):
    """``n`` float64 samples ``median + sigma * tan(pi * (u - 1/2))`` (one rounding: PyTorch's ``cauchy_``)."""
    t = K.libm(math.pi * (gen.uniform_double(n) - 0.5), "tan")
    return K.fma(t, np.float64(sigma), np.float64(median))


def log_normals(gen, n, mean, std):
    """``n`` float64 samples ``exp(N(mean, std^2))`` from the scalar normal path (PyTorch's ``log_normal_``)."""
    return K.libm(scalar_normals(gen, n, mean, std), "exp")

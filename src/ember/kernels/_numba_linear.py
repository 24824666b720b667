"""Numba CPU implementations of ``kernels/linear.py``.  ``linear_rows``: each weight row read once and dotted with
every input row.  ``column_sums``: one pass over the rows into float64 sums."""
import numpy as np
from numba import prange

from ._numba import chunks, inline, jit, pjit


@inline
def _rows(x, w, b, has_bias, y):
    """``y[:, j] = x @ w[j] + b[j]`` for every weight row ``j``.  Weight rows go in fours: each load
    of an input element serves four independent sums (one sum at a time waits on its adds: 38 us against
    30 us for 1x784 by 512x784 float32, OpenBLAS's sgemv 36 us)."""
    m, k = x.shape
    n = w.shape[0]
    zero = x.dtype.type(0)
    j = 0
    while j + 4 <= n:
        w0 = w[j]
        w1 = w[j + 1]
        w2 = w[j + 2]
        w3 = w[j + 3]
        for i in range(m):
            xi = x[i]
            a0 = zero
            a1 = zero
            a2 = zero
            a3 = zero
            for t in range(k):
                v = xi[t]
                a0 += v * w0[t]
                a1 += v * w1[t]
                a2 += v * w2[t]
                a3 += v * w3[t]
            if has_bias:
                a0 += b[j]
                a1 += b[j + 1]
                a2 += b[j + 2]
                a3 += b[j + 3]
            y[i, j] = a0
            y[i, j + 1] = a1
            y[i, j + 2] = a2
            y[i, j + 3] = a3
        j += 4
    for r in range(j, n):
        wr = w[r]
        for i in range(m):
            xi = x[i]
            a0 = zero
            for t in range(k):
                a0 += xi[t] * wr[t]
            y[i, r] = a0 + b[r] if has_bias else a0


@pjit
def _rows_chunks(x, w, b, has_bias, y, nch):
    """``_rows`` over ``nch`` bands of the weight's rows, run at once (bands of whole fours but the last)."""
    n = w.shape[0]
    for ch in prange(nch):
        j0 = ch * n // nch // 4 * 4
        j1 = n if ch == nch - 1 else (ch + 1) * n // nch // 4 * 4
        _rows(x, w[j0:j1], b[j0:j1] if has_bias else b, has_bias, y[:, j0:j1])


# Multiply-adds per chunk: a one-row product takes about 50 ps a multiply-add on one thread from the cache (1 x 784
# by 512 x 784 float32: 20 us), and two chunks with the pool's threads awake cost some 4 us more than their work.
# Split, each thread also reads only its half of the weight, which then stays in its core's cache between calls
# (the batch-1 MLP's 784 -> 512 layer: 20 us on one thread, 10 us on two; 512 -> 512: 12 against 6.6).
_CHUNK_WORK = 1 << 17


def linear_rows(x, w, b):
    """Numba ``linear_rows`` (see ``kernels.linear.linear_rows_reference``), bands of the weight's rows split over
    the pool from ``2 * _CHUNK_WORK`` multiply-adds."""
    y = np.empty((x.shape[0], w.shape[0]), x.dtype)
    nch = min(chunks(x.shape[0] * w.shape[0] * x.shape[1], _CHUNK_WORK), max(1, w.shape[0] // 4))
    _rows_chunks(x, w, x[0] if b is None else b, b is not None, y, nch)   # x[0]: unread without a bias
    return y


@jit
def _column_sums(g, acc):
    for i in range(g.shape[0]):
        gi = g[i]
        for j in range(g.shape[1]):
            acc[j] += gi[j]


def column_sums(g):
    """Numba ``column_sums`` (see ``kernels.linear.column_sums_reference``)."""
    acc = np.zeros(g.shape[1], np.float64)
    _column_sums(g, acc)
    return acc.astype(g.dtype, copy=False)

"""Numba CPU implementations of ``kernels/linear.py``.  ``linear_rows``: each weight row read once and dotted with
every input row.  ``column_sums``: one pass over the rows into float64 sums."""
import numpy as np

from ._numba import jit


@jit
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


def linear_rows(x, w, b):
    """Numba ``linear_rows`` (see ``kernels.linear.linear_rows_reference``), on the calling thread.

    Not split over threads: measured when the pool's workers slept between regions, waking one cost more than a
    split saved (the MLP's 784-512-512-10 layers, one row, load ~6: 94 us on one thread, 138 us split, 52 us
    split with spinning workers).  The pool now waits awake (``_dispatch._openmp_wait``); a split was not measured
    again since.
    """
    y = np.empty((x.shape[0], w.shape[0]), x.dtype)
    _rows(x, w, x[0] if b is None else b, b is not None, y)   # x[0]: unread without a bias
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

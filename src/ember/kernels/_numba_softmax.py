"""Numba CPU implementations of ``kernels/softmax.py``: one read for the max, one for the sum of
exponentials, one write (rows of a trailing softmax; ``B``-wide vectors for a softmax over an inner dim)."""
import numpy as np
from numba import prange

from ._numba import jit, pjit, chunks
from ._numba_math import fexp, fmax


@jit
def _fwd_rows(x, y, log):
    A, n, B = x.shape
    for a in range(A):
        xa = x[a]
        ya = y[a]
        for b in range(B):   # B == 1 for the usual trailing softmax: the loops below run over n
            m = xa[0, b]
            for i in range(1, n):
                m = fmax(m, xa[i, b])
            s = 0.0
            if log:
                for i in range(n):
                    s += fexp(xa[i, b] - m)
                c = m + np.log(s)
                for i in range(n):
                    ya[i, b] = xa[i, b] - c
            else:
                for i in range(n):
                    e = fexp(xa[i, b] - m)
                    ya[i, b] = e
                    s += e
                r = 1.0 / s
                for i in range(n):
                    ya[i, b] *= r


@jit
def _bwd_rows(g, y, gx, log):
    A, n, B = y.shape
    for a in range(A):
        ga = g[a]
        ya = y[a]
        gxa = gx[a]
        for b in range(B):
            s = 0.0
            if log:
                for i in range(n):
                    s += ga[i, b]
                for i in range(n):
                    gxa[i, b] = ga[i, b] - fexp(ya[i, b]) * s
            else:
                for i in range(n):
                    s += ga[i, b] * ya[i, b]
                for i in range(n):
                    gxa[i, b] = (ga[i, b] - s) * ya[i, b]


@pjit
def _fwd(x, y, log, nch):
    per = (x.shape[0] + nch - 1) // nch
    for ch in prange(nch):   # each chunk a call: loops inside prange itself are not vectorised
        sl = slice(ch * per, (ch + 1) * per)
        _fwd_rows(x[sl], y[sl], log)


@pjit
def _bwd(g, y, gx, log, nch):
    per = (y.shape[0] + nch - 1) // nch
    for ch in prange(nch):
        sl = slice(ch * per, (ch + 1) * per)
        _bwd_rows(g[sl], y[sl], gx[sl], log)


def _chunks(x):
    return chunks(x.shape[0], max(1, 16384 // max(1, x[0].size)))


def softmax_forward(x3, log):
    """See ``softmax.softmax_forward_reference``."""
    x = np.ascontiguousarray(x3)
    y = np.empty_like(x)
    _fwd(x, y, log, _chunks(x))
    return y


def softmax_backward(g3, y3, log):
    """See ``softmax.softmax_backward_reference``."""
    y = np.ascontiguousarray(y3)
    g = np.ascontiguousarray(g3, dtype=y.dtype)
    gx = np.empty_like(y)
    _bwd(g, y, gx, log, _chunks(y))
    return gx

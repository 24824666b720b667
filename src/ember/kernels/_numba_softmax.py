"""Numba CPU implementations of ``kernels/softmax.py``: one read for the max, one for the sum of
exponentials, one write.  A trailing softmax (``B == 1``) runs along contiguous rows; a softmax over an inner
dim runs its loops over ``B``-wide contiguous vectors (per-column max and sum in scratch rows), so every loop
vectorises either way.  Exponentials take ``fexp_nonpositive`` (``x - max <= 0``); sums run in the input's
precision over blocks of ``_BLOCK`` entries, added up in float64 (a float64 accumulator in the vector loop
itself halves its width: 1.3 ms against 0.9 ms on 4096x256 float32)."""
import numpy as np
from numba import prange

from ._numba import inline, jit, pjit, row_chunks
from ._numba_math import fexp, fexp_nonpositive, fmax

_BLOCK = 256


@inline
def exp_sum(xr, m, zero):
    """The sum of ``exp(xr - m)`` over the flat row ``xr`` (``m`` its maximum): in the precision of ``zero`` (the
    input's) over blocks of ``_BLOCK`` entries, the blocks added in float64."""
    s = 0.0
    for i0 in range(0, xr.size, _BLOCK):
        xb = xr[i0:i0 + _BLOCK]   # a slice, not a bounded index range: that loop vectorises, the other not
        sb = zero
        for i in range(xb.size):
            sb += fexp_nonpositive(xb[i] - m)
        s += sb
    return s


@jit
def _fwd_rows(x, y, log):
    """Softmax along the rows of ``x`` ``(A, n)``."""
    A, n = x.shape
    scale = np.empty(1, x.dtype)   # a per-row constant in the input's precision
    zero = np.zeros(1, x.dtype)[0]
    for a in range(A):
        xa = x[a]
        ya = y[a]
        m = xa[0]
        for i in range(n):   # from 0, not 1: a trip count of n keeps the vector loop free of a scalar remainder
            m = fmax(m, xa[i])
        if log:
            s = exp_sum(xa, m, zero)
        else:
            s = 0.0
            for i0 in range(0, n, _BLOCK):
                xb = xa[i0:i0 + _BLOCK]   # a slice, not a bounded index range: that loop vectorises, the other not
                yb = ya[i0:i0 + _BLOCK]
                sb = zero
                for i in range(xb.size):
                    e = fexp_nonpositive(xb[i] - m)
                    yb[i] = e
                    sb += e
                s += sb
        if log:
            scale[0] = m + np.log(s)
            c = scale[0]
            for i in range(n):
                ya[i] = xa[i] - c
        else:
            scale[0] = 1.0 / s
            r = scale[0]
            for i in range(n):
                ya[i] *= r


@jit
def _fwd_columns(x, y, log):
    """Softmax along axis 1 of ``x`` ``(A, n, B)``, ``B > 1``: each step a ``B``-wide contiguous vector."""
    A, n, B = x.shape
    m = np.empty(B, x.dtype)
    s = np.empty(B, x.dtype)
    for a in range(A):
        xa = x[a]
        ya = y[a]
        m[:] = xa[0]
        for i in range(1, n):
            for b in range(B):
                m[b] = fmax(m[b], xa[i, b])
        s[:] = 0
        for i in range(n):
            for b in range(B):
                e = fexp_nonpositive(xa[i, b] - m[b])
                s[b] += e
                if not log:
                    ya[i, b] = e
        if log:
            for b in range(B):
                s[b] = m[b] + np.log(s[b])
            for i in range(n):
                for b in range(B):
                    ya[i, b] = xa[i, b] - s[b]
        else:
            for b in range(B):
                s[b] = 1 / s[b]
            for i in range(n):
                for b in range(B):
                    ya[i, b] *= s[b]


@jit
def _bwd_rows(g, y, gx, log):
    """Gradient along the rows of ``(A, n)``."""
    A, n = y.shape
    scale = np.empty(1, y.dtype)   # the row's sum in the input's precision: the output loop then stays in it
    for a in range(A):
        ga = g[a]
        ya = y[a]
        gxa = gx[a]
        s = 0.0
        if log:
            for i in range(n):
                s += ga[i]
        else:
            for i in range(n):
                s += ga[i] * ya[i]
        scale[0] = s
        c = scale[0]
        if log:
            for i in range(n):
                gxa[i] = ga[i] - fexp(ya[i]) * c
        else:
            for i in range(n):
                gxa[i] = (ga[i] - c) * ya[i]


@jit
def _bwd_columns(g, y, gx, log):
    """Gradient along axis 1 of ``(A, n, B)``, ``B > 1``."""
    A, n, B = y.shape
    s = np.empty(B)
    c = np.empty(B, y.dtype)   # the sums in the input's precision for the output loop
    for a in range(A):
        ga = g[a]
        ya = y[a]
        gxa = gx[a]
        s[:] = 0
        for i in range(n):
            for b in range(B):
                s[b] += ga[i, b] if log else ga[i, b] * ya[i, b]
        c[:] = s
        for i in range(n):
            for b in range(B):
                if log:
                    gxa[i, b] = ga[i, b] - fexp(ya[i, b]) * c[b]
                else:
                    gxa[i, b] = (ga[i, b] - c[b]) * ya[i, b]


@jit
def _attention_rows(s, r0, L, causal):
    """Rows ``r0 .. r0 + len(s)`` of attention scores, in place.  A causal row's masked tail is set to -inf by a
    select over the whole row, and the whole row computed: loops of a varying length end in scalar remainders,
    which cost more (4096x64 causal: 0.34 ms this way, 0.40-0.45 ms with loops to the row's length)."""
    R, S = s.shape
    scale = np.empty(1, s.dtype)
    zero = np.zeros(1, s.dtype)[0]
    for r in range(R):
        x = s[r]
        if causal:
            n = min((r0 + r) % L + 1, S)
            for i in range(S):
                x[i] = x[i] if i < n else -np.inf
        m = x[0]
        for i in range(S):   # from 0, not 1: a trip count of S keeps the vector loop free of a scalar remainder
            m = fmax(m, x[i])
        acc = 0.0
        for i0 in range(0, S, _BLOCK):
            xb = x[i0:i0 + _BLOCK]
            sb = zero
            for i in range(xb.size):
                e = fexp_nonpositive(xb[i] - m)
                xb[i] = e
                sb += e
            acc += sb
        scale[0] = 1.0 / acc
        rs = scale[0]
        for i in range(S):
            x[i] *= rs


@pjit
def _attention(s, L, causal, nch):
    per = (s.shape[0] + nch - 1) // nch
    for ch in prange(nch):
        _attention_rows(s[ch * per:(ch + 1) * per], ch * per, L, causal)


def attention_softmax(s2, L, causal):
    """See ``softmax.attention_softmax_reference`` (``s2`` C-contiguous: the op's fresh product)."""
    _attention(s2, L, causal, row_chunks(s2.shape[0], s2.shape[1], _FWD_CHUNK))
    return s2


@pjit
def _fwd(x, y, log, nch):
    per = (x.shape[0] + nch - 1) // nch
    for ch in prange(nch):   # each chunk a call: loops inside prange itself are not vectorised
        sl = slice(ch * per, (ch + 1) * per)
        if x.shape[2] == 1:   # reshaped, not indexed: a C-contiguous 2-D view is what vectorises
            R = x[sl].shape[0]
            _fwd_rows(x[sl].reshape(R, x.shape[1]), y[sl].reshape(R, x.shape[1]), log)
        else:
            _fwd_columns(x[sl], y[sl], log)


@pjit
def _bwd(g, y, gx, log, nch):
    per = (y.shape[0] + nch - 1) // nch
    for ch in prange(nch):
        sl = slice(ch * per, (ch + 1) * per)
        if y.shape[2] == 1:
            R, n = y[sl].shape[0], y.shape[1]
            _bwd_rows(g[sl].reshape(R, n), y[sl].reshape(R, n), gx[sl].reshape(R, n), log)
        else:
            _bwd_columns(g[sl], y[sl], gx[sl], log)


# elements a chunk (see ``row_chunks``): the forward takes ~0.45 ns an element on one thread, the backward ~0.16
_FWD_CHUNK, _BWD_CHUNK = 1 << 14, 1 << 14


def softmax_forward(x3, log):
    """See ``softmax.softmax_forward_reference``."""
    x = np.ascontiguousarray(x3)
    y = np.empty_like(x)
    _fwd(x, y, log, row_chunks(x.shape[0], x[0].size, _FWD_CHUNK))
    return y


def softmax_backward(g3, y3, log):
    """See ``softmax.softmax_backward_reference``."""
    y = np.ascontiguousarray(y3)
    g = np.ascontiguousarray(g3, dtype=y.dtype)
    gx = np.empty_like(y)
    _bwd(g, y, gx, log, row_chunks(y.shape[0], y[0].size, _BWD_CHUNK))
    return gx

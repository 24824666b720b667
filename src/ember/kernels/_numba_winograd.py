"""Numba CPU implementations of ``kernels/winograd.py``, one row of tiles at a time: the transform along the
tile rows as one long loop over the row's pixels and channels (contiguous in the channels-last buffer), the
transform along the tile columns as a loop over channels per tile, with the matrices' constants written out;
no GEMM over a strided view and no reshaping copies of its results.  The output side works the same way on a
channels-last row of output tiles, which one transposing copy moves to or from the NCHW array; the input
gradient's rows, likewise, as soon as no later tile row adds to them (no padded buffer)."""
import numpy as np

from ._numba import inline, jit
from .winograd import padded_channels_last


# integer constants would promote float32 operands to float64 in Numba: products by 2 and 4 are sums (exact)
@inline
def _x2(v):
    return v + v


@inline
def _x4(v):
    return _x2(v + v)


@inline
def _x8(v):
    return _x2(_x4(v))


@inline
def _at(m0, m1, m2, m3, m4, m5):
    """``AT`` times the 6-vector ``m``."""
    return (m0 + m1 + m2 + m3 + m4, (m1 - m2) + _x2(m3 - m4), (m1 + m2) + _x4(m3 + m4),
            (m1 - m2) + _x8(m3 - m4) + m5)


@inline
def _a(v0, v1, v2, v3):
    """``AT^T`` times the 4-vector ``v``."""
    return (v0, v0 + v1 + v2 + v3, v0 - v1 + v2 - v3, v0 + _x2(v1) + _x4(v2) + _x8(v3),
            v0 - _x2(v1) + _x4(v2) - _x8(v3), v3)


@inline
def _bt(d0, d1, d2, d3, d4, d5):
    """``BT`` times the 6-vector ``d``."""
    return (_x4(d0 - d2) - d2 + d4, d3 + d4 - _x4(d1 + d2), _x4(d1 - d2) + d4 - d3, _x2(d3 - d1) + d4 - d2,
            _x2(d1 - d3) + d4 - d2, _x4(d1 - d3) - d3 + d5)


@inline
def _b(m0, m1, m2, m3, m4, m5):
    """``BT^T`` times the 6-vector ``m``."""
    return (_x4(m0), _x4(m2 - m1 + m5) + _x2(m4 - m3), -(_x4(m0 + m1 + m2) + m0 + m3 + m4),
            m1 - m2 + _x2(m3 - m4) - _x4(m5) - m5, m0 + m1 + m2 + m3 + m4, m5)


@jit
def _input(buf, th, tw, vt):
    n, pw, C = buf.shape[0], buf.shape[2], buf.shape[3]
    r = np.empty((6, pw * C), buf.dtype)   # BT along the rows of one row of tiles: (a, column and channel)
    r3 = r.reshape(6, pw, C)
    for img in range(n):
        for i in range(th):
            d = buf[img, 4 * i:4 * i + 6].reshape(6, pw * C)   # the tile row's 6 pixel rows, one long run each
            for k in range(pw * C):
                e = _bt(d[0, k], d[1, k], d[2, k], d[3, k], d[4, k], d[5, k])
                for a in range(6):
                    r[a, k] = e[a]
            t0 = (img * th + i) * tw
            for a in range(6):
                ra = r3[a]
                for j in range(tw):
                    x = 4 * j
                    for c in range(C):
                        e = _bt(ra[x, c], ra[x + 1, c], ra[x + 2, c], ra[x + 3, c], ra[x + 4, c], ra[x + 5, c])
                        for b in range(6):
                            vt[6 * a + b, t0 + j, c] = e[b]


@jit
def _input_adjoint(gvt, lo_h, lo_w, th, tw, out):
    n, C, H, W = out.shape
    pw = 4 * tw + 2
    s = np.empty((6, pw * C), gvt.dtype)   # BT^T along the columns of one row of tiles, overlap-added
    s3 = s.reshape(6, pw, C)
    acc = np.empty((6, pw * C), gvt.dtype)  # padded rows 4 i .. 4 i + 5 of the gradient, channels last
    acc3 = acc.reshape(6, pw, C)
    for img in range(n):
        acc[:] = 0
        for i in range(th):
            t0 = (img * th + i) * tw
            s[:] = 0
            for a in range(6):
                sa = s3[a]
                for j in range(tw):
                    x0 = 4 * j
                    for c in range(C):
                        e = _b(gvt[6 * a, t0 + j, c], gvt[6 * a + 1, t0 + j, c], gvt[6 * a + 2, t0 + j, c],
                               gvt[6 * a + 3, t0 + j, c], gvt[6 * a + 4, t0 + j, c], gvt[6 * a + 5, t0 + j, c])
                        for v in range(6):
                            sa[x0 + v, c] += e[v]
            for k in range(pw * C):
                e = _b(s[0, k], s[1, k], s[2, k], s[3, k], s[4, k], s[5, k])
                for u in range(6):
                    acc[u, k] += e[u]
            # rows 4 i .. 4 i + 3 are complete (the next tile row starts at 4 i + 4), all six after the last row
            for u in range(4 if i < th - 1 else 6):
                y = 4 * i + u - lo_h
                if 0 <= y < H:
                    for c in range(C):
                        for xx in range(W):
                            out[img, c, y, xx] = acc3[u, xx + lo_w, c]
            acc[0] = acc[4]
            acc[1] = acc[5]
            acc[2:] = 0


@jit
def _output(mt, th, tw, bias, out):
    n, O, ho, wo = out.shape
    s = np.empty((4, 6, O), mt.dtype)         # AT along the rows of one tile: (p, b, channel)
    r = np.empty((4, 4 * tw, O), mt.dtype)    # one row of output tiles, channels last
    for img in range(n):
        for i in range(th):
            t0 = (img * th + i) * tw
            for j in range(tw):
                t = t0 + j
                for b in range(6):
                    for o in range(O):
                        e = _at(mt[b, t, o], mt[6 + b, t, o], mt[12 + b, t, o], mt[18 + b, t, o], mt[24 + b, t, o],
                                mt[30 + b, t, o])
                        for p in range(4):
                            s[p, b, o] = e[p]
                for p in range(4):
                    for o in range(O):
                        e = _at(s[p, 0, o], s[p, 1, o], s[p, 2, o], s[p, 3, o], s[p, 4, o], s[p, 5, o])
                        for q in range(4):
                            r[p, 4 * j + q, o] = e[q]
            for o in range(O):
                bo = bias[o]
                for p in range(min(4, ho - 4 * i)):
                    dst = out[img, o, 4 * i + p]
                    for x in range(wo):
                        dst[x] = r[p, x, o] + bo


@jit
def _output_adjoint(y, th, tw, gt):
    n, O, ho, wo = y.shape
    r = np.zeros((4, 4 * tw, O), y.dtype)     # one row of tiles of y, channels last (zero past the edges)
    s = np.empty((6, 4, O), y.dtype)          # AT^T along the rows of one tile: (a, q, channel)
    for img in range(n):
        for i in range(th):
            rows = min(4, ho - 4 * i)
            for o in range(O):
                for p in range(rows):
                    src = y[img, o, 4 * i + p]
                    for x in range(wo):
                        r[p, x, o] = src[x]
            for p in range(rows, 4):
                r[p] = 0
            t0 = (img * th + i) * tw
            for j in range(tw):
                t = t0 + j
                for q in range(4):
                    x = 4 * j + q
                    for o in range(O):
                        e = _a(r[0, x, o], r[1, x, o], r[2, x, o], r[3, x, o])
                        for a in range(6):
                            s[a, q, o] = e[a]
                for a in range(6):
                    for o in range(O):
                        e = _a(s[a, 0, o], s[a, 1, o], s[a, 2, o], s[a, 3, o])
                        for b in range(6):
                            gt[6 * a + b, t, o] = e[b]


def wino_output(mt, th, tw, bias, out):
    """See ``winograd.wino_output_reference``."""
    b = np.zeros(out.shape[1], mt.dtype) if bias is None else np.ascontiguousarray(bias, dtype=mt.dtype)
    _output(np.ascontiguousarray(mt), th, tw, b, out)


def wino_output_adjoint(y, th, tw):
    """See ``winograd.wino_output_adjoint_reference``."""
    gt = np.empty((36, y.shape[0] * th * tw, y.shape[1]), y.dtype)
    _output_adjoint(y, th, tw, gt)
    return gt


def wino_input(x, lo, th, tw):
    """See ``winograd.wino_input_reference``."""
    buf = padded_channels_last(x, lo, th, tw)
    vt = np.empty((36, x.shape[0] * th * tw, x.shape[1]), x.dtype)
    _input(buf, th, tw, vt)
    return vt


def wino_input_adjoint(gVt, lo, th, tw, out):
    """See ``winograd.wino_input_adjoint_reference``."""
    _input_adjoint(np.ascontiguousarray(gVt), lo[0], lo[1], th, tw, out)

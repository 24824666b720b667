"""Numba CPU implementations of ``kernels/pooling.py`` for pooling over one or two dims (a 1-D pool is a 2-D
one over rows of height 1): one pass over the windows of each plane, planes split between threads in chunks.

Only the positions inside the input are scanned, so padding needs no padded copy; the first of them starts
the window's maximum, which gives the reference's answer for a window of padding-valued elements.  The 2x2 /
stride 2 forward has its own loop; windows that tile the input (stride = kernel, no dilation) make the
backward one write of every input element, with no zero-filled buffer to accumulate into.
"""
import numpy as np
from numba import prange

from ._numba import jit, pjit, chunks


def _geometry(w):
    """(kh, kw, sh, sw, ph, pw, dh, dw) of a 1-D or 2-D window geometry (a 1-D one as height 1)."""
    if w.nd == 1:
        return 1, w.kernel[0], 1, w.stride[0], 0, w.pad[0], 1, w.dilation[0]
    return w.kernel + w.stride + w.pad + w.dilation


@jit
def _max_planes(x, kh, kw, sh, sw, ph, pw, dh, dw, m, idx):
    P, H, W = x.shape
    Ho, Wo = m.shape[1], m.shape[2]
    for p in range(P):
        for oy in range(Ho):
            y0 = oy * sh - ph
            for ox in range(Wo):
                x0 = ox * sw - pw
                best = x[p, 0, 0]
                bj = -1
                for ky in range(kh):
                    iy = y0 + ky * dh
                    if iy < 0 or iy >= H:
                        continue
                    for kx in range(kw):
                        ix = x0 + kx * dw
                        if ix < 0 or ix >= W:
                            continue
                        v = x[p, iy, ix]
                        if bj < 0 or v > best or v != v:
                            best = v
                            bj = ky * kw + kx
                m[p, oy, ox] = best
                idx[p, oy, ox] = bj


@jit
def _max_planes_2x2(x, m, idx):
    """The common 2x2 / stride 2 window with its four offsets written out (runtime kernel sizes keep the
    general loop several times slower)."""
    P, Ho, Wo = m.shape
    for p in range(P):
        for oy in range(Ho):
            for ox in range(Wo):
                best = x[p, 2 * oy, 2 * ox]
                bj = 0
                v = x[p, 2 * oy, 2 * ox + 1]
                if v > best or v != v:
                    best, bj = v, 1
                v = x[p, 2 * oy + 1, 2 * ox]
                if v > best or v != v:
                    best, bj = v, 2
                v = x[p, 2 * oy + 1, 2 * ox + 1]
                if v > best or v != v:
                    best, bj = v, 3
                m[p, oy, ox] = best
                idx[p, oy, ox] = bj


@pjit
def _max(x, kh, kw, sh, sw, ph, pw, dh, dw, m, idx, nch):
    per = (x.shape[0] + nch - 1) // nch
    two = kh == kw == sh == sw == 2 and ph == pw == 0 and dh == dw == 1 and 2 * m.shape[1] <= x.shape[1] \
        and 2 * m.shape[2] <= x.shape[2]
    for ch in prange(nch):
        sl = slice(ch * per, (ch + 1) * per)
        if two:
            _max_planes_2x2(x[sl], m[sl], idx[sl])
        else:
            _max_planes(x[sl], kh, kw, sh, sw, ph, pw, dh, dw, m[sl], idx[sl])


@jit
def _scatter_planes(g, idx, kw, sh, sw, ph, pw, dh, dw, gx):
    P, Ho, Wo = g.shape
    for p in range(P):
        for oy in range(Ho):
            for ox in range(Wo):
                j = idx[p, oy, ox]
                ky = j // kw
                gx[p, oy * sh - ph + ky * dh, ox * sw - pw + (j - ky * kw) * dw] += g[p, oy, ox]


@jit
def _spread_planes(g, idx, kh, kw, gx):
    """The tiling case: window (oy, ox) covers rows ``oy * kh + ky`` and columns ``ox * kw + kx``, which no other
    window touches; input elements past the last window get zeros."""
    P, Ho, Wo = g.shape
    H, W = gx.shape[1], gx.shape[2]
    for p in range(P):
        for oy in range(Ho):
            for ky in range(kh):
                iy = oy * kh + ky
                for ox in range(Wo):
                    gv = g[p, oy, ox]
                    j = idx[p, oy, ox] - ky * kw
                    for kx in range(kw):
                        gx[p, iy, ox * kw + kx] = gv if j == kx else 0
                for ix in range(Wo * kw, W):
                    gx[p, iy, ix] = 0
        for iy in range(Ho * kh, H):
            for ix in range(W):
                gx[p, iy, ix] = 0


@pjit
def _scatter(g, idx, kh, kw, sh, sw, ph, pw, dh, dw, gx, nch):
    per = (g.shape[0] + nch - 1) // nch
    tiled = ph == 0 and pw == 0 and sh == kh and sw == kw and dh == 1 and dw == 1 \
        and g.shape[1] * kh <= gx.shape[1] and g.shape[2] * kw <= gx.shape[2]
    for ch in prange(nch):
        sl = slice(ch * per, (ch + 1) * per)
        if tiled:
            _spread_planes(g[sl], idx[sl], kh, kw, gx[sl])
        else:
            gx[sl] = 0
            _scatter_planes(g[sl], idx[sl], kw, sh, sw, ph, pw, dh, dw, gx[sl])


def _planes(shape, sp):
    """``shape`` (..., *sp) as (planes, H, W)."""
    p = 1
    for s in shape[:len(shape) - len(sp)]:
        p *= s
    return (p,) + ((1,) + tuple(sp) if len(sp) == 1 else tuple(sp))


def _nch(planes, plane_size):
    return chunks(planes, max(1, 16384 // max(1, plane_size)))


def max_windows(x, w, need_idx):
    """See ``pooling.max_windows_reference``."""
    kh, kw, sh, sw, ph, pw, dh, dw = _geometry(w)
    x3 = np.ascontiguousarray(x).reshape(_planes(x.shape, w.in_sp))
    shape = x.shape[:x.ndim - w.nd] + tuple(w.out_sp)
    o3 = _planes(shape, w.out_sp)
    m = np.empty(o3, x.dtype)
    idx = np.empty(o3, np.int8 if kh * kw < 128 else np.int32)
    _max(x3, kh, kw, sh, sw, ph, pw, dh, dw, m, idx, _nch(o3[0], x3[0].size))
    return m.reshape(shape), (idx.reshape(shape) if need_idx else None)


def offset_scatter(g, idx, w, dtype):
    """See ``pooling.offset_scatter_reference``."""
    kh, kw, sh, sw, ph, pw, dh, dw = _geometry(w)
    g3 = np.ascontiguousarray(g, dtype=dtype).reshape(_planes(g.shape, w.out_sp))
    i3 = np.ascontiguousarray(idx).reshape(g3.shape)
    x3 = _planes(g.shape, w.in_sp)
    gx = np.empty(x3, dtype)
    _scatter(g3, i3, kh, kw, sh, sw, ph, pw, dh, dw, gx, _nch(x3[0], x3[1] * x3[2]))
    return gx.reshape(g.shape[:g.ndim - w.nd] + tuple(w.in_sp))

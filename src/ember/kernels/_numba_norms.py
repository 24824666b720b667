"""Numba CPU implementations of ``kernels/norms.py`` (same arguments and results as the references).

Rows (row norms) or batch chunks (batch norm) are split over threads by ``prange`` over chunks;
sums accumulate in float64 whatever the input precision.
"""
import numpy as np
from numba import prange

from ._numba import jit, pjit, chunks


def _affine(v, x):
    """``v`` as a flat contiguous array of ``x``'s dtype, or an empty one for None (the kernels take a flag)."""
    if v is None:
        return np.empty(0, x.dtype)
    return np.ascontiguousarray(v, dtype=x.dtype).reshape(-1)


@jit
def _row_fwd_rows(x, r0, groups, w, b, has_w, has_b, eps, center, y, mean, rstd):
    """Rows ``r0 .. r0 + len(x)`` (``x``, ``y``, ``mean``, ``rstd`` are those rows' slices)."""
    R, K, S = x.shape
    L = K * S
    for r in range(R):
        xr = x[r].reshape(L)   # one flat loop per statistic: vectorised whatever K and S are
        m = 0.0
        if center:
            for j in range(L):
                m += xr[j]
            m /= L
        v = 0.0
        for j in range(L):
            d = xr[j] - m
            v += d * d
        mean[r] = m
        rstd[r] = 1.0 / np.sqrt(v / L + eps)
        mr = mean[r]   # in the input's precision from here on
        rr = rstd[r]
        base = ((r0 + r) % groups) * K
        yr = y[r]
        if S == 1:   # layer / RMS norm: the affine varies along the row
            for k in range(K):
                sc = rr * w[base + k] if has_w else rr
                yr[k, 0] = (xr[k] - mr) * sc + (b[base + k] if has_b else 0)
        else:
            for k in range(K):
                sc = rr * w[base + k] if has_w else rr
                sh = b[base + k] - mr * sc if has_b else -mr * sc
                for s in range(S):
                    yr[k, s] = xr[k * S + s] * sc + sh


@pjit
def _row_fwd(x, groups, w, b, has_w, has_b, eps, center, y, mean, rstd, nch):
    per = (x.shape[0] + nch - 1) // nch
    for ch in prange(nch):   # each chunk a call: loops inside prange itself are not vectorised
        sl = slice(ch * per, (ch + 1) * per)
        _row_fwd_rows(x[sl], ch * per, groups, w, b, has_w, has_b, eps, center, y[sl], mean[sl], rstd[sl])


def row_norm_forward(x3, groups, weight, bias, eps, center):
    """See ``norms.row_norm_forward_reference``."""
    x = np.ascontiguousarray(x3)
    R = x.shape[0]
    y = np.empty_like(x)
    mean = np.empty(R, x.dtype)
    rstd = np.empty(R, x.dtype)
    _row_fwd(x, groups, _affine(weight, x), _affine(bias, x), weight is not None, bias is not None, float(eps),
             center, y, mean, rstd, chunks(R, max(1, 16384 // max(1, x[0].size))))
    return y, mean, rstd


@jit
def _row_bwd_rows(g, x, r0, mean, rstd, groups, w, has_w, center, need_affine, gx, gw, gb):
    """Rows ``r0 .. r0 + len(x)``; ``gw``/``gb`` are this chunk's partial sums."""
    R, K, S = x.shape
    L = K * S
    for r in range(R):
        gr = g[r]
        xr = x[r]
        m = mean[r]
        rs = rstd[r]
        base = ((r0 + r) % groups) * K
        a = 0.0
        bsum = 0.0
        if S == 1:
            for k in range(K):
                gk = gr[k, 0]
                xh = (xr[k, 0] - m) * rs
                if need_affine:
                    gw[base + k] += gk * xh
                    gb[base + k] += gk
                dk = gk * w[base + k] if has_w else gk
                a += dk
                bsum += dk * xh
        else:
            for k in range(K):
                ga = 0.0
                gxa = 0.0
                for s in range(S):
                    ga += gr[k, s]
                    gxa += gr[k, s] * (xr[k, s] - m)
                gxa *= rs
                wk = w[base + k] if has_w else 1.0
                a += ga * wk
                bsum += gxa * wk
                if need_affine:
                    gw[base + k] += gxa
                    gb[base + k] += ga
        ca = a / L if center else 0.0
        cb = bsum / L
        gxr = gx[r]
        for k in range(K):
            wk = w[base + k] if has_w else 1.0
            for s in range(S):
                gxr[k, s] = (gr[k, s] * wk - ca - (xr[k, s] - m) * rs * cb) * rs


@pjit
def _row_bwd(g, x, mean, rstd, groups, w, has_w, center, need_affine, gx, gw, gb, nch):
    per = (x.shape[0] + nch - 1) // nch
    for ch in prange(nch):
        sl = slice(ch * per, (ch + 1) * per)
        _row_bwd_rows(g[sl], x[sl], ch * per, mean[sl], rstd[sl], groups, w, has_w, center, need_affine, gx[sl],
                      gw[ch], gb[ch])


def row_norm_backward(g3, x3, mean, rstd, groups, weight, center, need_affine):
    """See ``norms.row_norm_backward_reference``."""
    x = np.ascontiguousarray(x3)
    g = np.ascontiguousarray(g3, dtype=x.dtype)
    R, K, _ = x.shape
    nch = chunks(R, max(1, 16384 // max(1, x[0].size)))
    C = groups * K if need_affine else 0
    gw = np.zeros((nch, C))
    gb = np.zeros((nch, C))
    gx = np.empty_like(x)
    _row_bwd(g, x, mean, rstd, groups, _affine(weight, x), weight is not None, center, need_affine, gx, gw, gb, nch)
    if not need_affine:
        return gx, None, None
    return gx, gw.sum(axis=0).astype(x.dtype), gb.sum(axis=0).astype(x.dtype)


@jit
def _bn_sums_rows(x, centre, out):
    """``out[c]`` += the sum over the batch slice ``x`` of ``x - centre[c]``, squared if ``centre`` has
    entries, per channel."""
    N, C, S = x.shape
    sq = centre.size > 0
    for n in range(N):
        for c in range(C):
            acc = 0.0
            if sq:
                m = centre[c]
                for s in range(S):
                    d = x[n, c, s] - m
                    acc += d * d
            else:
                for s in range(S):
                    acc += x[n, c, s]
            out[c] += acc


@pjit
def _bn_sums(x, centre, nch, out):
    per = (x.shape[0] + nch - 1) // nch
    for ch in prange(nch):   # each chunk a call: loops inside prange itself are not vectorised
        _bn_sums_rows(x[ch * per:(ch + 1) * per], centre, out[ch])


def _batch_chunks(x):
    return chunks(x.shape[0], max(1, 16384 // max(1, x[0].size)))


def batch_norm_stats(x3):
    """See ``norms.batch_norm_stats_reference``."""
    x = np.ascontiguousarray(x3)
    N, C, S = x.shape
    nch = _batch_chunks(x)
    acc = np.zeros((nch, C))
    _bn_sums(x, np.empty(0), nch, acc)
    mean = acc.sum(axis=0) / (N * S)
    acc[:] = 0
    _bn_sums(x, mean, nch, acc)
    return mean.astype(x.dtype), (acc.sum(axis=0) / (N * S)).astype(x.dtype)


@jit
def _bn_apply_rows(x, scale, shift, y):
    N, C, S = x.shape
    for n in range(N):
        for c in range(C):
            sc = scale[c]
            sh = shift[c]
            for s in range(S):
                y[n, c, s] = x[n, c, s] * sc + sh


@pjit
def _bn_apply(x, scale, shift, y, nch):
    per = (x.shape[0] + nch - 1) // nch
    for ch in prange(nch):
        sl = slice(ch * per, (ch + 1) * per)
        _bn_apply_rows(x[sl], scale, shift, y[sl])


def batch_norm_apply(x3, mean, rstd, weight, bias):
    """See ``norms.batch_norm_apply_reference``."""
    x = np.ascontiguousarray(x3)
    with np.errstate(all="ignore"):
        scale = rstd.astype(np.float64) if weight is None else rstd * weight.astype(np.float64)
        shift = -mean * scale
        if bias is not None:
            shift += bias
    y = np.empty_like(x)
    _bn_apply(x, scale.astype(x.dtype), shift.astype(x.dtype), y, _batch_chunks(x))
    return y


@jit
def _bn_grad_sums_rows(g, x, mean, rstd, sg, sgx):
    N, C, S = x.shape
    for n in range(N):
        for c in range(C):
            m = mean[c]
            a = 0.0
            b = 0.0
            for s in range(S):
                gv = g[n, c, s]
                a += gv
                b += gv * (x[n, c, s] - m)
            sg[c] += a
            sgx[c] += b * rstd[c]


@pjit
def _bn_grad_sums(g, x, mean, rstd, nch, sg, sgx):
    per = (x.shape[0] + nch - 1) // nch
    for ch in prange(nch):
        sl = slice(ch * per, (ch + 1) * per)
        _bn_grad_sums_rows(g[sl], x[sl], mean, rstd, sg[ch], sgx[ch])


@jit
def _bn_gx_rows(g, x, mean, rstd, k1, k0, scale, gx):
    """``gx = (g - (x - mean) * rstd * k1 - k0) * scale`` per channel."""
    N, C, S = x.shape
    for n in range(N):
        for c in range(C):
            m = mean[c]
            a = rstd[c] * k1[c]
            b = k0[c]
            sc = scale[c]
            for s in range(S):
                gx[n, c, s] = (g[n, c, s] - (x[n, c, s] - m) * a - b) * sc


@pjit
def _bn_gx(g, x, mean, rstd, k1, k0, scale, gx, nch):
    per = (x.shape[0] + nch - 1) // nch
    for ch in prange(nch):
        sl = slice(ch * per, (ch + 1) * per)
        _bn_gx_rows(g[sl], x[sl], mean, rstd, k1, k0, scale, gx[sl])


def batch_norm_backward(g3, x3, mean, rstd, weight, use_stats, need_affine):
    """See ``norms.batch_norm_backward_reference``."""
    x = np.ascontiguousarray(x3)
    g = np.ascontiguousarray(g3, dtype=x.dtype)
    N, C, S = x.shape
    nch = _batch_chunks(x)
    sg = np.zeros((nch, C))
    sgx = np.zeros((nch, C))
    mean = mean.astype(x.dtype, copy=False)
    rstd = rstd.astype(x.dtype, copy=False)
    if use_stats or need_affine:
        _bn_grad_sums(g, x, mean, rstd, nch, sg, sgx)
    sg, sgx = sg.sum(axis=0), sgx.sum(axis=0)
    scale = rstd if weight is None else rstd * weight.astype(x.dtype)
    n = N * S
    zero = np.zeros(C, x.dtype)
    k1 = (sgx / n).astype(x.dtype) if use_stats else zero
    k0 = (sg / n).astype(x.dtype) if use_stats else zero
    gx = np.empty_like(x)
    _bn_gx(g, x, mean, rstd, k1, k0, scale.astype(x.dtype), gx, nch)
    if not need_affine:
        return gx, None, None
    return gx, sgx.astype(x.dtype), sg.astype(x.dtype)

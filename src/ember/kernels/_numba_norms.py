"""Numba CPU implementations of ``kernels/norms.py`` (same arguments and results as the references).

Rows (row norms) or batch chunks (batch norm) are split over threads by ``prange`` over chunks;
sums accumulate in float64 whatever the input precision.
"""
import numpy as np
from numba import prange

from ._numba import pjit, chunks


def _affine(v, x):
    """``v`` as a flat contiguous array of ``x``'s dtype, or an empty one for None (the kernels take a flag)."""
    if v is None:
        return np.empty(0, x.dtype)
    return np.ascontiguousarray(v, dtype=x.dtype).reshape(-1)


@pjit
def _row_fwd(x, groups, w, b, has_w, has_b, eps, center, y, mean, rstd, nch):
    R, K, S = x.shape
    L = K * S
    per = (R + nch - 1) // nch
    for ch in prange(nch):
        for r in range(ch * per, min(R, (ch + 1) * per)):
            xr = x[r]
            m = 0.0
            if center:
                for k in range(K):
                    for s in range(S):
                        m += xr[k, s]
                m /= L
            v = 0.0
            for k in range(K):
                for s in range(S):
                    d = xr[k, s] - m
                    v += d * d
            rs = 1.0 / np.sqrt(v / L + eps)
            mean[r] = m
            rstd[r] = rs
            mr = mean[r]   # in the input's precision from here on
            rr = rstd[r]
            base = (r % groups) * K
            yr = y[r]
            for k in range(K):
                sc = rr * w[base + k] if has_w else rr
                sh = b[base + k] - mr * sc if has_b else -mr * sc
                for s in range(S):
                    yr[k, s] = xr[k, s] * sc + sh


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


@pjit
def _row_bwd(g, x, mean, rstd, groups, w, has_w, center, need_affine, gx, gw, gb, nch):
    R, K, S = x.shape
    L = K * S
    per = (R + nch - 1) // nch
    for ch in prange(nch):
        for r in range(ch * per, min(R, (ch + 1) * per)):
            gr = g[r]
            xr = x[r]
            m = mean[r]
            rs = rstd[r]
            base = (r % groups) * K
            a = 0.0
            bsum = 0.0
            for k in range(K):
                wk = w[base + k] if has_w else 1.0
                ga = 0.0
                gxa = 0.0
                for s in range(S):
                    xh = (xr[k, s] - m) * rs
                    ga += gr[k, s]
                    gxa += gr[k, s] * xh
                a += ga * wk
                bsum += gxa * wk
                if need_affine:
                    gw[ch, base + k] += gxa
                    gb[ch, base + k] += ga
            ca = (a / L) if center else 0.0
            cb = bsum / L
            gxr = gx[r]
            for k in range(K):
                wk = w[base + k] if has_w else 1.0
                for s in range(S):
                    xh = (xr[k, s] - m) * rs
                    gxr[k, s] = (gr[k, s] * wk - ca - xh * cb) * rs


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


@pjit
def _bn_sums(x, centre, nch, out):
    """``out[ch, c]``: the sum over chunk ``ch`` of the batch of ``x - centre[c]`` (squared if ``centre``
    has entries), per channel."""
    N, C, S = x.shape
    per = (N + nch - 1) // nch
    sq = centre.size > 0
    for ch in prange(nch):
        for n in range(ch * per, min(N, (ch + 1) * per)):
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
                out[ch, c] += acc


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


@pjit
def _bn_apply(x, scale, shift, y, nch):
    N, C, S = x.shape
    per = (N + nch - 1) // nch
    for ch in prange(nch):
        for n in range(ch * per, min(N, (ch + 1) * per)):
            for c in range(C):
                sc = scale[c]
                sh = shift[c]
                for s in range(S):
                    y[n, c, s] = x[n, c, s] * sc + sh


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


@pjit
def _bn_grad_sums(g, x, mean, rstd, nch, sg, sgx):
    N, C, S = x.shape
    per = (N + nch - 1) // nch
    for ch in prange(nch):
        for n in range(ch * per, min(N, (ch + 1) * per)):
            for c in range(C):
                m = mean[c]
                a = 0.0
                b = 0.0
                for s in range(S):
                    gv = g[n, c, s]
                    a += gv
                    b += gv * (x[n, c, s] - m)
                sg[ch, c] += a
                sgx[ch, c] += b * rstd[c]


@pjit
def _bn_gx(g, x, mean, rstd, k1, k0, scale, gx, nch):
    """``gx = (g - (x - mean) * rstd * k1 - k0) * scale`` per channel."""
    N, C, S = x.shape
    per = (N + nch - 1) // nch
    for ch in prange(nch):
        for n in range(ch * per, min(N, (ch + 1) * per)):
            for c in range(C):
                m = mean[c]
                a = rstd[c] * k1[c]
                b = k0[c]
                sc = scale[c]
                for s in range(S):
                    gx[n, c, s] = (g[n, c, s] - (x[n, c, s] - m) * a - b) * sc


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

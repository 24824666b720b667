"""Numba CPU implementations of ``kernels/norms.py`` (same arguments and results as the references).

Rows (row norms) or batch chunks (batch norm) are split over threads by ``prange`` over chunks (``_batch_chunks``:
128K-256K elements a chunk);
sums accumulate in float64 whatever the input precision, except a row norm's: its forward statistics in the
input's precision over blocks of ``_BLOCK`` entries, then in float64; its backward's row sums in the input's
precision, and its affine gradients in the input's precision over ``_FLUSH`` rows, then in float64.
"""
import numpy as np
from numba import prange

from ._numba import inline, jit, pjit, row_chunks


def _affine(v, x, n, fill):
    """``v`` as a flat contiguous array of ``x``'s dtype, or ``n`` entries of ``fill`` for None (1 for a missing
    weight, 0 for a missing bias: the kernels then need no flag and no branch in their loops)."""
    if v is None:
        return np.full(n, fill, x.dtype)
    return np.ascontiguousarray(v, dtype=x.dtype).reshape(-1)


_BLOCK = 256   # entries summed in the input's precision before a float64 add (see _block_sum)


@inline
def _block_sum(xr, m, sq, zero):
    """The sum over the flat row ``xr`` of ``(xr - m) ** 2`` when ``sq``, of ``xr`` otherwise: in the precision of
    ``zero`` (the input's) over blocks of ``_BLOCK`` entries, the blocks added in float64.  A float64 accumulator in
    the vector loop itself converts every element and halves the loop's width."""
    s = 0.0
    for i0 in range(0, xr.size, _BLOCK):
        xb = xr[i0:i0 + _BLOCK]   # a slice, not a bounded index range: that loop vectorises, the other not
        sb = zero
        if sq:
            for i in range(xb.size):
                d = xb[i] - m
                sb += d * d
        else:
            for i in range(xb.size):
                sb += xb[i]
        s += sb
    return s


@inline
def _row_stats(xr, center, eps, prec, zero):
    """Mean (0 without ``center``) and ``1 / sqrt(var + eps)`` of the flat row ``xr``; ``zero`` a zero of the
    input's dtype, ``prec`` a one-entry scratch array of it (the mean rounded to it for the deviations' loop)."""
    L = xr.size
    m = 0.0
    if center:
        m = _block_sum(xr, zero, False, zero) / L
    prec[0] = m
    v = _block_sum(xr, prec[0], True, zero)
    return prec[0], 1.0 / np.sqrt(v / L + eps)


@jit
def _ln_fwd_rows(x, w, b, eps, center, y, mean, rstd):
    """Layer / RMS norm of the rows of ``x`` ``(R, L)``: the affine runs along the row."""
    prec = np.zeros(1, x.dtype)
    zero = prec[0]
    for r in range(x.shape[0]):
        xr = x[r]
        mean[r], rstd[r] = _row_stats(xr, center, eps, prec, zero)
        m = mean[r]   # in the input's precision from here on
        rs = rstd[r]
        yr = y[r]
        for j in range(xr.size):
            yr[j] = (xr[j] - m) * rs * w[j] + b[j]


@jit
def _gn_fwd_rows(x, r0, groups, w, b, eps, center, y, mean, rstd):
    """Group / instance norm of rows ``r0 .. r0 + len(x)`` of ``(R, K, S)``: one affine entry per channel ``k``."""
    R, K, S = x.shape
    prec = np.zeros(1, x.dtype)
    zero = prec[0]
    for r in range(R):
        xr = x[r]
        mean[r], rstd[r] = _row_stats(xr.reshape(K * S), center, eps, prec, zero)
        m = mean[r]
        rs = rstd[r]
        base = ((r0 + r) % groups) * K
        yr = y[r]
        for k in range(K):
            sc = rs * w[base + k]
            sh = b[base + k] - m * sc
            for s in range(S):
                yr[k, s] = xr[k, s] * sc + sh


@pjit
def _row_fwd(x, groups, w, b, eps, center, y, mean, rstd, nch):
    per = (x.shape[0] + nch - 1) // nch
    for ch in prange(nch):   # each chunk a call: loops inside prange itself are not vectorised
        sl = slice(ch * per, (ch + 1) * per)
        if x.shape[2] == 1:
            R = x[sl].shape[0]
            _ln_fwd_rows(x[sl].reshape(R, x.shape[1]), w, b, eps, center, y[sl].reshape(R, x.shape[1]), mean[sl],
                         rstd[sl])
        else:
            _gn_fwd_rows(x[sl], ch * per, groups, w, b, eps, center, y[sl], mean[sl], rstd[sl])


def row_norm_forward(x3, groups, weight, bias, eps, center):
    """See ``norms.row_norm_forward_reference``."""
    x = np.ascontiguousarray(x3)
    R = x.shape[0]
    C = groups * x.shape[1]
    y = np.empty_like(x)
    mean = np.empty(R, x.dtype)
    rstd = np.empty(R, x.dtype)
    _row_fwd(x, groups, _affine(weight, x, C, 1), _affine(bias, x, C, 0), float(eps), center, y, mean, rstd,
             _batch_chunks(x, _ROW_FWD_CHUNK))
    return y, mean, rstd


_FLUSH = 32   # rows whose affine-gradient terms are summed in the input's precision before a float64 flush


@jit
def _ln_bwd_rows(g, x, mean, rstd, w, center, need_affine, gx, gw, gb):
    """Layer / RMS norm backward of the rows of ``(R, L)``; ``gw``/``gb`` (float64) get this chunk's sums.

    The per-column sums over rows run in the input's precision for ``_FLUSH`` rows at a time, then are added
    into the float64 totals: a float64 accumulation in the row loop itself converts every element (4096x256
    float32: 0.81 ms against 0.68 ms).  The row's two sums run in the input's precision too, as PyTorch's (their
    vector loop keeps 64 partial sums): float64 ones took 346 us against 315 (4096x256 float32, 300 against 225
    without the affine sums)."""
    R, L = x.shape
    coef = np.zeros(2, x.dtype)   # the row's two projection coefficients, in the input's precision
    zero = coef[0]
    pw = np.zeros(L if need_affine else 0, x.dtype)
    pb = np.zeros(L if need_affine else 0, x.dtype)
    for r in range(R):
        gr = g[r]
        xr = x[r]
        m = mean[r]
        rs = rstd[r]
        a = zero
        c = zero
        if need_affine:   # the affine sums in the same pass: g and x are read once for both
            for j in range(L):
                d = gr[j] * w[j]
                xm = xr[j] - m
                a += d
                c += d * xm
                pw[j] += gr[j] * (xm * rs)
                pb[j] += gr[j]
        else:
            for j in range(L):
                d = gr[j] * w[j]
                a += d
                c += d * (xr[j] - m)
        coef[0] = a / L if center else 0.0
        coef[1] = c * rs / L
        ca = coef[0]
        cb = coef[1]
        gxr = gx[r]
        for j in range(L):
            gxr[j] = (gr[j] * w[j] - ca - (xr[j] - m) * rs * cb) * rs
        if need_affine:
            if r % _FLUSH == _FLUSH - 1 or r == R - 1:
                for j in range(L):
                    gw[j] += pw[j]
                    gb[j] += pb[j]
                    pw[j] = 0
                    pb[j] = 0


@jit
def _gn_bwd_rows(g, x, r0, mean, rstd, groups, w, center, need_affine, gx, gw, gb):
    """Group / instance norm backward of rows ``r0 .. r0 + len(x)`` of ``(R, K, S)``; ``gw``/``gb``: this chunk's
    sums."""
    R, K, S = x.shape
    L = K * S
    coef = np.empty(2, x.dtype)
    for r in range(R):
        gr = g[r]
        xr = x[r]
        m = mean[r]
        rs = rstd[r]
        base = ((r0 + r) % groups) * K
        a = 0.0
        c = 0.0
        for k in range(K):
            ga = 0.0
            gxa = 0.0
            for s in range(S):
                ga += gr[k, s]
                gxa += gr[k, s] * (xr[k, s] - m)
            gxa *= rs
            wk = w[base + k]
            a += ga * wk
            c += gxa * wk
            if need_affine:
                gw[base + k] += gxa
                gb[base + k] += ga
        coef[0] = a / L if center else 0.0
        coef[1] = c / L
        ca = coef[0]
        cb = coef[1]
        gxr = gx[r]
        for k in range(K):
            wk = w[base + k]
            for s in range(S):
                gxr[k, s] = (gr[k, s] * wk - ca - (xr[k, s] - m) * rs * cb) * rs


@pjit
def _row_bwd(g, x, mean, rstd, groups, w, center, need_affine, gx, gw, gb, nch):
    per = (x.shape[0] + nch - 1) // nch
    for ch in prange(nch):
        sl = slice(ch * per, (ch + 1) * per)
        if x.shape[2] == 1:
            R = x[sl].shape[0]
            L = x.shape[1]
            _ln_bwd_rows(g[sl].reshape(R, L), x[sl].reshape(R, L), mean[sl], rstd[sl], w, center, need_affine,
                         gx[sl].reshape(R, L), gw[ch], gb[ch])
        else:
            _gn_bwd_rows(g[sl], x[sl], ch * per, mean[sl], rstd[sl], groups, w, center, need_affine, gx[sl],
                         gw[ch], gb[ch])


def row_norm_backward(g3, x3, mean, rstd, groups, weight, center, need_affine):
    """See ``norms.row_norm_backward_reference``."""
    x = np.ascontiguousarray(x3)
    g = np.ascontiguousarray(g3, dtype=x.dtype)
    nch = _batch_chunks(x, _ROW_BWD_CHUNK)
    C = groups * x.shape[1]
    Ca = C if need_affine else 0
    gw = np.zeros((nch, Ca))
    gb = np.zeros((nch, Ca))
    gx = np.empty_like(x)
    _row_bwd(g, x, mean.astype(x.dtype, copy=False), rstd.astype(x.dtype, copy=False), groups,
             _affine(weight, x, C, 1), center, need_affine, gx, gw, gb, nch)
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


@jit
def _bn_sums_columns(x, centre, out):
    """``_bn_sums_rows`` of a batch slice ``x`` ``(N, C)`` (one element per channel and sample): the loops run
    along a sample's channels, which vectorise (an inner loop over ``S == 1`` element stays scalar)."""
    N, C = x.shape
    sq = centre.size > 0
    for n in range(N):
        xn = x[n]
        if sq:
            for c in range(C):
                d = xn[c] - centre[c]
                out[c] += d * d
        else:
            for c in range(C):
                out[c] += xn[c]


@pjit
def _bn_sums(x, centre, nch, out):
    per = (x.shape[0] + nch - 1) // nch
    for ch in prange(nch):   # each chunk a call: loops inside prange itself are not vectorised
        sl = slice(ch * per, (ch + 1) * per)
        if x.shape[2] == 1:   # reshaped, not indexed: a C-contiguous 2-D view is what vectorises
            _bn_sums_columns(x[sl].reshape(x[sl].shape[0], x.shape[1]), centre, out[ch])
        else:
            _bn_sums_rows(x[sl], centre, out[ch])


# elements a chunk (see ``row_chunks``): one thread takes ~0.2 ns an element for a row norm's forward, ~0.3 for its
# backward, 0.1-0.2 for each batch-norm pass
_ROW_FWD_CHUNK, _ROW_BWD_CHUNK, _BATCH_CHUNK = 1 << 15, 1 << 15, 1 << 17


def _batch_chunks(x, elements=_BATCH_CHUNK):
    return row_chunks(x.shape[0], x[0].size, elements)


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


@jit
def _bn_apply_columns(x, scale, shift, y):
    """``_bn_apply_rows`` of ``(N, C)``."""
    for n in range(x.shape[0]):
        xn = x[n]
        yn = y[n]
        for c in range(x.shape[1]):
            yn[c] = xn[c] * scale[c] + shift[c]


@pjit
def _bn_apply(x, scale, shift, y, nch):
    per = (x.shape[0] + nch - 1) // nch
    for ch in prange(nch):
        sl = slice(ch * per, (ch + 1) * per)
        if x.shape[2] == 1:
            R, C = x[sl].shape[0], x.shape[1]
            _bn_apply_columns(x[sl].reshape(R, C), scale, shift, y[sl].reshape(R, C))
        else:
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


@jit
def _bn_grad_sums_columns(g, x, mean, rstd, sg, sgx):
    """``_bn_grad_sums_rows`` of ``(N, C)``."""
    for n in range(x.shape[0]):
        gn = g[n]
        xn = x[n]
        for c in range(x.shape[1]):
            sg[c] += gn[c]
            sgx[c] += gn[c] * (xn[c] - mean[c]) * rstd[c]


@pjit
def _bn_grad_sums(g, x, mean, rstd, nch, sg, sgx):
    per = (x.shape[0] + nch - 1) // nch
    for ch in prange(nch):
        sl = slice(ch * per, (ch + 1) * per)
        if x.shape[2] == 1:
            R, C = x[sl].shape[0], x.shape[1]
            _bn_grad_sums_columns(g[sl].reshape(R, C), x[sl].reshape(R, C), mean, rstd, sg[ch], sgx[ch])
        else:
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


@jit
def _bn_gx_columns(g, x, mean, a, k0, scale, gx):
    """``_bn_gx_rows`` of ``(N, C)``, ``a = rstd * k1``."""
    for n in range(x.shape[0]):
        gn = g[n]
        xn = x[n]
        gxn = gx[n]
        for c in range(x.shape[1]):
            gxn[c] = (gn[c] - (xn[c] - mean[c]) * a[c] - k0[c]) * scale[c]


@pjit
def _bn_gx(g, x, mean, rstd, k1, k0, scale, gx, nch):
    per = (x.shape[0] + nch - 1) // nch
    a = rstd * k1
    for ch in prange(nch):
        sl = slice(ch * per, (ch + 1) * per)
        if x.shape[2] == 1:
            R, C = x[sl].shape[0], x.shape[1]
            _bn_gx_columns(g[sl].reshape(R, C), x[sl].reshape(R, C), mean, a, k0, scale, gx[sl].reshape(R, C))
        else:
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

"""Numba CPU implementation of ``recurrent.lstm_layer_forward`` / ``lstm_layer_backward``: every step of an LSTM
layer, its matrix product included, inside one compiled call, so no Python runs per step, and a step's work
splits over threads by hidden units (forward) or by the product's columns (backward), a parallel region per
step (per phase in backward).

The per-step product goes through BLAS (``np.dot``, which Numba binds to SciPy's BLAS) in column blocks small
enough for OpenBLAS's small-matrix kernels (``rows * K * n <= 1e6`` multiply-adds), which read their operands in
place; a whole ``(20, 256) @ (256, 1024)`` product packs the weight on every call and ran at half their rate
(float32, one thread, Zen 4: a 2x256 layer's 35 steps 190 -> 105 us each).  The weight is repacked once per call
into those blocks: forward, block ``u`` holds the ``i, f, g, o`` columns of a run of hidden units, so a block's
product feeds those units' cell; backward, block ``c`` a run of the output's columns.

Layers whose blocks would be too narrow (many rows or a wide input), with a projection, or without SciPy run the
step loop (``recurrent.lstm_layer_loop``) with the compiled cells instead.
"""
import importlib.util

import numpy as np
from numba import prange

from ._numba import chunks, inline, jit, pjit
from ._numba_math import ftanh
from ._numba_recurrent import _sigmoid_sum, _tanh_sum, lstm_cell_backward, lstm_cell_forward
from .recurrent import active_before, lstm_layer_backward_loop, lstm_layer_loop

_SMALL_WORK = 1_000_000         # OpenBLAS's small-matrix limit, multiply-adds per product
_PARALLEL_WORK = 1 << 20        # multiply-adds per step from which a step is split over threads
_HAVE_BLAS = importlib.util.find_spec("scipy") is not None


def _block_width(work_per_column, n):
    """The widest power of two ``w`` with ``work_per_column * w`` within the small-matrix limit, at most the power
    of two covering ``n``; 0 when that is under 8 and under ``n`` (blocks too narrow to pay)."""
    cover = 1 << max(n - 1, 0).bit_length()
    w = 1 << max(_SMALL_WORK // max(work_per_column, 1), 1).bit_length() - 1
    w = min(w, cover)
    return w if w >= 8 or w >= n else 0


def _schedule(steps):
    r0 = np.array([a for a, _ in steps], dtype=np.int64)
    rows = np.array([b - a for a, b in steps], dtype=np.int64)
    return r0, rows


def _threads(work, blocks):
    return min(chunks(work, _PARALLEL_WORK), blocks)


# ----------------------------------------------------------------------------- forward
@inline
def _cell_block(g, sb, c, o_h, o_next, tc, keep, H, u0, w, uw):
    """One row of one unit block: gates ``g`` (the row of G, activated in place) plus the block's product row
    ``sb``; the cell state ``c`` (updated in place), the new hidden state into ``o_h`` and ``o_next``."""
    i, f, gg, o = g[u0:u0 + w], g[H + u0:H + u0 + w], g[2 * H + u0:2 * H + u0 + w], g[3 * H + u0:3 * H + u0 + w]
    _sigmoid_sum(i, sb[:w])
    _sigmoid_sum(f, sb[uw:uw + w])
    _tanh_sum(gg, sb[2 * uw:2 * uw + w])
    _sigmoid_sum(o, sb[3 * uw:3 * uw + w])
    for j in range(w):
        c[j] = f[j] * c[j] + i[j] * gg[j]
    if keep:
        for j in range(w):
            t = ftanh(c[j])
            tc[j] = t
            x = o[j] * t
            o_h[j] = x
            o_next[j] = x
    else:
        for j in range(w):
            x = o[j] * ftanh(c[j])
            o_h[j] = x
            o_next[j] = x


@jit
def _forward_block(G, r0, u0, w, h, Wb, S, cs, h_next, out, TC, Hp, Cp, keep):
    """Step rows ``r0:r0+len(h)``, hidden units ``u0:u0+w``: the block's product, then its cells."""
    bs, H = h.shape[0], cs.shape[1]
    uw = Wb.shape[1] // 4
    s = S[:bs]
    np.dot(h, Wb, s)
    for b in range(bs):
        r = r0 + b
        kr = r if keep else 0   # without keep, TC, Hp and Cp are one-row placeholders
        c = cs[b, u0:u0 + w]
        if keep:
            Hp[r, u0:u0 + w] = h[b, u0:u0 + w]
            Cp[r, u0:u0 + w] = c
        _cell_block(G[r], s[b], c, out[r, u0:u0 + w], h_next[b, u0:u0 + w], TC[kr, u0:u0 + w], keep, H, u0, w, uw)


@pjit
def _forward(G, Wp, h0, c0, R0, BS, out, TC, Hp, Cp, hs, cs, S, hn, cn, keep, nch):
    """The whole recurrence: ``hs`` (2, B, H) holds the hidden state, read from one half while the step writes
    the other; ``cs`` (B, H) the cell state; unit blocks split over ``nch`` chunks each step."""
    H = cs.shape[1]
    nub, uw = Wp.shape[0], Wp.shape[2] // 4
    per = (nub + nch - 1) // nch
    n = BS[0]
    hs[0, :n] = h0[:n]
    cs[:n] = c0[:n]
    cur = 0
    for t in range(R0.size):
        r0, bs = R0[t], BS[t]
        if bs < n:              # rows whose sequences ended
            hn[bs:n] = hs[cur, bs:n]
            cn[bs:n] = cs[bs:n]
        elif bs > n:            # rows whose sequences start here (a reverse direction)
            hs[cur, n:bs] = h0[n:bs]
            cs[n:bs] = c0[n:bs]
        n = bs
        h, h_next = hs[cur, :bs], hs[1 - cur]
        for ch in prange(nch):
            for ub in range(ch * per, min((ch + 1) * per, nub)):
                _forward_block(G, r0, ub * uw, min(uw, H - ub * uw), h, Wp[ub], S[ub], cs, h_next, out, TC, Hp,
                               Cp, keep)
        cur = 1 - cur
    hn[:n] = hs[cur, :n]
    cn[:n] = cs[:n]


def _pack_units(w_hh, uw):
    """``w_hh`` (4H, K) as (blocks, K, 4 uw): block ``u``'s columns are the i, f, g, o rows of hidden units
    ``u uw .. (u+1) uw`` (zero past H)."""
    H4, K = w_hh.shape
    H = H4 // 4
    nub = -(-H // uw)
    W4 = np.zeros((4, nub * uw, K), dtype=w_hh.dtype)
    W4[:, :H] = w_hh.reshape(4, H, K)
    return np.ascontiguousarray(W4.reshape(4, nub, uw, K).transpose(1, 3, 0, 2)).reshape(nub, K, 4 * uw)


def lstm_layer_forward(G, w_hh, w_hr, h0, c0, steps, keep):
    """See ``recurrent.lstm_layer_forward_reference``."""
    B = h0.shape[0]
    H4, K = w_hh.shape
    H = H4 // 4
    uw = _block_width(B * K * 4, H) if w_hr is None and _HAVE_BLAS else 0
    if not uw:
        return lstm_layer_loop(lstm_cell_forward, G, w_hh, w_hr, h0, c0, steps, keep)
    dt, N = G.dtype, G.shape[0]
    Wp = _pack_units(w_hh, uw)
    R0, BS = _schedule(steps)
    out = np.empty((N, H), dtype=dt)
    kept = (N, H) if keep else (1, H)
    TC, Hp, Cp = (np.empty(kept, dtype=dt) for _ in range(3))
    hs, cs = np.empty((2, B, H), dtype=dt), np.empty((B, H), dtype=dt)
    S = np.empty((Wp.shape[0], B, 4 * uw), dtype=dt)
    hn, cn = np.empty((B, H), dtype=dt), np.empty((B, H), dtype=dt)
    nch = _threads(B * K * H4, Wp.shape[0])
    _forward(G, Wp, np.ascontiguousarray(h0), np.ascontiguousarray(c0), R0, BS, out, TC, Hp, Cp, hs, cs, S, hn,
             cn, keep, nch)
    return out, hn, cn, ((Hp, Cp, TC, None) if keep else None)


# ----------------------------------------------------------------------------- backward
@jit
def _backward_cells(dout, A, Cp, TC, dG, dsum, dcs, r0, bs, u0, w):
    """Step rows ``r0:r0+bs``, hidden units ``u0:u0+w``: the gates' gradients into ``dG`` from ``dsum + dout``
    (the hidden state's) and ``dcs`` (the cell state's, replaced by the previous cell state's)."""
    H = dcs.shape[1]
    for b in range(bs):
        r = r0 + b
        a, d = A[r], dG[r]
        i, f, g, o = a[u0:u0 + w], a[H + u0:H + u0 + w], a[2 * H + u0:2 * H + u0 + w], a[3 * H + u0:3 * H + u0 + w]
        di, df = d[u0:u0 + w], d[H + u0:H + u0 + w]
        dg, do = d[2 * H + u0:2 * H + u0 + w], d[3 * H + u0:3 * H + u0 + w]
        dh, dhr = dsum[b, u0:u0 + w], dout[r, u0:u0 + w]
        dc, cp, t = dcs[b, u0:u0 + w], Cp[r, u0:u0 + w], TC[r, u0:u0 + w]
        for j in range(w):
            x = dh[j] + dhr[j]
            dct = x * o[j] * (1 - t[j] * t[j]) + dc[j]
            di[j] = dct * g[j] * i[j] * (1 - i[j])
            df[j] = dct * cp[j] * f[j] * (1 - f[j])
            dg[j] = dct * i[j] * (1 - g[j] * g[j])
            do[j] = x * t[j] * o[j] * (1 - o[j])
            dc[j] = dct * f[j]


@jit
def _backward_columns(dGr, Wb, S, dsum, c0, w):
    """``dsum[:, c0:c0+w]`` = the step's gates' gradients ``dGr`` times block ``Wb`` of ``w_hh``."""
    bs = dGr.shape[0]
    s = S[:bs]
    np.dot(dGr, Wb, s)
    for b in range(bs):
        for j in range(w):
            dsum[b, c0 + j] = s[b, j]


@pjit
def _backward(dout, dhn, dcn, A, Cp, TC, Wn, R0, BS, NB, dG, S, dsum, dcs, dh0, dc0, nch):
    """The whole backward recurrence, last step first: each step its cells (hidden units split over ``nch``
    chunks), then the product giving the previous hidden state's gradient (column blocks split over chunks)."""
    H = dcs.shape[1]
    ncb, cw = Wn.shape[0], Wn.shape[2]
    uper, cper = (H + nch - 1) // nch, (ncb + nch - 1) // nch
    n = BS[R0.size - 1]
    dsum[:n] = dhn[:n]
    dcs[:n] = dcn[:n]
    for t in range(R0.size - 1, -1, -1):
        r0, bs, nb = R0[t], BS[t], NB[t]
        for ch in prange(nch):
            u0 = ch * uper
            if u0 < H:
                _backward_cells(dout, A, Cp, TC, dG, dsum, dcs, r0, bs, u0, min(uper, H - u0))
        dGr = dG[r0:r0 + bs]
        for ch in prange(nch):
            for cb in range(ch * cper, min((ch + 1) * cper, ncb)):
                _backward_columns(dGr, Wn[cb], S[cb], dsum, cb * cw, min(cw, H - cb * cw))
        if bs > nb:             # rows that started from the initial state at this step
            dh0[nb:bs] = dsum[nb:bs]
            dc0[nb:bs] = dcs[nb:bs]
        elif bs < nb:           # rows that ended before this step: their final state's gradient enters
            dsum[bs:nb] = dhn[bs:nb]
            dcs[bs:nb] = dcn[bs:nb]
    n = NB[0]
    dh0[:n] += dsum[:n]
    dc0[:n] += dcs[:n]


def _pack_columns(w_hh, cw):
    """``w_hh`` (4H, H) as (blocks, 4H, cw): block ``c`` holds columns ``c cw .. (c+1) cw`` (zero past H)."""
    H4, H = w_hh.shape
    ncb = -(-H // cw)
    W = np.zeros((H4, ncb * cw), dtype=w_hh.dtype)
    W[:, :H] = w_hh
    return np.ascontiguousarray(W.reshape(H4, ncb, cw).transpose(1, 0, 2))


def lstm_layer_backward(A, saved, w_hh, w_hr, steps, dout, dhn, dcn, B):
    """See ``recurrent.lstm_layer_backward_reference``."""
    H4, H = w_hh.shape
    cw = _block_width(B * H4, H) if w_hr is None and _HAVE_BLAS else 0
    if not cw:
        return lstm_layer_backward_loop(lstm_cell_backward, A, saved, w_hh, w_hr, steps, dout, dhn, dcn, B)
    _, Cp, TC, _ = saved
    dt, N = A.dtype, A.shape[0]
    given = lambda g, shape: np.ascontiguousarray(g) if g is not None else np.zeros(shape, dtype=dt)  # noqa: E731
    Wn = _pack_columns(w_hh, cw)
    R0, BS = _schedule(steps)
    NB = np.array(active_before(steps)[0], dtype=np.int64)
    dG = np.empty((N, H4), dtype=dt)
    S = np.empty((Wn.shape[0], B, cw), dtype=dt)
    dsum, dcs = np.empty((B, H), dtype=dt), np.empty((B, H), dtype=dt)
    dh0, dc0 = np.zeros((B, H), dtype=dt), np.zeros((B, H), dtype=dt)
    nch = _threads(B * H4 * H, Wn.shape[0])
    _backward(given(dout, (N, H)), given(dhn, (B, H)), given(dcn, (B, H)), A, Cp, TC, Wn, R0, BS, NB, dG, S, dsum,
              dcs, dh0, dc0, nch)
    return dG, None, dh0, dc0

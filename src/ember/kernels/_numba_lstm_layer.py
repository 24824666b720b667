"""Numba CPU implementation of ``recurrent.lstm_layer_forward`` / ``lstm_layer_backward``: every step of an LSTM
layer, its matrix product included, inside one compiled call, so no Python runs per step; a step's work can
split over threads by hidden units (forward: the units' gate columns and cells) or by the product's columns
(backward), the threads meeting at a spin barrier once a step (``_numba_sync``).

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
import time

import numpy as np
from ..ops._block_threads import block_threads, parallel_ok, run_split
from ._numba import inline, jit
from ._numba_math import ftanh
from ._numba_recurrent import _sigmoid_sum, _tanh_sum, lstm_cell_backward, lstm_cell_forward
from ._numba_sync import barrier
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


class _Split:
    """One chunk or several for a recurrence, chosen by the wall time each took lately on the same shape.

    A step's threads meet at a barrier: on idle cores two chunks ran a 2x256 layer's recurrence in 5.9 ms
    against 9.9 on one, but with the cores shared with other work each meeting waits for a descheduled thread,
    and one chunk was faster.  Each call times itself; a shape runs the faster way, trying the other every
    ``_PROBE`` calls, each way's time a moving average so a changed load shows.  A way's first call is not
    counted (it may have compiled the kernel)."""

    _PROBE = 8

    def __init__(self):
        self.stats = {}     # key -> [calls, seconds on one chunk, on several]: None untried, 0.0 tried once

    def chunks(self, key, work, blocks):
        """The chunk count for the next call on ``key``."""
        n = min(block_threads(), blocks) if work >= 2 * _PARALLEL_WORK and parallel_ok() else 1
        if n == 1:
            return 1
        st = self.stats.setdefault(key, [0, None, None])
        st[0] += 1
        for i in (1, 2):
            if not st[i]:        # each way timed first
                return 1 if i == 1 else n
        several = st[2] < st[1]
        if st[0] % self._PROBE == 0:
            several = not several
        return n if several else 1

    def timed(self, key, nch, seconds):
        st = self.stats.get(key)
        if st is not None:
            i = 1 if nch == 1 else 2
            st[i] = 0.0 if st[i] is None else seconds if st[i] == 0.0 else 0.5 * (st[i] + seconds)


_split = _Split()


# ----------------------------------------------------------------------------- forward
@inline
def _copy(a, out):
    """``out[:] = a`` (a loop: a slice assignment costs more than a row block's few elements)."""
    for j in range(a.size):
        out[j] = a[j]


@inline
def _cell_block(g, sb, c, o_h, o_next, tc, H, u0, w, uw):
    """One row of one unit block: gates ``g`` (the row of G, activated in place) plus the block's product row
    ``sb``; the cell state ``c`` (updated in place), ``tanh(c)`` into ``tc``, the new hidden state into ``o_h``
    and ``o_next``."""
    i, f, gg, o = g[u0:u0 + w], g[H + u0:H + u0 + w], g[2 * H + u0:2 * H + u0 + w], g[3 * H + u0:3 * H + u0 + w]
    _sigmoid_sum(i, sb[:w])
    _sigmoid_sum(f, sb[uw:uw + w])
    _tanh_sum(gg, sb[2 * uw:2 * uw + w])
    _sigmoid_sum(o, sb[3 * uw:3 * uw + w])
    for j in range(w):
        c[j] = f[j] * c[j] + i[j] * gg[j]
    # tanh in a loop over two arrays only: with more, LLVM's overlap checks give up and the loop stays scalar
    for j in range(w):
        tc[j] = ftanh(c[j])
    for j in range(w):
        x = o[j] * tc[j]
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
        kr = r if keep else 0   # without keep, TC (scratch), Hp and Cp are one-row placeholders
        c = cs[b, u0:u0 + w]
        if keep:
            _copy(h[b, u0:u0 + w], Hp[r, u0:u0 + w])
            _copy(c, Cp[r, u0:u0 + w])
        _cell_block(G[r], s[b], c, out[r, u0:u0 + w], h_next[b, u0:u0 + w], TC[kr, u0:u0 + w], H, u0, w, uw)


@jit
def _forward_chunk(ch, nch, G, Wp, h0, c0, R0, BS, out, TC, Hp, Cp, hs, cs, S, hn, cn, keep, sync):
    """Chunk ``ch``'s share of every step: its unit blocks' products and cells, and the packed layout's row
    moves for its units, then the step's barrier."""
    H = cs.shape[1]
    nub, uw = Wp.shape[0], Wp.shape[2] // 4
    per = (nub + nch - 1) // nch
    b0, b1 = ch * per, min((ch + 1) * per, nub)
    lo, hi = min(b0 * uw, H), min(b1 * uw, H)          # this chunk's hidden units
    T = R0.size
    n, cur = BS[0], 0
    for t in range(T):
        r0, bs = R0[t], BS[t]
        if bs < n:              # rows whose sequences ended
            hn[bs:n, lo:hi] = hs[cur, bs:n, lo:hi]
            cn[bs:n, lo:hi] = cs[bs:n, lo:hi]
        h, h_next = hs[cur, :bs], hs[1 - cur]
        for ub in range(b0, b1):
            _forward_block(G, r0, ub * uw, min(uw, H - ub * uw), h, Wp[ub], S[ub], cs, h_next, out, TC, Hp, Cp,
                           keep)
        if t + 1 < T and BS[t + 1] > bs:    # rows whose sequences start at the next step (a reverse direction)
            h_next[bs:BS[t + 1], lo:hi] = h0[bs:BS[t + 1], lo:hi]
            cs[bs:BS[t + 1], lo:hi] = c0[bs:BS[t + 1], lo:hi]
        n, cur = bs, 1 - cur
        barrier(sync, (t + 1) * nch)
    hn[:n, lo:hi] = hs[cur, :n, lo:hi]
    cn[:n, lo:hi] = cs[:n, lo:hi]


def _run_chunks(chunk, nch, *args):
    """``chunk(ch, nch, *args)`` for every ``ch`` at once: chunk 0 on this thread, the others on the block-thread
    pool (compiled with ``nogil``, they run side by side).  Not Numba's parallel regions: in a process that also
    loaded PyTorch, Numba's OpenMP calls went to PyTorch's OpenMP runtime, whose idle threads spin after each
    region (7-10 ms of a core per layer call)."""
    run_split(chunk, [(ch, nch) + args for ch in range(nch)])


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
    n = BS[0]
    hs[0, :n], cs[:n] = h0[:n], c0[:n]
    S = np.empty((Wp.shape[0], B, 4 * uw), dtype=dt)
    hn, cn = np.empty((B, H), dtype=dt), np.empty((B, H), dtype=dt)
    key = ("forward", dt, B, K, H, len(steps))
    nch = _split.chunks(key, B * K * H4, Wp.shape[0])
    t = time.perf_counter()
    # hs (2, B, H) holds the hidden state, read from one half while a step writes the other
    _run_chunks(_forward_chunk, nch, G, Wp, np.ascontiguousarray(h0), np.ascontiguousarray(c0), R0, BS, out, TC, Hp,
                Cp, hs, cs, S, hn, cn, keep, np.zeros(1, dtype=np.int64))
    _split.timed(key, nch, time.perf_counter() - t)
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


@jit
def _backward_chunk(ch, nch, dout, dhn, dcn, A, Cp, TC, Wn, R0, BS, NB, dG, S, dsum, dcs, dh0, dc0, sync):
    """Chunk ``ch``'s share of every step, last step first: the cells of its hidden units, the barrier (the
    product needs every unit's gates), then its column blocks of the product.  Its units are its columns, so
    the next step's cells read only gradients this chunk wrote."""
    H = dcs.shape[1]
    ncb, cw = Wn.shape[0], Wn.shape[2]
    per = (ncb + nch - 1) // nch
    b0, b1 = ch * per, min((ch + 1) * per, ncb)
    lo, hi = min(b0 * cw, H), min(b1 * cw, H)
    T = R0.size
    for k in range(T):
        t = T - 1 - k
        r0, bs, nb = R0[t], BS[t], NB[t]
        if lo < hi:
            _backward_cells(dout, A, Cp, TC, dG, dsum, dcs, r0, bs, lo, hi - lo)
        barrier(sync, (k + 1) * nch)
        dGr = dG[r0:r0 + bs]
        for cb in range(b0, b1):
            _backward_columns(dGr, Wn[cb], S[cb], dsum, cb * cw, min(cw, H - cb * cw))
        if bs > nb:             # rows that started from the initial state at this step
            dh0[nb:bs, lo:hi] = dsum[nb:bs, lo:hi]
            dc0[nb:bs, lo:hi] = dcs[nb:bs, lo:hi]
        elif bs < nb:           # rows that ended before this step: their final state's gradient enters
            dsum[bs:nb, lo:hi] = dhn[bs:nb, lo:hi]
            dcs[bs:nb, lo:hi] = dcn[bs:nb, lo:hi]
    n = NB[0]
    dh0[:n, lo:hi] += dsum[:n, lo:hi]
    dc0[:n, lo:hi] += dcs[:n, lo:hi]


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
    dout, dhn, dcn = given(dout, (N, H)), given(dhn, (B, H)), given(dcn, (B, H))
    dsum, dcs = np.empty((B, H), dtype=dt), np.empty((B, H), dtype=dt)
    n = BS[-1]
    dsum[:n], dcs[:n] = dhn[:n], dcn[:n]
    dh0, dc0 = np.zeros((B, H), dtype=dt), np.zeros((B, H), dtype=dt)
    key = ("backward", dt, B, H, len(steps))
    nch = _split.chunks(key, B * H4 * H, Wn.shape[0])
    t = time.perf_counter()
    _run_chunks(_backward_chunk, nch, dout, dhn, dcn, A, Cp, TC, Wn, R0, BS, NB, dG, S, dsum, dcs, dh0, dc0,
                np.zeros(1, dtype=np.int64))
    _split.timed(key, nch, time.perf_counter() - t)
    return dG, None, dh0, dc0

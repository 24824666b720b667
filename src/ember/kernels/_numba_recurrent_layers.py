"""Numba CPU implementation of ``recurrent.lstm_layer_forward`` / ``lstm_layer_backward`` (and of the GRU's, built
the same way, at the end): every step of an LSTM layer, its matrix product included, inside one compiled call,
so no Python runs per step; a step's work can split over threads by hidden units (forward: the units' gate
columns and cells) or by the product's columns (backward), the threads meeting at a spin barrier once a step
(``_numba_sync``).

The per-step product calls the BLAS NumPy itself links (``_numba_blas.gemm``: no SciPy needed) in column blocks
small enough for OpenBLAS's small-matrix kernels (``rows * K * n <= 1e6`` multiply-adds), which read their operands
in place; a whole ``(20, 256) @ (256, 1024)`` product packs the weight on every call and ran at half their rate
(float32, one thread, Zen 4: a 2x256 layer's 35 steps 190 -> 105 us each).  Forward, the blocks are runs of one
gate's columns of the transposed ``w_hh``, added into the gates ``G`` in place (BLAS's ``beta = 1``), and the cells
then run over a chunk's whole run of hidden units; backward, the weight is repacked once per call into blocks of
the output's columns.

Layers whose blocks would be too narrow (many rows or a wide input), with a projection, or where NumPy's BLAS
exports no CBLAS ``gemm`` run the step loop (``recurrent.lstm_layer_loop``) with the compiled cells instead.
"""
import time

import numpy as np

from numba import prange

from ..ops._block_threads import block_threads, parallel_ok
from ._numba import inline, jit, meeting_pjit, threads
from ._numba_blas import gemm, gemm_address
from ._numba_math import fsigmoid, ftanh
from ._numba_recurrent import _sigmoid_sum, gru_cell_backward, gru_cell_forward, gru_row_backward, \
    lstm_cell_backward, lstm_cell_forward
from ._numba_sync import barrier
from .recurrent import active_before, gru_layer_backward_loop, gru_layer_loop, lstm_layer_backward_loop, \
    lstm_layer_loop, weights_t

_SMALL_WORK = 1_000_000         # OpenBLAS's small-matrix limit, multiply-adds per product
_PARALLEL_WORK = 1 << 20        # multiply-adds per step from which a step is split over threads


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
    """``out[:] = a`` (a loop: a slice assignment costs more than a row's few elements)."""
    for j in range(a.size):
        out[j] = a[j]


@inline
def _sigmoid(a):
    for j in range(a.size):
        a[j] = fsigmoid(a[j])


@inline
def _tanh(a):
    for j in range(a.size):
        a[j] = ftanh(a[j])


@inline
def _cells(g, c, o_h, o_next, tc, H, lo, hi):
    """One row's cells for hidden units ``lo:hi``: gates ``g`` (the row of G, products added) activated in place;
    the cell state ``c`` (the units' slice, updated in place), ``tanh(c)`` into ``tc``, the new hidden state into
    ``o_h`` and ``o_next`` (slices of the units)."""
    i, f, gg, o = g[lo:hi], g[H + lo:H + hi], g[2 * H + lo:2 * H + hi], g[3 * H + lo:3 * H + hi]
    _sigmoid(i)
    _sigmoid(f)
    _tanh(gg)
    _sigmoid(o)
    for j in range(hi - lo):
        c[j] = f[j] * c[j] + i[j] * gg[j]
    # tanh in a loop over two arrays only: with more, LLVM's overlap checks give up and the loop stays scalar
    _tanh_into(c, tc)
    for j in range(hi - lo):
        x = o[j] * tc[j]
        o_h[j] = x
        o_next[j] = x


@inline
def _tanh_into(a, out):
    for j in range(a.size):
        out[j] = ftanh(a[j])


@jit
def _forward_step(address, ilp64, G, WT, cw, r0, lo, hi, h, cs, h_next, out, TC, Hp, Cp, keep):
    """Step rows ``r0:r0+len(h)``, hidden units ``lo:hi``: the units' gate columns of ``h @ WT`` added into ``G``
    in blocks of ``cw`` columns, then their cells."""
    bs, H = h.shape[0], cs.shape[1]
    Gs = G[r0:r0 + bs]
    for q in range(4):
        for u0 in range(lo, hi, cw):
            j0, j1 = q * H + u0, q * H + min(u0 + cw, hi)
            gemm(address, ilp64, h, WT[:, j0:j1], Gs[:, j0:j1], 1.0)
    for b in range(bs):
        r = r0 + b
        kr = r if keep else 0   # without keep, TC (scratch), Hp and Cp are one-row placeholders
        c = cs[b, lo:hi]
        if keep:
            _copy(h[b, lo:hi], Hp[r, lo:hi])
            _copy(c, Cp[r, lo:hi])
        _cells(G[r], c, out[r, lo:hi], h_next[b, lo:hi], TC[kr, lo:hi], H, lo, hi)


@jit
def _forward_chunk(ch, nch, address, ilp64, G, WT, cw, h0, c0, R0, BS, out, TC, Hp, Cp, hs, cs, hn, cn, keep, sync):
    """Chunk ``ch``'s share of every step: its run of unit blocks' products and cells, and the packed layout's
    row moves for its units, then the step's barrier."""
    H = cs.shape[1]
    lo, hi = _chunk_units(ch, nch, (H + cw - 1) // cw, cw, H)[2:]      # this chunk's hidden units
    cur = 0
    for t in range(R0.size):
        _final_rows(hs[cur], hn, BS, t, lo, hi)
        _final_rows(cs, cn, BS, t, lo, hi)
        h, h_next = hs[cur, :BS[t]], hs[1 - cur]
        if lo < hi:
            _forward_step(address, ilp64, G, WT, cw, R0[t], lo, hi, h, cs, h_next, out, TC, Hp, Cp, keep)
        _initial_rows(h_next, h0, BS, t, lo, hi)
        _initial_rows(cs, c0, BS, t, lo, hi)
        cur = 1 - cur
        barrier(sync, (t + 1) * nch)
    _final_rows(hs[cur], hn, BS, BS.size, lo, hi)
    _final_rows(cs, cn, BS, BS.size, lo, hi)


@inline
def _final_rows(state, final, BS, t, lo, hi):
    """Before step ``t`` of ``BS`` (``t == BS.size``: after the last), the state rows whose sequences ended (active
    before, not at ``t``) into ``final`` (units ``lo:hi``)."""
    n = BS[max(t - 1, 0)]
    bs = BS[t] if t < BS.size else 0
    if bs < n:
        final[bs:n, lo:hi] = state[bs:n, lo:hi]


@inline
def _initial_rows(state, initial, BS, t, lo, hi):
    """After step ``t`` of ``BS``, the rows whose sequences start at the next step (a reverse direction) from
    ``initial`` into ``state`` (units ``lo:hi``)."""
    if t + 1 < BS.size and BS[t + 1] > BS[t]:
        state[BS[t]:BS[t + 1], lo:hi] = initial[BS[t]:BS[t + 1], lo:hi]


@inline
def _chunk_units(ch, nch, nblocks, width, H):
    """Chunk ``ch`` of ``nch``'s run of ``nblocks`` blocks of ``width`` hidden units (or columns): its blocks
    ``b0:b1`` and units ``lo:hi`` (empty past ``H``)."""
    per = (nblocks + nch - 1) // nch
    b0, b1 = ch * per, min((ch + 1) * per, nblocks)
    return b0, b1, min(b0 * width, H), min(b1 * width, H)


@meeting_pjit
def _forward_chunks(address, ilp64, G, WT, cw, h0, c0, R0, BS, out, TC, Hp, Cp, hs, cs, hn, cn, keep, sync, nch):
    """``_forward_chunk`` for every chunk at once (one per thread: the chunks meet at each step's barrier)."""
    for ch in prange(nch):
        _forward_chunk(ch, nch, address, ilp64, G, WT, cw, h0, c0, R0, BS, out, TC, Hp, Cp, hs, cs, hn, cn, keep,
                       sync)


@meeting_pjit
def _backward_chunks(address, ilp64, dout, dhn, dcn, A, Cp, TC, Wn, R0, BS, NB, dG, dsum, dcs, dh0, dc0, sync, nch):
    """``_backward_chunk`` for every chunk at once."""
    for ch in prange(nch):
        _backward_chunk(ch, nch, address, ilp64, dout, dhn, dcn, A, Cp, TC, Wn, R0, BS, NB, dG, dsum, dcs, dh0, dc0,
                        sync)


@meeting_pjit
def _gru_forward_chunks(address, ilp64, G, WT, bh, cw, h0, R0, BS, out, HN, Hp, hs, hn, keep, sync, nch):
    """``_gru_forward_chunk`` for every chunk at once."""
    for ch in prange(nch):
        _gru_forward_chunk(ch, nch, address, ilp64, G, WT, bh, cw, h0, R0, BS, out, HN, Hp, hs, hn, keep, sync)


@meeting_pjit
def _gru_backward_chunks(address, ilp64, dout, dhn, A, HN, Hp, Wn, R0, BS, NB, dGh, DN, dsum, dh0, sync, nch):
    """``_gru_backward_chunk`` for every chunk at once."""
    for ch in prange(nch):
        _gru_backward_chunk(ch, nch, address, ilp64, dout, dhn, A, HN, Hp, Wn, R0, BS, NB, dGh, DN, dsum, dh0, sync)


def _run_chunks(drive, nch, *args):
    """``drive(*args, nch)``: the chunk count at most Numba's thread count, so each chunk has a thread."""
    drive(*args, min(nch, threads()))


def _blas_for(G):
    """``gemm_address`` of ``G``'s dtype, or None when the layer has an empty dimension or ``G``'s rows are not
    contiguous (the step loop runs it)."""
    return gemm_address(G.dtype) if G.size and G.flags.c_contiguous else None


def lstm_layer_forward(G, w_hh, w_hr, h0, c0, steps, keep):
    """See ``recurrent.lstm_layer_forward_reference``."""
    B = h0.shape[0]
    H4, K = w_hh.shape
    H = H4 // 4
    blas = _blas_for(G) if w_hr is None and K else None
    cw = _block_width(B * K, H) if blas else 0
    if not cw:
        return lstm_layer_loop(lstm_cell_forward, G, w_hh, w_hr, h0, c0, steps, keep)
    dt, N = G.dtype, G.shape[0]
    R0, BS = _schedule(steps)
    out = np.empty((N, H), dtype=dt)
    kept = (N, H) if keep else (1, H)
    TC, Hp, Cp = (np.empty(kept, dtype=dt) for _ in range(3))
    hs, cs = np.empty((2, B, H), dtype=dt), np.empty((B, H), dtype=dt)
    n = BS[0]
    hs[0, :n], cs[:n] = h0[:n], c0[:n]
    hn, cn = np.empty((B, H), dtype=dt), np.empty((B, H), dtype=dt)
    key = ("forward", dt, B, K, H, len(steps))
    nch = _split.chunks(key, B * K * H4, -(-H // cw))
    t = time.perf_counter()
    # hs (2, B, H) holds the hidden state, read from one half while a step writes the other
    _run_chunks(_forward_chunks, nch, *blas, G, weights_t(w_hh), cw, np.ascontiguousarray(h0),
                np.ascontiguousarray(c0), R0, BS, out, TC, Hp, Cp, hs, cs, hn, cn, keep, np.zeros(1, dtype=np.int64))
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


@inline
def _columns_product(address, ilp64, dGr, Wn, dsum, b0, b1, beta):
    """Column blocks ``b0:b1`` of ``dsum[:len(dGr)]`` = ``dGr @ w_hh``'s blocks (plus ``beta`` times themselves)."""
    H, cw, bs = dsum.shape[1], Wn.shape[2], dGr.shape[0]
    for cb in range(b0, b1):
        w = min(cw, H - cb * cw)
        gemm(address, ilp64, dGr, Wn[cb][:, :w], dsum[:bs, cb * cw:cb * cw + w], beta)


@inline
def _step_from_last(R0, BS, NB, k):
    """The ``k``-th step from the last: its first row, its rows and the rows active before it."""
    t = R0.size - 1 - k
    return R0[t], BS[t], NB[t]


@inline
def _state_rows(d, final, initial, bs, nb, lo, hi):
    """The packed layout's row moves of a state's gradient ``d`` after a step of ``bs`` rows that ``nb`` rows
    were active before: rows that started from the initial state at this step give it their gradient; rows that
    ended before it take their final state's."""
    if bs > nb:
        initial[nb:bs, lo:hi] = d[nb:bs, lo:hi]
    elif bs < nb:
        d[bs:nb, lo:hi] = final[bs:nb, lo:hi]


@jit
def _backward_chunk(ch, nch, address, ilp64, dout, dhn, dcn, A, Cp, TC, Wn, R0, BS, NB, dG, dsum, dcs, dh0, dc0,
                    sync):
    """Chunk ``ch``'s share of every step, last step first: the cells of its hidden units, the barrier (the
    product needs every unit's gates), then its column blocks of the product.  Its units are its columns, so
    the next step's cells read only gradients this chunk wrote."""
    H = dcs.shape[1]
    b0, b1, lo, hi = _chunk_units(ch, nch, Wn.shape[0], Wn.shape[2], H)
    for k in range(R0.size):
        r0, bs, nb = _step_from_last(R0, BS, NB, k)
        if lo < hi:
            _backward_cells(dout, A, Cp, TC, dG, dsum, dcs, r0, bs, lo, hi - lo)
        barrier(sync, (k + 1) * nch)
        _columns_product(address, ilp64, dG[r0:r0 + bs], Wn, dsum, b0, b1, 0.0)
        _state_rows(dsum, dhn, dh0, bs, nb, lo, hi)
        _state_rows(dcs, dcn, dc0, bs, nb, lo, hi)
    n = NB[0]
    dh0[:n, lo:hi] += dsum[:n, lo:hi]
    dc0[:n, lo:hi] += dcs[:n, lo:hi]


@jit
def _pack_columns(w_hh, cw, out):
    """``w_hh`` (4H, H) into ``out`` (blocks, 4H, cw): block ``c`` holds columns ``c cw .. (c+1) cw`` (the last
    block's columns past H left unset: the products read only its first ones).  One pass: NumPy's pad, transpose
    and copy took 0.69 ms for a (1024, 256) float32 weight, this 0.14."""
    H4, H = w_hh.shape
    for cb in range(out.shape[0]):
        c0 = cb * cw
        for r in range(H4):
            for j in range(min(cw, H - c0)):
                out[cb, r, j] = w_hh[r, c0 + j]


def lstm_layer_backward(A, saved, w_hh, w_hr, steps, dout, dhn, dcn, B):
    """See ``recurrent.lstm_layer_backward_reference``."""
    H4, H = w_hh.shape
    blas = _blas_for(A) if w_hr is None else None
    cw = _block_width(B * H4, H) if blas else 0
    if not cw:
        return lstm_layer_backward_loop(lstm_cell_backward, A, saved, w_hh, w_hr, steps, dout, dhn, dcn, B)
    _, Cp, TC, _ = saved
    dt, N = A.dtype, A.shape[0]
    given = lambda g, shape: np.ascontiguousarray(g) if g is not None else np.zeros(shape, dtype=dt)  # noqa: E731
    Wn = np.empty((-(-H // cw), H4, cw), dtype=dt)
    _pack_columns(w_hh, cw, Wn)
    R0, BS = _schedule(steps)
    NB = np.array(active_before(steps)[0], dtype=np.int64)
    dG = np.empty((N, H4), dtype=dt)
    dout, dhn, dcn = given(dout, (N, H)), given(dhn, (B, H)), given(dcn, (B, H))
    dsum, dcs = np.empty((B, H), dtype=dt), np.empty((B, H), dtype=dt)
    n = BS[-1]
    dsum[:n], dcs[:n] = dhn[:n], dcn[:n]
    dh0, dc0 = np.zeros((B, H), dtype=dt), np.zeros((B, H), dtype=dt)
    key = ("backward", dt, B, H, len(steps))
    nch = _split.chunks(key, B * H4 * H, Wn.shape[0])
    t = time.perf_counter()
    _run_chunks(_backward_chunks, nch, *blas, dout, dhn, dcn, A, Cp, TC, Wn, R0, BS, NB, dG, dsum, dcs, dh0, dc0,
                np.zeros(1, dtype=np.int64))
    _split.timed(key, nch, time.perf_counter() - t)
    return dG, None, dh0, dc0


# ----------------------------------------------------------------------------- GRU
# As the LSTM's: forward, blocks of the r and z gates' columns of the transposed w_hh are added into G and the n
# gate's go into HN (kept apart: r scales it); backward, the cells put ``dh z`` into dsum, which the product of the
# hidden side's gradients then adds to (``beta = 1``).
@inline
def _gru_cells(g, hn, bh, hp, o_h, o_next, H, lo, hi):
    """One row's GRU cells for hidden units ``lo:hi``: gates ``g`` (the row of G, r and z products added) become
    ``r, z, n``; ``hn`` (the units' n-block product) gets ``b_hn``; the new hidden state from ``hp`` (the previous)
    into ``o_h`` and ``o_next``."""
    r, z, n = g[lo:hi], g[H + lo:H + hi], g[2 * H + lo:2 * H + hi]
    _sigmoid_sum(r, bh[lo:hi])
    _sigmoid_sum(z, bh[H + lo:H + hi])
    bn = bh[2 * H + lo:2 * H + hi]
    for j in range(hi - lo):
        hn[j] += bn[j]
    for j in range(hi - lo):
        n[j] = ftanh(n[j] + r[j] * hn[j])
    for j in range(hi - lo):
        x = n[j] + z[j] * (hp[j] - n[j])
        o_h[j] = x
        o_next[j] = x


@jit
def _gru_forward_step(address, ilp64, G, WT, bh, cw, r0, lo, hi, h, h_next, out, HN, Hp, keep):
    """Step rows ``r0:r0+len(h)``, hidden units ``lo:hi``: the units' gate columns of ``h @ WT`` in blocks of ``cw``
    columns (r, z added into ``G``, n into ``HN``), then their cells."""
    bs, H = h.shape[0], h_next.shape[1]
    Gs, HNs = G[r0:r0 + bs], HN[r0:r0 + bs]
    for u0 in range(lo, hi, cw):
        u1 = min(u0 + cw, hi)
        for q in range(2):
            gemm(address, ilp64, h, WT[:, q * H + u0:q * H + u1], Gs[:, q * H + u0:q * H + u1], 1.0)
        gemm(address, ilp64, h, WT[:, 2 * H + u0:2 * H + u1], HNs[:, u0:u1], 0.0)
    for b in range(bs):
        r = r0 + b
        if keep:
            _copy(h[b, lo:hi], Hp[r, lo:hi])
        _gru_cells(G[r], HN[r, lo:hi], bh, h[b, lo:hi], out[r, lo:hi], h_next[b, lo:hi], H, lo, hi)


@jit
def _gru_forward_chunk(ch, nch, address, ilp64, G, WT, bh, cw, h0, R0, BS, out, HN, Hp, hs, hn, keep, sync):
    """Chunk ``ch``'s share of every step (see ``_forward_chunk``)."""
    H = hn.shape[1]
    lo, hi = _chunk_units(ch, nch, (H + cw - 1) // cw, cw, H)[2:]
    cur = 0
    for t in range(R0.size):
        _final_rows(hs[cur], hn, BS, t, lo, hi)
        if lo < hi:
            _gru_forward_step(address, ilp64, G, WT, bh, cw, R0[t], lo, hi, hs[cur, :BS[t]], hs[1 - cur], out, HN,
                              Hp, keep)
        _initial_rows(hs[1 - cur], h0, BS, t, lo, hi)
        cur = 1 - cur
        barrier(sync, (t + 1) * nch)
    _final_rows(hs[cur], hn, BS, BS.size, lo, hi)


def gru_layer_forward(G, w_hh, b_hh, h0, steps, keep):
    """See ``recurrent.gru_layer_forward_reference``."""
    B = h0.shape[0]
    H3, K = w_hh.shape
    H = H3 // 3
    blas = _blas_for(G) if K else None
    cw = _block_width(B * K, H) if blas else 0
    if not cw:
        return gru_layer_loop(gru_cell_forward, G, w_hh, b_hh, h0, steps, keep)
    dt, N = G.dtype, G.shape[0]
    R0, BS = _schedule(steps)
    out, HN = np.empty((N, H), dtype=dt), np.empty((N, H), dtype=dt)
    Hp = np.empty((N, H) if keep else (1, H), dtype=dt)
    hs = np.empty((2, B, H), dtype=dt)
    n = BS[0]
    hs[0, :n] = h0[:n]
    hn = np.empty((B, H), dtype=dt)
    bh = np.ascontiguousarray(b_hh) if b_hh is not None else np.zeros(H3, dtype=dt)
    key = ("gru forward", dt, B, K, H, len(steps))
    nch = _split.chunks(key, B * K * H3, -(-H // cw))
    t = time.perf_counter()
    _run_chunks(_gru_forward_chunks, nch, *blas, G, weights_t(w_hh), bh, cw, np.ascontiguousarray(h0), R0, BS, out,
                HN, Hp, hs, hn, keep, np.zeros(1, dtype=np.int64))
    _split.timed(key, nch, time.perf_counter() - t)
    return out, hn, ((Hp, HN) if keep else None)


@jit
def _gru_backward_cells(dout, A, HN, Hp, dGh, DN, dsum, r0, bs, lo, hi):
    """Step rows ``r0:r0+bs``, hidden units ``lo:hi``: the hidden side's gradients into ``dGh`` and ``DN`` from
    ``dsum + dout`` (the hidden state's), ``dsum`` replaced by its direct part ``dh z``."""
    H = dsum.shape[1]
    for b in range(bs):
        r = r0 + b
        a, d = A[r], dGh[r]
        dh, dhr = dsum[b, lo:hi], dout[r, lo:hi]
        for j in range(hi - lo):
            dh[j] += dhr[j]
        gru_row_backward(dh, a[lo:hi], a[H + lo:H + hi], a[2 * H + lo:2 * H + hi], HN[r, lo:hi], Hp[r, lo:hi],
                         d[lo:hi], d[H + lo:H + hi], d[2 * H + lo:2 * H + hi], DN[r, lo:hi], dh)


@jit
def _gru_backward_chunk(ch, nch, address, ilp64, dout, dhn, A, HN, Hp, Wn, R0, BS, NB, dGh, DN, dsum, dh0, sync):
    """Chunk ``ch``'s share of every step, last step first (see ``_backward_chunk``)."""
    H = dsum.shape[1]
    b0, b1, lo, hi = _chunk_units(ch, nch, Wn.shape[0], Wn.shape[2], H)
    for k in range(R0.size):
        r0, bs, nb = _step_from_last(R0, BS, NB, k)
        if lo < hi:
            _gru_backward_cells(dout, A, HN, Hp, dGh, DN, dsum, r0, bs, lo, hi)
        barrier(sync, (k + 1) * nch)
        _columns_product(address, ilp64, dGh[r0:r0 + bs], Wn, dsum, b0, b1, 1.0)
        _state_rows(dsum, dhn, dh0, bs, nb, lo, hi)
    n = NB[0]
    dh0[:n, lo:hi] += dsum[:n, lo:hi]


def gru_layer_backward(A, saved, w_hh, steps, dout, dhn, B):
    """See ``recurrent.gru_layer_backward_reference``."""
    H3, H = w_hh.shape
    blas = _blas_for(A)
    cw = _block_width(B * H3, H) if blas else 0
    if not cw:
        return gru_layer_backward_loop(gru_cell_backward, A, saved, w_hh, steps, dout, dhn, B)
    Hp, HN = saved
    dt, N = A.dtype, A.shape[0]
    Wn = np.empty((-(-H // cw), H3, cw), dtype=dt)
    _pack_columns(w_hh, cw, Wn)
    R0, BS = _schedule(steps)
    NB = np.array(active_before(steps)[0], dtype=np.int64)
    dGh, DN = np.empty((N, H3), dtype=dt), np.empty((N, H), dtype=dt)
    dout = np.ascontiguousarray(dout) if dout is not None else np.zeros((N, H), dtype=dt)
    dhn = np.ascontiguousarray(dhn) if dhn is not None else np.zeros((B, H), dtype=dt)
    dsum = np.empty((B, H), dtype=dt)
    n = BS[-1]
    dsum[:n] = dhn[:n]
    dh0 = np.zeros((B, H), dtype=dt)
    key = ("gru backward", dt, B, H, len(steps))
    nch = _split.chunks(key, B * H3 * H, Wn.shape[0])
    t = time.perf_counter()
    _run_chunks(_gru_backward_chunks, nch, *blas, dout, dhn, A, HN, Hp, Wn, R0, BS, NB, dGh, DN, dsum, dh0,
                np.zeros(1, dtype=np.int64))
    _split.timed(key, nch, time.perf_counter() - t)
    return dGh, DN, dh0

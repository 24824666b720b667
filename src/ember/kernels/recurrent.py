"""Recurrent layers on arrays: the elementwise part of one LSTM or GRU time step (a cell), forward and backward,
fused; the walk over a sequence's steps (``run_steps``, ``bptt``); and a whole LSTM or GRU layer's recurrence,
forward and backward (``lstm_layer_forward`` / ``lstm_layer_backward``, ``gru_layer_forward`` /
``gru_layer_backward``), whose compiled versions run every step, matrix products included, in one call.  The op
(``ops/rnn_ops.py``) does the whole-sequence products and the autograd.

Gate order is PyTorch's: LSTM ``i, f, g, o``; GRU ``r, z, n``.  Shapes: ``(B, 4H)`` / ``(B, 3H)`` gate blocks,
``(B, H)`` states, all of one dtype.  Cells write into the slices of the per-sequence buffers they are passed
(``*_out`` arguments), so a step allocates nothing.

Sequences are in PyTorch's packed layout: ``steps`` lists each step's rows ``(r0, r1)`` of the 2-D data in
processing order, their counts non-increasing (forward) or non-decreasing (reverse); a padded ``(T, B, *)``
input is ``T`` steps of ``B`` rows.
"""
import contextlib

from .._device import module_of_array, backend_of
from ..ops._block_threads import blas_single, block_threads, parallel_ok, timed_parallel
from ._dispatch import Kernel


def _sigmoid(xp, a):
    """The logistic sigmoid of ``a`` in place, as ``0.5 tanh(0.5 a) + 0.5`` (no overflow, one ufunc pass)."""
    a *= 0.5
    xp.tanh(a, out=a)
    a *= 0.5
    a += 0.5
    return a


def lstm_cell_forward_reference(gates, gh, c, c_out, tc_out, h_out):
    """One LSTM step: ``gates`` (input-side pre-activations) ``+= gh`` (hidden side), then activated in place
    (sigmoid for i, f, o, tanh for g); ``c_out = f c + i g``, ``tc_out = tanh(c_out)``, ``h_out = o tc_out``."""
    xp = module_of_array(gates)
    H = c.shape[1]
    with backend_of(gates).errstate(all="ignore"):
        gates += gh
        _sigmoid(xp, gates[:, :2 * H])
        xp.tanh(gates[:, 2 * H:3 * H], out=gates[:, 2 * H:3 * H])
        _sigmoid(xp, gates[:, 3 * H:])
        xp.multiply(gates[:, H:2 * H], c, out=c_out)
        c_out += gates[:, :H] * gates[:, 2 * H:3 * H]
        xp.tanh(c_out, out=tc_out)
        xp.multiply(gates[:, 3 * H:], tc_out, out=h_out)


def lstm_cell_backward_reference(dh, dc, act, c_prev, tc, dgates_out, dc_out):
    """Gradients of one LSTM step from ``dh`` (of ``h``) and ``dc`` (of ``c``, from the next step):
    ``dgates_out`` gets the pre-activation gradients (i, f, g, o), ``dc_out`` the previous cell's gradient
    (``dc_out`` may be ``dc``).  ``act``: the activated gates, ``c_prev``: the step's input cell, ``tc``: tanh(c)."""
    H = dh.shape[1]
    i, f, g, o = act[:, :H], act[:, H:2 * H], act[:, 2 * H:3 * H], act[:, 3 * H:]
    with backend_of(dh).errstate(all="ignore"):
        dct = dh * o * (1 - tc * tc) + dc
        dgates_out[:, :H] = dct * g * i * (1 - i)
        dgates_out[:, H:2 * H] = dct * c_prev * f * (1 - f)
        dgates_out[:, 2 * H:3 * H] = dct * i * (1 - g * g)
        dgates_out[:, 3 * H:] = dh * tc * o * (1 - o)
        module_of_array(dh).multiply(dct, f, out=dc_out)


def gru_cell_forward_reference(gates, gh, h, hn_out, h_out):
    """One GRU step: ``gates`` (input side, with ``b_ih``) and ``gh`` (hidden side, with ``b_hh``) give
    ``r, z = sigmoid(gates + gh)``, ``n = tanh(gates_n + r gh_n)``; ``gates`` becomes ``(r, z, n)``,
    ``hn_out = gh_n`` (kept for backward), ``h_out = n + z (h - n)``."""
    xp = module_of_array(gates)
    H = h.shape[1]
    with backend_of(gates).errstate(all="ignore"):
        rz = gates[:, :2 * H]
        rz += gh[:, :2 * H]
        _sigmoid(xp, rz)
        hn_out[...] = gh[:, 2 * H:]
        n = gates[:, 2 * H:]
        n += gates[:, :H] * hn_out
        xp.tanh(n, out=n)
        xp.subtract(h, n, out=h_out)
        h_out *= gates[:, H:2 * H]
        h_out += n


def gru_cell_backward_reference(dh, act, ghn, h_prev, dgh_out, dn_out, dh_out):
    """Gradients of one GRU step from ``dh``: ``dgh_out`` (of the hidden-side product ``(r, z, n)`` blocks),
    ``dn_out`` (of the n pre-activation, the input side's n block), ``dh_out = dh z`` (the direct part of the
    previous hidden state's gradient; the op adds ``dgh_out @ w_hh``)."""
    H = dh.shape[1]
    r, z, n = act[:, :H], act[:, H:2 * H], act[:, 2 * H:]
    xp = module_of_array(dh)
    with backend_of(dh).errstate(all="ignore"):
        dnp = dh * (1 - z) * (1 - n * n)
        dn_out[...] = dnp
        dgh_out[:, :H] = dnp * ghn * r * (1 - r)
        dgh_out[:, H:2 * H] = dh * (h_prev - n) * z * (1 - z)
        xp.multiply(dnp, r, out=dgh_out[:, 2 * H:])
        xp.multiply(dh, z, out=dh_out)


# ----------------------------------------------------------------------------- walking the steps
# Multiply-adds per step product from which BLAS's threads pay on an idle machine (2 cores, OpenBLAS, float32:
# 20x256 @ 256x1024 takes 150 us on one thread, 105 us on two; 1024x256 @ 256x20 83 us).
_STEP_THREADS = 1 << 22


def step_blas(w, rows):
    """The BLAS threading for a recurrence whose per-step products are ``(rows, K) @ w``: BLAS's own thread
    count for products big enough to pay for a second thread, timed so that a recurrence which finds the
    cores busy sends later ones to one thread (``parallel_ok``); one thread otherwise: on a busy machine
    a second BLAS thread waiting for a core made the same product take 1-10 ms."""
    if rows * w.size >= _STEP_THREADS and parallel_ok():
        nt = block_threads()
        return timed_parallel(nt) if nt > 1 else contextlib.nullcontext()
    return blas_single()


def weights_t(w):
    """``w`` ``(gates*H, K)`` transposed to ``(K, gates*H)`` and C-contiguous, the right operand of the per-step
    products (BLAS is markedly faster on small products with a row-major right operand)."""
    return module_of_array(w).ascontiguousarray(w.T)


def active_before(steps):
    """The number of state rows active before each step of ``steps`` (the previous step's, the first step's own
    for the first) and after the last."""
    sizes = [r1 - r0 for r0, r1 in steps]
    return sizes[:1] + sizes[:-1], sizes[-1]


def run_steps(steps, h0, c0, hn, cn, step_fn):
    """The forward walk: grows / shrinks the active rows as the packed layout requires, writes finished rows
    into ``hn`` / ``cn`` (``c0``, ``cn`` None without a cell state) and calls ``step_fn(r0, r1, h, c) -> (h,
    c)``, which returns the step's new states."""
    xp = module_of_array(h0)
    n0 = steps[0][1] - steps[0][0]
    h = h0[:n0]
    c = c0[:n0] if c0 is not None else None
    for r0, r1 in steps:
        bs = r1 - r0
        n = h.shape[0]
        if bs < n:
            hn[bs:n] = h[bs:]
            h = h[:bs]
            if c is not None:
                cn[bs:n] = c[bs:]
                c = c[:bs]
        elif bs > n:
            h = xp.concatenate((h, h0[n:bs]))
            if c is not None:
                c = xp.concatenate((c, c0[n:bs]))
        h, c = step_fn(r0, r1, h, c)
    n = h.shape[0]
    hn[:n] = h
    if c is not None:
        cn[:n] = c


def bptt(steps, dout, dhn, dcn, dh0, dc0, step_bwd):
    """The backward walk over ``steps`` (their forward order), last step first: ``step_bwd(r0, r1, dh, dc) ->
    (dh_prev, dc_prev)`` from the step's state gradients.  ``dout`` ``(N, Hout)``, ``dhn``, ``dcn`` may be None
    (zero).  The initial states' gradients are added into ``dh0`` / ``dc0`` (zeros; ``dc0`` None without a cell
    state)."""
    xp, dt = module_of_array(dh0), dh0.dtype
    Hout, has_c = dh0.shape[1], dc0 is not None
    H = dc0.shape[1] if has_c else 0
    n_before, n = active_before(steps)
    dh = dhn[:n].copy() if dhn is not None else xp.zeros((n, Hout), dtype=dt)
    dc = None
    if has_c:
        dc = dcn[:n].copy() if dcn is not None else xp.zeros((n, H), dtype=dt)
    for (r0, r1), nb in zip(reversed(steps), reversed(n_before)):
        if dout is not None:
            dh = dh + dout[r0:r1]
        dh, dc = step_bwd(r0, r1, dh, dc)
        bs = r1 - r0
        if bs > nb:          # these rows started from h0 at this step
            dh0[nb:bs] = dh[nb:]
            dh = dh[:nb]
            if has_c:
                dc0[nb:bs] = dc[nb:]
                dc = dc[:nb]
        elif bs < nb:        # these rows ended before this step: their h_n gradient enters here
            dh = xp.concatenate((dh, dhn[bs:nb] if dhn is not None else xp.zeros((nb - bs, Hout), dtype=dt)))
            if has_c:
                dc = xp.concatenate((dc, dcn[bs:nb] if dcn is not None else xp.zeros((nb - bs, H), dtype=dt)))
    n = dh.shape[0]
    dh0[:n] += dh
    if has_c:
        dc0[:n] += dc


# ----------------------------------------------------------------------------- a whole LSTM layer
def lstm_layer_loop(cell, G, w_hh, w_hr, h0, c0, steps, keep):
    """The LSTM layer's recurrence step by step: one BLAS product and one ``cell`` call (``lstm_cell_forward``
    or its reference) per step.  See ``lstm_layer_forward_reference``."""
    xp = module_of_array(G)
    N, dt = G.shape[0], G.dtype
    H, Hout = w_hh.shape[0] // 4, w_hh.shape[1]
    whhT = weights_t(w_hh)
    whrT = w_hr.T if w_hr is not None else None
    out = xp.empty((N, Hout), dtype=dt)
    C = xp.empty((N, H), dtype=dt)
    TC = xp.empty((N, H), dtype=dt)          # tanh(c): kept for backward, scratch otherwise
    Hp = xp.empty((N, Hout), dtype=dt) if keep else None
    Cp = xp.empty((N, H), dtype=dt) if keep else None
    Hpre = xp.empty((N, H), dtype=dt) if w_hr is not None else None
    hn = xp.empty((h0.shape[0], Hout), dtype=dt)
    cn = xp.empty((h0.shape[0], H), dtype=dt)
    matmul = xp.matmul

    def step(r0, r1, h, c):
        if keep:
            Hp[r0:r1] = h
            Cp[r0:r1] = c
        cell(G[r0:r1], matmul(h, whhT), c, C[r0:r1], TC[r0:r1], out[r0:r1] if whrT is None else Hpre[r0:r1])
        if whrT is not None:
            matmul(Hpre[r0:r1], whrT, out=out[r0:r1])
        return out[r0:r1], C[r0:r1]

    with step_blas(whhT, h0.shape[0]):
        run_steps(steps, h0, c0, hn, cn, step)
    return out, hn, cn, ((Hp, Cp, TC, Hpre) if keep else None)


def lstm_layer_forward_reference(G, w_hh, w_hr, h0, c0, steps, keep):
    """One direction of one LSTM layer over a sequence from its input-side pre-activations ``G`` ``(N, 4H)``
    (``x @ w_ih.T`` plus both biases), which become the activated gates (sigmoid i, f, o; tanh g) in place.

    ``w_hh`` ``(4H, H_out)``, ``w_hr`` ``(H_out, H)`` or None (no projection), ``h0`` ``(B, H_out)``, ``c0``
    ``(B, H)``.  Returns ``(out (N, H_out), h_n, c_n, saved)``; ``saved``, only with ``keep`` (else None), is
    what backward needs besides the gates: ``(Hp, Cp, TC, Hpre)``, each step's input hidden and cell states,
    ``tanh(c)`` and (with a projection, else None) the unprojected hidden state."""
    return lstm_layer_loop(lstm_cell_forward_reference, G, w_hh, w_hr, h0, c0, steps, keep)


def lstm_layer_backward_loop(cell, A, saved, w_hh, w_hr, steps, dout, dhn, dcn, B):
    """Backward through the LSTM layer step by step: one ``cell`` call (``lstm_cell_backward`` or its reference)
    and one or two BLAS products per step.  See ``lstm_layer_backward_reference``."""
    xp = module_of_array(A)
    Hp, Cp, TC, Hpre = saved
    N, H4 = A.shape
    Hout = w_hh.shape[1]
    dG = xp.empty((N, H4), dtype=A.dtype)
    Dh = xp.empty((N, Hout), dtype=A.dtype) if w_hr is not None else None
    matmul = xp.matmul

    def step_bwd(r0, r1, dh, dc):
        if w_hr is not None:
            Dh[r0:r1] = dh
            dh = matmul(dh, w_hr)
        cell(dh, dc, A[r0:r1], Cp[r0:r1], TC[r0:r1], dG[r0:r1], dc)
        return matmul(dG[r0:r1], w_hh), dc

    dh0 = xp.zeros((B, Hout), dtype=A.dtype)
    dc0 = xp.zeros((B, H4 // 4), dtype=A.dtype)
    with step_blas(w_hh, B):
        bptt(steps, dout, dhn, dcn, dh0, dc0, step_bwd)
    return dG, Dh, dh0, dc0


def lstm_layer_backward_reference(A, saved, w_hh, w_hr, steps, dout, dhn, dcn, B):
    """Gradients through an LSTM layer's recurrence from ``lstm_layer_forward``'s activated gates ``A`` and
    ``saved``, and the gradients of its output ``dout`` ``(N, H_out)``, ``h_n`` and ``c_n`` (each may be None:
    zero); ``B`` the initial states' rows.  Returns ``(dG, Dh, dh0, dc0)``: the pre-activation gradients ``(N,
    4H)`` (the gate order's), the gradient of each step's projection output (None without one), and the initial
    states' gradients."""
    return lstm_layer_backward_loop(lstm_cell_backward_reference, A, saved, w_hh, w_hr, steps, dout, dhn, dcn, B)


# ----------------------------------------------------------------------------- a whole GRU layer
def gru_layer_loop(cell, G, w_hh, b_hh, h0, steps, keep):
    """The GRU layer's recurrence step by step: one BLAS product and one ``cell`` call (``gru_cell_forward`` or
    its reference) per step.  See ``gru_layer_forward_reference``."""
    xp = module_of_array(G)
    N, dt = G.shape[0], G.dtype
    H = w_hh.shape[1]
    whhT = weights_t(w_hh)
    out = xp.empty((N, H), dtype=dt)
    HN = xp.empty((N, H), dtype=dt)          # the hidden side's n block: kept for backward, scratch otherwise
    Hp = xp.empty((N, H), dtype=dt) if keep else None
    hn = xp.empty((h0.shape[0], H), dtype=dt)
    matmul = xp.matmul

    def step(r0, r1, h, c):
        gh = matmul(h, whhT)
        if b_hh is not None:
            gh += b_hh
        if keep:
            Hp[r0:r1] = h
        cell(G[r0:r1], gh, h, HN[r0:r1], out[r0:r1])
        return out[r0:r1], None

    with step_blas(whhT, h0.shape[0]):
        run_steps(steps, h0, None, hn, None, step)
    return out, hn, ((Hp, HN) if keep else None)


def gru_layer_forward_reference(G, w_hh, b_hh, h0, steps, keep):
    """One direction of one GRU layer over a sequence from its input-side pre-activations ``G`` ``(N, 3H)``
    (``x @ w_ih.T + b_ih``), which become the activated gates ``(r, z, n)`` in place.

    ``w_hh`` ``(3H, H)``, ``b_hh`` ``(3H,)`` or None, ``h0`` ``(B, H)``.  Returns ``(out (N, H), h_n, saved)``;
    ``saved``, only with ``keep`` (else None), is what backward needs besides the gates: ``(Hp, HN)``, each
    step's input hidden state and the hidden side's n block ``h @ w_hn.T + b_hn``."""
    return gru_layer_loop(gru_cell_forward_reference, G, w_hh, b_hh, h0, steps, keep)


def gru_layer_backward_loop(cell, A, saved, w_hh, steps, dout, dhn, B):
    """Backward through the GRU layer step by step: one ``cell`` call (``gru_cell_backward`` or its reference)
    and one BLAS product per step.  See ``gru_layer_backward_reference``."""
    xp = module_of_array(A)
    Hp, HN = saved
    N, H = HN.shape
    dGh = xp.empty((N, 3 * H), dtype=A.dtype)
    DN = xp.empty((N, H), dtype=A.dtype)
    matmul = xp.matmul

    def step_bwd(r0, r1, dh, dc):
        dprev = xp.empty_like(dh)
        cell(dh, A[r0:r1], HN[r0:r1], Hp[r0:r1], dGh[r0:r1], DN[r0:r1], dprev)
        dprev += matmul(dGh[r0:r1], w_hh)
        return dprev, None

    dh0 = xp.zeros((B, H), dtype=A.dtype)
    with step_blas(w_hh, B):
        bptt(steps, dout, dhn, None, dh0, None, step_bwd)
    return dGh, DN, dh0


def gru_layer_backward_reference(A, saved, w_hh, steps, dout, dhn, B):
    """Gradients through a GRU layer's recurrence from ``gru_layer_forward``'s activated gates ``A`` and ``saved``,
    and the gradients of its output ``dout`` ``(N, H)`` and ``h_n`` (each may be None: zero); ``B`` the initial
    state's rows.  Returns ``(dGh, DN, dh0)``: the gradients of the hidden side's products ``(N, 3H)`` (r, z and
    the n block with ``b_hn``), of the n pre-activation's input side ``(N, H)``, and of the initial state."""
    return gru_layer_backward_loop(gru_cell_backward_reference, A, saved, w_hh, steps, dout, dhn, B)


_N = "ember.kernels._numba_recurrent:"
lstm_cell_forward = Kernel("lstm_cell_forward", lstm_cell_forward_reference, numba=_N + "lstm_cell_forward")
lstm_cell_backward = Kernel("lstm_cell_backward", lstm_cell_backward_reference, numba=_N + "lstm_cell_backward")
gru_cell_forward = Kernel("gru_cell_forward", gru_cell_forward_reference, numba=_N + "gru_cell_forward")
gru_cell_backward = Kernel("gru_cell_backward", gru_cell_backward_reference, numba=_N + "gru_cell_backward")
_L = "ember.kernels._numba_recurrent_layers:"
lstm_layer_forward = Kernel("lstm_layer_forward", lstm_layer_forward_reference, numba=_L + "lstm_layer_forward")
lstm_layer_backward = Kernel("lstm_layer_backward", lstm_layer_backward_reference, numba=_L + "lstm_layer_backward")
gru_layer_forward = Kernel("gru_layer_forward", gru_layer_forward_reference, numba=_L + "gru_layer_forward")
gru_layer_backward = Kernel("gru_layer_backward", gru_layer_backward_reference, numba=_L + "gru_layer_backward")

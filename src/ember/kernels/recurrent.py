"""Recurrent cells after their matrix products: the elementwise part of one LSTM or GRU time step, forward
and backward, fused.  The op (``ops/rnn_ops.py``) does the products and walks the sequence; these kernels
write into the slices of its per-sequence buffers it passes (``*_out`` arguments), so a step allocates nothing.

Gate order is PyTorch's: LSTM ``i, f, g, o``; GRU ``r, z, n``.  Shapes: ``(B, 4H)`` / ``(B, 3H)`` gate blocks,
``(B, H)`` states, all of one dtype.
"""
from .._device import module_of_array, backend_of
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


_N = "ember.kernels._numba_recurrent:"
lstm_cell_forward = Kernel("lstm_cell_forward", lstm_cell_forward_reference, numba=_N + "lstm_cell_forward")
lstm_cell_backward = Kernel("lstm_cell_backward", lstm_cell_backward_reference, numba=_N + "lstm_cell_backward")
gru_cell_forward = Kernel("gru_cell_forward", gru_cell_forward_reference, numba=_N + "gru_cell_forward")
gru_cell_backward = Kernel("gru_cell_backward", gru_cell_backward_reference, numba=_N + "gru_cell_backward")

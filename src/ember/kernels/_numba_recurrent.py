"""Numba CPU implementations of ``kernels/recurrent.py``: per row, a few short loops over contiguous
1-D slices (each vectorises; one loop over all the gates' strided columns would not), no temporaries.
A step is small (a batch of rows times the hidden size), so these run on the calling thread."""
from ._numba import jit, inline
from ._numba_math import fsigmoid, ftanh


@inline
def _sigmoid_sum(a, b):
    """``a = sigmoid(a + b)`` (loops over ``range(size)`` of slices: a ``range(lo, hi)`` loop does not vectorise)."""
    for j in range(a.size):
        a[j] = fsigmoid(a[j] + b[j])


@inline
def _tanh_sum(a, b):
    for j in range(a.size):
        a[j] = ftanh(a[j] + b[j])


@jit
def lstm_cell_forward(gates, gh, c, c_out, tc_out, h_out):
    """See ``recurrent.lstm_cell_forward_reference``."""
    B, H = c.shape
    for b in range(B):
        a = gates[b]
        gb = gh[b]
        _sigmoid_sum(a[:2 * H], gb[:2 * H])
        _tanh_sum(a[2 * H:3 * H], gb[2 * H:3 * H])
        _sigmoid_sum(a[3 * H:], gb[3 * H:])
        i, f, g, o = a[:H], a[H:2 * H], a[2 * H:3 * H], a[3 * H:]
        cb, cn, tc, h = c[b], c_out[b], tc_out[b], h_out[b]
        for j in range(H):
            cn[j] = f[j] * cb[j] + i[j] * g[j]
        for j in range(H):
            t = ftanh(cn[j])
            tc[j] = t
            h[j] = o[j] * t


@jit
def lstm_cell_backward(dh, dc, act, c_prev, tc, dgates_out, dc_out):
    """See ``recurrent.lstm_cell_backward_reference``."""
    B, H = dh.shape
    for b in range(B):
        a, d = act[b], dgates_out[b]
        i, f, g, o = a[:H], a[H:2 * H], a[2 * H:3 * H], a[3 * H:]
        di, df, dg, do = d[:H], d[H:2 * H], d[2 * H:3 * H], d[3 * H:]
        dhb, dcb, cp, t, dco = dh[b], dc[b], c_prev[b], tc[b], dc_out[b]
        for j in range(H):
            dct = dhb[j] * o[j] * (1 - t[j] * t[j]) + dcb[j]
            di[j] = dct * g[j] * i[j] * (1 - i[j])
            df[j] = dct * cp[j] * f[j] * (1 - f[j])
            dg[j] = dct * i[j] * (1 - g[j] * g[j])
            do[j] = dhb[j] * t[j] * o[j] * (1 - o[j])
            dco[j] = dct * f[j]


@jit
def gru_cell_forward(gates, gh, h, hn_out, h_out):
    """See ``recurrent.gru_cell_forward_reference``."""
    B, H = h.shape
    for b in range(B):
        a, ghb, hb, hn, ho = gates[b], gh[b], h[b], hn_out[b], h_out[b]
        _sigmoid_sum(a[:2 * H], ghb[:2 * H])
        r, z, n = a[:H], a[H:2 * H], a[2 * H:]
        for j in range(H):
            hn[j] = ghb[2 * H + j]
        for j in range(H):
            n[j] = ftanh(n[j] + r[j] * hn[j])
        for j in range(H):
            ho[j] = n[j] + z[j] * (hb[j] - n[j])


@inline
def gru_row_backward(dh, r, z, n, gn, hp, dr, dz, dn, dnp_out, dh_out):
    """One row of ``gru_cell_backward`` from the hidden state's gradient ``dh`` and the row's activated gates ``r,
    z, n``, hidden-side n block ``gn`` and previous state ``hp``: ``dr, dz, dn`` (of the hidden side's products),
    ``dnp_out`` (of the n pre-activation) and ``dh_out = dh z`` (may be ``dh``)."""
    for j in range(dh.size):
        x = dh[j]
        dnp = x * (1 - z[j]) * (1 - n[j] * n[j])
        dnp_out[j] = dnp
        dr[j] = dnp * gn[j] * r[j] * (1 - r[j])
        dz[j] = x * (hp[j] - n[j]) * z[j] * (1 - z[j])
        dn[j] = dnp * r[j]
        dh_out[j] = x * z[j]


@jit
def gru_cell_backward(dh, act, ghn, h_prev, dgh_out, dn_out, dh_out):
    """See ``recurrent.gru_cell_backward_reference``."""
    B, H = dh.shape
    for b in range(B):
        a, d = act[b], dgh_out[b]
        gru_row_backward(dh[b], a[:H], a[H:2 * H], a[2 * H:], ghn[b], h_prev[b], d[:H], d[H:2 * H], d[2 * H:],
                         dn_out[b], dh_out[b])

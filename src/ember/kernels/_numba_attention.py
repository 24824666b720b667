"""Numba CPU implementation of ``kernels/attention.py``: each (batch, head) slice's products by the CBLAS gemm
(``_numba_blas.gemm_t``, transposes as flags) and its softmax rows by the compiled row helpers (``_numba_softmax``),
the slices split into chunks run at once on Numba's OpenMP pool (``pjit``, no GIL).

Inputs are taken as 4-D ``(B, H, L, E)`` (a 3-D ``(N, L, E)`` as ``(N, 1, L, E)``); an unneeded gradient is a
``(B, H, 0, 0)`` placeholder, on which every product and scaling does nothing.  Operands whose rows are not
contiguous (BLAS needs a unit element stride) are copied first.
"""
import numpy as np
from numba import prange

from ._numba import chunks, jit, pjit
from ._numba_blas import _stored, gemm_address, gemm_t
from ._numba_softmax import _attention_rows, _bwd_rows
from .attention import attention_backward_reference, attention_forward_reference, gradients, outputs

# multiply-adds a chunk, ~20 us of one thread's small products and softmax rows.  One chunk / two, wall min over 400
# alternations, float32 causal, load 4.7 (/tmp/split_small.py): 2 heads of 64 x 32 (262K each forward, 524K
# backward) forward 25 / 25 us, backward 47 / 37; 4 heads forward 56 / 37, backward 64 / 50; 32-long heads no gain.
_CHUNK_WORK = 1 << 19


@jit
def _scale_(x, s):
    """``x *= s`` in place, ``x`` 2-D (called on C-contiguous scratch: a strided array's loop is not vectorised)."""
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            x[i, j] *= s


@jit
def _forward_slice(address, ilp64, q, k, v, scale, causal, out, P):
    """One slice: ``P = softmax(scale (q @ k.T))`` (causal: keys ``j <= i``), ``out = P @ v``."""
    gemm_t(address, ilp64, 0, 1, q, k, P, 0.0)
    _scale_(P, scale)
    _attention_rows(P, 0, P.shape[0], causal)
    gemm_t(address, ilp64, 0, 0, P, v, out, 0.0)


@jit
def _backward_slice(address, ilp64, q, k, v, P, g, scale, dq, dk, dv, dS):
    """One slice's ``dv = P.T @ g``, ``dq = dS @ k``, ``dk = dS.T @ q`` (an empty ``dq`` / ``dk`` / ``dv`` is
    skipped), ``dS`` the scaled scores' gradient computed into the ``(L, S)`` scratch."""
    gemm_t(address, ilp64, 1, 0, P, g, dv, 0.0)
    if dq.size == 0 and dk.size == 0:
        return
    gemm_t(address, ilp64, 0, 1, g, v, dS, 0.0)     # zeros where v has no columns
    _bwd_rows(dS, P, dS, False)
    _scale_(dS, scale)
    gemm_t(address, ilp64, 0, 0, dS, k, dq, 0.0)
    gemm_t(address, ilp64, 1, 0, dS, q, dk, 0.0)


@pjit
def _forward(address, ilp64, q, k, v, scale, causal, out, P, nch):
    """``_forward_slice`` over the ``B * H`` slices in ``nch`` chunks."""
    H = q.shape[1]
    n = q.shape[0] * H
    for ch in prange(nch):
        for i in range(ch * n // nch, (ch + 1) * n // nch):
            b, h = i // H, i % H
            _forward_slice(address, ilp64, q[b, h], k[b, h], v[b, h], scale, causal, out[b, h], P[b, h])


@pjit
def _backward(address, ilp64, q, k, v, P, g, scale, dq, dk, dv, dS, nch):
    """``_backward_slice`` over the ``B * H`` slices in ``nch`` chunks, ``dS[ch]`` chunk ``ch``'s scratch."""
    H = q.shape[1]
    n = q.shape[0] * H
    for ch in prange(nch):
        for i in range(ch * n // nch, (ch + 1) * n // nch):
            b, h = i // H, i % H
            _backward_slice(address, ilp64, q[b, h], k[b, h], v[b, h], P[b, h], g[b, h], scale, dq[b, h],
                            dk[b, h], dv[b, h], dS[ch])


def _four_d(x):
    """``x`` as ``(B, H, rows, cols)`` (a view)."""
    return x[:, None] if x.ndim == 3 else x


def _operand(x):
    """An input as ``_four_d``, with contiguous rows of a stride BLAS accepts (copied where not)."""
    stored = _stored(x)
    if stored is None or stored[1]:
        x = x.copy()
    return _four_d(x)


def _chunks(q, work_per_slice):
    """Chunks for the ``B * H`` slices of ``q``, each holding about ``_CHUNK_WORK`` multiply-adds."""
    n = q.size // (q.shape[-2] * q.shape[-1])
    return chunks(n, max(1, _CHUNK_WORK // max(1, work_per_slice)))


def attention_forward(q, k, v, scale, causal):
    """See ``attention.attention_forward_reference``."""
    blas = gemm_address(q.dtype)
    if blas is None or not q.dtype == k.dtype == v.dtype:
        return attention_forward_reference(q, k, v, scale, causal)
    out, P = outputs(q, k, v)
    nch = _chunks(q, q.shape[-2] * k.shape[-2] * (q.shape[-1] + v.shape[-1]))
    _forward(*blas, _operand(q), _operand(k), _operand(v), q.dtype.type(scale), causal, _four_d(out), _four_d(P), nch)
    return out, P


def attention_backward(q, k, v, P, g, scale, need):
    """See ``attention.attention_backward_reference``."""
    blas = gemm_address(q.dtype)
    if blas is None or not q.dtype == k.dtype == v.dtype == P.dtype == g.dtype:
        return attention_backward_reference(q, k, v, P, g, scale, need)
    grads = gradients(q, k, v, need)
    L, S = P.shape[-2:]
    nch = _chunks(q, L * S * (2 * q.shape[-1] + 2 * v.shape[-1]))
    q4 = _operand(q)
    none = np.empty(q4.shape[:2] + (0, 0), q.dtype)
    dS = np.empty((nch, L, S), q.dtype)
    _backward(*blas, q4, _operand(k), _operand(v), _operand(P), _operand(g), q.dtype.type(scale),
              *(none if d is None else _four_d(d) for d in grads), dS, nch)
    return grads

"""Numba CPU implementation of ``kernels/attention.py``: the reference's products and the compiled softmax rows
(``_numba_softmax``), run in parts over the leading dim on the block threads.

NumPy runs a batched product one head after the other on one core (each ``64 x 32 x 64`` head is below BLAS's
threading size), and the compiled rows release the GIL, so parts of the batch run side by side; below
``_PARALLEL_WORK`` multiply-adds, or while the cores are found busy, one part runs on the calling thread.
"""
from ..ops._block_threads import block_threads, parallel_ok, run_split, timed_parallel
from ._numba_softmax import _attention_rows, _bwd_rows
from .attention import backward_into, forward_into, gradients, outputs

_PARALLEL_WORK = 1 << 20


def _softmax_rows(s2, L, causal):
    _attention_rows(s2, 0, L, causal)


def _softmax_rows_backward(dP2, P2):
    _bwd_rows(dP2, P2, dP2, False)


def _run(fn, arrays, work):
    """``fn(*arrays)``, or ``fn`` on slices of ``arrays`` (None stays None) along their leading dim run at once on
    the block threads; a 4-D batch of one is split over its heads."""
    if arrays[0].ndim == 4 and arrays[0].shape[0] == 1:
        arrays = [a if a is None else a[0] for a in arrays]
    n = arrays[0].shape[0]
    nt = min(block_threads(), n) if work >= _PARALLEL_WORK else 1
    if nt < 2 or not parallel_ok():
        fn(*arrays)
        return
    bounds = [n * i // nt for i in range(nt + 1)]
    parts = [tuple(a if a is None else a[lo:hi] for a in arrays) for lo, hi in zip(bounds, bounds[1:])]
    with timed_parallel(nt):
        run_split(fn, parts)


def attention_forward(q, k, v, scale, causal):
    """See ``attention.attention_forward_reference``."""
    out, P = outputs(q, k, v)
    work = P.size * (q.shape[-1] + v.shape[-1])
    _run(lambda q, k, v, out, P: forward_into(q, k, v, scale, causal, out, P, _softmax_rows), [q, k, v, out, P],
         work)
    return out, P


def attention_backward(q, k, v, P, g, scale, need):
    """See ``attention.attention_backward_reference``."""
    dq, dk, dv = gradients(q, k, v, need)
    work = P.size * (2 * q.shape[-1] + 2 * v.shape[-1])
    _run(lambda q, k, v, P, g, dq, dk, dv: backward_into(q, k, v, P, g, scale, dq, dk, dv, _softmax_rows_backward),
         [q, k, v, P, g, dq, dk, dv], work)
    return dq, dk, dv

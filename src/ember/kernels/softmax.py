"""Softmax and log-softmax along one axis, forward and backward.

Layout: ``x3`` shaped ``(A, n, B)`` with the softmax taken along axis 1 (``A`` = the dims before it,
``B`` = the dims after it, so any contiguous tensor reshapes to it without a copy).  ``log``
selects log-softmax.  Rows of -inf (or with +inf) give NaN, as in PyTorch.

``attention_softmax`` is attention's softmax over keys, in place on the ``(R, S)`` scores, optionally
causal (query ``i = r % L`` keeps keys ``j <= i``, the rest get weight 0 without being read).
"""
from .._device import module_of_array, backend_of
from ._dispatch import Kernel


def softmax_forward_reference(x3, log):
    """``exp(x - max) / sum exp(x - max)`` along axis 1 (``x - max - log sum exp(x - max)`` with ``log``)."""
    xp = module_of_array(x3)
    with backend_of(x3).errstate(all="ignore"):
        s = x3 - x3.max(axis=1, keepdims=True)
        if log:
            s -= xp.log(xp.exp(s).sum(axis=1, keepdims=True))
            return s
        e = xp.exp(s, out=s)
        e /= e.sum(axis=1, keepdims=True)
        return e


def softmax_backward_reference(g3, y3, log):
    """Gradient from the forward's output ``y3``: ``y (g - sum(g y))``, or ``g - exp(y) sum(g)`` with ``log``."""
    xp = module_of_array(y3)
    with backend_of(y3).errstate(all="ignore"):
        if log:
            return g3 - xp.exp(y3) * g3.sum(axis=1, keepdims=True)
        gy = g3 * y3
        gy -= y3 * gy.sum(axis=1, keepdims=True)
        return gy


def attention_softmax_reference(s2, L, causal):
    """Softmax of each row of the scores ``s2`` ``(R, S)``, in place (returns ``s2``); with ``causal``, row ``r``
    (query ``i = r % L``) keeps keys ``j <= i`` and the others get 0.  ``S`` must be positive."""
    xp = module_of_array(s2)
    with backend_of(s2).errstate(all="ignore"):
        if causal:
            s3 = s2.reshape(-1, L, s2.shape[1])
            s3[:, ~xp.tri(L, s2.shape[1], dtype=bool)] = -xp.inf
        s2 -= s2.max(axis=1, keepdims=True)
        xp.exp(s2, out=s2)
        s2 /= s2.sum(axis=1, keepdims=True)
    return s2


_N = "ember.kernels._numba_softmax:"
_C = "ember.kernels._cupy_softmax:"
softmax_forward = Kernel("softmax_forward", softmax_forward_reference, numba=_N + "softmax_forward",
                         cupy=_C + "softmax_forward")
softmax_backward = Kernel("softmax_backward", softmax_backward_reference, numba=_N + "softmax_backward",
                          cupy=_C + "softmax_backward",
                          accepts=lambda g3, y3, log: y3.dtype.char in "fd" and y3.size > 0)
attention_softmax = Kernel("attention_softmax", attention_softmax_reference, numba=_N + "attention_softmax")

"""Attention without a mask (or causal), forward and backward: the fused path of ``ops/attention.sdpa``.

Layout: ``q`` ``(N, L, E)`` or ``(B, H, L, E)``, ``k`` ``(..., S, E)``, ``v`` ``(..., S, Ev)`` with the same leading
dims (any strides: the heads of a packed ``(B, L, 3, H, E)`` projection are read in place), ``scale`` the
scores' factor, ``causal`` keeps keys ``j <= i``.  ``P`` ``(..., L, S)`` C-contiguous holds the softmax weights
(0 on masked keys).

``attention_forward(q, k, v, scale, causal) -> (out, P)``: ``out`` ``(..., L, Ev)``; for a 4-D ``q`` whose heads
lie closer in memory than its positions (the heads of a ``(B, L, H * E)`` projection), ``out`` is laid out as
``(B, L, H, Ev)`` too, as PyTorch's CPU kernel does: the usual ``out.transpose(1, 2).reshape(B, L, H * Ev)`` is
then a view, not a copy.
``attention_backward(q, k, v, P, g, scale, need) -> (dq, dk, dv)``: ``g`` the output's gradient (any strides),
``need`` three flags; an unneeded gradient is None; each laid out by its input's rule above.

Why a kernel: the compiled one runs each (batch, head) slice's products and softmax rows in one pass, the slices in
chunks on Numba's thread pool, where NumPy runs the batched products one head after the other on one core.
"""
from .._device import module_of_array, backend_of
from ._dispatch import Kernel
from .softmax import attention_softmax_reference, softmax_backward_reference


def accepts(q, k, v, *rest):
    """Float32/64 inputs with elements, 3-D or 4-D, the same leading dims for ``q``, ``k`` and ``v``."""
    return (q.dtype.char in "fd" and q.ndim in (3, 4) and k.ndim == q.ndim and v.ndim == q.ndim
            and q.shape[:-2] == k.shape[:-2] == v.shape[:-2] and q.size > 0 and k.shape[-2] > 0)


def empty_heads(xp, shape, like):
    """An uninitialised ``shape`` array of ``like``'s dtype; a 4-D ``(B, H, L, E)`` one is a view of ``(B, L, H, E)``
    memory where ``like``'s heads lie closer together than its positions (as PyTorch's kernel lays out its
    results), C-contiguous otherwise."""
    if len(shape) != 4 or like.strides[1] >= like.strides[2]:
        return xp.empty(shape, like.dtype)
    B, H, L, E = shape
    return xp.empty((B, L, H, E), like.dtype).transpose(0, 2, 1, 3)


def outputs(q, k, v):
    """New ``out`` and ``P`` arrays for the forward."""
    xp = module_of_array(q)
    return empty_heads(xp, q.shape[:-1] + v.shape[-1:], q), xp.empty(q.shape[:-1] + k.shape[-2:-1], q.dtype)


def gradients(q, k, v, need):
    """New ``dq``, ``dk``, ``dv`` arrays (None where not ``need``-ed) for the backward."""
    xp = module_of_array(q)
    return tuple(empty_heads(xp, t.shape, t) if n else None for t, n in zip((q, k, v), need))


def _softmax_rows_backward_reference(dP2, P2):
    """The scores' gradient from the weights' ``dP2`` ``(R, S)`` (replaced in place) and the weights ``P2``."""
    rows = dP2.shape + (1,)
    dP2[...] = softmax_backward_reference(dP2.reshape(rows), P2.reshape(rows), False).reshape(dP2.shape)


def attention_forward_reference(q, k, v, scale, causal):
    """``(out, P)`` on arrays (see the module docstring)."""
    out, P = outputs(q, k, v)
    xp = module_of_array(q)
    with backend_of(q).errstate(all="ignore"):
        xp.matmul(q * q.dtype.type(scale), xp.swapaxes(k, -1, -2), out=P)
        attention_softmax_reference(P.reshape(-1, P.shape[-1]), P.shape[-2], causal)
        xp.matmul(P, v, out=out)
    return out, P


def attention_backward_reference(q, k, v, P, g, scale, need):
    """``(dq, dk, dv)`` on arrays (see the module docstring)."""
    dq, dk, dv = gradients(q, k, v, need)
    xp = module_of_array(q)
    with backend_of(q).errstate(all="ignore"):
        if dv is not None:
            xp.matmul(xp.swapaxes(P, -1, -2), g, out=dv)
        if dq is None and dk is None:
            return dq, dk, dv
        dS = xp.matmul(g, xp.swapaxes(v, -1, -2))
        _softmax_rows_backward_reference(dS.reshape(-1, dS.shape[-1]), P.reshape(-1, P.shape[-1]))
        s = q.dtype.type(scale)
        if dq is not None:
            xp.matmul(dS, k, out=dq)
            dq *= s
        if dk is not None:
            xp.matmul(xp.swapaxes(dS, -1, -2), q, out=dk)
            dk *= s
    return dq, dk, dv


_N = "ember.kernels._numba_attention:"
attention_forward = Kernel("attention_forward", attention_forward_reference, numba=_N + "attention_forward",
                           accepts=accepts)
attention_backward = Kernel("attention_backward", attention_backward_reference, numba=_N + "attention_backward",
                            accepts=accepts)

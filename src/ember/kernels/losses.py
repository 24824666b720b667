"""Cross-entropy over class logits with class-index targets: class weights, ignore_index and label
smoothing in one pass per row, forward and backward.

Layout: ``x2`` ``(M, C)`` logits (class dim last), ``target`` ``(M,)`` int64 class indices (ignored rows
hold any valid index), and per-row / per-class factors the op computes once:

* ``pick[i] = (1 - smoothing) * weight[target[i]]`` (0 for an ignored row),
* ``spread[i] = smoothing / C`` (0 for an ignored row),
* ``cw[c]``: the class weights (ones without them); ``wsum = sum(cw)``.

Row loss: ``pick * (lse - x[t]) + spread * (wsum * lse - sum_c cw[c] x[c])`` with ``lse`` the row's
log-sum-exp.  Gradient of ``sum_i scale[i] * loss[i]``:
``scale * (softmax(x) * (pick + spread * wsum) - pick * onehot(t) - spread * cw)``.
"""
from .._device import module_of_array, backend_of
from ._dispatch import Kernel


def cross_entropy_forward_reference(x2, target, pick, spread, cw):
    """Row losses ``(M,)`` and row log-sum-exps ``(M,)`` (both in ``x2``'s dtype)."""
    xp = module_of_array(x2)
    with backend_of(x2).errstate(all="ignore"):
        m = x2.max(axis=1)
        lse = xp.log(xp.exp(x2 - m[:, None]).sum(axis=1)) + m
        loss = pick * (lse - x2[xp.arange(x2.shape[0]), target])
        if spread is not None:
            loss += spread * (cw.sum() * lse - x2 @ cw)
        loss = xp.where(pick + (0 if spread is None else spread) == 0, 0, loss)   # ignored rows: 0, not nan
    return loss.astype(x2.dtype, copy=False), lse.astype(x2.dtype, copy=False)


def cross_entropy_backward_reference(x2, lse, target, scale, pick, spread, cw):
    """Gradient ``(M, C)`` of ``sum(scale * loss)`` with respect to the logits."""
    xp = module_of_array(x2)
    with backend_of(x2).errstate(all="ignore"):
        p = xp.exp(x2 - lse[:, None])
        a = pick if spread is None else pick + spread * cw.sum()
        g = p * (scale * a)[:, None]
        g[xp.arange(x2.shape[0]), target] -= scale * pick
        if spread is not None:
            g -= (scale * spread)[:, None] * cw[None, :]
    return g.astype(x2.dtype, copy=False)


_N = "ember.kernels._numba_losses:"
_C = "ember.kernels._cupy_losses:"
cross_entropy_forward = Kernel("cross_entropy_forward", cross_entropy_forward_reference,
                               numba=_N + "cross_entropy_forward", cupy=_C + "cross_entropy_forward")
cross_entropy_backward = Kernel("cross_entropy_backward", cross_entropy_backward_reference,
                                numba=_N + "cross_entropy_backward", cupy=_C + "cross_entropy_backward")

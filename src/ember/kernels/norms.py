"""Normalisation kernels: per-row statistics (layer, group, instance and RMS norm) and per-channel
statistics (batch norm), forward and backward.

Layouts (the op reshapes to them, copying only a non-contiguous input):

* row norms take ``x3`` shaped ``(R, K, S)``: one row per normalised group (``R = N * groups``), ``K``
  channels of ``S`` elements each; the affine ``weight``/``bias`` have ``groups * K`` entries and channel
  ``k`` of row ``r`` uses entry ``(r % groups) * K + k``.  Layer norm is ``(M, n, 1)`` with one group,
  group norm ``(N * G, C / G, HW)``, instance norm ``(N * C, 1, HW)`` with ``C`` groups.
  ``center=False`` gives RMS norm (no mean subtracted; ``mean`` is returned as zeros).
* batch norm takes ``x3`` shaped ``(N, C, S)`` and normalises each channel over ``N * S`` elements.

Statistics are returned per row / per channel (``mean``, ``rstd = 1 / sqrt(var + eps)``), in float32
for half-precision inputs and the input's dtype otherwise; outputs have the input's dtype.
"""
from .._device import module_of_array, backend_of
from ._dispatch import Kernel


def _work(a):
    """``a`` in the precision statistics are computed in: float32 for half types, its own otherwise."""
    return a if a.dtype.itemsize >= 4 else a.astype(module_of_array(a).float32)


def _per_channel(v, groups, K):
    """A ``groups * K``-entry affine tensor's array broadcast against ``(R // groups, groups, K, S)``."""
    return v.reshape(1, groups, K, 1)


def row_norm_forward_reference(x3, groups, weight, bias, eps, center):
    """Normalise each row of ``x3`` ``(R, K, S)``; returns ``(y, mean, rstd)`` (``mean``, ``rstd``: ``(R,)``)."""
    xp = module_of_array(x3)
    R, K, S = x3.shape
    w = _work(x3)
    with backend_of(x3).errstate(all="ignore"):   # inf in a row gives nan statistics quietly, as in PyTorch
        mean = w.mean(axis=(1, 2)) if center else xp.zeros(R, w.dtype)
        xc = w - mean[:, None, None] if center else w.copy()
        var = (xc * xc).mean(axis=(1, 2))
        rstd = 1 / xp.sqrt(var + eps)
        xc *= rstd[:, None, None]
        y = xc.reshape(R // groups, groups, K, S)
        if weight is not None:
            y *= _per_channel(weight, groups, K)
        if bias is not None:
            y += _per_channel(bias, groups, K)
    return y.reshape(x3.shape).astype(x3.dtype, copy=False), mean, rstd


def row_norm_backward_reference(g3, x3, mean, rstd, groups, weight, center, need_affine):
    """Gradients of ``row_norm_forward``: ``(gx, gw, gb)`` (``gw``/``gb`` None unless ``need_affine``).

    ``gx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))`` over each row (no ``mean(dxhat)``
    term without ``center``), ``dxhat = g * weight``; ``gw = sum(g * xhat)``, ``gb = sum(g)`` per channel.
    """
    R, K, S = x3.shape
    g = _work(g3)
    with backend_of(x3).errstate(all="ignore"):
        xhat = (_work(x3) - mean[:, None, None]) * rstd[:, None, None]
        gw = gb = None
        if need_affine:
            gw = (g * xhat).reshape(R // groups, groups, K, S).sum(axis=(0, 3)).reshape(-1)
            gb = g.reshape(R // groups, groups, K, S).sum(axis=(0, 3)).reshape(-1)
        dxhat = g if weight is None else (g.reshape(R // groups, groups, K, S)
                                          * _per_channel(weight, groups, K)).reshape(g.shape)
        gx = dxhat - xhat * (dxhat * xhat).mean(axis=(1, 2), keepdims=True)
        if center:
            gx -= dxhat.mean(axis=(1, 2), keepdims=True)
        gx *= rstd[:, None, None]
    return gx.astype(x3.dtype, copy=False), gw, gb


def batch_norm_stats_reference(x3):
    """Per-channel mean and biased variance of ``x3`` ``(N, C, S)`` over ``N * S`` elements."""
    w = _work(x3)
    with backend_of(x3).errstate(all="ignore"):
        mean = w.mean(axis=(0, 2))
        xc = w - mean[:, None]
        return mean, (xc * xc).mean(axis=(0, 2))


def batch_norm_apply_reference(x3, mean, rstd, weight, bias):
    """``(x - mean) * rstd * weight + bias`` per channel of ``x3`` ``(N, C, S)``; ``mean``/``rstd`` ``(C,)``."""
    with backend_of(x3).errstate(all="ignore"):
        scale = rstd if weight is None else rstd * weight
        shift = -mean * scale
        if bias is not None:
            shift = shift + bias
        y = _work(x3) * scale[:, None]
        y += shift[:, None]
    return y.astype(x3.dtype, copy=False)


def batch_norm_backward_reference(g3, x3, mean, rstd, weight, use_stats, need_affine):
    """Gradients of batch norm over ``x3`` ``(N, C, S)``: ``(gx, gw, gb)``.

    ``use_stats``: the statistics were the batch's own (training), so ``gx`` has the two projection
    terms; otherwise (running statistics) ``gx = g * weight * rstd``.
    """
    g = _work(g3)
    with backend_of(x3).errstate(all="ignore"):
        xhat = (_work(x3) - mean[:, None]) * rstd[:, None]
        sg = g.sum(axis=(0, 2))
        sgx = (g * xhat).sum(axis=(0, 2))
        scale = rstd if weight is None else rstd * weight
        if use_stats:
            n = x3.shape[0] * x3.shape[2]
            gx = g - (xhat * (sgx / n)[:, None] + (sg / n)[:, None])
            gx *= scale[:, None]
        else:
            gx = g * scale[:, None]
    return gx.astype(x3.dtype, copy=False), (sgx if need_affine else None), (sg if need_affine else None)


_N = "ember.kernels._numba_norms:"
_C = "ember.kernels._cupy_norms:"
row_norm_forward = Kernel("row_norm_forward", row_norm_forward_reference, numba=_N + "row_norm_forward",
                          cupy=_C + "row_norm_forward")
row_norm_backward = Kernel("row_norm_backward", row_norm_backward_reference, numba=_N + "row_norm_backward",
                           cupy=_C + "row_norm_backward")
batch_norm_stats = Kernel("batch_norm_stats", batch_norm_stats_reference, numba=_N + "batch_norm_stats")
batch_norm_apply = Kernel("batch_norm_apply", batch_norm_apply_reference, numba=_N + "batch_norm_apply")
batch_norm_backward = Kernel("batch_norm_backward", batch_norm_backward_reference, numba=_N + "batch_norm_backward")

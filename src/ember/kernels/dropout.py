"""Dropout: the masked input and its mask in one pass.

``keep`` (bool, shaped like ``x``) says which elements survive; it comes from ember's generator (PyTorch's
draws: kept where a 53-bit uniform is below ``1 - p``), so the random stream is the same whichever
implementation runs.  Kept elements are multiplied by ``scale`` (PyTorch's ``1 / (1 - p)``, already in
``x``'s dtype), dropped ones become 0.
"""
from ._dispatch import Kernel


def dropout_forward_reference(x, keep, scale):
    """``(x * mask, mask)`` with ``mask = keep * scale`` in ``x``'s dtype."""
    mask = (keep * scale).astype(x.dtype, copy=False)
    return x * mask, mask


dropout_forward = Kernel("dropout_forward", dropout_forward_reference, numba="ember.kernels._numba_dropout:"
                         "dropout_forward", cupy="ember.kernels._cupy_dropout:dropout_forward",
                         accepts=lambda x, keep, scale: x.dtype.char in "fd" and x.size > 0)

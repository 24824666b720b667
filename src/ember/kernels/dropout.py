"""Dropout: the mask from uniform draws and the masked input in one pass.

The draws ``u`` (uniform on [0, 1), any float dtype, shaped like ``x``) come from ember's generator, so
the random stream is the same whichever implementation runs; an element is kept when ``u >= p`` and
then scaled by ``1 / (1 - p)``.
"""
from .._device import module_of_array
from ._dispatch import Kernel


def dropout_forward_reference(x, u, p):
    """``(x * mask, mask)`` with ``mask = (u >= p) / (1 - p)`` in ``x``'s dtype (all zeros for ``p >= 1``)."""
    if p >= 1:
        mask = module_of_array(x).zeros(x.shape, dtype=x.dtype)
    else:
        mask = ((u >= p) * x.dtype.type(1.0 / (1.0 - p))).astype(x.dtype, copy=False)
    return x * mask, mask


dropout_forward = Kernel("dropout_forward", dropout_forward_reference, numba="ember.kernels._numba_dropout:"
                         "dropout_forward", accepts=lambda x, u, p: x.dtype.char in "fd" and x.size > 0 and p < 1)

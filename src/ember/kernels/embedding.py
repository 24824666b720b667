"""Embedding backward: the output gradient's rows added into a zero weight gradient at their indices.

Layout: ``grad2`` ``(N, D)`` (the output gradient with the looked-up index dims flattened), ``indices``
``(N,)`` int64 rows of the weight, ``num_weights`` the weight's row count.  A row whose index is
``padding_idx`` (negative: none) adds nothing; with ``scale_grad_by_freq`` each row is first multiplied by
``1 / count`` of its index among ``indices`` (rounded to the gradient's dtype).  Rows add in their order, so
every implementation gives the same bits.
"""
from .._device import module_of_array
from ._dispatch import Kernel


def row_coefficients(indices, num_weights, dtype):
    """``1 / count`` of each row's index among ``indices``, in ``dtype`` (``scale_grad_by_freq``)."""
    xp = module_of_array(indices)
    counts = xp.bincount(indices, minlength=num_weights)[indices]
    return (1.0 / counts).astype(dtype)


def embedding_backward_reference(grad2, indices, num_weights, padding_idx, scale_grad_by_freq):
    """The weight gradient ``(num_weights, D)`` in ``grad2``'s dtype."""
    xp = module_of_array(grad2)
    if scale_grad_by_freq:
        grad2 = grad2 * row_coefficients(indices, num_weights, grad2.dtype)[:, None]
    if padding_idx >= 0:
        keep = indices != padding_idx
        grad2, indices = grad2[keep], indices[keep]
    gw = xp.zeros((num_weights, grad2.shape[1]), dtype=grad2.dtype)
    xp.add.at(gw, indices, grad2)
    return gw


embedding_backward = Kernel("embedding_backward", embedding_backward_reference,
                            numba="ember.kernels._numba_embedding:embedding_backward")

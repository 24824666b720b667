"""Numba CPU implementation of ``kernels/embedding.py``: one pass over the output gradient's rows, each
added into its weight row (a vectorised row add; ``numpy.add.at`` takes ~30 ns per element).  Exact
arithmetic (no fast-math: no FMA contraction of the frequency scaling), so the result is the reference's
bit for bit."""
import numba
import numpy as np

from .embedding import row_coefficients


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _accumulate(g, indices, padding_idx, coef, scaled, gw):
    N, D = g.shape
    for i in range(N):
        r = indices[i]
        if r == padding_idx:
            continue
        gi = g[i]
        out = gw[r]
        if scaled:
            c = coef[i]
            for d in range(D):
                out[d] += gi[d] * c
        else:
            for d in range(D):
                out[d] += gi[d]


def embedding_backward(grad2, indices, num_weights, padding_idx, scale_grad_by_freq):
    """See ``embedding.embedding_backward_reference``."""
    g = np.ascontiguousarray(grad2)
    idx = np.ascontiguousarray(indices, dtype=np.int64)
    coef = row_coefficients(idx, num_weights, g.dtype) if scale_grad_by_freq else np.empty(0, g.dtype)
    gw = np.zeros((num_weights, g.shape[1]), dtype=g.dtype)
    _accumulate(g, idx, padding_idx, coef, bool(scale_grad_by_freq), gw)
    return gw

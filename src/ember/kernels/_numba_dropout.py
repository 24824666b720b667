"""Numba CPU implementation of ``kernels/dropout.py``."""
import numpy as np
from numba import prange

from ._numba import jit, pjit, chunks


@jit
def _block(x, u, p, scale, y, mask):
    zero = scale - scale   # 0 in the mask's dtype
    for i in range(x.size):
        m = scale if u[i] >= p else zero
        mask[i] = m
        y[i] = x[i] * m


@pjit
def _run(x, u, p, scale, y, mask, nch):
    per = (x.size + nch - 1) // nch
    for ch in prange(nch):   # each chunk a call: loops inside prange itself are not vectorised
        sl = slice(ch * per, (ch + 1) * per)
        _block(x[sl], u[sl], p, scale, y[sl], mask[sl])


def dropout_forward(x, u, p):
    """See ``dropout.dropout_forward_reference``."""
    xf = np.ascontiguousarray(x).reshape(-1)
    uf = np.ascontiguousarray(u).reshape(-1)
    y = np.empty_like(xf)
    mask = np.empty_like(xf)
    _run(xf, uf, uf.dtype.type(p), xf.dtype.type(1.0 / (1.0 - p)), y, mask, chunks(xf.size, 1 << 15))
    return y.reshape(x.shape), mask.reshape(x.shape)

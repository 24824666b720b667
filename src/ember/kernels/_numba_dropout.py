"""Numba CPU implementation of ``kernels/dropout.py``."""
import numpy as np
from numba import prange

from ._numba import jit, pjit, chunks


@jit
def _block(x, keep, scale, y, mask):
    zero = scale - scale   # 0 in the mask's dtype
    for i in range(x.size):
        m = scale if keep[i] else zero
        mask[i] = m
        y[i] = x[i] * m


@pjit
def _run(x, keep, scale, y, mask, nch):
    per = (x.size + nch - 1) // nch
    for ch in prange(nch):   # each chunk a call: loops inside prange itself are not vectorised
        sl = slice(ch * per, (ch + 1) * per)
        _block(x[sl], keep[sl], scale, y[sl], mask[sl])


def dropout_forward(x, keep, scale):
    """See ``dropout.dropout_forward_reference``."""
    xf = np.ascontiguousarray(x).reshape(-1)
    kf = np.ascontiguousarray(keep).reshape(-1)
    y = np.empty_like(xf)
    mask = np.empty_like(xf)
    _run(xf, kf, xf.dtype.type(scale), y, mask, chunks(xf.size, 1 << 15))
    return y.reshape(x.shape), mask.reshape(x.shape)

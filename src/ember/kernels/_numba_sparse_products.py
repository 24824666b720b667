"""Numba CPU implementations of ``ops/sparse_products.py``'s CSR-times-dense product and sampled dense-dense product:
compiled loops over rows (or entries) in chunks run at once on Numba's OpenMP pool (``pjit``), where the references
share SciPy / NumPy calls among the Python block threads.
"""
import numpy as np
from numba import prange

from ._numba import chunks, jit, pjit

# multiply-adds a chunk, ~12-15 us of one thread's gathered rows.  One chunk / two, wall min over 400 alternations,
# 32 float32 features, load 3.4 (/tmp/sparse_small.py): CSR times dense 64K multiply-adds 15.0 / 19.6 us, 128K 25.6 /
# 22.0, 256K 45.5 / 32.9; sampled product 64K 8.1 / 9.3, 128K 16.7 / 14.0, 256K 48.2 / 33.5.
_CHUNK_WORK = 1 << 16


@jit
def _csr_rows(data, indices, indptr, x, out, lo, hi):
    """Rows ``lo .. hi`` of the CSR matrix (``data``, ``indices``, ``indptr``) times ``x`` into ``out``."""
    for r in range(lo, hi):
        o = out[r]
        o[:] = 0
        for j in range(indptr[r], indptr[r + 1]):
            d = data[j]
            xr = x[indices[j]]
            for f in range(o.shape[0]):
                o[f] += d * xr[f]


@pjit
def _csr_dense(data, indices, indptr, x, out, bounds, nch):
    """``_csr_rows`` over the row ranges ``bounds[ch] .. bounds[ch + 1]``, one a chunk."""
    for ch in prange(nch):
        _csr_rows(data, indices, indptr, x, out, bounds[ch], bounds[ch + 1])


def csr_times_dense(x, m):
    """See ``ops.sparse_products.csr_times_dense_reference`` (``m``'s dtype is ``x``'s, float32 or float64)."""
    n, nnz = m.shape[0], m.nnz
    x2 = np.ascontiguousarray(x.reshape(x.shape[0], x.shape[1] if x.ndim == 2 else 1))
    out = np.empty((n, x2.shape[1]), x.dtype)
    nch = chunks(nnz * x2.shape[1], _CHUNK_WORK)
    # row ranges holding about equal numbers of entries
    cuts = np.searchsorted(m.indptr, np.arange(1, nch) * (nnz / nch))
    bounds = np.concatenate(([0], np.minimum(cuts, n), [n])).astype(np.int64)
    _csr_dense(m.data, m.indices, m.indptr, x2, out, bounds, nch)
    return out.reshape((n,) + x.shape[1:])


@jit
def _dots(rows, cols, a, b, out, lo, hi):
    """Entries ``lo .. hi``: ``out[e] = a[rows[e]] . b[cols[e]]``, summed in the arrays' dtype."""
    zero = np.zeros(1, out.dtype)[0]
    for e in range(lo, hi):
        ar = a[rows[e]]
        br = b[cols[e]]
        s = zero
        for f in range(ar.shape[0]):
            s += ar[f] * br[f]
        out[e] = s


@pjit
def _sampled(rows, cols, a, b, out, nch):
    """``_dots`` over ``nch`` equal ranges of the entries."""
    n = out.shape[0]
    for ch in prange(nch):
        _dots(rows, cols, a, b, out, ch * n // nch, (ch + 1) * n // nch)


def sampled_product(rows, cols, a, b):
    """See ``ops.sparse_products.sampled_product_reference`` (``a`` and ``b`` of one dtype, float32 or float64)."""
    a, b = np.ascontiguousarray(a), np.ascontiguousarray(b)
    out = np.empty(rows.size, a.dtype)
    _sampled(rows, cols, a, b, out, chunks(rows.size * a.shape[1], _CHUNK_WORK))
    return out

"""Linear-layer kernels: ``linear_rows``, a linear layer on a few rows (``x @ w.T + b`` for 1 to 8 rows, where
BLAS's matrix product is slow or runs on one core), and ``column_sums``, the bias gradient of a linear layer.

Layout: ``x`` ``(m, k)`` with contiguous rows, ``w`` ``(n, k)`` C-contiguous (``nn.Linear``'s weight as stored),
``b`` ``(n,)`` contiguous or None; the result is a new ``(m, n)`` array of ``x``'s dtype.

Why a kernel: OpenBLAS's matrix product on 2 to 8 rows is slow (one thread, 4 x 784 by 512 x 784 float32:
250 us, this kernel 82 us; 2 rows 91 against 23 us).  On one row its matrix-vector path is as fast as the
kernel's one-thread pass (1 x 784 by 512 x 784: 19-21 us each), but runs on one core; the kernel splits the
weight's rows over the pool (10 us on two threads, and each core then keeps its half of the weight in its
cache between calls).  From about 16 rows BLAS's blocking wins (see ``MAX_ROWS``), so ``takes`` sends 1 to 8
rows here; ``ops/linear.py`` asks it.

``column_sums``: ``g`` ``(M, N)`` with contiguous rows -> its column sums ``(N,)`` in ``g``'s dtype, accumulated
in float64 (as ``ops.reduction.accurate_sum`` sums float32 over a leading axis; NumPy's float64-accumulating
reduction over axis 0 takes 31 us on 128 x 512 float32, one compiled pass 5 us).
"""
from .._device import module_of_array
from ._dispatch import Kernel

# The most rows the kernel takes.  OpenBLAS's matrix product reuses loaded blocks of the weight across rows, so
# it wins from about 16 rows float32 (one thread, 784 -> 512: 32 rows 466 us, kernel 490 us), 16 float64 (526
# against 495); at 8 rows the kernel is ahead (112 against 290 us float32, 299 against 387 float64).
MAX_ROWS = 8


def takes(rows):
    """Whether ``linear_rows`` is faster than BLAS for ``rows`` input rows (float32/float64)."""
    return 0 < rows <= MAX_ROWS


def linear_rows_reference(x, w, b):
    """``x @ w.T + b`` (``b`` None: no bias) as a new ``(m, n)`` array."""
    r = module_of_array(x).matmul(x, w.T)
    if b is not None:
        r += b
    return r


def _accepts(x, w, b):
    """float32/float64 operands of one dtype, in the kernel's layout, with elements."""
    s = x.itemsize
    return (x.dtype.char in "fd" and w.dtype == x.dtype and x.size > 0 and w.size > 0
            and x.shape[0] <= MAX_ROWS and x.strides[1] == s and w.flags.c_contiguous
            and (b is None or b.dtype == x.dtype and b.shape == (w.shape[0],) and b.strides[0] == s))


linear_rows = Kernel("linear_rows", linear_rows_reference, numba="ember.kernels._numba_linear:linear_rows",
                     accepts=_accepts)


def column_sums_reference(g):
    """``g.sum(0)`` accumulated in float64 (float32 input) and rounded once to ``g``'s dtype."""
    xp = module_of_array(g)
    return g.sum(axis=0, dtype=xp.float64).astype(g.dtype, copy=False)


column_sums = Kernel("column_sums", column_sums_reference, numba="ember.kernels._numba_linear:column_sums",
                     accepts=lambda g: g.dtype.char in "fd" and g.ndim == 2 and g.size > 0 and
                     g.strides[1] == g.itemsize)

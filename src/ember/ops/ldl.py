"""LDL^T factorization of symmetric / Hermitian matrices (``linalg.ldl_factor(_ex)``, ``linalg.ldl_solve``).

The factors are LAPACK's (``?sytrf`` / ``?hetrf``: Bunch-Kaufman pivoting, 1x1 and 2x2 blocks of D), in
LAPACK's compact form, as PyTorch returns them: the lower triangle of ``LD`` holds the unit-lower factor and
D's blocks, the upper triangle is zero, and ``pivots`` are LAPACK's 1-based interchanges (a negative pair
marks a 2x2 block).  The work goes through SciPy's LAPACK wrappers, imported on first use; there is no
gradient, as in PyTorch.
"""
import math

import numpy as np

from .. import return_types
from ._common import _make, backend_of, dtype_name, require_tensor, wrap_dim


def _lapack():
    """``scipy.linalg.lapack``, imported on first use (SciPy comes with the 'sparse' extra)."""
    try:
        from scipy.linalg import lapack
    except ImportError:
        raise ImportError("linalg.ldl_factor and linalg.ldl_solve need SciPy's LAPACK: "
                          "pip install 'ember[sparse]' (or scipy)") from None
    return lapack


def _routine(dtype, hermitian, step):
    """The LAPACK routine ``step`` ('trf', 'trf_lwork' or 'trs') for matrices of NumPy ``dtype``."""
    prefix = {"float32": "s", "float64": "d", "complex64": "c", "complex128": "z"}[dtype.name]
    kind = "he" if hermitian and prefix in "cz" else "sy"
    return getattr(_lapack(), f"{prefix}{kind}{step}")


def _check_square_float(A, name):
    if A.dim() < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"{name}: A must be batches of square matrices, but they are {A.shape[-2]} by "
                           f"{A.shape[-1]} matrices")
    if not (A.dtype.is_floating_point or A.dtype.is_complex):
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. Got {dtype_name(A.dtype)}")


def _factor_arrays(a, hermitian):
    """(LD, pivots int32, info int32) of the host matrices ``a`` (..., n, n), one LAPACK call each."""
    *batch, n, _ = a.shape
    mats = a.reshape((math.prod(batch), n, n))
    ld = np.zeros_like(mats)
    piv = np.zeros((mats.shape[0], n), dtype=np.int32)
    info = np.zeros(mats.shape[0], dtype=np.int32)
    if n:
        trf = _routine(a.dtype, hermitian, "trf")
        lwork = int(_routine(a.dtype, hermitian, "trf_lwork")(n, lower=1)[0].real)   # the blocked algorithm
        for i, m in enumerate(mats):
            factors, piv[i], info[i] = trf(m, lower=1, lwork=max(lwork, 1))
            ld[i] = np.tril(factors)
    return ld.reshape(a.shape), piv.reshape((*batch, n)), info.reshape(tuple(batch))


def linalg_ldl_factor_ex(A, *, hermitian=False, check_errors=False):
    """``(LD, pivots, info)``: the compact LDL^T factors of the symmetric (or, with ``hermitian``, Hermitian)
    matrices ``A`` (..., n, n), read from their lower triangles.

    Returns:
        LD (..., n, n): unit-lower L below the diagonal, D's 1x1 and 2x2 blocks on and under it, zeros above.
        pivots (..., n) int32: LAPACK's 1-based interchanges (negative pairs mark 2x2 blocks).
        info (...) int32: 0, or the 1-based index of a zero 1x1 block of D (singular A).
    """
    return _factor(A, hermitian, check_errors, "linalg_ldl_factor_ex")


def _factor(A, hermitian, check_errors, caller):
    require_tensor(A, caller, "input", 1)
    _check_square_float(A, "torch.linalg.ldl_factor_ex")
    if A.dtype.itemsize == 2:
        raise NotImplementedError(f"\"ldl_factor_kernel_cpu\" not implemented for '{dtype_name(A.dtype)}'")
    backend = backend_of(A._data)
    ld, piv, info = _factor_arrays(backend.to_host(A._data), hermitian)
    if check_errors:
        _raise_info(info, "torch.linalg.ldl_factor_ex")
    index = A.device.index
    return return_types.linalg_ldl_factor_ex(_make(backend.from_host(ld, index)), _make(backend.from_host(piv, index)),
                                             _make(backend.from_host(info, index)))


def _raise_info(info, name):
    bad = info[info != 0]
    if bad.size:   # PyTorch reports LAPACK's positive info as an unknown error code
        raise RuntimeError(f"{name}: Unknown error code: {int(bad[0])}.")


def linalg_ldl_factor(A, *, hermitian=False):
    """``(LD, pivots)`` of :func:`linalg_ldl_factor_ex`; RuntimeError where a matrix is singular."""
    LD, pivots, info = _factor(A, hermitian, False, "linalg_ldl_factor")
    _raise_info(backend_of(info._data).to_host(info._data), "torch.linalg.ldl_factor")
    return return_types.linalg_ldl_factor(LD, pivots)


def linalg_ldl_solve(LD, pivots, B, *, hermitian=False):
    """The solution X of ``A X = B`` from A's factors ``(LD, pivots)`` of :func:`linalg_ldl_factor`
    (``hermitian`` as they were computed).  LD (..., n, n), pivots (..., n), B (..., n, k); the batch dims of
    LD and B broadcast.  Returns X (..., n, k) in B's dtype."""
    for position, (arg, value) in enumerate((("LD", LD), ("pivots", pivots), ("B", B)), 1):
        require_tensor(value, "linalg_ldl_solve", arg, position)
    _check_square_float(LD, "torch.linalg.ldl_solve")
    if pivots.dtype.is_floating_point or pivots.dtype.is_complex:
        raise RuntimeError(f"torch.linalg.ldl_solve: Expected pivots to be integers. Got {dtype_name(pivots.dtype)}")
    if B.dtype is not LD.dtype:
        raise RuntimeError(f"Expected b and A to have the same dtype, but found b of type {dtype_name(B.dtype)} and "
                           f"A of type {dtype_name(LD.dtype)} instead.")
    if tuple(pivots.shape) != tuple(LD.shape[:-1]):
        raise RuntimeError("torch.linalg.ldl_solve: Expected LD.shape[:-1] and pivots.shape to be the same, but got "
                           f"pivots with shape {list(pivots.shape)} instead")
    n = LD.shape[-1]
    if B.shape[wrap_dim(-2, B.dim())] != n:
        raise RuntimeError(f"Incompatible matrix sizes for torch.linalg.ldl_solve: each A matrix is {n} by {n} but "
                           f"each b matrix is {B.shape[-2]} by {B.shape[-1]}")
    backend = backend_of(LD._data)
    ld, piv, b = (backend.to_host(t._data) for t in (LD, pivots, B))
    batch = np.broadcast_shapes(ld.shape[:-2], b.shape[:-2])
    ld = np.broadcast_to(ld, (*batch, n, n)).reshape((-1, n, n))
    piv = np.broadcast_to(piv, (*batch, n)).reshape((-1, n)).astype(np.int32)
    b = np.broadcast_to(b, (*batch, *b.shape[-2:]))
    x = np.empty(b.shape, dtype=b.dtype)
    flat = x.reshape((-1, *b.shape[-2:]))
    if flat.size:
        trs = _routine(ld.dtype, hermitian, "trs")
        for i, rhs in enumerate(b.reshape((-1, *b.shape[-2:]))):
            flat[i] = trs(ld[i], piv[i], rhs, lower=1)[0]
    return _make(backend.from_host(x, LD.device.index))

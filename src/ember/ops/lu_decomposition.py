"""LU factorization with partial pivoting and what uses it: ``linalg.lu_factor(_ex)``, ``linalg.lu``, ``lu``,
``lu_unpack``, ``lu_solve`` (torch and linalg forms).

The factorization runs on arrays (a column loop vectorized over the batch, LAPACK's pivots: 1-based, row
``j`` swapped with row ``pivots[j] - 1`` at step ``j``).  Its gradient (square matrices) is written with
ember ops; unpacking and solving are compositions of ember ops, so they are differentiable through theirs.
"""
import math
import warnings

from .. import return_types
from ._common import array_module, module_of_array, Tensor, Node, record, op, function, _make, dtype_name
from .creation import eye, zeros_like
from .joining import cat
from .linalg import linalg_solve_triangular


def _factor_arrays(a, pivot):
    """(LU, pivots int32, info int32) of ``a`` (..., m, n), computed in place on a copy."""
    xp = module_of_array(a)
    *batch, m, n = a.shape
    k = min(m, n)
    lu = a.reshape((math.prod(batch), m, n)).copy()  # not -1: m or n may be 0
    nb = lu.shape[0]
    piv = xp.tile(xp.arange(1, k + 1, dtype="int32"), (nb, 1))
    info = xp.zeros(nb, dtype="int32")
    rows = xp.arange(nb)
    for j in range(k):
        if pivot:
            p = xp.argmax(xp.abs(lu[:, j:, j]), axis=1) + j
            piv[:, j] = p + 1
            top = lu[rows, j].copy()
            lu[rows, j] = lu[rows, p]
            lu[rows, p] = top
        d = lu[:, j, j]
        zero = d == 0
        info[(info == 0) & zero] = j + 1
        safe = xp.where(zero, 1, d)
        lu[:, j + 1:, j] /= safe[:, None]
        lu[:, j + 1:, j + 1:] -= lu[:, j + 1:, j:j + 1] * lu[:, j:j + 1, j + 1:]
    return lu.reshape(a.shape), piv.reshape(tuple(batch) + (k,)), info.reshape(tuple(batch))


def permutation_from_pivots(pivots, m, like):
    """The permutation matrices P (..., m, m) with ``A = P L U`` for LAPACK ``pivots`` (..., k), in the dtype
    and device of ``like``."""
    xp = array_module(pivots)
    piv = pivots._data.reshape(math.prod(pivots.shape[:-1]), pivots.shape[-1]) - 1
    nb = piv.shape[0]
    perm = xp.tile(xp.arange(m), (nb, 1))
    rows = xp.arange(nb)
    for j in range(piv.shape[1]):
        p = piv[:, j]
        top = perm[rows, j].copy()
        perm[rows, j] = perm[rows, p]
        perm[rows, p] = top
    P = xp.zeros((nb, m, m), dtype=like._data.dtype)
    P[rows[:, None], perm, xp.arange(m)[None, :]] = 1    # column i holds e_{perm[i]}: (P^T A)[i] = A[perm[i]]
    return _make(P.reshape(tuple(pivots.shape[:-1]) + (m, m)))


def _unpack_lu(LU):
    """(L, U) of a packed LU tensor: unit lower (m, k) and upper (k, n), as ember ops."""
    m, n = LU.shape[-2], LU.shape[-1]
    k = min(m, n)
    L = LU[..., :, :k].tril(-1) + eye(m, k, dtype=LU.dtype, device=LU.device)
    U = LU[..., :k, :].triu()
    return L, U


def _square_lu_grad(L, U, gL, gU):
    """The gradient of a square ``B = L U`` from those of L and U (either may be None):
    ``L^{-H} (tril_{-1}(L^H gL) + triu(gU U^H)) U^{-H}``."""
    phi = None
    if gL is not None:
        phi = (L.mH @ gL).tril(-1)
    if gU is not None:
        t = (gU @ U.mH).triu()
        phi = t if phi is None else phi + t
    x = linalg_solve_triangular(L.mH, phi, upper=True, unitriangular=True)
    return linalg_solve_triangular(U.mH, x, upper=False, left=False)


def _lu_grad(P, L, U, gL, gU):
    """The gradient of ``A = P L U`` (m, n) from those of L (m, k) and U (k, n), k = min(m, n).

    A wide A is ``P L [U1 U2]``: U2 = L^-1 P^T A2 moves L's gradient by ``-L^{-H} gU2 U2^H`` and gives
    ``gA2 = P L^{-H} gU2``; the square block does the rest.  A tall A is ``P [L1; L2] U`` likewise, with
    ``gA2 = P gL2 U^{-H}`` and U's gradient moved by ``-L2^H gL2 U^{-H}``."""
    m, n = L.shape[-2], U.shape[-1]
    if m == n:
        return P @ _square_lu_grad(L, U, gL, gU)
    if m < n:
        U1, U2 = U[..., :, :m], U[..., :, m:]
        gU1 = None if gU is None else gU[..., :, :m]
        gA2 = None
        if gU is not None:
            gA2 = linalg_solve_triangular(L.mH, gU[..., :, m:], upper=True, unitriangular=True)
            shift = -(gA2 @ U2.mH)
            gL = shift if gL is None else gL + shift
        gA1 = _square_lu_grad(L, U1, gL, gU1)
        return P @ cat([gA1, gA2 if gA2 is not None else zeros_like(U2)], -1)
    L1, L2 = L[..., :n, :], L[..., n:, :]
    gL1 = None if gL is None else gL[..., :n, :]
    gA2 = None
    if gL is not None:
        gA2 = linalg_solve_triangular(U.mH, gL[..., n:, :], upper=False, left=False)
        shift = -(L2.mH @ gA2)
        gU = shift if gU is None else gU + shift
    gA1 = _square_lu_grad(L1, U, gL1, gU)
    return P @ cat([gA1, gA2 if gA2 is not None else zeros_like(L2)], -2)


class LinalgLuFactorExBackward0(Node):
    def backward(self, gLU, gpiv=None, ginfo=None):
        LU, = self.saved_tensors
        L, U = _unpack_lu(LU)
        k = min(LU.shape[-2], LU.shape[-1])  # LU packs L's strictly lower part (m, k) and U (k, n)
        return (_lu_grad(self.P, L, U, gLU[..., :, :k].tril(-1), gLU[..., :k, :].triu()),)


class LinalgLuBackward0(Node):
    def backward(self, gP, gL, gU):
        L, U = self.saved_tensors
        return (_lu_grad(self.P, L, U, gL, gU),)


def _factor(A, pivot, name):
    if not isinstance(A, Tensor):
        raise TypeError(f"{name}(): argument 'A' (position 1) must be Tensor, not {type(A).__name__}")
    if A.dim() < 2:
        raise RuntimeError(f"torch.lu_factor: Expected tensor with 2 or more dimensions. Got size: "
                           f"{list(A.shape)} instead")
    if not (A.dtype.is_floating_point or A.dtype.is_complex):
        raise NotImplementedError(f'"lu_cpu" not implemented for \'{dtype_name(A.dtype)}\'')
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the CPU")
    return _factor_arrays(A._data, pivot)


def linalg_lu_factor_ex(A, *, pivot=True, check_errors=False, out=None):
    """``(LU, pivots, info)``: the packed factors of ``A = P L U`` (batched, rectangular allowed), LAPACK
    pivots, and per matrix 0 or the 1-based index of the first zero on U's diagonal."""
    lu, piv, info = _factor(A, pivot, "linalg.lu_factor_ex")
    LU, pivots, infos = _make(lu), _make(piv), _make(info)
    if check_errors:
        _raise_zero_pivot(info, "torch.linalg.lu_factor_ex")
    node = record((LU, pivots, infos), LinalgLuFactorExBackward0, (A,), (LU,))
    if node is not None:
        node.P = permutation_from_pivots(pivots, A.shape[-2], A)
    return return_types.linalg_lu_factor_ex(LU, pivots, infos)


def _raise_zero_pivot(info, name):
    bad = info.reshape(-1)
    nz = bad[bad != 0]
    if nz.size:
        j = int(nz[0])
        raise RuntimeError(f"{name}: U[{j},{j}] is zero and using it on lu_solve would result in a division by "
                           f"zero. If you still want to perform the factorization, consider calling "
                           f"linalg.lu(A, pivot) or linalg.lu_factor_ex(A, pivot)")


def linalg_lu_factor(A, *, pivot=True, out=None):
    """``(LU, pivots)`` of ``A = P L U``; RuntimeError when U has a zero on its diagonal."""
    LU, pivots, info = linalg_lu_factor_ex(A, pivot=pivot)
    _raise_zero_pivot(info._data, "torch.linalg.lu_factor")
    return return_types.linalg_lu_factor(LU, pivots)


def linalg_lu(A, *, pivot=True, out=None):
    """``(P, L, U)`` with ``A = P L U``: P a permutation, L unit lower (m, k), U upper (k, n), k = min(m, n)."""
    lu, piv, _ = _factor(A, pivot, "linalg.lu")
    LU = _make(lu)
    P = permutation_from_pivots(_make(piv), A.shape[-2], A)
    L, U = _unpack_lu(LU)
    node = record((P, L, U), LinalgLuBackward0, (A,), (L, U))
    if node is not None:
        node.P = P
    return return_types.linalg_lu(P, L, U)


@op
def lu(A, pivot=True, get_infos=False, out=None):
    """The legacy ``torch.lu``: ``(LU, pivots)``, or ``(LU, pivots, infos)`` with ``get_infos`` (else a zero
    pivot raises)."""
    warnings.warn("torch.lu is deprecated in favor of torch.linalg.lu_factor / torch.linalg.lu_factor_ex and "
                  "will be removed in a future PyTorch release.", UserWarning, stacklevel=2)
    LU, pivots, info = linalg_lu_factor_ex(A, pivot=pivot)
    if get_infos:
        return LU, pivots, info
    _raise_zero_pivot(info._data, "torch.linalg.lu_factor")
    return LU, pivots


@function
def lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True, *, out=None):
    """``(P, L, U)`` from packed factors and pivots (empty tensors for the parts not asked for)."""
    empty = LU_data.new_empty(0)
    L, U = _unpack_lu(LU_data) if unpack_data else (empty, empty)
    P = permutation_from_pivots(LU_pivots, LU_data.shape[-2], LU_data) if unpack_pivots else empty
    return return_types.lu_unpack(P, L, U)


def linalg_lu_solve(LU, pivots, B, *, left=True, adjoint=False, out=None):
    """The solution X of ``A X = B`` (``X A = B`` when not ``left``; ``A^H`` when ``adjoint``) from A's
    packed LU factors."""
    n = LU.shape[-1]
    if LU.shape[-2] != n:
        raise RuntimeError(f"linalg.lu_solve: A must be batches of square matrices, but they are "
                           f"{LU.shape[-2]} by {n} matrices")
    L, U = _unpack_lu(LU)
    P = permutation_from_pivots(pivots, n, LU)
    if left and not adjoint:      # U^-1 L^-1 P^T B
        y = linalg_solve_triangular(L, P.mT @ B, upper=False, unitriangular=True)
        return linalg_solve_triangular(U, y, upper=True)
    if left:                      # P L^-H U^-H B
        y = linalg_solve_triangular(U.mH, B, upper=False)
        return P @ linalg_solve_triangular(L.mH, y, upper=True, unitriangular=True)
    if not adjoint:               # B U^-1 L^-1 P^T
        y = linalg_solve_triangular(U, B, upper=True, left=False)
        return linalg_solve_triangular(L, y, upper=False, left=False, unitriangular=True) @ P.mT
    y = B @ P                     # B P L^-H U^-H
    y = linalg_solve_triangular(L.mH, y, upper=True, left=False, unitriangular=True)
    return linalg_solve_triangular(U.mH, y, upper=False, left=False)


@op
def lu_solve(b, LU_data, LU_pivots, *, out=None):
    """The legacy ``torch.lu_solve(b, LU_data, LU_pivots)``: the solution of ``A x = b``."""
    if not isinstance(b, Tensor):
        raise TypeError(f"lu_solve(): argument 'input' (position 1) must be Tensor, not {type(b).__name__}")
    warnings.warn("torch.lu_solve is deprecated in favor of torch.linalg.lu_solve and will be removed in a future "
                  "PyTorch release.", UserWarning, stacklevel=2)
    return linalg_lu_solve(LU_data, LU_pivots, b)

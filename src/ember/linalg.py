"""``ember.linalg``: PyTorch's ``torch.linalg`` — decompositions, solvers, inverses, norms and products.

Every function is batched over leading dims and differentiable (see ``ops/linalg.py`` and
``ops/matrix_functions.py``, where the work and the gradients live; this module only names them as
``torch.linalg`` does).
"""
from .ops import linalg as _d, matrix_functions as _f, lu_decomposition as _lu, matrix_exponential as _exp, \
    eigen_general as _eig, householder as _hh, ldl as _ldl
from .ops._common import write_out
from .ops.products import matmul, linalg_cross
from .ops.norms import vector_norm, matrix_norm

__all__ = ["LinAlgError", "cholesky", "cholesky_ex", "cond", "cross", "det", "diagonal", "eigh", "eigvalsh", "inv",
           "inv_ex", "tensorinv", "tensorsolve", "vander",
           "lstsq", "matmul", "matrix_norm", "matrix_power", "matrix_rank", "multi_dot", "norm", "pinv", "qr",
           "slogdet", "solve", "solve_ex", "solve_triangular", "svd", "svdvals", "vecdot", "vector_norm",
           "lu_factor", "lu_factor_ex", "lu", "lu_solve", "matrix_exp", "eig", "eigvals", "householder_product",
           "ldl_factor", "ldl_factor_ex", "ldl_solve"]

LinAlgError = _d.LinAlgError


def inv(A, *, out=None):
    """The inverse of a square matrix (batched). Raises LinAlgError for singular input."""
    return _d.linalg_inv(A, out=out)


def inv_ex(A, *, check_errors=False, out=None):
    """``(inverse, info)``: info is 0 where the inversion succeeded, else the index of the zero pivot."""
    return _d.linalg_inv_ex(A, check_errors=check_errors)


def det(A, *, out=None):
    """The determinant (batched)."""
    return _d.det(A, out=out)


def slogdet(A, *, out=None):
    """``(sign, logabsdet)`` of the determinant (batched)."""
    return _d.linalg_slogdet(A)


def solve(A, B, *, left=True, out=None):
    """The solution X of ``A X = B`` (``X A = B`` with ``left=False``); B may be a (batch of) vector(s)."""
    return _d.linalg_solve(A, B, left=left, out=out)


def solve_ex(A, B, *, left=True, check_errors=False, out=None):
    """``(solution, info)`` of ``linalg.solve``."""
    return _d.linalg_solve_ex(A, B, left=left, check_errors=check_errors)


def solve_triangular(A, B, *, upper, left=True, unitriangular=False, out=None):
    """The solution of a triangular system (only the ``upper`` / lower triangle of A is read)."""
    return _d.linalg_solve_triangular(A, B, upper=upper, left=left, unitriangular=unitriangular, out=out)


def cholesky(A, *, upper=False, out=None):
    """The Cholesky factor L (``A = L L^H``), or U = L^H with ``upper=True``."""
    return _d.linalg_cholesky(A, upper=upper, out=out)


def cholesky_ex(A, *, upper=False, check_errors=False, out=None):
    """``(L, info)``: info is the order of the first non-positive-definite leading minor, or 0."""
    return _d.linalg_cholesky_ex(A, upper=upper, check_errors=check_errors)


def qr(A, mode="reduced", *, out=None):
    """``(Q, R)`` of the QR decomposition; mode 'reduced', 'complete' or 'r'."""
    return _d.linalg_qr(A, mode)


def svd(A, full_matrices=True, *, driver=None, out=None):
    """``(U, S, Vh)`` with ``A = U diag(S) Vh``."""
    return _d.linalg_svd(A, full_matrices)


def svdvals(A, *, driver=None, out=None):
    """The singular values, in descending order."""
    return _d.linalg_svdvals(A, out=out)


def eigh(A, UPLO="L", *, out=None):
    """``(eigenvalues, eigenvectors)`` of a Hermitian matrix (ascending eigenvalues; one triangle is read)."""
    return _d.linalg_eigh(A, UPLO)


def eigvalsh(A, UPLO="L", *, out=None):
    """The eigenvalues of a Hermitian matrix, ascending."""
    return _d.linalg_eigvalsh(A, UPLO, out=out)


def pinv(A, *, atol=None, rtol=None, hermitian=False, out=None):
    """The Moore-Penrose pseudo-inverse."""
    return _f.linalg_pinv(A, atol=atol, rtol=rtol, hermitian=hermitian, out=out)


def matrix_power(A, n, *, out=None):
    """``A`` to the integer power ``n`` (negative powers invert)."""
    return _f.matrix_power(A, n, out=out)


def matrix_rank(A, *, atol=None, rtol=None, hermitian=False, out=None):
    """The number of singular values above ``max(atol, rtol * largest)``."""
    return _f.linalg_matrix_rank(A, hermitian=hermitian, atol=atol, rtol=rtol, out=out)


def lstsq(A, B, rcond=None, *, driver=None):
    """``(solution, residuals, rank, singular_values)`` of the least-squares problem ``min ||A X - B||``."""
    return _f.linalg_lstsq(A, B, rcond, driver=driver)


def multi_dot(tensors, *, out=None):
    """The product of a chain of matrices (the first / last may be vectors)."""
    return _f.linalg_multi_dot(tensors, out=out)


def norm(A, ord=None, dim=None, keepdim=False, *, out=None, dtype=None):
    """A vector norm (1 dim) or matrix norm (2 dims), as ``torch.linalg.norm``."""
    return _f.linalg_norm(A, ord, dim, keepdim, dtype=dtype, out=out)


def cross(input, other, *, dim=-1, out=None):
    """The cross product of 3-vectors along ``dim``, with broadcasting."""
    return linalg_cross(input, other, dim=dim, out=out)


def vecdot(x, y, *, dim=-1, out=None):
    """``sum(conj(x) * y, dim)`` with broadcasting."""
    res = (x.conj() * y).sum(dim)
    return write_out(out, res) if out is not None else res


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    """The diagonals of the matrices in the last two dims (a view)."""
    return A.diagonal(offset, dim1, dim2)


def cond(A, p=None, *, out=None):
    """The condition number in the ``p`` norm (the 2-norm ratio of extreme singular values by default)."""
    return _f.linalg_cond(A, p, out=out)


def tensorinv(A, ind=2, *, out=None):
    """The inverse of ``A`` seen as a matrix from its first ``ind`` dims to the rest."""
    return _f.linalg_tensorinv(A, ind, out=out)


def tensorsolve(A, B, dims=None, *, out=None):
    """The X with ``tensordot(A, X, X.ndim) = B``."""
    return _f.linalg_tensorsolve(A, B, dims, out=out)


def vander(x, *, N=None):
    """The Vandermonde matrix: columns ``x ** 0, x ** 1, ..., x ** (N - 1)``."""
    return _f.linalg_vander(x, N)


def lu_factor(A, *, pivot=True, out=None):
    """``(LU, pivots)``: the packed LU factors of ``A = P L U`` and LAPACK's 1-based pivots."""
    return _lu.linalg_lu_factor(A, pivot=pivot)


def lu_factor_ex(A, *, pivot=True, check_errors=False, out=None):
    """``(LU, pivots, info)``: info is 0, or the 1-based index of U's first zero diagonal entry."""
    return _lu.linalg_lu_factor_ex(A, pivot=pivot, check_errors=check_errors)


def ldl_factor(A, *, hermitian=False, out=None):
    """``(LD, pivots)``: LAPACK's compact LDL^T (Bunch-Kaufman) factors of symmetric / Hermitian ``A``."""
    res = _ldl.linalg_ldl_factor(A, hermitian=hermitian)
    return res if out is None else type(res)(*map(write_out, out, res))


def ldl_factor_ex(A, *, hermitian=False, check_errors=False, out=None):
    """``(LD, pivots, info)``: info is 0, or the 1-based index of a zero block of D."""
    res = _ldl.linalg_ldl_factor_ex(A, hermitian=hermitian, check_errors=check_errors)
    return res if out is None else type(res)(*map(write_out, out, res))


def ldl_solve(LD, pivots, B, *, hermitian=False, out=None):
    """The solution of ``A X = B`` from A's ``ldl_factor``."""
    res = _ldl.linalg_ldl_solve(LD, pivots, B, hermitian=hermitian)
    return res if out is None else write_out(out, res)


def lu(A, *, pivot=True, out=None):
    """``(P, L, U)`` with ``A = P L U``."""
    return _lu.linalg_lu(A, pivot=pivot)


def lu_solve(LU, pivots, B, *, left=True, adjoint=False, out=None):
    """The solution of ``A X = B`` (``X A = B`` when not ``left``; ``A^H`` when ``adjoint``) from A's LU factors."""
    return _lu.linalg_lu_solve(LU, pivots, B, left=left, adjoint=adjoint)


def matrix_exp(A):
    """The matrix exponential of square matrices (batched)."""
    return _exp.matrix_exp(A)


def eig(A, *, out=None):
    """``(eigenvalues, eigenvectors)`` of a general square matrix, as complex tensors."""
    return _eig.linalg_eig(A)


def eigvals(A, *, out=None):
    """The complex eigenvalues of a general square matrix."""
    return _eig.linalg_eigvals(A)


def householder_product(A, tau, *, out=None):
    """The first n columns of the product of the Householder reflectors in ``A`` scaled by ``tau``."""
    return _hh.linalg_householder_product(A, tau)

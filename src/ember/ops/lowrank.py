"""Randomized low-rank factorizations (Halko, Martinsson & Tropp 2009): ``svd_lowrank`` and ``pca_lowrank``.

Both are compositions of ember ops (matmul, QR, SVD), so they are differentiable wherever those are; the
random test matrix comes from the default generator, as in PyTorch (seed it for repeatable results).
"""
from ._declare import function
from .linalg import linalg_qr, linalg_svd
from .random import randn
from .reduction import mean


def _approximate_basis(A, q, niter, M):
    """An orthonormal ``Q`` (``(*, m, q)``) whose span approximates the range of ``A - M`` (Algorithm 4.4:
    a Gaussian sketch refined by ``niter`` subspace iterations)."""
    dtype = A.dtype if A.is_floating_point() or A.is_complex() else None
    R = randn(A.shape[-1], q, dtype=dtype, device=A.device)

    def times(X, Y, Mx):
        P = X @ Y
        return P if Mx is None else P - Mx @ Y
    Q = linalg_qr(times(A, R, M)).Q
    for _ in range(niter):
        Q = linalg_qr(times(A.mH, Q, None if M is None else M.mH)).Q
        Q = linalg_qr(times(A, Q, M)).Q
    return Q


@function
def svd_lowrank(A, q=6, niter=2, M=None):
    """An approximate truncated SVD ``A - M ~= U diag(S) V^H`` of rank ``q``.

    Args:
        A: ``(*, m, n)`` tensor.
        q: the rank of the approximation (default 6).
        niter: subspace iterations (default 2; more sharpen slowly decaying spectra).
        M: optional ``(*, m, n)`` (broadcastable) tensor subtracted from ``A``.

    Returns:
        ``(U, S, V)`` with shapes ``(*, m, q)``, ``(*, q)``, ``(*, n, q)``.
    """
    q = 6 if q is None else q
    niter = 2 if niter is None else niter
    m, n = A.shape[-2:]
    if M is not None:
        M = M.broadcast_to(A.shape)
    wide = m < n
    if wide:   # sketch the smaller side
        A = A.mH
        M = None if M is None else M.mH
    Q = _approximate_basis(A, q, niter, M)
    B = Q.mH @ A
    if M is not None:
        B = B - Q.mH @ M
    U, S, Vh = linalg_svd(B, full_matrices=False)
    U, V = Q @ U, Vh.mH
    return (V, S, U) if wide else (U, S, V)


@function
def pca_lowrank(A, q=None, center=True, niter=2):
    """Principal components of the rows of ``A`` by ``svd_lowrank`` of the column-centered matrix.

    Args:
        A: ``(*, m, n)`` tensor (m samples of n features).
        q: how many components (default ``min(6, m, n)``).
        center: subtract the column means first.
        niter: subspace iterations (default 2).

    Returns:
        ``(U, S, V)``: ``V``'s columns are the principal directions, ``S**2 / (m - 1)`` their variances.
    """
    m, n = A.shape[-2:]
    if q is None:
        q = min(6, m, n)
    elif not 0 <= q <= min(m, n):
        raise ValueError(f"q(={q}) must be non-negative integer and not greater than min(m, n)={min(m, n)}")
    if not niter >= 0:
        raise ValueError(f"niter(={niter}) must be non-negative integer")
    if not center:
        return svd_lowrank(A, q, niter=niter)
    return svd_lowrank(A - mean(A, dim=(-2,), keepdim=True), q, niter=niter)

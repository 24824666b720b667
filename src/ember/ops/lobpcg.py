"""``torch.lobpcg``: a few extreme eigenpairs of a symmetric (generalized) eigenproblem ``A X = B X diag(E)``.

Knyazev's locally optimal block preconditioned conjugate gradient: each step takes the Rayleigh-Ritz pairs of
``A`` on the span of the current block ``X``, its (preconditioned) residuals ``W`` and the previous search
directions ``P``. The iteration runs on detached tensors with ember ops; the result is differentiable in ``A``
(for ``B = None``) through the eigen-decomposition's gradient, as PyTorch's ``lobpcg`` is.
"""
from .. import _dtype
from ..autograd.grad_mode import no_grad
from ._common import Node, record
from ._declare import function
from .creation import eye
from .joining import cat, stack
from .linalg import linalg_eigh, linalg_solve
from .random import randn


class _Iteration:
    """The state a ``tracker`` sees: ``A``, ``B``, ``X`` (``(m, n)``), ``E`` (``(n,)``), ``R`` (residuals),
    ``ivars`` (``istep``, ``converged_count``), ``fvars`` (``A_norm``, ``B_norm``) and ``bvars`` (set
    ``bvars["force_stop"] = True`` to stop)."""

    def __init__(self, A, B, iK, n, k, niter, tol, largest):
        self.A, self.B, self.iK = A, B, iK
        self.n, self.k, self.niter, self.tol, self.largest = n, k, niter, tol, largest
        self.ivars, self.fvars, self.bvars = {"istep": 0, "converged_count": 0}, {}, {}
        self.X = self.E = self.R = None

    def times_B(self, X):
        return X if self.B is None else self.B @ X

    def _orthonormalize(self, S, drop):
        """A ``B``-orthonormal basis of the span of ``S``'s columns (the Gram matrix's eigenbasis, SVQB);
        ``drop``: leave out the directions that are numerically dependent. Returns ``(basis, coefficients)``."""
        scale = (S * self.times_B(S)).sum(0).clamp_min(_dtype.finfo(S.dtype).tiny).rsqrt()
        S_scaled = S * scale
        g, Q = linalg_eigh(S_scaled.mT @ self.times_B(S_scaled))
        if drop:
            keep = g > g[-1] * _dtype.finfo(S.dtype).eps ** 0.5
            g, Q = g[keep], Q[:, keep]
        coefficients = scale.unsqueeze(-1) * (Q * g.clamp_min(_dtype.finfo(S.dtype).tiny).rsqrt())
        return S @ coefficients, coefficients

    def rayleigh_ritz(self, S):
        """Ritz values (largest first, of ``A`` or of ``-A`` when looking for the smallest) and their
        coefficients over the columns of ``S``."""
        V, C = self._orthonormalize(S, drop=True)
        V, C2 = self._orthonormalize(V, drop=False)    # a second pass restores orthogonality to rounding level
        C = C @ C2
        theta, Y = linalg_eigh(V.mT @ (self.A @ V))
        if self.largest:                              # eigh's order is ascending
            theta, Y = theta.flip(0), Y.flip(1)
        return theta, C @ Y

    def converged_count(self):
        """How many leading pairs meet the backward-stable criterion ``|R_i| < tol |X_i| (|A| + |E_i| |B|)``."""
        rerr = self.R.norm(dim=0) / (self.X.norm(dim=0) * (self.fvars["A_norm"] + self.E.abs() * self.fvars["B_norm"]))
        count = 0
        for ok in (rerr < self.tol).tolist():
            if not ok:
                break
            count += 1
        return count

    def run(self, X, tracker):
        x_norm = float(X.norm())
        self.fvars["A_norm"] = float((self.A @ X).norm()) / x_norm
        self.fvars["B_norm"] = float(self.times_B(X).norm()) / x_norm
        theta, Y = self.rayleigh_ritz(X)
        self.E, self.X = theta[:self.n], X @ Y[:, :self.n]
        P = None
        for _ in range(self.niter):
            self.R = self.A @ self.X - self.times_B(self.X) * self.E
            self.ivars["converged_count"] = self.converged_count()
            if tracker is not None:
                tracker(self)
            self.ivars["istep"] += 1
            if self.bvars.get("force_stop", False) or self.ivars["converged_count"] >= self.k:
                break
            W = self.R if self.iK is None else self.iK @ self.R
            S = cat([self.X, W] + ([] if P is None else [P]), 1)
            theta, Y = self.rayleigh_ritz(S)
            Y = Y[:, :self.n]
            # the new directions: the part of the new block that does not come from the old one
            P = S[:, self.n:] @ Y[self.n:]
            self.E, self.X = theta[:self.n], S @ Y
        return self.E[:self.k], self.X[:, :self.k]


class LOBPCGAutogradFunctionBackward(Node):
    def backward(self, gE, gX):
        if self.with_b:
            raise ValueError("lobpcg.backward does not support backward with B != I yet.")
        return (_partial_eigh_backward(gE, gX, self.saved_tensors[0], self.result(0), self.result(1)),)


def _partial_eigh_backward(gE, gX, A, E, X):
    """The gradient in a symmetric ``A`` of a loss of ``k`` of its eigenpairs ``(E, X)``.

    With ``U`` the other eigenvectors, ``dX_i = X (F o X^T dA X)_i + (E_i - A)^+ (I - X X^T) dA X_i`` (the
    pseudo-inverse on the complement of ``X``), so the gradient is
    ``X (diag(gE) + F o X^T gX) X^T + sum_i z_i X_i^T`` with ``z_i = (E_i - A)^+ (I - X X^T) gX_i``.
    """
    k, m = E.shape[-1], A.shape[-1]
    eye_k, eye_m = eye(k, dtype=A.dtype, device=A.device), eye(m, dtype=A.dtype, device=A.device)
    middle = A.new_zeros(E.shape + (k,)) if gE is None else gE.diag_embed()
    if gX is not None:
        gap = E.unsqueeze(-2) - E.unsqueeze(-1)          # gap[j, i] = E_i - E_j
        middle = middle + (X.mT @ gX) / (gap + eye_k) * (1 - eye_k)
    grad = X @ middle @ X.mT
    if gX is not None and k < m:
        inside = X @ X.mT
        outside = (eye_m - inside).unsqueeze(-3)
        # (E_i I - A) restricted to the complement of X, made invertible on X's span by adding X X^T
        shifted = outside @ (E[..., None, None] * eye_m - A.unsqueeze(-3)) @ outside + inside.unsqueeze(-3)
        z = linalg_solve(shifted, (outside.squeeze(-3) @ gX).mT.unsqueeze(-1)).squeeze(-1)   # (*, k, m)
        grad = grad + z.mT @ X.mT
    return grad


def _check_shapes(A, B, n):
    if A.shape[-2] != A.shape[-1]:
        raise AssertionError(f"A must be square, got shape {A.shape}")
    if B is not None and A.shape != B.shape:
        raise AssertionError(f"A and B must have same shape, got {A.shape} vs {B.shape}")
    m = A.shape[-1]
    if m < 3 * n:
        raise ValueError(f"LOBPCG algorithm is not applicable when the number of A rows (={m}) is smaller than "
                         f"3 x the number of requested eigenpairs (={n})")


@function
def lobpcg(A, k=None, B=None, X=None, n=None, iK=None, niter=None, tol=None, largest=None, method=None,
           tracker=None, ortho_iparams=None, ortho_fparams=None, ortho_bparams=None):
    """The ``k`` largest (or smallest) eigenpairs of the symmetric problem ``A X = B X diag(E)``.

    Args:
        A: ``(*, m, m)`` symmetric tensor.
        k: how many pairs to return (default: ``X``'s columns, or 1).
        B: optional ``(*, m, m)`` symmetric positive-definite tensor (identity when None).
        X: optional ``(*, m, n)`` initial block (default: Gaussian, from the default generator).
        n: the block size when ``X`` is None (default ``k``); ``m >= 3 n`` is required.
        iK: optional ``(m, m)`` preconditioner applied to the residuals.
        niter: maximum number of steps (default 1000). tol: residual tolerance (default: sqrt of the
            dtype's epsilon). largest: the largest pairs (default True) or the smallest.
        method, ortho_iparams, ortho_fparams, ortho_bparams: PyTorch's choice between its "basic" and
            "ortho" variants and their orthogonalization settings; one variant serves both here.
        tracker: called with the iteration state after each step.

    Returns:
        ``(E, X)``: ``(*, k)`` eigenvalues (largest first, or smallest first) and ``(*, m, k)`` eigenvectors.
    """
    dtype = A.dtype if A.dtype in (_dtype.float16, _dtype.float32, _dtype.float64) else _dtype.float32
    if tol is None:
        tol = {_dtype.float32: 1.2e-07, _dtype.float64: 2.23e-16}[dtype] ** 0.5
    k = (1 if X is None else X.shape[-1]) if k is None else k
    n = (k if n is None else n) if X is None else X.shape[-1]
    _check_shapes(A, B, n)
    largest = True if largest is None else largest
    niter = 1000 if niter is None else niter
    m = A.shape[-1]
    differentiable = A.requires_grad or (B is not None and B.requires_grad)
    if differentiable:                              # the gradient stays symmetric, as in PyTorch
        A = (A + A.mT) / 2
        B = None if B is None else (B + B.mT) / 2
    batch = A.shape[:-2]
    with no_grad():
        bA = A.detach().reshape((-1, m, m))
        bB = None if B is None else B.detach().reshape((-1, m, m))
        bX = None if X is None else X.reshape((-1,) + X.shape[-2:])
        E_out, X_out = [], []
        for i in range(bA.shape[0]):
            X_i = randn((m, n), dtype=dtype, device=A.device) if bX is None else bX[i]
            if not (X_i.dim() == 2 and tuple(X_i.shape) == (m, n)):
                raise AssertionError(f"X shape mismatch: got {X_i.shape}, expected {(m, n)}")
            worker = _Iteration(bA[i], None if bB is None else bB[i], iK, n, k, niter, tol, largest)
            E_i, X_i = worker.run(X_i, tracker)
            E_out.append(E_i)
            X_out.append(X_i)
        E = stack(E_out).reshape(batch + (k,))
        X = stack(X_out).reshape(batch + (m, k))
    if differentiable:
        record((E, X), LOBPCGAutogradFunctionBackward, (A,) if B is None else (A, B), (A,), output=True,
               with_b=B is not None)
    return E, X

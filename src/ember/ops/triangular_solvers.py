"""Solvers through triangular factors: ``cholesky_solve``, ``cholesky_inverse`` and the legacy
``triangular_solve``, computed with ``linalg.solve_triangular``.  The Cholesky forms have PyTorch's gradient
for the factor: the derivative through ``A = L L^H`` with every entry of the factor free (not only its
triangle); the gradients are written with ember ops, so they differentiate again."""
import warnings

from .. import return_types
from ..autograd.grad_mode import no_grad
from ._common import Tensor, Node, record, op
from .creation import eye
from .linalg import linalg_solve_triangular


def _check(name, *ts):
    for i, t in enumerate(ts):
        if not isinstance(t, Tensor):
            raise TypeError(f"{name}(): argument (position {i + 1}) must be Tensor, not {type(t).__name__}")
        if t.dim() < 2:
            raise RuntimeError(f"torch.{name}: Expected tensor with 2 or more dimensions. Got size: "
                               f"{list(t.shape)} instead")


def _solve_with_factor(B, F, upper):
    """``(F F^H)^{-1} B`` (``(F^H F)^{-1} B`` when ``upper``), reading only F's triangle."""
    if upper:
        return linalg_solve_triangular(F, linalg_solve_triangular(F.mH, B, upper=False), upper=True)
    return linalg_solve_triangular(F.mH, linalg_solve_triangular(F, B, upper=False), upper=True)


def _factor_grad(common, F, upper):
    """The factor's gradient ``-(F common)`` (upper) or ``-(common F)`` from a Hermitian ``common``."""
    return -(F @ common) if upper else -(common @ F)


class CholeskySolveBackward0(Node):
    def backward(self, grad):
        F, = self.saved_tensors
        gB = cholesky_solve(grad, F, self.upper)
        common = gB @ self.result().mH
        return gB, _factor_grad(common + common.mH, F, self.upper)


class CholeskyInverseBackward0(Node):
    def backward(self, grad):
        F, = self.saved_tensors
        inv = self.result()
        return (_factor_grad(inv @ (grad + grad.mH) @ inv, F, self.upper),)


@op
def cholesky_solve(input, input2, upper=False, *, out=None):
    """The solution X of ``A X = B`` for ``B = input`` and the Cholesky factor ``input2`` of A
    (``A = L L^H``, or ``U^H U`` with ``upper``)."""
    _check("cholesky_solve", input, input2)
    with no_grad():
        X = _solve_with_factor(input, input2, upper)
    record(X, CholeskySolveBackward0, (input, input2), (input2,), output=True, upper=upper)
    return X


@op
def cholesky_inverse(input, upper=False, *, out=None):
    """``A^{-1}`` from A's Cholesky factor ``input`` (lower, or upper with ``upper``)."""
    _check("cholesky_inverse", input)
    with no_grad():
        identity = eye(input.shape[-1], dtype=input.dtype, device=input.device)
        inv = _solve_with_factor(identity.expand(input.shape), input, upper)
    record(inv, CholeskyInverseBackward0, (input,), (input,), output=True, upper=upper)
    return inv


@op
def triangular_solve(input, A, upper=True, transpose=False, unitriangular=False, *, out=None):
    """The legacy ``torch.triangular_solve(b, A)``: ``(solution, cloned_coefficient)`` of ``A x = b`` (``A^T``
    with ``transpose``) for triangular A."""
    warnings.warn("torch.triangular_solve is deprecated in favor of torch.linalg.solve_triangular",
                  UserWarning, stacklevel=2)
    _check("triangular_solve", input, A)
    if transpose:
        x = linalg_solve_triangular(A.mT, input, upper=not upper, unitriangular=unitriangular)
    else:
        x = linalg_solve_triangular(A, input, upper=upper, unitriangular=unitriangular)
    return return_types.triangular_solve(x, A.clone())

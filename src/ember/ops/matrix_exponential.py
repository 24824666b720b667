"""The matrix exponential ``matrix_exp`` (``linalg.matrix_exp``): scaling and squaring around a Taylor
polynomial, composed from ember's matmul so its gradient (and higher ones) follow from matmul's."""
import math

from ._common import op, dtype_name
from .creation import eye

_DEGREE = 14          # with the scaled norm <= 1/2 the truncation error is below 0.5**15 / 15! ~ 2e-17


@op
def matrix_exp(input):
    """``exp(A) = sum_k A^k / k!`` of square matrices (batched)."""
    A = input
    if A.dim() < 2 or A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"linalg.matrix_exp: A must be batches of square matrices, but they are "
                           f"{A.shape[-2] if A.dim() >= 2 else 1} by {A.shape[-1] if A.dim() else 1} matrices")
    if not (A.dtype.is_floating_point or A.dtype.is_complex):
        raise RuntimeError(f"linalg.matrix_exp: Expected a floating point or complex tensor as input. Got "
                           f"{dtype_name(A.dtype)}")
    n = A.shape[-1]
    if n == 0 or A.numel() == 0:
        return A.clone()
    norm = float(abs(A.detach()).sum(-1).max())          # the largest inf-norm in the batch
    squarings = max(0, math.ceil(math.log2(norm / 0.5))) if norm > 0.5 else 0
    X = A / (2.0 ** squarings) if squarings else A
    identity = eye(n, dtype=A.dtype, device=A.device)
    E = identity
    for k in range(_DEGREE, 0, -1):                   # Horner: I + X/1 (I + X/2 (I + ...))
        E = identity + (X @ E) / k
    for _ in range(squarings):
        E = E @ E
    return E

"""QR in LAPACK's Householder form: ``geqrf`` (the packed reflectors and their scales), and the products of
those reflectors: ``linalg.householder_product``/``orgqr`` (the explicit Q) and ``ormqr`` (Q times a matrix).
The products are composed from ember ops, so they are differentiable through them; ``geqrf`` has no
derivative, as in PyTorch."""
import math

from .. import return_types
from ._common import array_module, Tensor, Node, record, op, _make
from .creation import eye


class GeqrfBackward0(Node):
    def backward(self, ga, gtau=None):
        raise NotImplementedError("the derivative for 'geqrf' is not implemented.")


@op
def geqrf(input, *, out=None):
    """``(a, tau)``: R in the upper triangle of ``a``, the Householder vectors below it, and their scales."""
    if not isinstance(input, Tensor) or input.dim() < 2:
        raise RuntimeError("torch.geqrf: input must have at least 2 dimensions.")
    xp = array_module(input)
    m, n = input.shape[-2], input.shape[-1]
    flat = input._data.reshape((math.prod(input.shape[:-2]), m, n))  # not -1: m or n may be 0
    packed = xp.empty_like(flat)
    taus = xp.empty((flat.shape[0], min(m, n)), dtype=flat.dtype)
    for i in range(flat.shape[0]):
        h, tau = xp.linalg.qr(flat[i], mode="raw")    # LAPACK's output, transposed (Fortran order)
        packed[i], taus[i] = h.T, tau
    a = _make(packed.reshape(input._data.shape))
    t = _make(taus.reshape(tuple(input.shape[:-2]) + (min(m, n),)))
    record((a, t), GeqrfBackward0, (input,))
    return return_types.geqrf(a, t)


def _apply_reflectors(A, tau, Q, reverse):
    """``H_1 ... H_k Q`` (``reverse``: applied right to left, giving the product acting on Q) with
    ``H_i = I - tau_i v_i v_i^H`` and ``v_i`` the unit-lower columns of ``A``."""
    m, n = A.shape[-2], A.shape[-1]
    V = A.tril(-1) + eye(m, n, dtype=A.dtype, device=A.device)
    order = range(tau.shape[-1] - 1, -1, -1) if reverse else range(tau.shape[-1])
    for i in order:
        v = V[..., :, i:i + 1]
        Q = Q - tau[..., i, None, None] * (v @ (v.mH @ Q))
    return Q


def linalg_householder_product(A, tau, *, out=None):
    """The first n columns of ``H_1 ... H_k`` for the Householder vectors in the columns of ``A`` (m x n,
    m >= n) scaled by ``tau`` (k <= n)."""
    m, n = A.shape[-2], A.shape[-1]
    if m < n:
        raise RuntimeError("torch.linalg.householder_product: input.shape[-2] must be greater than or equal to "
                           "input.shape[-1]")
    if tau.dim() != A.dim() - 1:
        raise RuntimeError(f"torch.linalg.householder_product: Expected tau to have one dimension less than input, "
                           f"but got tau.ndim equal to {tau.dim()} and input.ndim is equal to {A.dim()}")
    if tau.shape[-1] > n:
        raise RuntimeError("torch.linalg.householder_product: input.shape[-1] must be greater than or equal to "
                           "tau.shape[-1]")
    Q = eye(m, n, dtype=A.dtype, device=A.device).expand(tuple(A.shape))
    return _apply_reflectors(A, tau, Q, reverse=True)


@op
def orgqr(input, input2):
    """``linalg.householder_product(input, input2)``: the explicit Q of a ``geqrf`` result."""
    return linalg_householder_product(input, input2)


@op
def ormqr(input, input2, input3, left=True, transpose=False, *, out=None):
    """``Q @ input3`` for the Q of Householder vectors ``input`` and scales ``input2`` (``Q^H`` with
    ``transpose``; ``input3 @ Q`` when not ``left``)."""
    m = input.shape[-2]
    full = eye(m, dtype=input.dtype, device=input.device).expand(tuple(input.shape[:-2]) + (m, m))
    Q = _apply_reflectors(input, input2, full, reverse=True)
    Q = Q.mH if transpose else Q
    return Q @ input3 if left else input3 @ Q

"""Distances: pairwise_distance, cosine_similarity, pdist."""
from ... import ops as _ops
from ...ops.pnorm import pnorm as _pnorm

__all__ = ["pairwise_distance", "cosine_similarity", "pdist"]


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """``||x1 - x2 + eps||_p`` over the last dim (broadcasting the others)."""
    d1, d2 = x1.dim(), x2.dim()
    output_dim = max(d1, d2)
    innermost = output_dim - 1
    return _pnorm(x1 - x2 + eps, p, innermost, keepdim)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """``x1 . x2 / (max(||x1||, eps) * max(||x2||, eps))`` along ``dim`` (inputs broadcast)."""
    n1 = _pnorm(x1, 2, dim, True)
    n2 = _pnorm(x2, 2, dim, True)
    # clamp the norms without changing their gradient (PyTorch clamps them in place under no_grad)
    n1 = n1 + (n1.detach().clamp_min(eps) - n1.detach())
    n2 = n2 + (n2.detach().clamp_min(eps) - n2.detach())
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def pdist(input, p=2):
    """Distances between all pairs of rows of the 2-D ``input`` (the upper triangle, row by row)."""
    if input.dim() != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.dim()}D")
    n = input.shape[0]
    if n < 2:
        return input.new_zeros(0)
    i, j = [], []
    for a in range(n):
        for b in range(a + 1, n):
            i.append(a)
            j.append(b)
    ii = _ops.tensor(i)
    jj = _ops.tensor(j)
    return _pnorm(input.index_select(0, ii) - input.index_select(0, jj), p, 1, False)

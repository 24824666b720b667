"""Distances between rows: ``pairwise_distance``, ``cosine_similarity`` and ``pdist`` (``torch.X`` and
``nn.functional.X``), composed from the fused ``pnorm``."""
from ._common import array_module, function, _make
from .pnorm import pnorm


@function
def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """``||x1 - x2 + eps||_p`` over the last dim; the other dims broadcast.

    Args:
        x1, x2: ``(..., D)`` tensors (or ``(D,)``).
        p: the norm's order.  eps: added to the difference (keeps the gradient finite at 0).
        keepdim: keep the reduced last dim as size 1.
    Returns the distances, shape of the broadcast leading dims.
    """
    return pnorm(x1 - x2 + eps, p, max(x1.dim(), x2.dim()) - 1, keepdim)


@function
def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """``x1 . x2 / (max(||x1||, eps) * max(||x2||, eps))`` along ``dim`` (the inputs broadcast).

    Returns the similarities, with ``dim`` reduced.  The norms are those of the broadcast inputs.
    """
    from .joining import broadcast_tensors
    x1, x2 = broadcast_tensors(x1, x2)
    n1 = pnorm(x1, 2, dim, True)
    n2 = pnorm(x2, 2, dim, True)
    # clamp the norms without changing their gradient (PyTorch clamps them in place under no_grad)
    n1 = n1 + (n1.detach().clamp_min(eps) - n1.detach())
    n2 = n2 + (n2.detach().clamp_min(eps) - n2.detach())
    return ((x1 / n1) * (x2 / n2)).sum(dim)


@function
def pdist(input, p=2):
    """The ``p``-norm distance between every pair of rows ``i < j`` of the 2-D ``input`` ``(N, M)``, row by row:
    a 1-D tensor of ``N * (N - 1) / 2`` distances."""
    if input.dim() != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.dim()}D")
    n = input.shape[0]
    i, j = array_module(input).triu_indices(n, 1)
    return pnorm(input[_make(i)] - input[_make(j)], p, 1, False)

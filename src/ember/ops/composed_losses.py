"""The losses PyTorch also has as ``torch.X`` (``torch.kl_div``, ``torch.margin_ranking_loss`` ...), composed from
ember ops.  They take PyTorch's top-level arguments: ``reduction`` is an int (0 'none', 1 'mean', 2 'sum';
``nn.functional`` turns its strings into these) defaulting to 0 as ``torch.X``'s does, and arguments are
positional as in ``torch.X``.
"""
import math

from ._common import function
from .distances import pairwise_distance
from .elementwise import minimum, where
from .pointwise import xlogy
from .losses import reduction_name


def apply_reduction(loss, reduction, op_name):
    """``loss`` reduced by PyTorch's reduction enum: 1 the mean, 2 the sum, any other int unreduced."""
    name = reduction_name(reduction, op_name)
    return loss.mean() if name == "mean" else loss.sum() if name == "sum" else loss


@function
def kl_div(input, target, reduction=0, *, log_target=False):
    """Kullback-Leibler divergence ``target * (log(target) - input)`` per element (``input`` holds
    log-probabilities; ``log_target``: so does ``target``), reduced by the enum ``reduction``."""
    loss = target.exp() * (target - input) if log_target else xlogy(target, target) - target * input
    return apply_reduction(loss, reduction, "kl_div")


@function
def margin_ranking_loss(input1, input2, target, margin=0.0, reduction=0):
    """``max(0, -target * (input1 - input2) + margin)`` (``target`` is 1 or -1), reduced."""
    return apply_reduction((-target * (input1 - input2) + margin).clamp_min(0), reduction, "margin_ranking_loss")


@function
def hinge_embedding_loss(input, target, margin=1.0, reduction=0):
    """``input`` where ``target == 1``, ``max(0, margin - input)`` where ``target == -1``, reduced."""
    output_margin = where(target != 1, (margin - input).clamp_min(0), 0.0)
    output_self = where(target != -1, input, 0.0)
    return apply_reduction(output_margin + output_self, reduction, "hinge_embedding_loss")


@function
def cosine_embedding_loss(input1, input2, target, margin=0.0, reduction=0):
    """``1 - cos(x1, x2)`` where ``target == 1``, ``max(0, cos(x1, x2) - margin)`` where ``target == -1``.

    Shapes: inputs ``(N, D)`` with target ``(N,)``, or inputs ``(D,)`` with a 0-d target.
    """
    targ_dim = target.dim()
    if targ_dim > 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if targ_dim == 1 and (input1.dim() != 2 or input2.dim() != 2):
        raise RuntimeError(f"1D target tensor expects 2D input tensors, but found inputs with sizes "
                           f"{list(input1.shape)} and {list(input2.shape)}.")
    if targ_dim == 0 and (input1.dim() != 1 or input2.dim() != 1):
        raise RuntimeError(f"0D target tensor expects 1D input tensors, but found inputs with sizes "
                           f"{list(input1.shape)} and {list(input2.shape)}.")
    eps = 1e-12
    d = targ_dim
    prod_sum = (input1 * input2).sum(d)
    mag1 = (input1 * input1).sum(d) + eps
    mag2 = (input2 * input2).sum(d) + eps
    cos = prod_sum / (mag1 * mag2).sqrt()
    out = where(target == 1, 1 - cos, 0.0) + where(target == -1, (cos - margin).clamp_min(0), 0.0)
    return apply_reduction(out, reduction, "cosine_embedding_loss")


@function
def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6, swap=False, reduction=0):
    """``max(d(a, p) - d(a, n) + margin, 0)`` with ``d`` the ``pairwise_distance`` of order ``p``; ``swap``
    uses ``min(d(a, n), d(p, n))`` as the negative distance."""
    a_dim, p_dim, n_dim = anchor.dim(), positive.dim(), negative.dim()
    if not (a_dim == p_dim and p_dim == n_dim):
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have the same number of "
                           f"dimensions, but got: anchor {a_dim}D, positive {p_dim}D, and negative {n_dim}D inputs")
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = minimum(d_neg, pairwise_distance(positive, negative, p, eps))
    return apply_reduction((d_pos - d_neg + margin).clamp_min(0), reduction, "triplet_margin_loss")


@function
def poisson_nll_loss(input, target, log_input, full, eps, reduction):
    """Poisson negative log likelihood: ``exp(input) - target * input`` when ``log_input``, else
    ``input - target * log(input + eps)``; ``full`` adds Stirling's approximation of ``log(target!)`` where
    ``target > 1``."""
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        stirling = target * target.log() - target + (target * (2 * math.pi)).log() * 0.5
        loss = loss + stirling.masked_fill(target <= 1, 0)
    return apply_reduction(loss, reduction, "poisson_nll_loss")

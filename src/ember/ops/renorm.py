"""``renorm``: rescale the slices of a tensor along a dim whose p-norm exceeds a bound (composed from ember
ops, so differentiable through the norm as PyTorch's is)."""
from ._common import op, wrap_dim
from .elementwise import where


@op(inplace=True)
def renorm(input, p, dim, maxnorm, *, out=None):
    """Each slice ``input.select(dim, i)`` whose ``p``-norm exceeds ``maxnorm`` scaled down to norm
    ``maxnorm`` (PyTorch's ``maxnorm / (norm + 1e-7)`` factor); the others unchanged."""
    if p <= 0:
        raise RuntimeError("renorm: non-positive-norm not supported")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm:g}")
    dim = wrap_dim(dim, input.dim())
    others = [d for d in range(input.dim()) if d != dim]
    norm = input.norm(p, dim=others, keepdim=True) if others else input.abs()
    scale = where(norm > maxnorm, maxnorm / (norm + 1e-7), 1.0)
    return input * scale.to(input.dtype)

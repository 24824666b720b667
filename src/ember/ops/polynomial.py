"""Polynomial matrices: ``vander`` (composed from ember ops, so it is differentiable)."""
from ._common import function
from .cumulative import cumprod
from .joining import cat


@function
def vander(x, N=None, increasing=False):
    """The Vandermonde matrix of the 1-D tensor ``x``: column ``j`` holds ``x ** (N - 1 - j)`` (``x ** j``
    when ``increasing``); ``N`` defaults to ``len(x)``.  Bool inputs count as integers."""
    if x.dim() != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    n = x.shape[0] if N is None else N
    if n < 0:
        raise RuntimeError("N must be non-negative.")
    if x.dtype.name == "bool":
        x = x.long()
    if n == 0:
        return x.new_empty((x.shape[0], 0))
    ones = x.new_ones((x.shape[0], 1))
    powers = cumprod(cat([ones, x.unsqueeze(1).expand(-1, n - 1)], 1), 1) if n > 1 else ones
    return powers if increasing else powers.flip(1)

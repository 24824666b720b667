"""``index_reduce``: reduce slices of ``source`` into the slices of ``input`` that ``index`` names along a dim
(prod, mean, amax, amin).  It is ``scatter_reduce`` with the index spread over the other dims, so its
gradient is scatter_reduce's."""
import warnings

from ._common import Tensor, op, dtype_name, wrap_dim
from .scatter import scatter_reduce

_REDUCTIONS = ("prod", "mean", "amax", "amin")
_beta_warned = []


def _index_reduce(input, dim, index, source, reduce, include_self, name):
    if reduce not in _REDUCTIONS:
        raise RuntimeError(f"index_reduce(): Expected reduce to be one of prod, mean, amax or amin but got {reduce}.")
    if not _beta_warned:
        _beta_warned.append(True)
        warnings.warn("index_reduce() is in beta and the API may change at any time.", UserWarning, stacklevel=3)
    if not isinstance(index, Tensor) or index.dtype.name not in ("int32", "int64"):
        dt = dtype_name(index.dtype) if isinstance(index, Tensor) else type(index).__name__
        raise RuntimeError(f"{name}(): Expected dtype int32/int64 for index but got: {dt}")
    if index.dim() > 1:
        raise IndexError(f"{name}(): Index is supposed to be a vector, but got dim: {index.dim()} with type: "
                         f"{dtype_name(index.dtype)} and size: {list(index.shape)}")
    dim = wrap_dim(dim, max(input.dim(), 1))
    n = source.shape[dim] if source.dim() else 1
    if index.numel() != n:
        raise RuntimeError(f"{name}(): Number of indices ({index.numel()}) should be equal to source.size(dim): "
                           f"({n}), for dim: {dim}")
    idx, size = index._data, (input.shape[dim] if input.dim() else 1)
    if idx.size:
        lo, hi = idx.min(), idx.max()
        if not include_self and (lo < -size or hi >= size):  # PyTorch first fills the slices, checking them
            raise IndexError(f"index {lo if lo < -size else hi} is out of bounds for dimension {dim} with size {size}")
        if lo < 0 or hi >= size:
            raise IndexError("index out of range in self")
    shape = [1] * source.dim()
    if shape:
        shape[dim] = -1
    spread = index.long().reshape(shape).expand(tuple(source.shape)) if shape else index.long().reshape(())
    return scatter_reduce(input, dim, spread, source, reduce, include_self=include_self)


@op(inplace=True)
def index_reduce(input, dim, index, source, reduce, *, include_self=True, out=None):
    """``input`` with ``source.select(dim, i)`` reduced (``reduce``: prod, mean, amax or amin) into
    ``input.select(dim, index[i])``; ``include_self`` counts input's own values in each reduction."""
    return _index_reduce(input, dim, index, source, reduce, include_self, "index_reduce_")

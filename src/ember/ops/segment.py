"""``segment_reduce``: reductions over consecutive runs ("segments") of one axis, composed from scatter_reduce
(so its gradient is scatter_reduce's)."""
from ._declare import function
from .creation import arange, full
from .cumulative import cumsum
from .scatter import scatter_reduce

_REDUCE = {"sum": ("sum", 0.0), "mean": ("sum", 0.0), "prod": ("prod", 1.0), "max": ("amax", float("-inf")),
           "min": ("amin", float("inf"))}


@function
def segment_reduce(data, reduce, *, lengths=None, indices=None, offsets=None, axis=0, unsafe=False, initial=None):
    """Reduce the segments of ``data`` along ``axis``: ``lengths[..., s]`` consecutive elements form segment s.

    Args:
        data: the values; segments run along ``axis``.
        reduce: "sum", "mean", "prod", "max" or "min".
        lengths: segment lengths, shaped ``data.shape[:axis] + (S,)`` (or give ``offsets``, shaped
            ``(..., S + 1)``: segment s is ``offsets[s]:offsets[s + 1]``).
        axis: the segmented dimension.
        unsafe: skip the check that the lengths add up to the axis' size.
        initial: the starting value of every segment (an empty segment's result; for "mean", added to the
            sum that is divided by the length).

    Returns:
        ``data.shape[:axis] + (S,) + data.shape[axis + 1:]``; empty segments give 0 (sum), 1 (prod), -inf (max),
        inf (min) or NaN (mean) without ``initial``.
    """
    if reduce not in _REDUCE:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    if indices is not None:
        raise RuntimeError("segment_reduce(): indices based reduction is not supported yet.")
    if lengths is None:
        if offsets is None:
            raise RuntimeError("segment_reduce(): Either lengths or offsets must be defined")
        lengths = offsets[..., 1:] - offsets[..., :-1]
    lengths = lengths.to(data.device)
    axis = axis % data.dim()
    n = data.shape[axis]
    ends = cumsum(lengths, -1)
    bad = bool((ends[..., -1] != n).any()) if lengths.shape[-1] else n != 0
    if bad and not unsafe:
        raise RuntimeError("segment_reduce(): Expected all rows of lengths along axis to sum to "
                           "data.size(lengths.dim()-1) when !unsafe.")
    # segment id of each position along the axis: how many segments end at or before it
    ids = (ends.unsqueeze(-1) <= arange(n, device=data.device)).sum(-2)          # (..., n)
    trailing = data.dim() - axis - 1
    ids = ids.reshape(tuple(ids.shape) + (1,) * trailing).expand(data.shape)
    how, empty = _REDUCE[reduce]
    start = empty if initial is None else initial
    out_shape = tuple(data.shape[:axis]) + (lengths.shape[-1],) + tuple(data.shape[axis + 1:])
    out = scatter_reduce(full(out_shape, start, dtype=data.dtype, device=data.device), axis, ids, data, how,
                         include_self=True)
    if reduce != "mean":
        return out
    count = lengths.reshape(tuple(lengths.shape) + (1,) * trailing).to(data.dtype)
    return (out / count).where(count != 0, full((), float("nan") if initial is None else initial,
                                                dtype=data.dtype, device=data.device))

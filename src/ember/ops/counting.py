"""Counting and bucketing: unique, unique_consecutive, bincount, histc, searchsorted, bucketize.

None of these is differentiable (PyTorch gives unique a node that refuses backward; ember does the same).
"""
import math

from ._common import array_module, module_of_array, Tensor, Node, record, op, function, _make, wrap_dim, \
    scalar_value, write_out, dtype_name
from ._unsigned import refuse_wide_unsigned


class NotDifferentiableBackward(Node):
    """The node of an op PyTorch gives no derivative: backward raises.  ``node_name`` is what ``name()`` reports,
    ``op_name`` the op the message names."""

    def name(self):
        return self.node_name

    def backward(self, grad):
        raise NotImplementedError(f"the derivative for '{self.op_name}' is not implemented.")


def _mark(res, input, name, op_name):
    if res.dtype._category >= 2:
        record(res, NotDifferentiableBackward, (input,), node_name=name, op_name=op_name)
    return res


def _empty_by_dim(a, d):
    """unique(dim=d) of a tensor without elements: PyTorch accepts only one zero-size dim, the selected one,
    and returns the input's (empty) shape with empty inverse and counts; None when ``a`` has elements."""
    if a.size:
        return None
    if a.shape[d] != 0:
        raise RuntimeError("There are 0 sized dimensions, and they aren't selected, so unique cannot be applied")
    if sum(n == 0 for n in a.shape) > 1:
        raise RuntimeError("Number of zero sized dimensions is more than one, so unique cannot be applied ")
    xp = module_of_array(a)
    return a.copy(), xp.zeros(0, xp.int64), xp.zeros(0, xp.int64)


def _slices(a, d):
    """``a`` with dim ``d`` first, flattened to (n, rest) rows (the unit unique(dim=...) compares)."""
    moved = module_of_array(a).moveaxis(a, d, 0)
    return moved, moved.reshape(moved.shape[0], -1)


def _pack(output, inverse, counts, return_inverse, return_counts):
    if return_inverse and return_counts:
        return output, inverse, counts
    if return_inverse:
        return output, inverse
    if return_counts:
        return output, counts
    return output


@op
def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct elements of ``input`` in ascending order (or distinct slices along ``dim``).

    With ``return_inverse`` also the index of each input element in the output, and with
    ``return_counts`` how often each distinct element occurs.
    """
    a = input._data
    xp = array_module(input)
    if dim is None:
        flat = a.reshape(-1)
        if flat.dtype.kind in "fc":
            vals, inv, cnt = xp.unique(flat, return_inverse=True, return_counts=True, equal_nan=False)
        else:
            vals, inv, cnt = xp.unique(flat, return_inverse=True, return_counts=True)
        output = _mark(_make(vals), input, "Unique2Backward0", "_unique2")
        inverse = _make(inv.reshape(a.shape).astype(xp.int64))
        counts = _make(cnt.astype(xp.int64))
        return _pack(output, inverse, counts, return_inverse, return_counts)
    if a.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    d = wrap_dim(dim, a.ndim)
    empty = _empty_by_dim(a, d)
    if empty is not None:
        output = _mark(_make(empty[0]), input, "UniqueDimBackward0", "unique_dim")
        return _pack(output, _make(empty[1]), _make(empty[2]), return_inverse, return_counts)
    moved, rows = _slices(a, d)
    n = rows.shape[0]
    order = xp.lexsort(rows.T[::-1])
    s = rows[order]
    new = xp.ones(n, dtype=bool)
    new[1:] = (s[1:] != s[:-1]).any(axis=1)
    group = xp.cumsum(new) - 1
    vals_rows = s[new]
    inv = xp.empty(n, xp.int64)
    inv[order] = group
    cnt = xp.bincount(group).astype(xp.int64)
    out_arr = xp.moveaxis(vals_rows.reshape((vals_rows.shape[0],) + moved.shape[1:]), 0, d)
    output = _mark(_make(xp.ascontiguousarray(out_arr)), input, "UniqueDimBackward0", "unique_dim")
    return _pack(output, _make(inv), _make(cnt), return_inverse, return_counts)


@op
def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """Collapse runs of equal consecutive elements (or slices along ``dim``) to one."""
    a = input._data
    xp = array_module(input)
    if dim is None:
        flat = a.reshape(-1)
        new = xp.ones(flat.shape, dtype=bool)
        new[1:] = flat[1:] != flat[:-1]
        group = xp.cumsum(new) - 1
        output = _mark(_make(flat[new]), input, "UniqueConsecutiveBackward0", "unique_consecutive")
        inverse = _make(group.reshape(a.shape).astype(xp.int64))
        counts = _make(xp.bincount(group, minlength=0).astype(xp.int64) if flat.size else xp.zeros(0, xp.int64))
        return _pack(output, inverse, counts, return_inverse, return_counts)
    if a.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    d = wrap_dim(dim, a.ndim)
    empty = _empty_by_dim(a, d)
    if empty is not None:
        output = _mark(_make(empty[0]), input, "UniqueConsecutiveBackward0", "unique_consecutive")
        return _pack(output, _make(empty[1]), _make(empty[2]), return_inverse, return_counts)
    moved, rows = _slices(a, d)
    n = rows.shape[0]
    new = xp.ones(n, dtype=bool)
    new[1:] = (rows[1:] != rows[:-1]).any(axis=1)
    group = xp.cumsum(new) - 1
    out_arr = xp.moveaxis(moved[new], 0, d)
    output = _mark(_make(xp.ascontiguousarray(out_arr)), input, "UniqueConsecutiveBackward0", "unique_consecutive")
    counts = xp.bincount(group).astype(xp.int64)
    return _pack(output, _make(group.astype(xp.int64)), _make(counts), return_inverse, return_counts)


@op
def bincount(input, weights=None, minlength=0):
    """Occurrences of each value in a 1-D non-negative integer tensor (summing ``weights`` if given)."""
    a = input._data
    xp = array_module(input)
    if a.dtype.kind not in "biu":
        raise NotImplementedError(f'"bincount_cpu" not implemented for \'{dtype_name(input.dtype)}\'')
    refuse_wide_unsigned("bincount_cpu", a.dtype)
    if a.ndim != 1 or (a.size and a.min() < 0):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if weights is None:
        return _make(xp.bincount(a, minlength=minlength).astype(xp.int64))
    w = weights._data
    if w.ndim != 1 or w.shape[0] != a.shape[0]:
        raise RuntimeError("weights should be 1-d and have the same length as input")
    if a.size == 0:  # PyTorch's counts of nothing are int64 zeros, whatever the weights' dtype
        return _make(xp.zeros(minlength, xp.int64))
    dt = w.dtype if w.dtype in (xp.float32, xp.float64) else xp.float64  # half weights sum in double
    return _make(xp.bincount(a, weights=w.astype(xp.float64), minlength=minlength).astype(dt))


def _linspace_edges(xp, lo, hi, steps, dt):
    """PyTorch's linspace: from both ends toward the middle (so both end points are exact)."""
    step = (hi - lo) / (steps - 1)
    i = xp.arange(steps)
    half = steps // 2
    return xp.where(i < half, lo + step * i, hi - step * (steps - 1 - i)).astype(dt)


@op
def histc(input, bins=100, min=0, max=0, *, out=None):
    """Histogram of ``input`` with ``bins`` equal bins over [min, max] (the data's range when min == max)."""
    a = input._data
    xp = array_module(input)
    if a.dtype.kind not in "f":
        raise NotImplementedError(f'"histogram_cpu" not implemented for \'{dtype_name(input.dtype)}\'')
    if bins <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
    lo, hi = float(scalar_value(min)), float(scalar_value(max))
    if lo == hi and a.size:
        lo, hi = float(a.min()), float(a.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise RuntimeError(f"torch.histc: range of [{lo}, {hi}] is not finite")
    if lo > hi:
        raise RuntimeError("torch.histc: max must be larger than min")
    edges = _linspace_edges(xp, a.dtype.type(lo), a.dtype.type(hi), bins + 1, a.dtype)
    flat = a.reshape(-1)
    flat = flat[(flat >= edges[0]) & (flat <= edges[-1])]
    pos = xp.clip(xp.searchsorted(edges, flat, side="right") - 1, 0, bins - 1)
    res = _make(xp.bincount(pos, minlength=bins).astype(a.dtype))
    return write_out(out, res) if out is not None else res


@function
def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, sorter=None, out=None):
    """Indices where ``input``'s values would be inserted into the innermost dim of ``sorted_sequence``."""
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but got {side}")
        if right and side == "left":
            raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, got side of left "
                               "while right was True")
        right = side == "right"
    seq = sorted_sequence._data
    xp = array_module(sorted_sequence)
    scalar = not isinstance(input, Tensor)
    vals = xp.asarray(scalar_value(input)) if scalar else input._data
    np_side = "right" if right else "left"
    srt = sorter._data if sorter is not None else None
    if seq.ndim == 0:
        raise RuntimeError("torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
                           "dimensions of boundaries tensor and input value tensor must match, but we got "
                           f"boundaries tensor {list(seq.shape)} and input value tensor {list(vals.shape)}")
    if seq.ndim == 1:
        r = xp.searchsorted(seq, vals, side=np_side, sorter=srt)
    else:
        if scalar or vals.shape[:-1] != seq.shape[:-1]:
            raise RuntimeError("torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
                               "dimensions of boundaries tensor and input value tensor must match, but we got "
                               f"boundaries tensor {list(seq.shape)} and input value tensor {list(vals.shape)}")
        rows = math.prod(seq.shape[:-1])  # named, not -1: either last dim may be empty
        s2 = seq.reshape(rows, seq.shape[-1])
        v2 = vals.reshape(rows, vals.shape[-1])
        o2 = srt.reshape(rows, seq.shape[-1]) if srt is not None else None
        r = xp.stack([xp.searchsorted(s2[k], v2[k], side=np_side, sorter=None if o2 is None else o2[k])
                      for k in range(s2.shape[0])]).reshape(vals.shape) if s2.shape[0] else \
            xp.zeros(vals.shape, xp.int64)
    res = _make(xp.asarray(r).astype(xp.int32 if out_int32 else xp.int64))
    return write_out(out, res) if out is not None else res


@function
def bucketize(input, boundaries, *, out_int32=False, right=False, out=None):
    """The bucket of each value given 1-D ``boundaries``: i with boundaries[i-1] < x <= boundaries[i]
    (``right=True``: boundaries[i-1] <= x < boundaries[i])."""
    if boundaries._data.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({boundaries._data.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right, out=out)

"""Order statistics: sort, argsort, msort, topk, kthvalue, median, nanmedian, mode, quantile, nanquantile.

Every sort is the array module's stable argsort (NaN sorts as the largest value, as in PyTorch);
descending order is a stable sort of the reversed slice, so ties keep their input order
either way.  Values pick their gradient up through the indices (a scatter, differentiable again).
"""
import math

from .. import return_types
from ._common import array_module, module_of_array, Tensor, Node, record, op, _make, wrap_dim, scalar_value, \
    write_out, ignore_fp_errors
from ._unsigned import refuse_wide_unsigned


def _argsort(a, d, descending):
    """Stable argsort of ``a`` along ``d`` (ties keep their order, NaN counts as the largest value)."""
    xp = module_of_array(a)
    if not descending:
        return xp.argsort(a, axis=d, kind="stable")
    n = a.shape[d]
    idx = xp.argsort(xp.flip(a, d), axis=d, kind="stable")
    return (n - 1) - xp.flip(idx, d)


def _write_pair(out, cls, values, indices):
    if out is None:
        return cls(values, indices)
    write_out(out[0], values)
    write_out(out[1], indices)
    return cls(out[0], out[1])


class SortBackward0(Node):
    """Gradient of an op whose values were picked from the input at ``indices`` along ``dim``: scattered back."""

    def backward(self, grad):
        from .indexing import scatter_grad
        if not self.shape:
            return (grad.reshape(()),)
        return (scatter_grad(grad, self.indices, self.shape, self.dim, self.keepdim),)


class TopkBackward0(SortBackward0):
    """Gradient of topk: scattered back to the picked positions."""


class KthvalueBackward0(SortBackward0):
    """Gradient of kthvalue: to the picked position."""


class MedianBackward1(SortBackward0):
    """Gradient of median along a dim: to the picked position."""


class NanmedianBackward1(SortBackward0):
    """Gradient of nanmedian along a dim: to the picked position."""


class ModeBackward0(SortBackward0):
    """Gradient of mode: to the picked (last) position."""


def _selected(input, vals, idx, d, keepdim, node_cls):
    """Wrap picked ``vals`` / ``idx`` arrays as (values, indices) tensors, recording the gradient."""
    values, indices = _make(vals), _make(idx.astype(module_of_array(idx).int64, copy=False))
    record(values, node_cls, (input,), indices=indices, shape=input._data.shape, dim=d, keepdim=keepdim)
    return values, indices


# ---------------------------------------------------------------------------- sort family
@op
def sort(input, dim=-1, descending=False, *, stable=False, out=None):
    """Values sorted along ``dim`` and the permutation that sorts them: (values, indices)."""
    a = input._data
    xp = array_module(input)
    d = wrap_dim(dim, a.ndim)
    if a.ndim == 0:
        vals, idx = a.copy(), xp.zeros((), xp.int64)
    else:
        idx = _argsort(a, d, descending)
        vals = xp.take_along_axis(a, idx, d)
    values, indices = _selected(input, vals, idx, d, True, SortBackward0)
    return _write_pair(out, return_types.sort, values, indices)


@op
def argsort(input, dim=-1, descending=False, stable=False):
    """The permutation that sorts ``input`` along ``dim``."""
    a = input._data
    xp = array_module(input)
    d = wrap_dim(dim, a.ndim)
    if a.ndim == 0:
        return _make(xp.zeros((), xp.int64))
    return _make(_argsort(a, d, descending).astype(xp.int64, copy=False))


@op
def msort(input, *, out=None):
    """``input`` sorted along its first dimension."""
    res = sort(input, 0).values
    return write_out(out, res) if out is not None else res


@op
def topk(input, k, dim=-1, largest=True, sorted=True, *, out=None):
    """The ``k`` largest (or smallest) elements along ``dim``: (values, indices), in sorted order."""
    a = input._data
    xp = array_module(input)
    d = wrap_dim(dim, a.ndim)
    n = a.shape[d] if a.ndim else 1
    if a.dtype == xp.bool_:
        raise RuntimeError("topk does not support bool dtypes on CPU")
    refuse_wide_unsigned("topk_cpu", a.dtype)
    if k < 0 or k > n:
        raise RuntimeError("selected index k out of range")
    if a.ndim == 0:
        vals, idx = a.copy(), xp.zeros((), xp.int64)
    else:
        idx = xp.take(_argsort(a, d, largest), xp.arange(k), axis=d)
        vals = xp.take_along_axis(a, idx, d)
    values, indices = _selected(input, vals, idx, d, True, TopkBackward0)
    return _write_pair(out, return_types.topk, values, indices)


def _check_reduction_size(a, d, name):
    if a.ndim and a.shape[d] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")


def _pick(a, idx_sorted, pos, d, keepdim):
    """Values and original indices at sorted position ``pos`` (an array broadcastable over the slice)."""
    xp = module_of_array(a)
    pos = xp.expand_dims(pos, d) if xp.ndim(pos) else xp.full(
        a.shape[:d] + (1,) + a.shape[d + 1:], pos, dtype=xp.int64)
    idx = xp.take_along_axis(idx_sorted, pos, d)
    vals = xp.take_along_axis(a, idx, d)
    if not keepdim:
        idx, vals = idx.squeeze(d), vals.squeeze(d)
    return vals, idx


@op
def kthvalue(input, k, dim=-1, keepdim=False, *, out=None):
    """The ``k``-th smallest element along ``dim`` (k counts from 1): (values, indices)."""
    a = input._data
    xp = array_module(input)
    d = wrap_dim(dim, a.ndim)
    _check_reduction_size(a, d, "kthvalue")
    n = a.shape[d] if a.ndim else 1
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
    if a.ndim == 0:
        vals, idx = a.copy(), xp.zeros((), xp.int64)
    else:
        vals, idx = _pick(a, _argsort(a, d, False), k - 1, d, keepdim)
    values, indices = _selected(input, vals, idx, d, keepdim, KthvalueBackward0)
    return _write_pair(out, return_types.kthvalue, values, indices)


# ---------------------------------------------------------------------------- median
class MedianBackward0(Node):
    """Gradient of a full median: shared evenly among the elements equal to the result."""

    def backward(self, grad):
        (x,) = self.saved_tensors
        r = self.result()
        mask = (x == r) | (x.isnan() & r.isnan()) if self.nan_aware else (x == r)
        mask = mask.to(grad.dtype)
        return (grad * mask / mask.sum(),)


class NanmedianBackward0(MedianBackward0):
    """Gradient of a full nanmedian: shared evenly among the elements equal to the result."""


def _median_all(input, ignore_nan):
    a = input._data.reshape(-1)
    xp = array_module(input)
    if a.size == 0:
        with ignore_fp_errors(input):  # PyTorch's NaN, cast to an integer dtype as C casts it
            r = xp.asarray(math.nan).astype(a.dtype)
    else:
        s = xp.sort(a, kind="stable")
        if a.dtype.kind in "fc":
            valid = a.size - int(xp.isnan(a).sum())
            if not ignore_nan and valid < a.size:
                r = xp.asarray(math.nan, dtype=a.dtype)
            else:
                r = s[(valid - 1) // 2] if valid else xp.asarray(math.nan, dtype=a.dtype)
        else:
            r = s[(a.size - 1) // 2]
    res = _make(xp.asarray(r, dtype=a.dtype))
    record(res, NanmedianBackward0 if ignore_nan else MedianBackward0, (input,), (input,), output=True,
           nan_aware=not ignore_nan)
    return res


def _median_dim(input, dim, keepdim, ignore_nan, out):
    a = input._data
    xp = array_module(input)
    d = wrap_dim(dim, a.ndim)
    _check_reduction_size(a, d, "median")  # PyTorch's message names median() for nanmedian too
    if a.ndim == 0:
        vals, idx = a.copy(), xp.zeros((), xp.int64)
    else:
        order = _argsort(a, d, False)
        n = a.shape[d]
        if a.dtype.kind in "fc":
            nans = xp.isnan(a).sum(axis=d)
            valid = n - nans
            if ignore_nan:
                pos = xp.maximum(valid - 1, 0) // 2
            else:
                pos = xp.where(nans > 0, valid, (n - 1) // 2)   # the first NaN when there is one
        else:
            pos = (n - 1) // 2
        vals, idx = _pick(a, order, pos, d, keepdim)
    values, indices = _selected(input, vals, idx, d, keepdim, NanmedianBackward1 if ignore_nan else MedianBackward1)
    return _write_pair(out, return_types.nanmedian if ignore_nan else return_types.median, values, indices)


@op
def median(input, dim=None, keepdim=False, *, out=None):
    """The lower median (of everything, or along ``dim`` as (values, indices)); NaN if any element is NaN."""
    if dim is None:
        res = _median_all(input, False)
        return write_out(out, res) if out is not None else res
    return _median_dim(input, dim, keepdim, False, out)


@op
def nanmedian(input, dim=None, keepdim=False, *, out=None):
    """The lower median ignoring NaN (of everything, or along ``dim`` as (values, indices))."""
    if dim is None:
        res = _median_all(input, True)
        return write_out(out, res) if out is not None else res
    return _median_dim(input, dim, keepdim, True, out)


# ---------------------------------------------------------------------------- mode
@op
def mode(input, dim=-1, keepdim=False, *, out=None):
    """The most frequent value along ``dim`` (the smallest among ties) and its last index: (values, indices)."""
    a = input._data
    xp = array_module(input)
    d = wrap_dim(dim, a.ndim)
    _check_reduction_size(a, d, "mode")
    if a.ndim == 0:
        vals, idx = a.copy(), xp.zeros((), xp.int64)
    else:
        moved = xp.moveaxis(a, d, -1)
        batch = moved.shape[:-1]
        n = moved.shape[-1]
        rows = moved.reshape(-1, n)
        order = xp.argsort(rows, axis=1, kind="stable")
        s = xp.take_along_axis(rows, order, 1)
        new_run = xp.ones(s.shape, dtype=bool)
        new_run[:, 1:] = s[:, 1:] != s[:, :-1]           # NaN != NaN: every NaN is its own run
        run_id = xp.cumsum(new_run.reshape(-1)) - 1
        counts = xp.bincount(run_id)
        length = counts[run_id].reshape(s.shape)
        start = xp.argmax(length, axis=1)                 # the first (smallest) of the longest runs
        r = xp.arange(s.shape[0])
        end = start + length[r, start] - 1                # its last element has the largest input index
        vals = s[r, start].reshape(batch)
        idx = order[r, end].reshape(batch)
        if keepdim:
            vals, idx = xp.expand_dims(vals, d), xp.expand_dims(idx, d)
    values, indices = _selected(input, vals, idx, d, keepdim, ModeBackward0)
    return _write_pair(out, return_types.mode, values, indices)


# ---------------------------------------------------------------------------- quantile
_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(input, q, dim, keepdim, interpolation, ignore_nan):
    from .indexing import gather
    from .pointwise import lerp
    a = input._data
    xp = array_module(input)
    if a.dtype not in (xp.float32, xp.float64):
        raise RuntimeError("quantile() input tensor must be either float or double dtype")
    if isinstance(q, Tensor):
        if q.dtype is not input.dtype:
            raise RuntimeError("quantile() q tensor must be same dtype as the input tensor")
        if q._data.ndim > 1:
            raise RuntimeError("quantile() q must be a scalar or 1D tensor")
        qa, scalar_q = q._data, q._data.ndim == 0
        if qa.size and not ((qa >= 0) & (qa <= 1)).all():
            raise RuntimeError("quantile() q values must be in the range [0, 1]")
    else:
        q = scalar_value(q)
        if not 0 <= q <= 1:
            raise RuntimeError(f"quantile() q must be in the range [0, 1] but got {q}")
        qa, scalar_q = xp.asarray(q, dtype=a.dtype), True
    if a.size == 0:
        raise RuntimeError("quantile() input tensor must be non-empty")
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError("quantile() interpolation must be one of linear, lower, higher, midpoint or nearest, "
                           f"but got {interpolation}")
    if dim is None:
        x = input.reshape(-1)
        d = None
    else:
        d = wrap_dim(dim, a.ndim)
        x = input.unsqueeze(-1) if a.ndim == 0 else input.movedim(d, -1)
    srt = sort(x, -1).values                                  # (*batch, n)
    sa = srt._data
    n = sa.shape[-1]
    # ranks (*batch, Q) as a tensor: differentiable in q through the interpolation weights, as in PyTorch
    qt = (q if isinstance(q, Tensor) else _make(qa)).reshape(-1)
    if ignore_nan:
        valid = _make((~xp.isnan(sa)).sum(-1, keepdims=True).astype(a.dtype))
        ranks = qt * (valid - 1)
        ranks = ranks.masked_fill(ranks < 0, 0)
    else:
        has_nan = _make(xp.isnan(sa).any(-1, keepdims=True))
        ranks = (qt * (n - 1)).expand(sa.shape[:-1] + (qt.shape[0],)).masked_fill(has_nan, n - 1)
    if ranks.shape[:-1] != sa.shape[:-1]:
        ranks = ranks.expand(sa.shape[:-1] + (qt.shape[0],))
    if interpolation == "lower":
        ranks = ranks.floor()
    elif interpolation == "higher":
        ranks = ranks.ceil()
    elif interpolation == "nearest":
        ranks = ranks.round()
    below = _make(ranks._data.astype(xp.int64))
    res = gather(srt, -1, below)
    if interpolation in ("linear", "midpoint"):
        weights = ranks.new_full(ranks.shape, 0.5) if interpolation == "midpoint" else ranks - below
        above = _make(xp.ceil(ranks._data).astype(xp.int64))
        res = lerp(res, gather(srt, -1, above), weights)
    # (*batch, Q) -> (Q, *batch), or (*batch) for a scalar q
    res = res.squeeze(-1) if scalar_q else res.movedim(-1, 0)
    if keepdim:
        lead = 0 if scalar_q else 1
        if d is None:
            res = res.reshape(res.shape[:lead] + (1,) * a.ndim)
        elif a.ndim:
            res = res.unsqueeze(d + lead)
    return res


@op
def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    """The ``q``-th quantiles of ``input`` (over everything, or along ``dim``); NaN where a slice has NaN."""
    res = _quantile(input, q, dim, keepdim, interpolation, False)
    return write_out(out, res) if out is not None else res


@op
def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    """Like ``quantile`` but ignoring NaN (NaN only where a slice is all NaN)."""
    res = _quantile(input, q, dim, keepdim, interpolation, True)
    return write_out(out, res) if out is not None else res

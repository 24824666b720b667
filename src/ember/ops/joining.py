"""Ops that join several tensors into one or split one into several: cat / stack and the ``*stack`` family,
split / chunk / unbind / tensor_split and the ``*split`` family, broadcasting several tensors, meshgrid,
block_diag, cartesian_prod, combinations, and the ``*_scatter`` ops that write one tensor into a copy of
another.  Ops on the shape of one tensor are in ``shape.py``.
"""
import itertools
import warnings

from .. import _dtype
from ._common import (Tensor, Node, GradMode, _make, _make_view, Size, array_module, backend_for, broadcast_error,
                      record, op, function, wrap_dim, write_out)
from ._device_check import same_device
from .indexing import record_view_write
from .shape import diagonal, expand, narrow, reshape, select, unsqueeze, as_strided, clone


def _joined_dtype(tensors):
    dt = tensors[0].dtype
    for t in tensors[1:]:
        if t.dtype is not dt:
            dt = _dtype.promote_types(dt, t.dtype)
    return dt


def with_min_dims(t, k):
    """``t`` viewed with at least ``k`` (1 to 3) dims, as ``atleast_<k>d`` places the new ones."""
    n = t._data.ndim
    if n >= k:
        return t
    if k == 1:
        return reshape(t, (1,))
    if k == 2:
        return reshape(t, (1, 1)) if n == 0 else unsqueeze(t, 0)
    if n == 0:
        return reshape(t, (1, 1, 1))
    if n == 1:
        return unsqueeze(unsqueeze(t, 0), 2)
    return unsqueeze(t, 2)


def _atleast(tensors, k):
    """Each tensor of ``tensors`` (varargs, or one sequence) viewed with at least ``k`` dims: a tensor for one
    tensor in, else a tuple."""
    if len(tensors) == 1 and isinstance(tensors[0], Tensor):
        return with_min_dims(tensors[0], k)
    return tuple(with_min_dims(t, k) for t in tensor_list(tensors, f"atleast_{k}d"))


def tensor_list(tensors, name):
    """Varargs of tensors or one sequence of tensors -> a list (PyTorch's TypeError for anything else)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tensors[0]
    out = list(tensors)
    for t in out:
        if not isinstance(t, Tensor):
            raise TypeError(f"{name}(): argument 'tensors' (position 1) must be tuple of Tensors, not "
                            f"{type(t).__name__}")
    return out


@function
def atleast_1d(*tensors):
    """Each input viewed with at least 1 dim (one tensor in -> one tensor out)."""
    return _atleast(tensors, 1)


@function
def atleast_2d(*tensors):
    """Each input viewed with at least 2 dims (0-d -> (1, 1), (n,) -> (1, n))."""
    return _atleast(tensors, 2)


@function
def atleast_3d(*tensors):
    """Each input viewed with at least 3 dims (0-d -> (1, 1, 1), (n,) -> (1, n, 1), (m, n) -> (m, n, 1))."""
    return _atleast(tensors, 3)


# ---------------------------------------------------------------------------- cat and stack
class CatBackward0(Node):
    def backward(self, grad):
        out, start = [], 0
        for n, need, dt in zip(self.sizes, self.needs, self.dtypes):
            if n is None:  # a 1-d empty tensor the forward left out
                out.append(grad.new_zeros(0, dtype=dt) if need else None)
                continue
            g = narrow(grad, self.dim, start, n) if need else None
            out.append(g if g is None or g.dtype is dt else g.to(dt))
            start += n
        return tuple(out)


@function(aliases=("concat", "concatenate"))
def cat(tensors, dim=0, *, out=None):
    """Join tensors along an existing dim ``dim`` (all other sizes must match)."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got {type(t).__name__}")
    same_device(*tensors)
    # legacy: 1-d empty tensors are left out (their gradient is empty)
    keep = [not (t._data.ndim == 1 and t._data.shape[0] == 0) for t in tensors]
    if not any(keep):
        keep = [True] * len(tensors)
    parts = [t for t, k in zip(tensors, keep) if k]
    ref = parts[0]._data
    if ref.ndim == 0:
        raise RuntimeError("zero-dimensional tensor (at position 0) cannot be concatenated")
    d = wrap_dim(dim, ref.ndim)
    dt = _joined_dtype(tensors)
    for t in parts:
        a = t._data
        if a.ndim != ref.ndim:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {ref.ndim} and {a.ndim}")
        for k in range(ref.ndim):
            if k != d and a.shape[k] != ref.shape[k]:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. Expected size "
                                   f"{ref.shape[k]} but got size {a.shape[k]} for tensor number "
                                   f"{next(j for j, u in enumerate(tensors) if u is t)} in the list.")
    arrays = [t._data if t._data.dtype == dt.np else t._data.astype(dt.np) for t in parts]
    res = _make(array_module(parts[0]).concatenate(arrays, axis=d))
    node = record(res, CatBackward0, tensors, dim=d)
    if node is not None:
        node.sizes = [t._data.shape[d] if k else None for t, k in zip(tensors, keep)]
        node.needs = [t._requires_grad for t in tensors]
        node.dtypes = [t.dtype for t in tensors]
    return write_out(out, res) if out is not None else res


class StackBackward0(Node):
    def backward(self, grad):
        return tuple((select(grad, self.dim, i) if dt is grad.dtype else select(grad, self.dim, i).to(dt))
                     if need else None for i, (need, dt) in enumerate(zip(self.needs, self.dtypes)))


@function
def stack(tensors, dim=0, *, out=None):
    """Join equally shaped tensors along a new dim ``dim``."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    shape = tensors[0]._data.shape
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got {type(t).__name__}")
        if t._data.shape != shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(shape)} at entry 0 and "
                               f"{list(t._data.shape)} at entry {i}")
    d = wrap_dim(dim, len(shape) + 1)
    same_device(*tensors)
    dt = _joined_dtype(tensors)
    arrays = [t._data if t._data.dtype == dt.np else t._data.astype(dt.np) for t in tensors]
    res = _make(array_module(tensors[0]).stack(arrays, axis=d))
    node = record(res, StackBackward0, tensors, dim=d)
    if node is not None:
        node.needs = [t._requires_grad for t in tensors]
        node.dtypes = [t.dtype for t in tensors]
    return write_out(out, res) if out is not None else res


def _stacked(tensors, name, k, dim):
    """``cat`` of ``tensors`` made at least ``k``-d, along ``dim`` (a function of the first one's dims)."""
    ts = [with_min_dims(t, k) for t in tensor_list((tensors,), name)]
    if not ts:
        raise RuntimeError(f"{name} expects a non-empty TensorList")
    return ts, dim(ts[0])


@function
def hstack(tensors, *, out=None):
    """Concatenate horizontally: along dim 0 for 1-D inputs, else along dim 1."""
    ts, d = _stacked(tensors, "hstack", 1, lambda t: 0 if t._data.ndim == 1 else 1)
    return cat(ts, d, out=out)


@function(aliases=("row_stack",))
def vstack(tensors, *, out=None):
    """Concatenate vertically (dim 0) after making every input at least 2-D."""
    ts, d = _stacked(tensors, "vstack", 2, lambda t: 0)
    return cat(ts, d, out=out)


@function
def dstack(tensors, *, out=None):
    """Concatenate depth-wise (dim 2) after making every input at least 3-D."""
    ts, d = _stacked(tensors, "dstack", 3, lambda t: 2)
    return cat(ts, d, out=out)


@function
def column_stack(tensors, *, out=None):
    """Stack as columns: 0-D and 1-D inputs become (n, 1) columns, then concatenate along dim 1."""
    ts = tensor_list((tensors,), "column_stack")
    if not ts:
        raise RuntimeError("column_stack expects a non-empty TensorList")
    ts = [reshape(t, (t._data.size, 1)) if t._data.ndim <= 1 else t for t in ts]
    return cat(ts, 1, out=out)


# ---------------------------------------------------------------------------- splits
class SplitBackward0(Node):
    """Backward of the views ``split``/``chunk`` (and, renamed, ``split_with_sizes``/``unbind``) return: one
    node with an output per piece; the pieces' gradients (zeros where a piece got none) are joined again."""

    _multi_view = True   # PyTorch refuses in-place changes to these views while they carry this history

    def backward(self, *grads):
        some = next(g for g in grads if g is not None)
        parts = [g if g is not None else some.new_zeros(shape, dtype=self.dtype)
                 for g, shape in zip(grads, self.shapes)]
        return ((stack if self.stacked else cat)(parts, self.dim),)


SplitWithSizesBackward0 = type("SplitWithSizesBackward0", (SplitBackward0,), {})
UnbindBackward0 = type("UnbindBackward0", (SplitBackward0,), {})


def _pieces(input, arrays, node_cls, dim, stacked=False):
    """Views of ``input`` over ``arrays``, all outputs of one ``node_cls`` node (as PyTorch's split/unbind)."""
    outs = tuple(_make_view(input, a) for a in arrays)
    if not input._requires_grad or not outs:
        return outs
    node = record(outs, node_cls, (input,), dim=dim, stacked=stacked, dtype=input.dtype,
                  shapes=[a.shape for a in arrays])
    if node is not None:
        version = input._version[0]
        for o in outs:
            o.__dict__["_vv"] = version
    elif not GradMode.enabled:
        for o in outs:
            o.__dict__["_nograd_view"] = True
    return outs


@op
def unbind(input, dim=0):
    """All slices along ``dim``, as a tuple of views."""
    arr = input._data
    d = wrap_dim(dim, arr.ndim)
    lead = (slice(None),) * d
    return _pieces(input, [arr[lead + (i, Ellipsis)] for i in range(arr.shape[d])], UnbindBackward0, d, True)


@op
def split(tensor, split_size_or_sections, dim=0):
    """Views of ``tensor`` cut along ``dim``: chunks of one size (last may be smaller) or of listed sizes."""
    size = tensor._data.shape[wrap_dim(dim, tensor._data.ndim)]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step < 0 or (step == 0 and size):
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {size}")
        sections = [min(step, size - i) for i in range(0, size, step)] if step and size else [0]  # empty: 1 piece
    else:
        sections = list(split_size_or_sections)
        if sum(sections) != size:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {size} (input tensor's "
                               f"size at dimension {dim}), but got split_sizes={sections}")
    d = wrap_dim(dim, tensor._data.ndim)
    lead = (slice(None),) * d
    arrays, start = [], 0
    for n in sections:
        if n < 0:
            raise RuntimeError(f"split_with_sizes expects split_sizes have only non-negative entries, but got "
                               f"split_sizes={sections}")
        arrays.append(tensor._data[lead + (slice(start, start + n),)])
        start += n
    node_cls = SplitBackward0 if isinstance(split_size_or_sections, int) else SplitWithSizesBackward0
    return _pieces(tensor, arrays, node_cls, d)


@op
def chunk(input, chunks, dim=0):
    """Split into ``chunks`` nearly equal views along ``dim`` (fewer when the size does not allow)."""
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0, got: " + str(chunks))
    size = input._data.shape[wrap_dim(dim, input._data.ndim)]
    step = -(-size // chunks) if size else 0
    if step == 0:
        return tuple(narrow(input, dim, 0, 0) for _ in range(chunks)) if size == 0 else ()
    return split(input, step, dim)


@op
def split_with_sizes(input, split_sizes, dim=0):
    """Views of ``input`` cut along ``dim`` into pieces of the listed sizes."""
    return split(input, list(split_sizes), dim)


@op
def unsafe_split(input, split_size, dim=0):
    """``split`` (ember's views carry no extra safety checks to skip)."""
    return split(input, split_size, dim)


@op
def unsafe_chunk(input, chunks, dim=0):
    """``chunk`` (ember's views carry no extra safety checks to skip)."""
    return chunk(input, chunks, dim)


@op
def tensor_split(input, indices_or_sections, dim=0):
    """Views of ``input`` split along ``dim`` into n nearly equal parts (an int) or at the given indices."""
    arr = input._data
    if arr.ndim == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a tensor with 0 dims")
    d = wrap_dim(dim, arr.ndim)
    size = arr.shape[d]
    ios = indices_or_sections
    if isinstance(ios, Tensor):
        if ios.dtype is not _dtype.int64:
            raise RuntimeError(f"tensor_split expected tensor_indices_or_sections to have dtype of long, but got "
                               f"{ios.dtype}")
        if ios._data.ndim > 1:
            raise RuntimeError(f"tensor_split expected tensor_indices_or_sections to be a zero-dimensional or "
                               f"one-dimensional tensor, but got a tensor with {ios._data.ndim} dims")
        ios = ios.item() if ios._data.ndim == 0 else ios.tolist()
    if isinstance(ios, int):
        if ios <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {ios}")
        q, r = divmod(size, ios)
        bounds, start = [], 0
        for i in range(ios):
            n = q + (1 if i < r else 0)
            bounds.append((start, n))
            start += n
    else:
        bounds, start = [], 0
        for idx in list(ios) + [size]:
            idx = int(idx)
            stop = min(max(idx + size if idx < 0 else idx, 0), size)
            bounds.append((start, max(stop - start, 0)))
            start = stop
    return tuple(narrow(input, d, s, n) for s, n in bounds)


def _split_dir(input, ios, dim, name, min_dims):
    n = input._data.ndim
    if n < min_dims:
        raise RuntimeError(f"torch.{name} requires a tensor with at least {min_dims} dimension, but got a tensor "
                           f"with {n} dimensions!")
    if isinstance(ios, int):
        size = input._data.shape[dim]
        if ios == 0 or size % ios:
            raise RuntimeError(f"torch.{name} attempted to split along dimension {dim}, but the size of the "
                               f"dimension {size} is not divisible by the split_size {ios}!")
    return tensor_split(input, ios, dim)


@op
def hsplit(input, indices_or_sections):
    """``tensor_split`` along dim 1 (dim 0 for 1-D tensors); an int must divide the size."""
    return _split_dir(input, indices_or_sections, 1 if input._data.ndim > 1 else 0, "hsplit", 1)


@op
def vsplit(input, indices_or_sections):
    """``tensor_split`` along dim 0 of a tensor of at least 2 dims; an int must divide the size."""
    return _split_dir(input, indices_or_sections, 0, "vsplit", 2)


@op
def dsplit(input, indices_or_sections):
    """``tensor_split`` along dim 2 of a tensor of at least 3 dims; an int must divide the size."""
    return _split_dir(input, indices_or_sections, 2, "dsplit", 3)


# ---------------------------------------------------------------------------- broadcasting and grids
@function
def broadcast_shapes(*shapes):
    """The shape that tensors of ``shapes`` broadcast to (as ``ember.Size``)."""
    dims = []
    for s in shapes:
        if isinstance(s, int):
            s = (s,)
        elif isinstance(s, Tensor):
            raise TypeError("broadcast_shapes(): expected shapes, not Tensors")
        dims.append(tuple(s))
    n = max((len(s) for s in dims), default=0)
    result = [1] * n
    for s in dims:
        for i, v in enumerate(s):
            if v < 0:
                raise ValueError("Attempting to broadcast a dimension with negative length!")
            j = n - len(s) + i
            if result[j] == 1:
                result[j] = v
            elif v != 1 and v != result[j]:
                raise RuntimeError(f"Shape mismatch: objects cannot be broadcast to a single shape.  "
                                   f"Mismatch is at dim {j}")
    return Size(result)


@function
def broadcast_tensors(*tensors):
    """Views of the inputs expanded to their common broadcast shape."""
    ts = tensor_list(tensors, "broadcast_tensors")
    try:
        shape = broadcast_shapes(*(t._data.shape for t in ts))
    except RuntimeError:
        a = ts[0]._data.shape
        for t in ts[1:]:   # PyTorch names the first pair that does not broadcast
            try:
                a = tuple(broadcast_shapes(a, t._data.shape))
            except RuntimeError:
                raise broadcast_error(a, t._data.shape) from None
        raise
    return tuple(expand(t, shape) for t in ts)


@function
def meshgrid(*tensors, indexing=None):
    """Coordinate grids (expanded views) from 1-D tensors; ``indexing`` is 'ij' (default) or 'xy'."""
    ts = tensor_list(tensors, "meshgrid")
    if indexing is None:
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the indexing argument.",
                      UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but received: {indexing}")
    if not ts:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    for t in ts:
        if t._data.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: "
                               f"{t._data.ndim}D tensor")
        if t.dtype is not ts[0].dtype:
            raise RuntimeError("torch.meshgrid: Expected all tensors in the tensor list to have the same dtype "
                               f"but got {ts[0].dtype} and {t.dtype}")
    ts = [reshape(t, (-1,)) if t._data.ndim == 0 else t for t in ts]
    swap = indexing == "xy" and len(ts) >= 2
    if swap:
        ts[0], ts[1] = ts[1], ts[0]
    shape = tuple(t._data.shape[0] for t in ts)
    n = len(ts)
    grids = [expand(reshape(t, tuple(-1 if j == i else 1 for j in range(n))), shape) for i, t in enumerate(ts)]
    if swap:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


class BlockDiagBackward0(Node):
    def backward(self, grad):
        out = []
        for (r0, c0, shape), need in zip(self.blocks, self.needs):
            if not need:
                out.append(None)
                continue
            rows = shape[0] if len(shape) == 2 else 1
            cols = shape[-1] if len(shape) >= 1 else 1
            g = grad[r0:r0 + rows, c0:c0 + cols]
            out.append(g.reshape(shape) if len(shape) != 2 else g)
        return tuple(out)


@function
def block_diag(*tensors):
    """A block-diagonal matrix from the inputs (0-D, 1-D (as a row) or 2-D), zeros elsewhere."""
    ts = tensor_list(tensors, "block_diag")
    mats = []
    for i, t in enumerate(ts):
        n = t._data.ndim
        if n > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer dimensions. Input {i} has {n} "
                               "dimensions")
        mats.append(t._data.reshape(1, -1) if n < 2 else t._data)
    dt = ts[0].dtype if ts else _dtype.get_default_dtype()
    for t in ts[1:]:
        dt = _dtype.promote_types(dt, t.dtype)
    xp = array_module(ts[0]) if ts else backend_for(None).xp
    z = xp.zeros((sum(m.shape[0] for m in mats), sum(m.shape[1] for m in mats)), dtype=dt.np)
    blocks, r, c = [], 0, 0
    for t, m in zip(ts, mats):
        z[r:r + m.shape[0], c:c + m.shape[1]] = m
        blocks.append((r, c, t._data.shape))
        r += m.shape[0]
        c += m.shape[1]
    res = _make(z)
    node = record(res, BlockDiagBackward0, ts, blocks=blocks)
    if node is not None:
        node.needs = [t._requires_grad for t in ts]
    return res


@function
def cartesian_prod(*tensors):
    """All tuples of one entry from each 1-D input, as rows of a (N, len(tensors)) tensor."""
    ts = tensor_list(tensors, "cartesian_prod")
    for t in ts:
        if t._data.ndim != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape {list(t.shape)}")
    if len(ts) == 1:
        return ts[0]
    return stack([reshape(g, (-1,)) for g in meshgrid(*ts, indexing="ij")], 1)


@function
def combinations(input, r=2, with_replacement=False):
    """All length-``r`` combinations of the entries of a 1-D tensor (as itertools.combinations)."""
    if input._data.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(input.shape)}")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    xp = array_module(input)
    if r == 0:
        return _make(xp.empty((0,), dtype=input._data.dtype))
    n = input._data.shape[0]
    fn = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    idx = xp.array(list(fn(range(n), r)), dtype="int64").reshape(-1, r)
    return stack([input.index_select(0, _make(xp.ascontiguousarray(idx[:, j]))) for j in range(r)], 1)


# ---------------------------------------------------------------------------- *_scatter: out-of-place writes
def _scatter_into(input, view_fn, src):
    """A copy of ``input`` with ``src`` written into the view ``view_fn(copy)`` (differentiable in both)."""
    target = view_fn(input.detach())
    if tuple(target.shape) != tuple(src.shape):
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src size = {list(src.shape)}, "
                           f"slice size = {list(target.shape)}")
    out = clone(input)
    view = view_fn(out.detach())
    # write through a plain alias of the copy and record the write as PyTorch's CopySlices
    alias = _make_view(out, view._data)
    alias._data[...] = src._data.astype(out._data.dtype, copy=False)
    out._version[0] += 1
    if GradMode.enabled and (input._requires_grad or src._requires_grad):
        record_view_write(alias, src)
    return out


@op
def slice_scatter(input, src, dim=0, start=None, end=None, step=1):
    """A copy of ``input`` with ``src`` in the slice ``start:end:step`` of dim ``dim``."""
    d = wrap_dim(dim, input._data.ndim)
    key = (slice(None),) * d + (slice(start, end, step),)
    return _scatter_into(input, lambda t: t[key], src)


@op
def select_scatter(input, src, dim, index):
    """A copy of ``input`` with ``src`` at ``index`` of dim ``dim``."""
    return _scatter_into(input, lambda t: select(t, dim, index), src)


@op
def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    """A copy of ``input`` with ``src`` on the diagonal ``(offset, dim1, dim2)``."""
    return _scatter_into(input, lambda t: diagonal(t, offset, dim1, dim2), src)


@op
def as_strided_scatter(input, src, size, stride, storage_offset=None):
    """A copy of ``input`` with ``src`` written into the strided view ``as_strided(size, stride, offset)``."""
    return _scatter_into(input, lambda t: as_strided(t, size, stride, storage_offset), src)

"""Shape and joining ops beyond the basic views: repeat / tile, flips and rolls, the ``*stack`` family,
splits, diagonals and triangles, broadcasting helpers, meshgrid, block_diag, combinations, as_strided."""
import itertools
import warnings

from .. import _dtype
from ._common import xp, Tensor, Node, attach, GradMode, _make, _make_view, Size, wrap_dim
from .shape import (_shape_arg, _diag_embed_like, cat, stack, narrow, diagonal, expand, reshape, transpose,
                    unsqueeze)
from .elementwise import write_out, inplace


def _check_tensor(x, name, pos=1):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position {pos}) must be Tensor, not {type(x).__name__}")


def _tensor_list(tensors, name):
    """Varargs of tensors or one sequence of tensors -> a list (TypeError for anything else)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tensors[0]
    out = list(tensors)
    for i, t in enumerate(out):
        if not isinstance(t, Tensor):
            raise TypeError(f"{name}(): argument 'tensors' (position 1) must be tuple of Tensors, not "
                            f"{type(t).__name__}")
    return out


# ---------------------------------------------------------------------------- repeat / tile
class RepeatBackward0(Node):
    def backward(self, grad):
        # grad has shape (r0*s0, r1*s1, ...): split every dim into (r, s) and sum the r axes
        split, axes = [], []
        for i, (r, s) in enumerate(zip(self.repeats, self.padded)):
            split += [r, s]
            axes.append(2 * i)
        g = grad.reshape(split).sum(tuple(axes)) if axes else grad
        return (g.reshape(self.shape),)


def repeat(input, *sizes):
    """Repeat ``input`` along each dim ``sizes[i]`` times (extra leading sizes add dims): a copy."""
    sizes = _shape_arg(sizes)
    arr = input._data
    if len(sizes) < arr.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of "
                           "tensor")
    for s in sizes:
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(sizes)}")
    padded = (1,) * (len(sizes) - arr.ndim) + arr.shape
    res = _make(xp.tile(arr.reshape(padded), sizes) if sizes else arr.copy())
    if input._requires_grad and GradMode.enabled:
        node = RepeatBackward0()
        node.repeats, node.padded, node.shape = sizes, padded, arr.shape
        attach(res, node, input)
    return res


def tile(input, *dims):
    """Repeat ``input`` ``dims[i]`` times along each dim; missing leading dims count as 1."""
    dims = _shape_arg(dims)
    n = input._data.ndim
    if len(dims) < n:
        dims = (1,) * (n - len(dims)) + dims
    return repeat(input, dims)


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Repeat each element ``repeats`` times (an int or a tensor of per-element counts) along ``dim``.

    With ``dim=None`` the input is flattened first.  ``repeat_interleave(counts)`` alone returns
    ``arange(len(counts))`` with entry i repeated counts[i] times.
    """
    if repeats is None:
        counts = input
        if counts._data.ndim > 1:
            raise RuntimeError("repeats must be 0-dim or 1-dim tensor")
        c = counts._data.reshape(-1)
        if c.dtype.kind not in "iu":
            raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
        if c.size and c.min() < 0:
            raise RuntimeError("repeats can not be negative")
        return _make(xp.repeat(xp.arange(c.size, dtype=c.dtype), c))
    if dim is None:
        input = input.reshape(-1)
        d = 0
    else:
        d = wrap_dim(dim, input._data.ndim)
    if input._data.ndim == 0:
        input = input.reshape(1)
    n = input._data.shape[d]
    if isinstance(repeats, Tensor):
        r = repeats._data
        if r.dtype.kind not in "iu":
            raise NotImplementedError(f"\"repeat_interleave_cpu\" not implemented for '{repeats.dtype}'")
        if r.ndim > 1:
            raise RuntimeError("repeats must be 0-dim or 1-dim tensor")
        r = r.reshape(-1)
        if r.size == 1:
            r = xp.full(n, r[0])
        elif r.size != n:
            raise RuntimeError(f"repeats must have the same size as input along dim, but got repeats.size(0) = "
                               f"{r.size} and input.size({d}) = {n}")
    else:
        if repeats < 0:
            raise RuntimeError("repeats can not be negative")
        r = xp.full(n, repeats)
    if r.size and r.min() < 0:
        raise RuntimeError("repeats can not be negative")
    idx = xp.repeat(xp.arange(n, dtype=xp.int64), r)
    if output_size is not None and output_size != idx.size:
        raise RuntimeError(f"allocated size does not match required size")
    from .indexing import index_select
    return index_select(input, d, _make(idx))


# ---------------------------------------------------------------------------- flips and rolls
class FlipBackward0(Node):
    def backward(self, grad):
        return (flip(grad, self.dims),)


def flip(input, *dims):
    """A copy of ``input`` with the order of entries reversed along ``dims`` (a sequence, or varargs)."""
    arr = input._data
    if len(dims) == 1 and isinstance(dims[0], (list, tuple, Size)):
        dims = tuple(dims[0])
    dims = tuple(wrap_dim(d, arr.ndim) for d in dims)
    if len(set(dims)) != len(dims):
        raise RuntimeError(f"dim {dims[0]} appears multiple times in the list of dims")
    if arr.ndim == 0:
        res = _make(arr.copy())
    else:
        res = _make(xp.flip(arr, dims).copy() if dims else arr.copy())
    if input._requires_grad and GradMode.enabled:
        node = FlipBackward0()
        node.dims = dims
        attach(res, node, input)
    return res


def fliplr(input):
    """Flip the columns (dim 1) of a tensor of at least 2 dims."""
    if input._data.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, (1,))


def flipud(input):
    """Flip the rows (dim 0) of a tensor of at least 1 dim."""
    if input._data.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, (0,))


class RollBackward0(Node):
    def backward(self, grad):
        return (roll(grad, tuple(-s for s in self.shifts), self.dims),)


def roll(input, shifts, dims=None):
    """Shift entries cyclically by ``shifts`` along ``dims`` (the flattened tensor when dims is None)."""
    arr = input._data
    shifts_t = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    if dims is None:
        if len(shifts_t) != 1:
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts_t)}, dims:0")
        res = _make(xp.roll(arr.reshape(-1), shifts_t[0]).reshape(arr.shape))
        dims_t = None
    else:
        dims_t = (dims,) if isinstance(dims, int) else tuple(dims)
        if len(shifts_t) != len(dims_t):
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts_t)}, dims:{len(dims_t)}")
        dims_t = tuple(wrap_dim(d, arr.ndim) for d in dims_t)
        res = _make(xp.roll(arr, shifts_t, dims_t) if arr.ndim else arr.copy())
    if input._requires_grad and GradMode.enabled:
        node = RollBackward0()
        node.shifts, node.dims = shifts_t, dims_t
        attach(res, node, input)
    return res


def rot90(input, k=1, dims=(0, 1)):
    """Rotate by 90 degrees ``k`` times in the plane of ``dims`` (from the first towards the second)."""
    dims = tuple(dims)
    n = input._data.ndim
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if n < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {n}")
    d0, d1 = wrap_dim(dims[0], n), wrap_dim(dims[1], n)
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {d0} and dim1 = {d1}")
    k %= 4
    if k == 1:
        return transpose(flip(input, (d1,)), d0, d1)
    if k == 2:
        return flip(input, (d0, d1))
    if k == 3:
        return transpose(flip(input, (d0,)), d0, d1)
    from .shape import clone
    return clone(input)


# ---------------------------------------------------------------------------- splits
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
        ios = int(ios._data) if ios._data.ndim == 0 else [int(i) for i in ios._data]
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


def hsplit(input, indices_or_sections):
    """``tensor_split`` along dim 1 (dim 0 for 1-D tensors); an int must divide the size."""
    return _split_dir(input, indices_or_sections, 1 if input._data.ndim > 1 else 0, "hsplit", 1)


def vsplit(input, indices_or_sections):
    """``tensor_split`` along dim 0 of a tensor of at least 2 dims; an int must divide the size."""
    return _split_dir(input, indices_or_sections, 0, "vsplit", 2)


def dsplit(input, indices_or_sections):
    """``tensor_split`` along dim 2 of a tensor of at least 3 dims; an int must divide the size."""
    return _split_dir(input, indices_or_sections, 2, "dsplit", 3)


def split_with_sizes(input, split_sizes, dim=0):
    """Views of ``input`` cut along ``dim`` into pieces of the listed sizes."""
    from .shape import split
    return split(input, list(split_sizes), dim)


def unsafe_split(input, split_size, dim=0):
    from .shape import split
    return split(input, split_size, dim)


def unsafe_chunk(input, chunks, dim=0):
    from .shape import chunk
    return chunk(input, chunks, dim)


# ---------------------------------------------------------------------------- stacking
def atleast_1d(*tensors):
    """Each input viewed with at least 1 dim (one tensor in -> one tensor out)."""
    return _atleast(tensors, 1)


def atleast_2d(*tensors):
    """Each input viewed with at least 2 dims (0-d -> (1, 1), (n,) -> (1, n))."""
    return _atleast(tensors, 2)


def atleast_3d(*tensors):
    """Each input viewed with at least 3 dims (0-d -> (1, 1, 1), (n,) -> (1, n, 1), (m, n) -> (m, n, 1))."""
    return _atleast(tensors, 3)


def _atleast_one(t, k):
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
    if len(tensors) == 1 and isinstance(tensors[0], Tensor):
        return _atleast_one(tensors[0], k)
    ts = _tensor_list(tensors, f"atleast_{k}d")
    return tuple(_atleast_one(t, k) for t in ts)


def hstack(tensors, *, out=None):
    """Concatenate horizontally: along dim 0 for 1-D inputs, else along dim 1."""
    ts = [_atleast_one(t, 1) for t in _tensor_list((tensors,), "hstack")]
    if not ts:
        raise RuntimeError("hstack expects a non-empty TensorList")
    return cat(ts, 0 if ts[0]._data.ndim == 1 else 1, out=out)


def vstack(tensors, *, out=None):
    """Concatenate vertically (dim 0) after making every input at least 2-D."""
    ts = [_atleast_one(t, 2) for t in _tensor_list((tensors,), "vstack")]
    if not ts:
        raise RuntimeError("vstack expects a non-empty TensorList")
    return cat(ts, 0, out=out)


row_stack = vstack


def dstack(tensors, *, out=None):
    """Concatenate depth-wise (dim 2) after making every input at least 3-D."""
    ts = [_atleast_one(t, 3) for t in _tensor_list((tensors,), "dstack")]
    if not ts:
        raise RuntimeError("dstack expects a non-empty TensorList")
    return cat(ts, 2, out=out)


def column_stack(tensors, *, out=None):
    """Stack as columns: 0-D and 1-D inputs become (n, 1) columns, then concatenate along dim 1."""
    ts = _tensor_list((tensors,), "column_stack")
    if not ts:
        raise RuntimeError("column_stack expects a non-empty TensorList")
    ts = [reshape(t, (t._data.size, 1)) if t._data.ndim <= 1 else t for t in ts]
    return cat(ts, 1, out=out)


# ---------------------------------------------------------------------------- diagonals and triangles
def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """A tensor whose (dim1, dim2) diagonals (shifted by ``offset``) hold the last dim of ``input``."""
    arr = input._data
    n = arr.ndim + 1
    d1, d2 = wrap_dim(dim1, n), wrap_dim(dim2, n)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    m = (arr.shape[-1] if arr.ndim else 1) + abs(offset)
    rest = list(arr.shape[:-1])
    shape = []
    for i in range(n):
        shape.append(m if i in (d1, d2) else rest.pop(0))
    src = input if arr.ndim else reshape(input, (1,))
    return _diag_embed_like(src, tuple(shape), offset, d1, d2)


def diag(input, diagonal=0, *, out=None):
    """For a 1-D input the square matrix with it on diagonal ``diagonal``; for a 2-D input that diagonal."""
    n = input._data.ndim
    if n == 1:
        res = diag_embed(input, diagonal, 0, 1)
    elif n == 2:
        from .shape import clone
        res = clone(_diagonal(input, diagonal))
    else:
        raise RuntimeError("diag(): Supports 1D or 2D tensors. Got " + f"{n}D")
    return write_out(out, res) if out is not None else res


def _diagonal(input, offset):
    return diagonal(input, offset, 0, 1)


def diagflat(input, offset=0):
    """The flattened input placed on diagonal ``offset`` of a square matrix."""
    return diag_embed(reshape(input, (-1,)), offset, 0, 1)


class TrilBackward0(Node):
    def backward(self, grad):
        return (tril(grad, self.k),)


class TriuBackward0(Node):
    def backward(self, grad):
        return (triu(grad, self.k),)


def _tri(input, k, lower, out):
    arr = input._data
    name = "tril" if lower else "triu"
    if arr.ndim < 2:
        raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")
    res = _make(xp.tril(arr, k) if lower else xp.triu(arr, k))
    if input._requires_grad and GradMode.enabled:
        node = TrilBackward0() if lower else TriuBackward0()
        node.k = k
        attach(res, node, input)
    return write_out(out, res) if out is not None else res


def tril(input, diagonal=0, *, out=None):
    """The lower triangle (entries on and below diagonal ``diagonal``) of the last two dims; the rest zero."""
    return _tri(input, diagonal, True, out)


def triu(input, diagonal=0, *, out=None):
    """The upper triangle (entries on and above diagonal ``diagonal``) of the last two dims; the rest zero."""
    return _tri(input, diagonal, False, out)


tril_ = inplace(tril)
triu_ = inplace(triu)


def _tri_indices(row, col, offset, dtype, lower):
    if row < 0 or col < 0:
        raise RuntimeError(f"row must be non-negative, got{row}" if row < 0 else f"col must be non-negative, got{col}")
    dt = dtype or _dtype.int64
    if dt not in (_dtype.int64, _dtype.int32):
        raise RuntimeError(f"\"tril_indices\" not implemented for '{dt.name}'")
    r, c = xp.tril_indices(row, offset, col) if lower else xp.triu_indices(row, offset, col)
    return _make(xp.stack([r, c]).astype(dt.np).reshape(2, -1))


def tril_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """The (2, N) coordinates of the lower triangle of a row x col matrix, row by row."""
    return _tri_indices(row, col, offset, dtype, True)


def triu_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """The (2, N) coordinates of the upper triangle of a row x col matrix, row by row."""
    return _tri_indices(row, col, offset, dtype, False)


# ---------------------------------------------------------------------------- broadcasting and grids
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


def broadcast_tensors(*tensors):
    """Views of the inputs expanded to their common broadcast shape."""
    ts = _tensor_list(tensors, "broadcast_tensors")
    try:
        shape = broadcast_shapes(*(t._data.shape for t in ts))
    except RuntimeError:
        from ._common import broadcast_error
        shapes = [t._data.shape for t in ts]
        a = shapes[0]
        for b in shapes[1:]:
            try:
                a = xp.broadcast_shapes(a, b)
            except ValueError:
                raise broadcast_error(a, b) from None
        raise
    return tuple(expand(t, shape) for t in ts)


def meshgrid(*tensors, indexing=None):
    """Coordinate grids (expanded views) from 1-D tensors; ``indexing`` is 'ij' (default) or 'xy'."""
    ts = _tensor_list(tensors, "meshgrid")
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
    grids = []
    for i, t in enumerate(ts):
        v = reshape(t, tuple(-1 if j == i else 1 for j in range(n)))
        grids.append(expand(v, shape))
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


def block_diag(*tensors):
    """A block-diagonal matrix from the inputs (0-D, 1-D (as a row) or 2-D), zeros elsewhere."""
    ts = _tensor_list(tensors, "block_diag")
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
    rows = sum(m.shape[0] for m in mats)
    cols = sum(m.shape[1] for m in mats)
    z = xp.zeros((rows, cols), dtype=dt.np)
    blocks, r, c = [], 0, 0
    for t, m in zip(ts, mats):
        z[r:r + m.shape[0], c:c + m.shape[1]] = m
        blocks.append((r, c, t._data.shape))
        r += m.shape[0]
        c += m.shape[1]
    res = _make(z)
    if GradMode.enabled and any(t._requires_grad for t in ts):
        node = BlockDiagBackward0()
        node.blocks, node.needs = blocks, [t._requires_grad for t in ts]
        attach(res, node, *ts)
    return res


def cartesian_prod(*tensors):
    """All tuples of one entry from each 1-D input, as rows of a (N, len(tensors)) tensor."""
    ts = _tensor_list(tensors, "cartesian_prod")
    for t in ts:
        if t._data.ndim != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape {list(t.shape)}")
    if len(ts) == 1:
        return ts[0]
    grids = meshgrid(*ts, indexing="ij")
    return stack([reshape(g, (-1,)) for g in grids], 1)


def combinations(input, r=2, with_replacement=False):
    """All length-``r`` combinations of the entries of a 1-D tensor (as itertools.combinations)."""
    if input._data.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(input.shape)}")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return _make(xp.empty((0,), dtype=input._data.dtype))
    n = input._data.shape[0]
    fn = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    idx = xp.array(list(fn(range(n), r)), dtype=xp.int64).reshape(-1, r)
    from .indexing import index_select
    cols = [index_select(input, 0, _make(xp.ascontiguousarray(idx[:, j]))) for j in range(r)]
    return stack(cols, 1)


# ---------------------------------------------------------------------------- as_strided
def _root_array(t):
    """The NumPy array owning the memory under tensor ``t``, and the element offset of ``t`` within it.

    The search starts at ``t``'s base tensor: arrays made by ``as_strided`` (diagonal, unfold...) do not lead
    back to their owner through ``.base``."""
    root = t._base._data if t._base is not None else t._data
    while isinstance(root.base, xp.ndarray):
        root = root.base
    item = t._data.itemsize
    off = (t._data.__array_interface__["data"][0] - root.__array_interface__["data"][0]) // item if t._data.size \
        else 0
    return root, off


def _element_offsets(shape, strides, start):
    """Storage offsets (in elements) of every entry of a strided layout, as an array of ``shape``."""
    off = xp.full(shape, start, dtype=xp.int64)
    for d, (n, s) in enumerate(zip(shape, strides)):
        idx = xp.arange(n, dtype=xp.int64) * s
        off = off + idx.reshape((n,) + (1,) * (len(shape) - d - 1))
    return off


def positions_in(base, view_shape, view_strides, view_offset):
    """For every entry of a strided view into ``base``'s memory, the flat (row-major) index of the entry of
    ``base`` at the same address; -1 where the view addresses memory outside ``base``."""
    root, boff = _root_array(base)
    item = base._data.itemsize
    if base._data.flags.c_contiguous:  # the common case: an address is its row-major index
        pos = _element_offsets(view_shape, view_strides, view_offset - boff)
        return xp.where((pos >= 0) & (pos < base._data.size), pos, -1)
    b_strides = tuple(s // item for s in base._data.strides)
    b_off = _element_offsets(base._data.shape, b_strides, boff).reshape(-1)
    order = xp.argsort(b_off, kind="stable")
    sorted_off = b_off[order]
    v_off = _element_offsets(view_shape, view_strides, view_offset)
    if not sorted_off.size:
        return xp.full(view_shape, -1, dtype=xp.int64)
    pos = xp.searchsorted(sorted_off, v_off)
    pos_c = xp.minimum(pos, sorted_off.size - 1)
    found = sorted_off[pos_c] == v_off
    return xp.where(found, order[pos_c], -1)


class AsStridedBackward0(Node):
    def backward(self, grad):
        from .scatter import index_add
        pos = self.positions
        flat = grad.reshape(-1)
        keep = pos.reshape(-1) >= 0
        z = grad.new_zeros((self.numel,))
        if not bool(keep.all()):
            flat = flat[_make(keep)]
            pos = _make(pos.reshape(-1)[keep])
        else:
            pos = _make(pos.reshape(-1))
        return (index_add(z, 0, pos, flat).reshape(self.shape),)


def as_strided(input, size, stride, storage_offset=None):
    """A view of ``input``'s storage with the given sizes, strides and offset (all in elements)."""
    size, stride = _shape_arg((size,)), _shape_arg((stride,))
    if len(size) != len(stride):
        raise RuntimeError(f"mismatch in length of strides and shape")
    for s in stride:
        if s < 0:
            raise RuntimeError("as_strided: Negative strides are not supported at the moment, got strides: "
                               f"{list(stride)}")
    root, own_off = _root_array(input)
    offset = own_off if storage_offset is None else storage_offset
    item = input._data.itemsize
    need = offset + 1 + sum((n - 1) * s for n, s in zip(size, stride)) if all(size) else 0
    storage_size = root.nbytes // item
    if need > storage_size:
        raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset {offset}, and "
                           f"itemsize {item} requiring a storage size of {need * item} are out of bounds for "
                           f"storage of size {storage_size * item}")
    flat = _flat_storage(root)
    arr = xp.lib.stride_tricks.as_strided(flat[offset:] if flat.size > offset else flat[:0], shape=size,
                                          strides=tuple(s * item for s in stride))
    res = _make_view(input, arr)
    if input._requires_grad and GradMode.enabled:
        node = AsStridedBackward0()
        node.positions = positions_in(input, size, stride, offset)
        node.numel, node.shape = input._data.size, input._data.shape
        attach(res, node, input)
        res.__dict__["_vv"] = input._version[0]
    return res


def _flat_storage(root):
    """A 1-D view of all of ``root``'s memory, in address order."""
    if root.flags.c_contiguous or root.flags.f_contiguous:
        return root.reshape(-1, order="A") if root.ndim else root.reshape(1)
    return xp.frombuffer(root, dtype=root.dtype)  # pragma: no cover - roots own contiguous buffers


def as_strided_(input, size, stride, storage_offset=None):
    """Make ``input`` itself the strided view ``as_strided(input, size, stride, storage_offset)``; returns it."""
    res = as_strided(input, size, stride, storage_offset)
    input._data = res._data
    if res._grad_fn is not None:
        input._grad_fn = res._grad_fn
        input.__dict__.pop("_output_nr", None)
    return input


def narrow_copy(input, dim, start, length):
    """A copy of ``narrow(input, dim, start, length)``."""
    from .shape import clone
    return clone(narrow(input, dim, start, length))


# ---------------------------------------------------------------------------- *_scatter: out-of-place writes
def _scatter_into(input, view_fn, src, what):
    """A copy of ``input`` with ``src`` written into the view ``view_fn(copy)`` (differentiable in both)."""
    from .shape import clone
    target = view_fn(input.detach())
    if tuple(target.shape) != tuple(src.shape):
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src size = {list(src.shape)}, "
                           f"slice size = {list(target.shape)}")
    out = clone(input)
    from ._views import rebase
    view = view_fn(out.detach())
    view.__dict__.pop("_detached", None)
    # write through a plain alias of the copy and record the write as PyTorch's CopySlices
    alias = _make_view(out, view._data)
    alias._data[...] = src._data.astype(out._data.dtype, copy=False)
    out._version[0] += 1
    if GradMode.enabled and (input._requires_grad or src._requires_grad):
        from .indexing import CopyBackwards
        node = CopyBackwards()
        node.value_shape = tuple(src.shape) if src._requires_grad else None
        node.value_dtype = src.dtype
        attach(alias, node, src if src._requires_grad else None)
        if not src._requires_grad:
            alias._requires_grad, alias._grad_fn = False, None
        rebase(alias)
    return out


def slice_scatter(input, src, dim=0, start=None, end=None, step=1):
    """A copy of ``input`` with ``src`` in the slice ``start:end:step`` of dim ``dim``."""
    d = wrap_dim(dim, input._data.ndim)
    key = (slice(None),) * d + (slice(start, end, step),)
    return _scatter_into(input, lambda t: t[key], src, "slice")


def select_scatter(input, src, dim, index):
    """A copy of ``input`` with ``src`` at ``index`` of dim ``dim``."""
    return _scatter_into(input, lambda t: t.select(dim, index), src, "select")


def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    """A copy of ``input`` with ``src`` on the diagonal ``(offset, dim1, dim2)``."""
    return _scatter_into(input, lambda t: diagonal(t, offset, dim1, dim2), src, "diagonal")


def as_strided_scatter(input, src, size, stride, storage_offset=None):
    """A copy of ``input`` with ``src`` written into the strided view ``as_strided(size, stride, offset)``."""
    return _scatter_into(input, lambda t: as_strided(t, size, stride, storage_offset), src, "as_strided")

"""Ops on the shape and layout of one tensor.

Views (view, reshape when it can, transpose, permute, expand, narrow, select, diagonal, unfold,
as_strided, ...) return tensors that share memory and the version counter with their input, exactly
where PyTorch does.  The copies that rearrange one tensor's entries (repeat, tile, flip, roll, rot90,
tril/triu, diag) live here too.  Ops that join several tensors or split one into several are in
``joining.py``.
"""
from .. import _dtype
from .._device import address, memory_owner, writeable
from ._common import (Tensor, Node, GradMode, _make, _make_view, Size, array_module, backend_for, module_of_array,
                      record, op, method, function, wrap_dim, norm_dims, unbroadcast, write_out, dtype_name)
from ._unsigned import refuse_wide_unsigned
from ._checked import check_size


def shape_arg(shape):
    """Sizes given as varargs or as one tuple/list/Size -> a tuple of ints."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list, Size)):
        shape = shape[0]
    out = []
    for s in shape:
        if isinstance(s, Tensor):
            s = s.item()
        if not isinstance(s, int):
            try:
                s = s.__index__()
            except AttributeError:
                raise TypeError(f"shape must be a sequence of ints, but got an element of type "
                                f"{type(s).__name__}") from None
        out.append(s)
    return tuple(out)


def sizes_arg(function, sizes, size):
    """The shape of a creation call that takes sizes as varargs or as the keyword ``size``, as PyTorch does
    (``zeros(2, 3)``, ``zeros((2, 3))``, ``zeros(size=(2, 3))``); ``function`` names the call in errors."""
    if size is None:
        if not sizes:
            raise TypeError(f'{function}() missing 1 required positional arguments: "size"')
        for s in sizes:
            if type(s) is not int:
                return shape_arg(sizes)
        return sizes
    if sizes:
        raise TypeError(f"{function}() got multiple values for argument 'size'")
    if not isinstance(size, (tuple, list, Size)):
        raise TypeError(f"{function}(): argument 'size' must be tuple of ints, not {type(size).__name__}")
    return shape_arg((size,))


def _infer_shape(shape, numel):
    """Resolve one -1 in ``shape``; RuntimeError when the sizes cannot hold ``numel`` elements."""
    known, infer = 1, None
    for i, s in enumerate(shape):
        if s == -1:
            if infer is not None:
                raise RuntimeError("only one dimension can be inferred")
            infer = i
        elif s < 0:
            raise RuntimeError(f"invalid shape dimension {s} at index {i} of shape {list(shape)}")
        else:
            known *= s
    if infer is not None:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = shape[:infer] + (numel // known,) + shape[infer + 1:]
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


def view_result(input, arr, node_cls, **fields):
    """``arr`` (a view of ``input``'s array) as a view tensor of ``input``, recorded as a ``node_cls`` node.

    ``fields`` become node attributes.  A view made under no_grad of an input that requires grad is
    marked, for PyTorch's error when it is later modified in place (see ``_views.check_view_inplace``).
    """
    res = _make_view(input, arr)
    if input._requires_grad:
        if record(res, node_cls, (input,), **fields) is not None:
            res.__dict__["_vv"] = input._version[0]
        elif not GradMode.enabled:
            res.__dict__["_nograd_view"] = True
    return res


class ViewBackward0(Node):
    def backward(self, grad):
        return (grad.reshape(self.shape),)


def _dtype_view(input, dtype):
    """``input``'s array reinterpreted as ``dtype``, with PyTorch's errors when the sizes or strides do not allow
    it (the last dim shrinks or grows by the ratio of the element sizes)."""
    arr = input._data
    old, new = arr.dtype.itemsize, dtype.np.itemsize
    if old != new:
        what = f"to view {dtype_name(input.dtype)} as {dtype_name(dtype)} (different element sizes)"
        if arr.ndim == 0:
            raise RuntimeError(f"self.dim() cannot be 0 {what}")
        ratio = new // old
        if new > old and arr.shape[-1] % ratio:
            raise RuntimeError(f"self.size(-1) must be divisible by {ratio} {what}, but got {arr.shape[-1]}")
        if arr.shape[-1] != 1 and arr.strides[-1] != old:
            raise RuntimeError(f"self.stride(-1) must be 1 {what}, but got {arr.strides[-1] // old}")
        if new > old:
            for i, st in enumerate(arr.strides[:-1]):
                if (st // old) % ratio:
                    raise RuntimeError(f"self.stride({i}) must be divisible by {ratio} {what}, but got {st // old}")
    return arr.view(dtype.np)


@method
def view(input, *shape):
    """A view with a new shape (one size may be -1); fails when the strides do not allow it.

    ``view(dtype)`` reinterprets the bytes as another dtype of the same size.
    """
    if len(shape) == 1 and isinstance(shape[0], _dtype.dtype):
        return _make_view(input, _dtype_view(input, shape[0]))
    arr = input._data
    new = _infer_shape(shape_arg(shape), arr.size)
    try:
        out = arr.reshape(new, copy=False)
    except ValueError:
        raise RuntimeError("view size is not compatible with input tensor's size and stride (at least one "
                           "dimension spans across two contiguous subspaces). Use .reshape(...) instead.") from None
    return view_result(input, out, ViewBackward0, shape=arr.shape)


class UnsafeViewBackward0(ViewBackward0):
    pass


@op
def reshape(input, *shape):
    """``input`` with a new shape: a view when the layout allows, else a copy."""
    arr = input._data
    new = _infer_shape(shape_arg(shape), arr.size)
    out = arr.reshape(new)
    if out.base is not None and array_module(input).may_share_memory(out, arr):
        return view_result(input, out, ViewBackward0, shape=arr.shape)
    res = _make(out)
    if input._requires_grad and GradMode.enabled:
        # PyTorch's reshape of a layout that cannot be viewed: a contiguous clone, then an unsafe view of it
        copied = _make(out.reshape(arr.shape))
        record(copied, CloneBackward0, (input,))
        record(res, UnsafeViewBackward0, (copied,), shape=arr.shape)
    return res


@method
def view_as(input, other):
    """``input.view(other.shape)``."""
    return view(input, other._data.shape)


@method
def reshape_as(input, other):
    """``input.reshape(other.shape)``."""
    return reshape(input, other._data.shape)


@op
def flatten(input, start_dim=0, end_dim=-1):
    """Merge dims ``start_dim..end_dim`` into one (a view when possible)."""
    shape = input._data.shape
    if not shape:
        return reshape(input, (1,))
    s, e = wrap_dim(start_dim, len(shape)), wrap_dim(end_dim, len(shape))
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return input
    n = 1
    for d in shape[s:e + 1]:
        n *= d
    return reshape(input, shape[:s] + (n,) + shape[e + 1:])


@op
def ravel(input):
    """The elements as a 1-D tensor (a view when the layout allows, else a copy)."""
    return reshape(input, (-1,))


@op
def unflatten(input, dim, sizes):
    """Split dim ``dim`` into ``sizes`` (one may be -1)."""
    shape = input._data.shape
    d = wrap_dim(dim, len(shape))
    sizes = tuple(sizes)
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    try:
        sizes = _infer_shape(sizes, shape[d])
    except RuntimeError:
        raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim {dim} "
                           f"({shape[d]}) in the input tensor") from None
    return view(input, shape[:d] + sizes + shape[d + 1:]) if input.is_contiguous() else \
        reshape(input, shape[:d] + sizes + shape[d + 1:])


class SqueezeBackward0(Node):
    def backward(self, grad):
        return (grad.reshape(self.shape),)


SqueezeBackward1 = type("SqueezeBackward1", (SqueezeBackward0,), {})   # squeeze(dim)
SqueezeBackward2 = type("SqueezeBackward2", (SqueezeBackward0,), {})   # squeeze(dims)


@op
def squeeze(input, dim=None):
    """Remove dims of size 1 (all of them, or those among ``dim``)."""
    arr = input._data
    if dim is None:
        axes = tuple(i for i, s in enumerate(arr.shape) if s == 1)
    else:
        axes = tuple(d for d in norm_dims(dim, arr.ndim) if arr.ndim and arr.shape[d] == 1)
    node_cls = SqueezeBackward0 if dim is None else SqueezeBackward2 if isinstance(dim, (tuple, list)) \
        else SqueezeBackward1
    return view_result(input, arr.squeeze(axes) if axes else arr.view(), node_cls, shape=arr.shape)


class UnsqueezeBackward0(Node):
    def backward(self, grad):
        return (grad.squeeze(self.dim),)


@op
def unsqueeze(input, dim):
    """Insert a dim of size 1 at position ``dim``."""
    arr = input._data
    d = wrap_dim(dim, arr.ndim + 1)
    return view_result(input, array_module(input).expand_dims(arr, d), UnsqueezeBackward0, dim=d)


class TransposeBackward0(Node):
    def backward(self, grad):
        return (grad.transpose(self.d0, self.d1),)


TBackward0 = type("TBackward0", (TransposeBackward0,), {})


@op(aliases=("swapaxes", "swapdims"))
def transpose(input, dim0, dim1):
    """Swap dims ``dim0`` and ``dim1`` (a view)."""
    arr = input._data
    n = arr.ndim
    d0, d1 = wrap_dim(dim0, n), wrap_dim(dim1, n)
    return view_result(input, arr.swapaxes(d0, d1) if n else arr.view(), TransposeBackward0, d0=d0, d1=d1)


@op
def t(input):
    """Transpose a tensor of at most 2 dims."""
    if input._data.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input._data.ndim}D")
    if input._data.ndim < 2:
        return view_result(input, input._data.view(), TBackward0, d0=0, d1=0)
    return view_result(input, input._data.swapaxes(0, 1), TBackward0, d0=0, d1=1)


class PermuteBackward0(Node):
    def backward(self, grad):
        inverse = [0] * len(self.dims)
        for i, d in enumerate(self.dims):
            inverse[d] = i
        return (grad.permute(inverse),)


@op
def permute(input, *dims):
    """Reorder dims (a view): ``permute(2, 0, 1)``."""
    dims = shape_arg(dims)
    n = input._data.ndim
    if len(dims) != n:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does not match the "
                           f"length of the desired ordering of dimensions i.e. input.dim() = {n} is not equal "
                           f"to len(dims) = {len(dims)}")
    dims = tuple(wrap_dim(d, n) for d in dims)
    if len(set(dims)) != n:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return view_result(input, input._data.transpose(dims), PermuteBackward0, dims=dims)


@op(aliases=("moveaxis",))
def movedim(input, source, destination):
    """Move dim(s) ``source`` to position(s) ``destination`` (a view)."""
    n = input._data.ndim
    if isinstance(source, int) != isinstance(destination, int):
        raise TypeError(f"movedim() received an invalid combination of arguments - got "
                        f"({type(source).__name__}, {type(destination).__name__}), but expected one of: "
                        "(int source, int destination) or (tuple of ints source, tuple of ints destination)")
    src = (source,) if isinstance(source, int) else tuple(source)
    dst = (destination,) if isinstance(destination, int) else tuple(destination)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({list(src)} dims) should "
                           f"contain the same number of dims as destination ({list(dst)} dims)")
    src = [wrap_dim(d, n) for d in src]
    dst = [wrap_dim(d, n) for d in dst]
    order = [d for d in range(n) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return permute(input, order)


class ExpandBackward0(Node):
    def backward(self, grad):
        return (unbroadcast(grad, self.shape),)


@method
def expand(input, *sizes):
    """Broadcast to ``sizes`` without copying (-1 keeps a dim); new dims go in front."""
    sizes = shape_arg(sizes)
    arr = input._data
    if len(sizes) < arr.ndim:
        raise RuntimeError(f"expand(torch.FloatTensor{{{list(arr.shape)}}}, size={list(sizes)}): the number of "
                           f"sizes provided ({len(sizes)}) must be greater or equal to the number of dimensions "
                           f"in the tensor ({arr.ndim})")
    lead = len(sizes) - arr.ndim
    target = []
    for i, s in enumerate(sizes):
        if s == -1:
            if i < lead:
                raise RuntimeError("The expanded size of the tensor (-1) isn't allowed in a leading, "
                                   "non-existing dimension 0")
            s = arr.shape[i - lead]
        elif i >= lead and arr.shape[i - lead] != 1 and arr.shape[i - lead] != s:
            raise RuntimeError(f"The expanded size of the tensor ({s}) must match the existing size "
                               f"({arr.shape[i - lead]}) at non-singleton dimension {i}.  Target sizes: "
                               f"{list(sizes)}.  Tensor sizes: {list(arr.shape)}")
        if s < 0:
            raise RuntimeError("numel: integer multiplication overflow")
        target.append(s)
    target = tuple(target)
    if target == arr.shape:
        return view_result(input, arr.view(), ExpandBackward0, shape=arr.shape)
    return view_result(input, array_module(input).broadcast_to(arr, target), ExpandBackward0, shape=arr.shape)


@method
def expand_as(input, other):
    """``input.expand(other.shape)``."""
    return expand(input, other._data.shape)


@op
def broadcast_to(input, size):
    """``input.expand(size)``."""
    return expand(input, size)


class EmbedBackward(Node):
    """Backward of ``embed``: the gradient of the embedded block is the slice of the incoming gradient."""

    def backward(self, grad):
        return (grad[self.key],)


class SliceBackward0(Node):
    def backward(self, grad):
        return (embed(grad, self.shape, self.key),)


SelectBackward0 = type("SelectBackward0", (SliceBackward0,), {})


def embed(grad, shape, key, accumulate=False):
    """A zero tensor of ``shape`` with ``grad`` written (or, with repeated indices, summed) at ``key``.

    Differentiable in ``grad``: the backward of a slice or an index.
    """
    xp = array_module(grad)
    z = xp.zeros(shape, dtype=grad._data.dtype)
    if accumulate:
        xp.add.at(z, key, grad._data)
    else:
        z[key] = grad._data
    res = _make(z)
    record(res, EmbedBackward, (grad,), key=key)
    return res


@op
def narrow(input, dim, start, length):
    """The view of ``length`` entries of dim ``dim`` starting at ``start``."""
    arr = input._data
    d = wrap_dim(dim, arr.ndim)
    if isinstance(start, Tensor):
        start = start.item()
    size = arr.shape[d]
    if not -size <= start <= size:
        raise IndexError(f"start out of range (expected to be in range of [{-size}, {size}], but got {start})")
    start %= size if size else 1
    if start + length > size or length < 0:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    key = (slice(None),) * d + (slice(start, start + length),)
    return view_result(input, arr[key], SliceBackward0, shape=arr.shape, key=key)


@op
def select(input, dim, index):
    """The view at ``index`` along ``dim`` (that dim removed)."""
    arr = input._data
    if arr.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = wrap_dim(dim, arr.ndim)
    size = arr.shape[d]
    if isinstance(index, Tensor):
        index = index.item()
    if not -size <= index < size:
        raise IndexError(f"select(): index {index} out of range for tensor of size {list(arr.shape)} at dimension {d}")
    key = (slice(None),) * d + (index % size,)
    # Ellipsis keeps an all-int key a 0-d view, not a scalar copy
    return view_result(input, arr[key + (Ellipsis,)], SelectBackward0, shape=arr.shape, key=key)


def _strided(arr, shape, strides):
    """A strided view of ``arr`` (as writable as ``arr``), with its own array module."""
    return module_of_array(arr).lib.stride_tricks.as_strided(arr, shape, strides, writeable=writeable(arr))


# ---------------------------------------------------------------------------- diagonals and triangles
class DiagonalBackward0(Node):
    def backward(self, grad):
        return (diag_embed_into(grad, self.shape, self.offset, self.dim1, self.dim2),)


def _diag_positions(shape, offset, d1, d2):
    n1, n2 = shape[d1], shape[d2]
    if offset >= 0:
        length = max(0, min(n1, n2 - offset))
        return length, 0, offset
    length = max(0, min(n1 + offset, n2))
    return length, -offset, 0


@op
def diagonal(input, offset=0, dim1=0, dim2=1):
    """The (writable) view of the diagonal of dims ``dim1``/``dim2``, moved to the last dim."""
    arr = input._data
    n = arr.ndim
    d1, d2 = wrap_dim(dim1, n), wrap_dim(dim2, n)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    length, r0, c0 = _diag_positions(arr.shape, offset, d1, d2)
    strides = arr.strides
    # the 0-d (or n-2-d) view at the first diagonal entry; Ellipsis keeps an all-int key a view, not a scalar
    start = arr[tuple(r0 if i == d1 else c0 if i == d2 else slice(None) for i in range(n)) + (Ellipsis,)] \
        if length else arr
    rest = [i for i in range(n) if i not in (d1, d2)]
    new_shape = tuple(arr.shape[i] for i in rest) + (length,)
    new_strides = tuple(strides[i] for i in rest) + (strides[d1] + strides[d2],)
    return view_result(input, _strided(start, new_shape, new_strides), DiagonalBackward0, shape=arr.shape,
                       offset=offset, dim1=d1, dim2=d2)


class DiagEmbedBackward0(Node):
    def backward(self, grad):
        return (diagonal(grad, self.offset, self.dim1, self.dim2),)


def diag_embed_into(grad, shape, offset, d1, d2):
    """Zeros of ``shape`` with ``grad`` on the diagonal selected by (offset, d1, d2); differentiable."""
    base = grad.new_zeros(shape)
    diagonal(base, offset, d1, d2)._data[...] = grad._data
    out = _make(base._data)
    record(out, DiagEmbedBackward0, (grad,), offset=offset, dim1=d1, dim2=d2)
    return out


@op
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
    return diag_embed_into(src, tuple(shape), offset, d1, d2)


@op
def diag(input, diagonal=0, *, out=None):
    """For a 1-D input the square matrix with it on diagonal ``diagonal``; for a 2-D input that diagonal."""
    n = input._data.ndim
    if n == 1:
        res = diag_embed(input, diagonal, 0, 1)
    elif n == 2:
        res = clone(_diagonal_2d(input, diagonal))
    else:
        raise RuntimeError("diag(): Supports 1D or 2D tensors. Got " + f"{n}D")
    return write_out(out, res) if out is not None else res


def _diagonal_2d(input, offset):
    return diagonal(input, offset, 0, 1)   # ``diag``'s parameter named ``diagonal`` hides the op there


@op
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
    if arr.ndim < 2:
        raise RuntimeError(f"{'tril' if lower else 'triu'}: input tensor must have at least 2 dimensions")
    xp = array_module(input)
    res = _make(xp.tril(arr, k) if lower else xp.triu(arr, k))
    record(res, TrilBackward0 if lower else TriuBackward0, (input,), k=k)
    return write_out(out, res) if out is not None else res


@op(inplace=True)
def tril(input, diagonal=0, *, out=None):
    """The lower triangle (entries on and below diagonal ``diagonal``) of the last two dims; the rest zero."""
    return _tri(input, diagonal, True, out)


@op(inplace=True)
def triu(input, diagonal=0, *, out=None):
    """The upper triangle (entries on and above diagonal ``diagonal``) of the last two dims; the rest zero."""
    return _tri(input, diagonal, False, out)


def _tri_indices(row, col, offset, dtype, device, lower):
    if row < 0 or col < 0:
        raise RuntimeError(f"row must be non-negative, got{row}" if row < 0 else f"col must be non-negative, got{col}")
    dt = dtype or _dtype.int64
    if dt not in (_dtype.int64, _dtype.int32):
        raise RuntimeError(f"\"tril_indices\" not implemented for '{dt.name}'")
    xp = backend_for(device).xp
    r, c = xp.tril_indices(row, offset, col) if lower else xp.triu_indices(row, offset, col)
    return _make(xp.stack([r, c]).astype(dt.np).reshape(2, -1))


@function
def tril_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """The (2, N) coordinates of the lower triangle of a row x col matrix, row by row."""
    return _tri_indices(row, col, offset, dtype, device, True)


@function
def triu_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """The (2, N) coordinates of the upper triangle of a row x col matrix, row by row."""
    return _tri_indices(row, col, offset, dtype, device, False)


# ---------------------------------------------------------------------------- windows and copies
class UnfoldBackward0(Node):
    def backward(self, grad):
        return (unfold_grad(grad, self.shape, self.dim, self.size, self.step),)


def unfold_grad(grad, shape, dim, size, step):
    """Backward of ``Tensor.unfold``: every window's gradient summed back into a tensor of ``shape``."""
    if not len(shape):
        return grad.sum().reshape(())
    total = None
    count = grad.shape[dim]
    for k in range(size):
        part = grad.select(-1, k)
        key = (slice(None),) * dim + (slice(k, k + step * (count - 1) + 1, step),)
        placed = embed(part, shape, key)
        total = placed if total is None else total + placed
    return total


@method
def unfold(input, dimension, size, step):
    """A view of all windows of ``size`` with stride ``step`` along ``dimension`` (a new last dim)."""
    arr = input._data
    d = wrap_dim(dimension, max(arr.ndim, 1))
    length = arr.shape[d] if arr.ndim else 1
    if size > length:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {length} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    count = (length - size) // step + 1
    if arr.ndim == 0:
        return view_result(input, arr.reshape(1), UnfoldBackward0, shape=arr.shape, dim=0, size=size, step=step)
    shape = arr.shape[:d] + (count,) + arr.shape[d + 1:] + (size,)
    strides = arr.strides[:d] + (arr.strides[d] * step,) + arr.strides[d + 1:] + (arr.strides[d],)
    return view_result(input, _strided(arr, shape, strides), UnfoldBackward0, shape=arr.shape, dim=d, size=size,
                       step=step)


class CloneBackward0(Node):
    def backward(self, grad):
        return (grad,)


@op
def clone(input, *, memory_format=None):
    """A copy of ``input`` with its own memory (differentiable)."""
    res = _make(input._data.copy())
    record(res, CloneBackward0, (input,))
    return res


@method
def contiguous(input, memory_format=None):
    """``input`` itself when already row-major contiguous, else a contiguous copy."""
    if input._data.flags.c_contiguous:
        return input
    res = _make(array_module(input).ascontiguousarray(input._data))
    record(res, CloneBackward0, (input,))
    return res


class RepeatBackward0(Node):
    def backward(self, grad):
        # grad has shape (r0*s0, r1*s1, ...): split every dim into (r, s) and sum the r axes
        split, axes = [], []
        for i, (r, s) in enumerate(zip(self.repeats, self.padded)):
            split += [r, s]
            axes.append(2 * i)
        g = grad.reshape(split).sum(tuple(axes)) if axes else grad
        return (g.reshape(self.shape),)


@method
def repeat(input, *sizes):
    """Repeat ``input`` along each dim ``sizes[i]`` times (extra leading sizes add dims): a copy."""
    sizes = shape_arg(sizes)
    arr = input._data
    if len(sizes) < arr.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of "
                           "tensor")
    padded = (1,) * (len(sizes) - arr.ndim) + arr.shape
    check_size([n * r for n, r in zip(padded, sizes)], arr.dtype.itemsize)
    res = _make(array_module(input).tile(arr.reshape(padded), sizes) if sizes else arr.copy())
    record(res, RepeatBackward0, (input,), repeats=sizes, padded=padded, shape=arr.shape)
    return res


@op
def tile(input, *dims):
    """Repeat ``input`` ``dims[i]`` times along each dim; missing leading dims count as 1."""
    dims = shape_arg(dims)
    n = input._data.ndim
    if len(dims) < n:
        dims = (1,) * (n - len(dims)) + dims
    return repeat(input, dims)


@op
def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Repeat each element ``repeats`` times (an int or a tensor of per-element counts) along ``dim``.

    With ``dim=None`` the input is flattened first.  ``repeat_interleave(counts)`` alone returns
    ``arange(len(counts))`` with entry i repeated counts[i] times.
    """
    xp = array_module(input)
    if repeats is None:
        c = input._data
        if c.ndim > 1:
            raise RuntimeError("repeats must be 0-dim or 1-dim tensor")
        c = c.reshape(-1)
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
    idx = xp.repeat(xp.arange(n, dtype="int64"), r)
    if output_size is not None and output_size != idx.size:
        raise RuntimeError("allocated size does not match required size")
    return input.index_select(d, _make(idx))


class FlipBackward0(Node):
    def backward(self, grad):
        return (flip(grad, self.dims),)


@op
def flip(input, *dims):
    """A copy of ``input`` with the order of entries reversed along ``dims`` (a sequence, or varargs)."""
    arr = input._data
    refuse_wide_unsigned("flip_cpu", arr.dtype)
    if len(dims) == 1 and isinstance(dims[0], (list, tuple, Size)):
        dims = tuple(dims[0])
    dims = tuple(wrap_dim(d, arr.ndim) for d in dims)
    if len(set(dims)) != len(dims):
        raise RuntimeError(f"dim {dims[0]} appears multiple times in the list of dims")
    res = _make(array_module(input).flip(arr, dims).copy() if dims and arr.ndim else arr.copy())
    record(res, FlipBackward0, (input,), dims=dims)
    return res


@op
def fliplr(input):
    """Flip the columns (dim 1) of a tensor of at least 2 dims."""
    if input._data.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, (1,))


@op
def flipud(input):
    """Flip the rows (dim 0) of a tensor of at least 1 dim."""
    if input._data.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, (0,))


class RollBackward0(Node):
    def backward(self, grad):
        return (roll(grad, tuple(-s for s in self.shifts), self.dims),)


@op
def roll(input, shifts, dims=None):
    """Shift entries cyclically by ``shifts`` along ``dims`` (the flattened tensor when dims is None)."""
    arr = input._data
    xp = array_module(input)
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
    record(res, RollBackward0, (input,), shifts=shifts_t, dims=dims_t)
    return res


@op
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
    return clone(input)


# ---------------------------------------------------------------------------- as_strided
def root_array(t):
    """The array owning the memory under tensor ``t``, and the element offset of ``t`` within it.

    The search starts at ``t``'s base tensor: arrays made by ``as_strided`` (diagonal, unfold...) do not lead
    back to their owner through ``.base``."""
    root = memory_owner(t._base._data if t._base is not None else t._data)
    item = t._data.itemsize
    off = (address(t._data) - address(root)) // item if t._data.size \
        else 0
    return root, off


def _element_offsets(xp, shape, strides, start):
    """Storage offsets (in elements) of every entry of a strided layout, as an array of ``shape``."""
    off = xp.full(shape, start, dtype="int64")
    for d, (n, s) in enumerate(zip(shape, strides)):
        idx = xp.arange(n, dtype="int64") * s
        off = off + idx.reshape((n,) + (1,) * (len(shape) - d - 1))
    return off


def positions_in(base, view_shape, view_strides, view_offset):
    """For every entry of a strided view into ``base``'s memory, the flat (row-major) index of the entry of
    ``base`` at the same address; -1 where the view addresses memory outside ``base``."""
    xp = array_module(base)
    root, boff = root_array(base)
    item = base._data.itemsize
    if base._data.flags.c_contiguous:  # the common case: an address is its row-major index
        pos = _element_offsets(xp, view_shape, view_strides, view_offset - boff)
        return xp.where((pos >= 0) & (pos < base._data.size), pos, -1)
    b_strides = tuple(s // item for s in base._data.strides)
    b_off = _element_offsets(xp, base._data.shape, b_strides, boff).reshape(-1)
    order = xp.argsort(b_off, kind="stable")
    sorted_off = b_off[order]
    v_off = _element_offsets(xp, view_shape, view_strides, view_offset)
    if not sorted_off.size:
        return xp.full(view_shape, -1, dtype="int64")
    pos = xp.searchsorted(sorted_off, v_off)
    pos_c = xp.minimum(pos, sorted_off.size - 1)
    found = sorted_off[pos_c] == v_off
    return xp.where(found, order[pos_c], -1)


class AsStridedBackward0(Node):
    def backward(self, grad):
        pos = self.positions
        flat = grad.reshape(-1)
        keep = pos.reshape(-1) >= 0
        z = grad.new_zeros((self.numel,))
        if not bool(keep.all()):
            flat = flat[_make(keep)]
            pos = _make(pos.reshape(-1)[keep])
        else:
            pos = _make(pos.reshape(-1))
        return (z.index_add(0, pos, flat).reshape(self.shape),)


@op
def as_strided(input, size, stride, storage_offset=None):
    """A view of ``input``'s storage with the given sizes, strides and offset (all in elements)."""
    size, stride = shape_arg((size,)), shape_arg((stride,))
    if len(size) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    for s in stride:
        if s < 0:
            raise RuntimeError("as_strided: Negative strides are not supported at the moment, got strides: "
                               f"{list(stride)}")
    if any(n < 0 for n in size):
        raise RuntimeError(f"Storage size calculation overflowed with sizes={list(size)} and strides={list(stride)}")
    root, own_off = root_array(input)
    offset = own_off if storage_offset is None else storage_offset
    if offset < 0:
        raise RuntimeError(f"Tensor: invalid storage offset {offset}")
    item = input._data.itemsize
    need = offset + 1 + sum((n - 1) * s for n, s in zip(size, stride)) if all(size) else 0
    storage_size = root.nbytes // item
    if need > storage_size:
        raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset {offset}, and "
                           f"itemsize {item} requiring a storage size of {need * item} are out of bounds for "
                           f"storage of size {storage_size * item}")
    flat = root.reshape(-1, order="A") if root.ndim else root.reshape(1)   # roots own contiguous buffers
    if flat.dtype != input._data.dtype:   # input reads the allocation as another dtype (Tensor.view(dtype))
        flat = flat.view(module_of_array(flat).uint8)[:storage_size * item].view(input._data.dtype)
    arr = module_of_array(root).lib.stride_tricks.as_strided(flat[offset:] if flat.size > offset else flat[:0],
                                                             shape=size, strides=tuple(s * item for s in stride))
    res = _make_view(input, arr)
    if input._requires_grad:
        node = record(res, AsStridedBackward0, (input,), numel=input._data.size, shape=input._data.shape)
        if node is not None:
            node.positions = positions_in(input, size, stride, offset)
            res.__dict__["_vv"] = input._version[0]
    return res


@op
def as_strided_(input, size, stride, storage_offset=None):
    """Make ``input`` itself the strided view ``as_strided(input, size, stride, storage_offset)``; returns it."""
    res = as_strided(input, size, stride, storage_offset)
    input._data = res._data
    if res._grad_fn is not None:
        input._grad_fn = res._grad_fn
        input.__dict__.pop("_output_nr", None)
    return input


@op
def narrow_copy(input, dim, start, length):
    """A copy of ``narrow(input, dim, start, length)``."""
    return clone(narrow(input, dim, start, length))

"""Shape ops.  Views (view, transpose, permute, expand, narrow, select, ...) return tensors that share
memory and the version counter with their input, exactly where PyTorch does; cat and stack join."""
from .. import _dtype
from ._common import (xp, Tensor, Node, attach, GradMode, _make, _make_view, Size, wrap_dim, norm_dims,
                      unbroadcast)

_as_strided = xp.lib.stride_tricks.as_strided


def _shape_arg(shape):
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


def _infer_shape(shape, numel):
    """Resolve one -1 in ``shape``; RuntimeError when the sizes cannot hold ``numel`` elements."""
    known, infer = 1, None
    for i, s in enumerate(shape):
        if s == -1:
            if infer is not None:
                raise RuntimeError("only one dimension can be inferred")
            infer = i
        elif s < 0:
            raise RuntimeError(f"invalid shape dimension {s}")
        else:
            known *= s
    if infer is not None:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = shape[:infer] + (numel // known,) + shape[infer + 1:]
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


def _view_result(input, arr, node_cls, **attrs):
    res = _make_view(input, arr)
    if input._requires_grad and GradMode.enabled:
        node = node_cls()
        node.__dict__.update(attrs)
        attach(res, node, input)
        res.__dict__["_vv"] = input._version[0]
    elif input._requires_grad:
        res.__dict__["_nograd_view"] = True   # see ops/_views.check_view_inplace
    return res


class ViewBackward0(Node):
    def backward(self, grad):
        return (grad.reshape(self.shape),)


def view(input, *shape):
    """A view with a new shape (one size may be -1); fails when the strides do not allow it.

    ``view(dtype)`` reinterprets the bytes as another dtype of the same size.
    """
    if len(shape) == 1 and isinstance(shape[0], _dtype.dtype):
        return _make_view(input, input._data.view(shape[0].np))
    arr = input._data
    new = _infer_shape(_shape_arg(shape), arr.size)
    try:
        out = arr.reshape(new, copy=False)
    except ValueError:
        raise RuntimeError("view size is not compatible with input tensor's size and stride (at least one "
                           "dimension spans across two contiguous subspaces). Use .reshape(...) instead.") from None
    return _view_result(input, out, ViewBackward0, shape=arr.shape)


class UnsafeViewBackward0(ViewBackward0):
    pass


def reshape(input, *shape):
    """``input`` with a new shape: a view when the layout allows, else a copy."""
    arr = input._data
    new = _infer_shape(_shape_arg(shape), arr.size)
    out = arr.reshape(new)
    if out.base is not None and xp.may_share_memory(out, arr):
        return _view_result(input, out, ViewBackward0, shape=arr.shape)
    res = _make(out)
    if input._requires_grad and GradMode.enabled:
        # PyTorch's reshape of a layout that cannot be viewed: a contiguous clone, then an unsafe view of it
        copied = _make(out.reshape(arr.shape))
        attach(copied, CloneBackward0(), input)
        node = UnsafeViewBackward0()
        node.shape = arr.shape
        attach(res, node, copied)
    return res


def view_as(input, other):
    """``input.view(other.shape)``."""
    return view(input, other._data.shape)


def reshape_as(input, other):
    """``input.reshape(other.shape)``."""
    return reshape(input, other._data.shape)


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


def ravel(input):
    """The elements as a 1-D tensor (a view when the layout allows, else a copy)."""
    return reshape(input, (-1,))


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


def squeeze(input, dim=None):
    """Remove dims of size 1 (all of them, or those among ``dim``)."""
    arr = input._data
    if dim is None:
        axes = tuple(i for i, s in enumerate(arr.shape) if s == 1)
    else:
        axes = tuple(d for d in norm_dims(dim, arr.ndim) if arr.ndim and arr.shape[d] == 1)
    node_cls = SqueezeBackward0 if dim is None else SqueezeBackward2 if isinstance(dim, (tuple, list)) \
        else SqueezeBackward1
    return _view_result(input, arr.squeeze(axes) if axes else arr.view(), node_cls, shape=arr.shape)


class UnsqueezeBackward0(Node):
    def backward(self, grad):
        return (grad.squeeze(self.dim),)


def unsqueeze(input, dim):
    """Insert a dim of size 1 at position ``dim``."""
    arr = input._data
    d = wrap_dim(dim, arr.ndim + 1)
    return _view_result(input, xp.expand_dims(arr, d), UnsqueezeBackward0, dim=d)


class TransposeBackward0(Node):
    def backward(self, grad):
        return (grad.transpose(self.d0, self.d1),)


def transpose(input, dim0, dim1):
    """Swap dims ``dim0`` and ``dim1`` (a view)."""
    arr = input._data
    n = arr.ndim
    d0, d1 = wrap_dim(dim0, n), wrap_dim(dim1, n)
    return _view_result(input, arr.swapaxes(d0, d1) if n else arr.view(), TransposeBackward0, d0=d0, d1=d1)


swapaxes = swapdims = transpose


def t(input):
    """Transpose a tensor of at most 2 dims."""
    if input._data.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input._data.ndim}D")
    if input._data.ndim < 2:
        return _view_result(input, input._data.view(), TBackward0, d0=0, d1=0)
    return _view_result(input, input._data.swapaxes(0, 1), TBackward0, d0=0, d1=1)


TBackward0 = type("TBackward0", (TransposeBackward0,), {})


class PermuteBackward0(Node):
    def backward(self, grad):
        inverse = [0] * len(self.dims)
        for i, d in enumerate(self.dims):
            inverse[d] = i
        return (grad.permute(inverse),)


def permute(input, *dims):
    """Reorder dims (a view): ``permute(2, 0, 1)``."""
    dims = _shape_arg(dims)
    n = input._data.ndim
    if len(dims) != n:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does not match the "
                           f"length of the desired ordering of dimensions i.e. input.dim() = {n} is not equal "
                           f"to len(dims) = {len(dims)}")
    dims = tuple(wrap_dim(d, n) for d in dims)
    if len(set(dims)) != n:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return _view_result(input, input._data.transpose(dims), PermuteBackward0, dims=dims)


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


moveaxis = movedim


class ExpandBackward0(Node):
    def backward(self, grad):
        return (unbroadcast(grad, self.shape),)


def expand(input, *sizes):
    """Broadcast to ``sizes`` without copying (-1 keeps a dim); new dims go in front."""
    sizes = _shape_arg(sizes)
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
                raise RuntimeError(f"The expanded size of the tensor (-1) isn't allowed in a leading, "
                                   "non-existing dimension 0")
            s = arr.shape[i - lead]
        elif i >= lead and arr.shape[i - lead] != 1 and arr.shape[i - lead] != s:
            raise RuntimeError(f"The expanded size of the tensor ({s}) must match the existing size "
                               f"({arr.shape[i - lead]}) at non-singleton dimension {i}.  Target sizes: "
                               f"{list(sizes)}.  Tensor sizes: {list(arr.shape)}")
        target.append(s)
    target = tuple(target)
    if target == arr.shape:
        return _view_result(input, arr.view(), ExpandBackward0, shape=arr.shape)
    return _view_result(input, xp.broadcast_to(arr, target), ExpandBackward0, shape=arr.shape)


def expand_as(input, other):
    """``input.expand(other.shape)``."""
    return expand(input, other._data.shape)


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
    z = xp.zeros(shape, dtype=grad._data.dtype)
    if accumulate:
        xp.add.at(z, key, grad._data)
    else:
        z[key] = grad._data
    res = _make(z)
    if grad._requires_grad and GradMode.enabled:
        node = EmbedBackward()
        node.key = key
        attach(res, node, grad)
    return res


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
    return _view_result(input, arr[key], SliceBackward0, shape=arr.shape, key=key)


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
    return _view_result(input, arr[key], SelectBackward0, shape=arr.shape, key=key)


class SplitBackward0(Node):
    """Backward of the views ``split``/``chunk`` (and, renamed, ``split_with_sizes``/``unbind``) return: one
    node with an output per piece; the pieces' gradients (zeros where a piece got none) are joined again."""

    _multi_view = True   # PyTorch refuses in-place changes to these views while they carry this history

    def backward(self, *grads):
        from .creation import zeros
        parts = [g if g is not None else zeros(shape, dtype=self.dtype) for g, shape in zip(grads, self.shapes)]
        return ((stack if self.stacked else cat)(parts, self.dim),)


SplitWithSizesBackward0 = type("SplitWithSizesBackward0", (SplitBackward0,), {})
UnbindBackward0 = type("UnbindBackward0", (SplitBackward0,), {})


def _pieces(input, arrays, node_cls, dim, stacked=False):
    """Views of ``input`` over ``arrays``, all outputs of one ``node_cls`` node (as PyTorch's split/unbind)."""
    outs = tuple(_make_view(input, a) for a in arrays)
    if input._requires_grad and GradMode.enabled and outs:
        node = node_cls()
        node._num_outputs = len(outs)
        node.dim, node.stacked, node.dtype = dim, stacked, input.dtype
        node.shapes = [a.shape for a in arrays]
        version = input._version[0]
        for nr, o in enumerate(outs):
            attach(o, node, input)
            if nr:
                o.__dict__["_output_nr"] = nr
            o.__dict__["_vv"] = version
    elif input._requires_grad:
        for o in outs:
            o.__dict__["_nograd_view"] = True
    return outs


def unbind(input, dim=0):
    """All slices along ``dim``, as a tuple of views."""
    arr = input._data
    d = wrap_dim(dim, arr.ndim)
    lead = (slice(None),) * d
    return _pieces(input, [arr[lead + (i, Ellipsis)] for i in range(arr.shape[d])], UnbindBackward0, d, True)


def split(tensor, split_size_or_sections, dim=0):
    """Views of ``tensor`` cut along ``dim``: chunks of one size (last may be smaller) or of listed sizes."""
    size = tensor._data.shape[wrap_dim(dim, tensor._data.ndim)]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step < 0 or (step == 0 and size):
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {size}")
        sections = [min(step, size - i) for i in range(0, size, step)] if step else [0]
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


def chunk(input, chunks, dim=0):
    """Split into ``chunks`` nearly equal views along ``dim`` (fewer when the size does not allow)."""
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0, got: " + str(chunks))
    size = input._data.shape[wrap_dim(dim, input._data.ndim)]
    step = -(-size // chunks) if size else 0
    if step == 0:
        return tuple(narrow(input, dim, 0, 0) for _ in range(chunks)) if size == 0 else ()
    return split(input, step, dim)


class DiagonalBackward0(Node):
    def backward(self, grad):
        return (_diag_embed_like(grad, self.shape, self.offset, self.dim1, self.dim2),)


def _diag_positions(shape, offset, d1, d2):
    n1, n2 = shape[d1], shape[d2]
    if offset >= 0:
        length = max(0, min(n1, n2 - offset))
        return length, 0, offset
    length = max(0, min(n1 + offset, n2))
    return length, -offset, 0


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
    view_arr = _as_strided(start, new_shape, new_strides, writeable=arr.flags.writeable)
    return _view_result(input, view_arr, DiagonalBackward0, shape=arr.shape, offset=offset, dim1=d1, dim2=d2)


def _diag_embed_like(grad, shape, offset, d1, d2):
    """Zeros of ``shape`` with ``grad`` on the diagonal selected by (offset, d1, d2); differentiable."""
    base = grad.new_zeros(shape)
    res = diagonal(base, offset, d1, d2)
    res._data[...] = grad._data
    out = _make(base._data)
    if grad._requires_grad and GradMode.enabled:
        node = _DiagEmbedBackward()
        node.offset, node.dim1, node.dim2 = offset, d1, d2
        attach(out, node, grad)
    return out


class _DiagEmbedBackward(Node):
    def backward(self, grad):
        return (diagonal(grad, self.offset, self.dim1, self.dim2),)


class UnfoldBackward0(Node):
    def backward(self, grad):
        from .indexing import index_add_windows
        return (index_add_windows(grad, self.shape, self.dim, self.size, self.step),)


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
        return _view_result(input, arr.reshape(1), UnfoldBackward0, shape=arr.shape, dim=0, size=size, step=step)
    shape = arr.shape[:d] + (count,) + arr.shape[d + 1:] + (size,)
    strides = arr.strides[:d] + (arr.strides[d] * step,) + arr.strides[d + 1:] + (arr.strides[d],)
    view_arr = _as_strided(arr, shape, strides, writeable=arr.flags.writeable)
    return _view_result(input, view_arr, UnfoldBackward0, shape=arr.shape, dim=d, size=size, step=step)


class CloneBackward0(Node):
    def backward(self, grad):
        return (grad,)


def clone(input, *, memory_format=None):
    """A copy of ``input`` with its own memory (differentiable)."""
    res = _make(input._data.copy())
    if input._requires_grad and GradMode.enabled:
        attach(res, CloneBackward0(), input)
    return res


def contiguous(input, memory_format=None):
    """``input`` itself when already row-major contiguous, else a contiguous copy."""
    if input._data.flags.c_contiguous:
        return input
    res = _make(xp.ascontiguousarray(input._data))
    if input._requires_grad and GradMode.enabled:
        attach(res, CloneBackward0(), input)
    return res


# ---------------------------------------------------------------------------- joining
class CatBackward0(Node):
    def backward(self, grad):
        out, start = [], 0
        for n, need, dt in zip(self.sizes, self.needs, self.dtypes):
            g = narrow(grad, self.dim, start, n) if need else None
            out.append(g if g is None or g.dtype is dt else g.to(dt))
            start += n
        return tuple(out)


def _joined_dtype(tensors):
    dt = tensors[0].dtype
    for t in tensors[1:]:
        if t.dtype is not dt:
            dt = _dtype.promote_types(dt, t.dtype)
    return dt


def cat(tensors, dim=0, *, out=None):
    """Join tensors along an existing dim ``dim`` (all other sizes must match)."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got {type(t).__name__}")
    # legacy: 1-d empty tensors are skipped
    parts = [t for t in tensors if not (t._data.ndim == 1 and t._data.shape[0] == 0)] or tensors[:1]
    ref = parts[0]._data
    if ref.ndim == 0:
        raise RuntimeError("zero-dimensional tensor (at position 0) cannot be concatenated")
    d = wrap_dim(dim, ref.ndim)
    dt = _joined_dtype(tensors)
    for i, t in enumerate(parts):
        a = t._data
        if a.ndim != ref.ndim:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {ref.ndim} and {a.ndim}")
        for k in range(ref.ndim):
            if k != d and a.shape[k] != ref.shape[k]:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. Expected size "
                                   f"{ref.shape[k]} but got size {a.shape[k]} for tensor number "
                                   f"{next(j for j, u in enumerate(tensors) if u is t)} in the list.")
    arrays = [t._data if t._data.dtype == dt.np else t._data.astype(dt.np) for t in parts]
    res = _make(xp.concatenate(arrays, axis=d))
    if GradMode.enabled and any(t._requires_grad for t in parts):
        node = CatBackward0()
        node.dim, node.sizes = d, [t._data.shape[d] for t in parts]
        node.needs = [t._requires_grad for t in parts]
        node.dtypes = [t.dtype for t in parts]
        attach(res, node, *parts)
    if out is not None:
        from .elementwise import write_out
        return write_out(out, res)
    return res


concat = concatenate = cat


class StackBackward0(Node):
    def backward(self, grad):
        return tuple((select(grad, self.dim, i) if dt is grad.dtype else select(grad, self.dim, i).to(dt))
                     if need else None for i, (need, dt) in enumerate(zip(self.needs, self.dtypes)))


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
    dt = _joined_dtype(tensors)
    arrays = [t._data if t._data.dtype == dt.np else t._data.astype(dt.np) for t in tensors]
    res = _make(xp.stack(arrays, axis=d))
    if GradMode.enabled and any(t._requires_grad for t in tensors):
        node = StackBackward0()
        node.dim, node.needs = d, [t._requires_grad for t in tensors]
        node.dtypes = [t.dtype for t in tensors]
        attach(res, node, *tensors)
    if out is not None:
        from .elementwise import write_out
        return write_out(out, res)
    return res

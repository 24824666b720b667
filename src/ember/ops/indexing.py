"""Indexing: ``t[key]`` and ``t[key] = v``, gather / scatter, index_select, masked_fill, nonzero."""
from .. import _dtype
from ._common import xp, Tensor, Node, attach, GradMode, _make, _make_view, wrap_dim, scalar_value, unbroadcast
from .shape import embed, narrow

_BASIC = (int, slice, type(None), type(Ellipsis))


def _convert_index(item):
    """One element of an indexing key -> what NumPy's indexing takes; also says if it is 'advanced'."""
    if isinstance(item, bool):
        return item, True
    if isinstance(item, _BASIC):
        if isinstance(item, slice):
            if item.step is not None:
                step = item.step.item() if isinstance(item.step, Tensor) else item.step
                if step <= 0:
                    raise ValueError("step must be greater than zero")
            if any(isinstance(v, Tensor) for v in (item.start, item.stop, item.step)):
                item = slice(*(v.item() if isinstance(v, Tensor) else v for v in (item.start, item.stop, item.step)))
        return item, False
    if isinstance(item, Tensor):
        arr = item._data
        if arr.dtype.kind not in "biu":
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        if arr.dtype == xp.uint8:
            arr = arr.astype(bool)
        return arr, True
    if isinstance(item, xp.ndarray):
        return item, True
    if isinstance(item, (list, tuple)):
        arr = xp.asarray([i.item() if isinstance(i, Tensor) else i for i in item] if any(
            isinstance(i, Tensor) for i in item) else item)
        if arr.size == 0:
            arr = arr.astype(xp.int64)
        if arr.dtype.kind not in "biu":
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        return arr, True
    if isinstance(item, xp.integer):
        return int(item), False
    if hasattr(item, "__index__"):
        return item.__index__(), False
    raise IndexError("only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are valid "
                     "indices (got " + type(item).__name__ + ")")


def convert_key(key):
    """A PyTorch indexing key -> (NumPy key, is_advanced)."""
    if not isinstance(key, tuple):
        k, adv = _convert_index(key)
        return k, adv
    out, adv = [], False
    for item in key:
        k, a = _convert_index(item)
        out.append(k)
        adv = adv or a
    return tuple(out), adv


def _index_error(exc, shape):
    msg = str(exc)
    if "out of bounds" in msg:
        msg = msg.replace("axis", "dimension")
        return IndexError(msg)
    if "too many indices" in msg:
        return IndexError(f"too many indices for tensor of dimension {len(shape)}")
    if "boolean index did not match" in msg:
        return IndexError(f"The shape of the mask indexed does not match the shape of the indexed tensor: {msg}")
    return IndexError(msg)


class IndexBackward0(Node):
    def backward(self, grad):
        return (embed(grad, self.shape, self.key, accumulate=self.accumulate),)


def getitem(input, key):
    """``input[key]``: a view for ints, slices, None and Ellipsis; a copy when tensors/lists/masks index."""
    arr = input._data
    if type(key) is int:
        n = arr.shape[0] if arr.ndim else 0
        if arr.ndim == 0:
            raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or `tensor.item<T>()` "
                             "in C++ to convert a 0-dim tensor to a number")
        if not -n <= key < n:
            raise IndexError(f"index {key} is out of bounds for dimension 0 with size {n}")
        np_key, advanced = key, False
    else:
        np_key, advanced = convert_key(key)
    try:
        out = arr[np_key]
    except IndexError as exc:
        raise _index_error(exc, arr.shape) from None
    if advanced:
        res = _make(out)
        if input._requires_grad and GradMode.enabled:
            node = IndexBackward0()
            node.shape, node.key = arr.shape, np_key
            node.accumulate = not _is_mask_key(np_key)
            attach(res, node, input)
        return res
    if not isinstance(out, xp.ndarray):  # all-int keys give a NumPy scalar; we want a 0-d view
        out = arr[(np_key if isinstance(np_key, tuple) else (np_key,)) + (Ellipsis,)]
    res = _make_view(input, out)
    if input._requires_grad and GradMode.enabled:
        from .shape import SliceBackward0
        node = SliceBackward0()
        node.shape, node.key = arr.shape, np_key
        attach(res, node, input)
    return res


def _is_mask_key(key):
    items = key if isinstance(key, tuple) else (key,)
    return all(not isinstance(k, xp.ndarray) or k.dtype == bool for k in items)


class IndexPutBackward0(Node):
    def backward(self, grad):
        g_self = grad * self.keep_mask if self.need_self else None
        g_val = None
        if self.value_shape is not None:
            g_val = unbroadcast(grad[self.key], self.value_shape)
        return g_self, g_val


def setitem(input, key, value):
    """``input[key] = value`` in place; ``value`` is broadcast and cast to ``input``'s dtype."""
    arr = input._data
    np_key, advanced = convert_key(key)
    record = GradMode.enabled and (input._requires_grad or isinstance(value, Tensor) and value._requires_grad)
    if record and input._requires_grad and input._grad_fn is None:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
    if isinstance(value, Tensor):
        v = value._data
        if arr.dtype.kind in "biu" and v.dtype.kind in "fc":
            raise RuntimeError(f"Index put requires the source and destination dtypes match, got "
                               f"{input.dtype} for the destination and {value.dtype} for the source.") \
                if advanced else RuntimeError("result type Float can't be cast to the desired output type Long")
    else:
        v = scalar_value(value)
        if isinstance(v, (list, tuple)):
            v = xp.asarray(v)
    try:
        arr[np_key] = v
    except IndexError as exc:
        raise _index_error(exc, arr.shape) from None
    except ValueError as exc:
        if "read-only" in str(exc):
            raise RuntimeError("unsupported operation: more than one element of the written-to tensor refers to a "
                               "single memory location. Please clone() the tensor before performing the "
                               "operation.") from None
        raise RuntimeError(f"shape mismatch: value tensor of shape {list(xp.shape(v))} cannot be broadcast to "
                           f"indexing result of shape {list(arr[np_key].shape)}") from None
    input._version[0] += 1
    if record:
        node = IndexPutBackward0()
        node.key = np_key
        node.need_self = input._requires_grad
        mask = xp.ones(arr.shape, dtype=bool)
        mask[np_key] = False
        node.keep_mask = _make(mask)
        node.value_shape = value._data.shape if isinstance(value, Tensor) and value._requires_grad else None
        old_edge_owner = _make(arr)
        old_edge_owner._requires_grad = input._requires_grad
        old_edge_owner._grad_fn = input._grad_fn
        old_edge_owner.__dict__["_output_nr"] = input._output_nr
        attach(input, node, old_edge_owner if input._requires_grad else None,
               value if node.value_shape is not None else None)
        input.__dict__.pop("_output_nr", None)


# ---------------------------------------------------------------------------- gather / scatter
def _check_index(index, name):
    if not isinstance(index, Tensor) or index.dtype is not _dtype.int64:
        got = index.dtype if isinstance(index, Tensor) else type(index).__name__
        raise RuntimeError(f"{name}(): Expected dtype int64 for index, but got {got}")


def _grid_key(index_arr, d):
    """Full NumPy index tuple addressing ``index_arr``'s entries along dim ``d``."""
    grids = xp.indices(index_arr.shape, sparse=True)
    key = list(grids)
    key[d] = index_arr
    return tuple(key)


def _check_bounds(idx, size, name, d):
    if idx.size and (idx.min() < -size or idx.max() >= size):
        bad = idx.max() if idx.max() >= size else idx.min()
        raise RuntimeError(f"index {bad} is out of bounds for dimension {d} with size {size}")


class GatherBackward0(Node):
    def backward(self, grad):
        z = grad.new_zeros(self.shape)
        return (scatter_add(z, self.dim, self.index, grad),)


def gather(input, dim, index, *, sparse_grad=False, out=None):
    """``out[i][j] = input[index[i][j]][j]`` for dim 0 (and likewise for other dims)."""
    _check_index(index, "gather")
    arr, idx = input._data, index._data
    d = wrap_dim(dim, arr.ndim)
    if idx.ndim != arr.ndim and not (idx.ndim <= 1 and arr.ndim <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    for k in range(idx.ndim):
        if k != d and idx.shape[k] > arr.shape[k]:
            raise RuntimeError(f"Size does not match at dimension {k} expected index {list(idx.shape)} to be "
                               f"smaller than self {list(arr.shape)} apart from dimension {d}")
    _check_bounds(idx, arr.shape[d] if arr.ndim else 1, "gather", d)
    if arr.ndim == 0:
        res = _make(arr.reshape(1)[idx].reshape(idx.shape))
    else:
        res = _make(arr[_grid_key(idx, d)])
    if input._requires_grad and GradMode.enabled:
        node = GatherBackward0()
        node.shape, node.dim, node.index = arr.shape, d, index
        attach(res, node, input)
    if out is not None:
        from .elementwise import write_out
        return write_out(out, res)
    return res


class ScatterAddBackward0(Node):
    def backward(self, grad):
        g_src = gather(grad, self.dim, self.index) if self.need_src else None
        return (grad if self.need_self else None), g_src


def scatter_add(input, dim, index, src):
    """A copy of ``input`` with ``src`` added at ``index`` along ``dim`` (repeated indices sum)."""
    _check_index(index, "scatter_add")
    arr = input._data
    d = wrap_dim(dim, arr.ndim)
    idx = index._data
    _check_bounds(idx, arr.shape[d] if arr.ndim else 1, "scatter_add", d)
    out = arr.copy()
    s = src._data[tuple(slice(0, n) for n in idx.shape)]
    xp.add.at(out, _grid_key(idx, d), s.astype(arr.dtype, copy=False))
    res = _make(out)
    if GradMode.enabled and (input._requires_grad or src._requires_grad):
        node = ScatterAddBackward0()
        node.dim, node.index = d, index
        node.need_self, node.need_src = input._requires_grad, src._requires_grad
        attach(res, node, input, src)
    return res


class ScatterBackward0(Node):
    def backward(self, grad):
        g_self = grad.scatter(self.dim, self.index, 0) if self.need_self else None
        g_src = gather(grad, self.dim, self.index) if self.need_src else None
        return g_self, g_src


def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    """A copy of ``input`` with ``src`` (a tensor or a number) written at ``index`` along ``dim``."""
    if src is None:
        src = value
    _check_index(index, "scatter")
    arr = input._data
    d = wrap_dim(dim, arr.ndim)
    idx = index._data
    _check_bounds(idx, arr.shape[d] if arr.ndim else 1, "scatter", d)
    out = arr.copy()
    key = _grid_key(idx, d)
    if isinstance(src, Tensor):
        s = src._data[tuple(slice(0, n) for n in idx.shape)].astype(arr.dtype, copy=False)
    else:
        s = scalar_value(src)
    if reduce is None:
        out[key] = s
    elif reduce == "add":
        xp.add.at(out, key, s)
    elif reduce == "multiply":
        xp.multiply.at(out, key, s)
    else:
        raise RuntimeError(f"reduce argument must be either add or multiply, got {reduce}")
    res = _make(out)
    src_grad = isinstance(src, Tensor) and src._requires_grad
    if GradMode.enabled and (input._requires_grad or src_grad):
        node = ScatterBackward0()
        node.dim, node.index = d, index
        node.need_self, node.need_src = input._requires_grad, src_grad
        attach(res, node, input, src if isinstance(src, Tensor) else None)
    return res


def scatter_grad(grad, indices, shape, dim, keepdim):
    """Gradient of a reduction along ``dim`` that picked ``indices``: ``grad`` placed at those indices."""
    if not keepdim and len(shape):
        grad, indices = grad.unsqueeze(dim), indices.unsqueeze(dim)
    if not len(shape):
        return grad.reshape(())
    return scatter(grad.new_zeros(shape), dim, indices, grad)


class IndexSelectBackward0(Node):
    def backward(self, grad):
        z = grad.new_zeros(self.shape)
        return (index_add(z, self.dim, self.index, grad),)


def index_select(input, dim, index, *, out=None):
    """The entries of ``input`` at the 1-D ``index`` along ``dim``."""
    if not isinstance(index, Tensor) or index.dtype not in (_dtype.int64, _dtype.int32):
        raise RuntimeError("index_select(): Expected dtype int32 or int64 for index")
    if index._data.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    arr = input._data
    d = wrap_dim(dim, arr.ndim)
    idx = index._data.reshape(-1)
    size = arr.shape[d] if arr.ndim else 1
    if idx.size and (idx.min() < 0 or idx.max() >= size):
        raise IndexError(f"index out of range in self")
    res = _make(xp.take(arr, idx, axis=d) if arr.ndim else arr.reshape(1)[idx].reshape(index._data.shape))
    if input._requires_grad and GradMode.enabled:
        node = IndexSelectBackward0()
        node.shape, node.dim, node.index = arr.shape, d, index
        attach(res, node, input)
    if out is not None:
        from .elementwise import write_out
        return write_out(out, res)
    return res


class IndexAddBackward0(Node):
    def backward(self, grad):
        g_src = None
        if self.need_src:
            g_src = index_select(grad, self.dim, self.index)
            if self.alpha != 1:
                g_src = g_src * self.alpha
        return (grad if self.need_self else None), g_src


def index_add(input, dim, index, source, *, alpha=1):
    """A copy of ``input`` with ``alpha * source`` added at the 1-D ``index`` along ``dim``."""
    arr = input._data
    d = wrap_dim(dim, arr.ndim)
    out = arr.copy()
    s = source._data if alpha == 1 else source._data * alpha
    key = (slice(None),) * d + (index._data,)
    xp.add.at(out, key, s.astype(arr.dtype, copy=False))
    res = _make(out)
    if GradMode.enabled and (input._requires_grad or source._requires_grad):
        node = IndexAddBackward0()
        node.dim, node.index, node.alpha = d, index, alpha
        node.need_self, node.need_src = input._requires_grad, source._requires_grad
        attach(res, node, input, source)
    return res


class MaskedFillBackward0(Node):
    def backward(self, grad):
        g_self = grad.masked_fill(self.mask, 0) if self.need_self else None
        g_val = None
        if self.need_value:
            g_val = (grad * self.mask).sum().reshape(self.value_shape)
        return g_self, g_val


def masked_fill(input, mask, value):
    """A copy of ``input`` with ``value`` where the bool ``mask`` (broadcastable) is True."""
    if not isinstance(mask, Tensor) or mask.dtype is not _dtype.bool:
        if isinstance(mask, Tensor) and mask.dtype is _dtype.uint8:
            mask = mask.to(_dtype.bool)
        else:
            raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype "
                               f"{mask.dtype if isinstance(mask, Tensor) else type(mask).__name__}")
    arr = input._data
    v = value
    if isinstance(value, Tensor):
        if value._data.ndim:
            raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                               f"{value._data.ndim} dimension(s).")
        v = value._data.astype(arr.dtype)
    else:
        v = scalar_value(value)
    try:
        out = xp.where(mask._data, xp.asarray(v, dtype=arr.dtype), arr)
    except ValueError:
        from ._common import broadcast_error
        raise broadcast_error(arr.shape, mask._data.shape) from None
    if out.shape != arr.shape:
        raise RuntimeError(f"masked_fill: mask of shape {list(mask.shape)} cannot be broadcast to input of shape "
                           f"{list(arr.shape)}")
    res = _make(out)
    value_grad = isinstance(value, Tensor) and value._requires_grad
    if GradMode.enabled and (input._requires_grad or value_grad):
        node = MaskedFillBackward0()
        node.mask, node.need_self, node.need_value = mask, input._requires_grad, value_grad
        node.value_shape = value._data.shape if value_grad else None
        attach(res, node, input, value if value_grad else None)
    return res


def nonzero(input, *, out=None, as_tuple=False):
    """Indices of non-zero elements: an (n, ndim) int64 tensor, or with ``as_tuple`` one 1-D tensor per dim."""
    arr = input._data
    if as_tuple:
        if arr.ndim == 0:
            return (_make(xp.nonzero(arr.reshape(1))[0].astype(xp.int64)),)
        return tuple(_make(i.astype(xp.int64)) for i in xp.nonzero(arr))
    res = _make(xp.argwhere(arr).astype(xp.int64))
    if out is not None:
        from .elementwise import write_out
        return write_out(out, res)
    return res


def index_add_windows(grad, shape, dim, size, step):
    """Backward of ``Tensor.unfold``: sum every window's gradient back into a tensor of ``shape``."""
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

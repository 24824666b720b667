"""Indexing: ``t[key]`` and ``t[key] = v``, gather, index_select, take, take_along_dim, masked_select, nonzero.

PyTorch's indexing rule, which differs from NumPy's in one place: integers (and 0-d integer tensors)
*select* first, as basic indexing, so only tensor / list / mask indices are "advanced".  A key is
therefore applied in two steps: the basic part (ints, slices, None, Ellipsis) gives a view, and the
advanced part (tensors, at their positions in that view) gives a copy.  Where the advanced indices
land in the result follows NumPy's rule on the view: together in place when adjacent, else first.
(The scatter-like writers live in ``scatter.py``.)
"""
import numbers
import warnings

from .. import _dtype
from .._device import memory_owner, writeable
from ._checked import checked_scalar
from ._common import (Tensor, Node, GradMode, _make, _make_view, array_module, module_of_array, record, op, method,
                      wrap_dim, scalar_value, unbroadcast, broadcast_error, write_out, dtype_name)
from ._unsigned import refuse_wide_unsigned
from ._device_check import same_device, same_device_args
from ._views import prepare, rebase
from .creation import is_backend_array
from .shape import embed, view_result, select, unsqueeze, SliceBackward0

_SLICE_ALL = slice(None)
_INDEX_ERROR = ("only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are valid indices "
                "(got {})")


def _bad_index_dtype():
    return IndexError("tensors used as indices must be long, int, byte or bool tensors")


def _int_of(item):
    """``item`` as a Python int when it is an integer scalar (int, NumPy int, 0-d int tensor), else None."""
    t = type(item)
    if t is int:
        return item
    if t is bool:
        return None
    if isinstance(item, Tensor):
        a = item._data
        if a.ndim == 0 and a.dtype.kind in "iu":
            return int(a)
        return None
    if isinstance(item, numbers.Integral):   # a NumPy integer
        return int(item)
    return None


def _advanced_array(item, xp):
    """A tensor / list / tuple / range / array index -> an integer or bool array (lists become arrays of ``xp``)."""
    if isinstance(item, Tensor):
        arr = item._data
    elif not isinstance(item, (list, tuple, range)):
        arr = item
    else:
        if any(isinstance(i, Tensor) for i in item):
            item = [i.item() if isinstance(i, Tensor) else i for i in item]
        arr = xp.asarray(item)
        if arr.size == 0:
            arr = arr.astype("int64")
    kind = arr.dtype.kind
    if kind == "u" and arr.dtype == "uint8":
        warnings.warn("indexing with dtype torch.uint8 is now deprecated, please use a dtype torch.bool instead.",
                      UserWarning, stacklevel=4)
        return arr.astype(bool)
    if kind not in "biu":
        raise _bad_index_dtype()
    return arr


def _slice_of(item):
    if item.step is not None:
        step = item.step.item() if isinstance(item.step, Tensor) else item.step
        if step is not None and step <= 0:
            raise ValueError("step must be greater than zero")
    if isinstance(item.start, Tensor) or isinstance(item.stop, Tensor) or isinstance(item.step, Tensor):
        item = slice(*(v.item() if isinstance(v, Tensor) else v for v in (item.start, item.stop, item.step)))
    return item


def _as_tuple(key):
    """A key as a tuple of items, with PyTorch's legacy rule for non-tuple sequences."""
    if type(key) is tuple:
        return key
    if isinstance(key, list) and len(key) < 32 and any(
            isinstance(k, (list, tuple, slice, Tensor)) or k is None or k is Ellipsis or is_backend_array(k)
            for k in key):
        warnings.warn("Using a non-tuple sequence for multidimensional indexing is deprecated and will be changed "
                      "in pytorch 2.9; use x[tuple(seq)] instead of x[seq]. In pytorch 2.9 this will be interpreted "
                      "as tensor index, x[torch.tensor(seq)], which will result either in an error or a different "
                      "result", UserWarning, stacklevel=4)
        return tuple(key)
    return (key,)


def split_key(key, shape, xp):
    """Split a PyTorch key into (basic key, advanced part) for a tensor of ``shape`` whose array module is ``xp``.

    The advanced part is None, or a tuple key for the basic view (slices everywhere except arrays at the
    advanced positions).  Raises PyTorch's IndexError / ValueError for bad keys.
    """
    items = _as_tuple(key)
    basic, adv = [], []        # adv: (position in the basic view, array)
    ndim = len(shape)
    # dims each item consumes, to place the Ellipsis
    consumed = 0
    for it in items:
        if it is None or type(it) is bool or it is Ellipsis:
            continue
        arr = it._data if isinstance(it, Tensor) else it if is_backend_array(it) else None
        if arr is not None and arr.dtype in (bool, "uint8"):
            consumed += arr.ndim
        else:
            consumed += 1
    src_dim = 0   # dim of the input the next item applies to
    out_dim = 0   # dim of the basic view the next item produces
    seen_ellipsis = False
    for it in items:
        i = _int_of(it)
        if i is not None:
            if src_dim >= ndim:
                raise IndexError(f"too many indices for tensor of dimension {ndim}")
            n = shape[src_dim]
            if not -n <= i < n:
                raise IndexError(f"index {i} is out of bounds for dimension {src_dim} with size {n}")
            basic.append(i)
            src_dim += 1
        elif isinstance(it, slice):
            if src_dim >= ndim:
                raise IndexError(f"too many indices for tensor of dimension {ndim}")
            basic.append(_slice_of(it))
            src_dim += 1
            out_dim += 1
        elif it is None:
            basic.append(None)
            out_dim += 1
        elif it is Ellipsis:
            if seen_ellipsis:           # PyTorch accepts more; they expand to nothing
                continue
            seen_ellipsis = True
            span = max(ndim - consumed, 0)
            basic.append(Ellipsis)
            src_dim += span
            out_dim += span
        elif type(it) is bool:
            basic.append(None)          # a new dim of size 1, masked by the bool (a copy, as in PyTorch)
            adv.append((out_dim, xp.array([it])))
            out_dim += 1
        elif isinstance(it, (Tensor, list, tuple, range)) or is_backend_array(it):
            arr = _advanced_array(it, xp)
            if arr.dtype == bool:
                k = max(arr.ndim, 1) if arr.ndim else 0
                if arr.ndim == 0:
                    basic.append(None)
                    adv.append((out_dim, arr.reshape(1)))
                    out_dim += 1
                    continue
                if src_dim + k > ndim:
                    raise IndexError(f"too many indices for tensor of dimension {ndim}")
                for j in range(k):
                    if arr.shape[j] != shape[src_dim + j]:
                        raise IndexError(f"The shape of the mask {list(arr.shape)} at index {j} does not match the "
                                         f"shape of the indexed tensor {list(shape)} at index {src_dim + j}")
                basic.extend([_SLICE_ALL] * k)
                adv.append((out_dim, arr))
                src_dim += k
                out_dim += k
            else:
                if src_dim >= ndim:
                    raise IndexError(f"too many indices for tensor of dimension {ndim}")
                n = shape[src_dim]
                if arr.size:
                    lo, hi = arr.min(), arr.max()
                    if lo < -n or hi >= n:
                        bad = hi if hi >= n else lo
                        # PyTorch numbers the dimension among the tensor indices
                        raise IndexError(f"index {bad} is out of bounds for dimension {len(adv)} with size {n}")
                basic.append(_SLICE_ALL)
                adv.append((out_dim, arr))
                src_dim += 1
                out_dim += 1
        elif isinstance(it, (str, bytes)):
            raise TypeError(f"new(): invalid data type '{type(it).__name__}'")
        elif not hasattr(it, "__index__"):
            raise IndexError(_INDEX_ERROR.format(type(it).__name__))
        else:
            basic.append(it.__index__())
            src_dim += 1
    if src_dim > ndim:
        raise IndexError(f"too many indices for tensor of dimension {ndim}")
    if not adv:
        return tuple(basic), None
    adv_key = [_SLICE_ALL] * out_dim
    for pos, arr in adv:
        if arr.dtype == bool:
            adv_key[pos:pos + max(arr.ndim, 1)] = [arr] + [None] * (max(arr.ndim, 1) - 1)
        else:
            adv_key[pos] = arr
    adv_key = tuple(k for k in adv_key if k is not None)
    # trailing full slices add nothing; dropping them keeps NumPy's result layout identical
    return tuple(basic), adv_key


class IndexBackward0(Node):
    def backward(self, grad):
        return (embed(grad, self.shape, self.key, accumulate=self.accumulate),)


class AliasBackward0(Node):
    def backward(self, grad):
        return (grad,)


def _basic(input, key, bare_slice=False):
    """``input[key]`` for a basic NumPy key (ints, slices, None, Ellipsis): a view.

    With grad recorded, the key is applied item by item as PyTorch does (SelectBackward0 for ints,
    SliceBackward0 for slices other than full ones, UnsqueezeBackward0 for None, AliasBackward0 when
    nothing changes), so the graph has PyTorch's nodes.
    """
    arr = input._data
    if not (input._requires_grad and GradMode.enabled):
        res = _make_view(input, arr[key + (Ellipsis,)] if Ellipsis not in key else arr[key])
        if input._requires_grad:
            res.__dict__["_nograd_view"] = True   # see ops/_views.check_view_inplace
        return res
    t, dim = input, 0
    for pos, k in enumerate(key):
        if k is None:
            t = unsqueeze(t, dim)
            dim += 1
        elif k is Ellipsis:
            rest = sum(1 for j in key[pos + 1:] if j is not None and j is not Ellipsis)
            dim = t._data.ndim - rest
        elif isinstance(k, slice):
            a = t._data
            size = a.shape[dim]
            start, stop, step = k.indices(size)
            if not bare_slice and start == 0 and stop >= size and step == 1:
                dim += 1
                continue
            full = (slice(None),) * dim + (k,)
            t = view_result(t, a[full], SliceBackward0, shape=a.shape, key=full)
            dim += 1
        else:
            t = select(t, dim, k)
    if t is input:
        t = view_result(input, arr.view(), AliasBackward0)
    return t


def _integer_arrays(key):
    """True when an advanced key holds an integer index array (whose repeated entries add up in backward)."""
    return any(not isinstance(k, slice) and k.dtype != bool for k in key)


def advanced_index(input, key):
    """``input[key]`` for an advanced key (slices and index arrays, already bounds-checked from ``split_key``):
    a copy, recorded as IndexBackward0."""
    arr = input._data
    res = _make(arr[key])
    record(res, IndexBackward0, (input,), shape=arr.shape, key=key, accumulate=_integer_arrays(key))
    return res


def _simple_basic(key):
    """True for a slice or a tuple of ints and slices with positive (or no) steps and int bounds."""
    items = key if type(key) is tuple else (key,) if type(key) is slice else None
    if items is None:
        return False
    for k in items:
        t = type(k)
        if t is int:
            continue
        if t is not slice:
            return False
        step = k.step
        if step is not None and (type(step) is not int or step <= 0):
            return False
        if k.start is not None and type(k.start) is not int or k.stop is not None and type(k.stop) is not int:
            return False
    return True


@method(name="__getitem__")
def getitem(input, key):
    """``input[key]``: a view for ints, slices, None and Ellipsis; a copy when tensors/lists/masks index."""
    arr = input._data
    if type(key) is int:
        if arr.ndim == 0:
            raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or `tensor.item<T>()` "
                             "in C++ to convert a 0-dim tensor to a number")
        n = arr.shape[0]
        if not -n <= key < n:
            raise IndexError(f"index {key} is out of bounds for dimension 0 with size {n}")
        basic, adv = (key,), None
    elif _simple_basic(key):
        try:  # ints and forward slices: NumPy's basic indexing is PyTorch's (errors take the slow path)
            return _basic(input, key if type(key) is tuple else (key,), type(key) is slice)
        except IndexError:
            pass
        basic, adv = split_key(key, arr.shape, array_module(input))
    elif isinstance(key, Tensor) and key._data.ndim and key._data.dtype.kind in "bi":
        idx = key._data
        try:
            out = arr[idx]
        except IndexError:
            out = None
        if out is not None:
            res = _make(out)
            record(res, IndexBackward0, (input,), shape=arr.shape, key=(idx,), accumulate=idx.dtype != bool)
            return res
        basic, adv = split_key(key, arr.shape, array_module(input))
    else:
        basic, adv = split_key(key, arr.shape, array_module(input))
    if adv is None:
        return _basic(input, basic, type(key) is slice)
    if all(isinstance(k, slice) and k == _SLICE_ALL for k in basic):
        return advanced_index(input, adv)
    return advanced_index(_basic(input, basic), adv)


# ---------------------------------------------------------------------------- setitem
class IndexPutBackward0(Node):
    def backward(self, grad):
        g_self = grad * self.keep_mask if self.need_self else None
        g_val = None
        if self.value_shape is not None:
            g = _basic(grad, self.basic) if self.basic else grad
            if self.adv is not None:
                g = advanced_index(g, self.adv)
            g_val = value_grad(g, self.value_shape)
            if g_val.dtype is not self.value_dtype:
                g_val = g_val.to(self.value_dtype)
        return g_self, g_val


def _fast_setitem(input, arr, key, value):
    """The common no-graph writes (ints / slices / one index tensor, number or same-kind tensor value) straight
    into NumPy; False sends anything unusual (or any error, for PyTorch's message) to the full path."""
    tv = type(value)
    if tv is float or tv is int or tv is bool:
        if tv is float and arr.dtype.kind in "iu":
            return False   # NaN / inf / out of range: the full path raises PyTorch's error
        v = value
    elif isinstance(value, Tensor):
        if value._requires_grad:
            return False
        v = value._data
    else:
        return False
    try:
        if type(key) is int or _simple_basic(key):
            view = arr[(key if type(key) is tuple else (key,)) + (Ellipsis,)]
            if not writeable(view):
                return False
            if tv is not float and tv is not int and tv is not bool:
                v = _strip_leading_ones(v, view.ndim)
                if v.ndim > view.ndim:
                    return False
            view[...] = v
        elif isinstance(key, Tensor) and key._data.ndim and key._data.dtype.kind in "bi":
            if not writeable(arr) or isinstance(value, Tensor) and v.dtype != arr.dtype:
                return False
            arr[key._data] = v
        else:
            return False
    except (IndexError, ValueError, TypeError, OverflowError):
        return False
    input._version[0] += 1
    return True


def value_grad(grad, value_shape):
    """The gradient of a written value: summed over broadcast dims, with stripped leading 1-dims restored."""
    shape = tuple(value_shape)
    stripped = shape
    while len(stripped) > grad._data.ndim and stripped[0] == 1:
        stripped = stripped[1:]
    g = unbroadcast(grad, stripped) if tuple(grad.shape) != stripped else grad
    return g.reshape(shape) if stripped != shape else g


def _strip_leading_ones(v, ndim):
    """A value with more dims than its target loses leading size-1 dims (PyTorch's slicePrefix1sDims)."""
    while v.ndim > ndim and v.shape[0] == 1:
        v = v[0]
    return v


@method(name="__setitem__")
def setitem(input, key, value):
    """``input[key] = value`` in place; ``value`` (a tensor or number) is broadcast and cast to ``input``'s dtype."""
    arr = input._data
    if not input._requires_grad and _fast_setitem(input, arr, key, value):
        return
    basic, adv = split_key(key, arr.shape, array_module(input))
    view = arr[basic + (Ellipsis,)] if Ellipsis not in basic else arr[basic]
    if isinstance(value, Tensor):
        v = value._data
        # advanced indices go through index_put, which refuses a dtype change, except that a one-element
        # value written through bool masks only is a masked fill (PyTorch's fast path), which casts
        if adv is not None and v.dtype != arr.dtype and not (v.size == 1 and not _integer_arrays(adv)):
            raise RuntimeError(f"Index put requires the source and destination dtypes match, got "
                               f"{dtype_name(input.dtype)} for the destination and {dtype_name(value.dtype)} for "
                               "the source.")
        target_shape = view[adv].shape if adv is not None else view.shape
        v = _strip_leading_ones(v, len(target_shape))
        try:
            array_module(input).broadcast_shapes(v.shape, target_shape)
            if len(v.shape) > len(target_shape):
                raise ValueError
        except ValueError:
            if adv is not None:
                raise RuntimeError(f"shape mismatch: value tensor of shape {list(value.shape)} cannot be broadcast to "
                                   f"indexing result of shape {list(target_shape)}") from None
            if len(v.shape) > len(target_shape):
                raise RuntimeError(f"expand(torch.{dtype_name(value.dtype)}Tensor{{{list(value.shape)}}}, size="
                                   f"{list(target_shape)}): the number of sizes provided ({len(target_shape)}) must "
                                   f"be greater or equal to the number of dimensions in the tensor "
                                   f"({len(value.shape)})") from None
            lead = len(target_shape) - len(v.shape)
            for i in range(len(v.shape) - 1, -1, -1):
                if v.shape[i] != 1 and v.shape[i] != target_shape[i + lead]:
                    raise RuntimeError(f"The expanded size of the tensor ({target_shape[i + lead]}) must match the "
                                       f"existing size ({v.shape[i]}) at non-singleton dimension {i + lead}.  Target "
                                       f"sizes: {list(target_shape)}.  Tensor sizes: {list(v.shape)}") from None
            raise
        if v.dtype != arr.dtype:
            v = v.astype(arr.dtype)
    else:
        if isinstance(value, (list, tuple)):  # a nested sequence of numbers, converted like ember.tensor
            from .creation import tensor as _tensor
            return setitem(input, key, _tensor(value, dtype=input.dtype))
        v = scalar_value(value)
        if not isinstance(v, (int, float, bool, complex)):
            raise TypeError(f"can't assign a {type(value).__name__} to a {input._type_name()}")
        if isinstance(v, complex) and arr.dtype.kind != "c":
            raise RuntimeError(f"value cannot be converted to type {input.dtype.name.rstrip('0123456789') or 'float'}"
                               " without overflow")
        if not isinstance(v, complex):
            v = checked_scalar(v, input.dtype)
    value_grad = isinstance(value, Tensor) and value._requires_grad
    recording = GradMode.enabled and (input._requires_grad or value_grad)
    if input._base is not None:
        prepare(input)
    if recording and input._requires_grad and input._grad_fn is None:
        if adv is None:
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place operation.")
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
    # an empty array may have zero strides (NumPy gives them) without any element sharing memory
    shared = view.size > 0 and any(st == 0 and n > 1 for st, n in zip(view.strides, view.shape))
    if not writeable(view) and not shared and adv is None and _owner_writeable(arr):
        view = module_of_array(view).lib.stride_tricks.as_strided(view, view.shape, view.strides, writeable=True)
    if not writeable(view) or adv is None and shared:
        raise RuntimeError("unsupported operation: more than one element of the written-to tensor refers to a single "
                           "memory location. Please clone() the tensor before performing the operation.")
    if adv is None:
        view[...] = v
    else:
        view[adv] = v
    input._version[0] += 1
    if not recording:
        return
    if adv is None:
        # a basic key writes through a view (PyTorch: copy_ into input[key])
        record_view_write(_make_view(input, view), value if value_grad else None)
        return
    old = _make(arr)
    old._requires_grad = input._requires_grad
    old._grad_fn = input._grad_fn
    old.__dict__["_output_nr"] = input._output_nr
    node = record(input, IndexPutBackward0, (old if input._requires_grad else None, value if value_grad else None),
                  basic=basic, adv=adv, need_self=input._requires_grad,
                  value_shape=value._data.shape if value_grad else None,
                  value_dtype=value.dtype if value_grad else None)
    if node is not None and input._requires_grad:
        mask = array_module(input).ones(arr.shape, dtype=bool)
        mview = mask[basic + (Ellipsis,)] if Ellipsis not in basic else mask[basic]
        mview[adv] = False
        node.keep_mask = _make(mask)
    input.__dict__.pop("_output_nr", None)
    if input._base is not None:
        rebase(input)


def record_view_write(view, value):
    """Record the write of ``value`` (a tensor, or None when no gradient flows to it) into ``view``, a view
    tensor of a base: the view's history becomes CopyBackwards over ``value`` and its base's history a
    CopySlices over that (see ``_views.rebase``)."""
    if value is not None:
        record(view, CopyBackwards, (value,), value_shape=value._data.shape, value_dtype=value.dtype)
    rebase(view)


class CopyBackwards(Node):
    """Gradient of writing ``value`` into a view: the value receives the view's gradient, summed to its shape."""

    def backward(self, grad):
        g = value_grad(grad, self.value_shape)
        return (g if g.dtype is self.value_dtype else g.to(self.value_dtype),)


def _owner_writeable(arr):
    return writeable(memory_owner(arr))


# ---------------------------------------------------------------------------- gather and friends
def _check_index(index, name, dtypes=(_dtype.int64,)):
    if not isinstance(index, Tensor):
        raise TypeError(f"{name}(): argument 'index' must be Tensor, not {type(index).__name__}")
    if index.dtype not in dtypes:
        want = "int32/int64" if _dtype.int32 in dtypes else "int64"
        raise RuntimeError(f"{name}(): Expected dtype {want} for index")


def grid_key(index_arr, d):
    """The full index tuple addressing ``index_arr``'s entries along dim ``d`` (open grids elsewhere)."""
    grids = module_of_array(index_arr).indices(index_arr.shape, sparse=True)
    key = list(grids)
    key[d] = index_arr
    return tuple(key)


def check_bounds(idx, size, name, d):
    """PyTorch's error when an entry of index array ``idx`` is outside ``[0, size)`` along dim ``d`` (gather and
    the scatter family take no negative index: NumPy would wrap it around)."""
    if idx.size:
        lo, hi = idx.min(), idx.max()
        if lo < 0 or hi >= size:
            raise RuntimeError(f"index {lo if lo < 0 else hi} is out of bounds for dimension {d} with size {size}")


class GatherBackward0(Node):
    def backward(self, grad):
        from .scatter import scatter_add
        z = grad.new_zeros(self.shape)
        return (scatter_add(z, self.dim, self.index, grad),)


@op
def gather(input, dim, index, *, sparse_grad=False, out=None):
    """``out[i][j] = input[index[i][j]][j]`` for dim 0 (and likewise for other dims)."""
    _check_index(index, "gather", (_dtype.int64, _dtype.int32))
    same_device_args("gather", "self", input, "index", index)
    arr, idx = input._data, index._data
    d = wrap_dim(dim, arr.ndim)
    if idx.ndim != arr.ndim and not (idx.ndim <= 1 and arr.ndim <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    for k in range(idx.ndim):
        if k != d and idx.shape[k] > arr.shape[k]:
            raise RuntimeError(f"Size does not match at dimension {k} expected index {list(idx.shape)} to be "
                               f"no larger than self {list(arr.shape)} apart from dimension {d}")
    check_bounds(idx, arr.shape[d] if arr.ndim else 1, "gather", d)
    refuse_wide_unsigned("scatter_gather_tensor_cpu", arr.dtype)
    if arr.ndim == 0 or idx.ndim == 0:
        res = _make(arr.reshape(-1)[idx.reshape(-1)].reshape(idx.shape))
    else:
        res = _make(arr[grid_key(idx, d)])
    node = record(res, GatherBackward0, (input,), shape=arr.shape, dim=d)
    if node is not None:
        node.index = index if index.dtype is _dtype.int64 else _make(idx.astype("int64"))
    return write_out(out, res) if out is not None else res


def scatter_grad(grad, indices, shape, dim, keepdim):
    """Gradient of a reduction along ``dim`` that picked ``indices``: ``grad`` placed at those indices."""
    from .scatter import scatter
    if not keepdim and len(shape):
        grad, indices = grad.unsqueeze(dim), indices.unsqueeze(dim)
    if not len(shape):
        return grad.reshape(())
    return scatter(grad.new_zeros(shape), dim, indices, grad)


class IndexSelectBackward0(Node):
    def backward(self, grad):
        from .scatter import index_add
        z = grad.new_zeros(self.shape)
        return (index_add(z, self.dim, self.index, grad),)


@op
def index_select(input, dim, index, *, out=None):
    """The entries of ``input`` at the 1-D (or 0-d) ``index`` along ``dim``."""
    if not isinstance(index, Tensor) or index.dtype not in (_dtype.int64, _dtype.int32):
        raise RuntimeError("index_select(): Expected dtype int32 or int64 for index")
    same_device_args("_index_select", "self", input, "index", index)
    if index._data.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    arr = input._data
    refuse_wide_unsigned("index_select", arr.dtype)
    d = wrap_dim(dim, arr.ndim)
    idx = index._data.reshape(-1)
    size = arr.shape[d] if arr.ndim else 1
    if idx.size and size == 0:
        raise RuntimeError("index_select(): self indexing axis dim should be positive")
    if idx.size and (idx.min() < 0 or idx.max() >= size):
        raise IndexError("index out of range in self")
    if not arr.ndim and idx.size > 1:
        raise RuntimeError(f"index_select(): Index to scalar can have only 1 value, got {idx.size} value(s)")
    res = _make(array_module(input).take(arr, idx, axis=d) if arr.ndim else arr.reshape(1)[idx].reshape(()))
    record(res, IndexSelectBackward0, (input,), shape=arr.shape, dim=d,
           index=_make(idx) if index._data.ndim == 0 else index)
    return write_out(out, res) if out is not None else res


class TakeBackward0(Node):
    def backward(self, grad):
        from .scatter import index_add
        z = grad.new_zeros((self.numel,))
        return (index_add(z, 0, self.index, grad.reshape(-1)).reshape(self.shape),)


@op
def take(input, index):
    """The entries of the flattened ``input`` at ``index`` (result shaped like ``index``; negatives wrap)."""
    if not isinstance(index, Tensor) or index.dtype is not _dtype.int64:
        raise RuntimeError(f"take(): Expected a long tensor for index, but got "
                           f"{index.dtype if isinstance(index, Tensor) else type(index).__name__}")
    same_device(input, index)
    arr = input._data
    n = arr.size
    idx = index._data
    if idx.size and (idx.min() < -n or idx.max() >= n):
        bad = idx.max() if idx.max() >= n else idx.min()
        raise IndexError(f"out of range: tried to access index {bad} on a tensor of {n} elements.")
    flat_idx = array_module(input).where(idx < 0, idx + n, idx)
    res = _make(arr.reshape(-1)[flat_idx.reshape(-1)].reshape(idx.shape))   # a 0-d index gives a 0-d array
    record(res, TakeBackward0, (input,), numel=n, shape=arr.shape, index=_make(flat_idx.reshape(-1)))
    return res


@op
def take_along_dim(input, indices, dim=None, *, out=None):
    """Pick values of ``input`` at ``indices`` along ``dim`` (other dims broadcast); flattened when dim is None."""
    if not isinstance(indices, Tensor) or indices.dtype is not _dtype.int64:
        raise RuntimeError("torch.take_along_dim(): dtype of indices should be Long but got "
                           f"{indices.dtype if isinstance(indices, Tensor) else type(indices).__name__}")
    if dim is None:
        res = gather(input.reshape(-1), 0, indices.reshape(-1))
        return write_out(out, res) if out is not None else res
    arr, idx = input._data, indices._data
    if arr.ndim != idx.ndim:
        raise RuntimeError(f"torch.take_along_dim(): input and indices should have the same number of dimensions, "
                           f"but got {arr.ndim} dimensions for input, and {idx.ndim} dimensions for indices")
    d = wrap_dim(dim, arr.ndim)
    a_shape, i_shape = list(arr.shape), list(idx.shape)
    a_shape[d] = i_shape[d] = 1
    try:
        bshape = list(array_module(input).broadcast_shapes(tuple(a_shape), tuple(i_shape)))
    except ValueError:
        raise broadcast_error(a_shape, i_shape) from None
    src_shape, idx_shape = list(bshape), list(bshape)
    src_shape[d], idx_shape[d] = arr.shape[d], idx.shape[d]
    n = arr.shape[d]
    if idx.size and idx.min() < 0:   # unlike gather, take_along_dim counts a negative index from the end
        if idx.min() < -n:
            raise RuntimeError(f"index {idx.min()} is out of bounds for dimension {d} with size {n}")
        indices = _make(array_module(input).where(idx < 0, idx + n, idx))
    src = input.expand(src_shape) if tuple(src_shape) != arr.shape else input
    ind = indices.expand(idx_shape) if tuple(idx_shape) != idx.shape else indices
    res = gather(src, d, ind)
    return write_out(out, res) if out is not None else res


class MaskedSelectBackward0(Node):
    def backward(self, grad):
        from .scatter import masked_scatter
        z = grad.new_zeros(self.bshape)
        return (unbroadcast(masked_scatter(z, self.mask, grad), self.shape),)


@op
def masked_select(input, mask, *, out=None):
    """The entries of ``input`` where the bool ``mask`` (broadcast with input) is True, as a 1-D tensor."""
    if not isinstance(mask, Tensor) or mask.dtype is not _dtype.bool:
        raise RuntimeError("masked_select: expected BoolTensor for mask")
    same_device(input, mask)
    arr, m = input._data, mask._data
    xp = array_module(input)
    try:
        bshape = xp.broadcast_shapes(arr.shape, m.shape)
    except ValueError:
        raise broadcast_error(arr.shape, m.shape) from None
    res = _make(xp.broadcast_to(arr, bshape)[xp.broadcast_to(m, bshape)])
    record(res, MaskedSelectBackward0, (input,), bshape=bshape, shape=arr.shape,
           mask=mask if m.shape == bshape else _make(xp.broadcast_to(m, bshape)))
    return write_out(out, res) if out is not None else res


@op
def nonzero(input, *, out=None, as_tuple=False):
    """Indices of non-zero elements: an (n, ndim) int64 tensor, or with ``as_tuple`` one 1-D tensor per dim."""
    arr = input._data
    refuse_wide_unsigned("nonzero_count_cpu", arr.dtype)
    xp = array_module(input)
    if as_tuple:
        if arr.ndim == 0:
            return (_make(xp.nonzero(arr.reshape(1))[0].astype("int64")),)
        return tuple(_make(i.astype("int64")) for i in xp.nonzero(arr))
    if arr.ndim == 0:
        res = _make(xp.zeros((1 if arr.item() else 0, 0), dtype="int64"))
    else:
        res = _make(xp.argwhere(arr).astype("int64"))
    return write_out(out, res) if out is not None else res


@op
def argwhere(input):
    """The (n, ndim) int64 indices of the non-zero elements of ``input``."""
    return nonzero(input)

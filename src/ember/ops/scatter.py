"""Writers by index: scatter / scatter_add / scatter_reduce, index_add / index_copy / index_fill, index_put,
masked_fill / masked_scatter, put — each out of place with its gradient, and its in-place ``name_`` form."""
import math
import warnings

from .. import _dtype
from ._checked import checked_scalar
from .._dtype import cpp_name
from ._common import (array_module, module_of_array, Tensor, Node, record, op, _make, wrap_dim,
                      scalar_value, unbroadcast, broadcast_error, write_out, dtype_name)
from ._unsigned import refuse_wide_unsigned
from ._device_check import same_device, same_device_args
from .indexing import gather, index_select, grid_key, check_bounds, take, split_key, advanced_index, value_grad


def _index_tensor(index, name, dtypes=(_dtype.int64, _dtype.int32)):
    if not isinstance(index, Tensor):
        raise TypeError(f"{name}(): argument 'index' must be Tensor, not {type(index).__name__}")
    if index.dtype not in dtypes:
        want = "int32/int64" if _dtype.int32 in dtypes else "int64"
        raise RuntimeError(f"{name}(): Expected dtype {want} for index")
    return index._data


# the wrappers PyTorch names in its device error: scatter.src / scatter.value / scatter_add / scatter_reduce.two
_SCATTER_WRAPPERS = {"scatter": "scatter_src", "scatter_add": "scatter_add", "scatter_reduce": "scatter_reduce_two"}


def _scatter_checks(input, dim, index, src, name):
    arr = input._data
    idx = _index_tensor(index, name)
    if isinstance(src, Tensor):
        same_device_args(_SCATTER_WRAPPERS[name], "self", input, "index", index, "src", src)
    else:
        same_device_args("scatter_value", "self", input, "index", index)
    d = wrap_dim(dim, max(arr.ndim, 1)) if arr.ndim else wrap_dim(dim, 0)
    if isinstance(src, Tensor) and src._data.dtype != arr.dtype:
        raise RuntimeError(f"{name}(): Expected self.dtype to be equal to src.dtype")
    n = max(arr.ndim, 1)
    if idx.ndim and idx.ndim != n or isinstance(src, Tensor) and src._data.ndim != max(idx.ndim, 1) and idx.size \
            and not (src._data.ndim == 0 and idx.ndim <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as self tensor")
    if idx.size:
        ashape = arr.shape if arr.ndim else (1,)
        ishape = idx.shape if idx.ndim else (1,)
        sshape = (src._data.shape if src._data.ndim else (1,)) if isinstance(src, Tensor) else None
        bad = any(ishape[k] > ashape[k] for k in range(len(ishape)) if k != d) or \
            sshape is not None and any(ishape[k] > sshape[k] for k in range(len(ishape)))
        if bad:
            msg = f"Expected index {list(idx.shape)} to be no larger than self {list(arr.shape)} apart from dimension {d}"
            if sshape is not None:
                msg += f" and to be no larger size than src {list(src._data.shape)}"
            raise RuntimeError(msg)
    check_bounds(idx, arr.shape[d] if arr.ndim else 1, name, d)
    return arr, idx, d


def _src_block(src, idx):
    """The leading block of ``src`` that ``idx`` addresses."""
    s = src._data
    if s.ndim == 0:
        return s.reshape((1,) * max(idx.ndim, 1))[tuple(slice(0, n) for n in idx.shape)] if idx.ndim else s
    return s[tuple(slice(0, n) for n in idx.shape)]


def _key(arr, idx, d):
    """The NumPy key of ``idx``'s targets along dim ``d`` (for a 0-d ``arr``: a key into ``arr.reshape(1)``)."""
    if arr.ndim == 0:
        return (idx.reshape(-1),)
    return grid_key(idx, d)


def _target(res_arr):
    """The array scatter writes into: 0-d arrays are written through a 1-element view."""
    return res_arr.reshape(1) if res_arr.ndim == 0 else res_arr


def _flat_src(s, idx, arr):
    if arr.ndim == 0:
        return s.reshape(-1)
    return s


# ---------------------------------------------------------------------------- scatter
class ScatterBackward0(Node):
    def backward(self, grad):
        g_self = grad.scatter(self.dim, self.index, 0) if self.need_self else None
        g_src = _gather_src(grad, self.dim, self.index, self.src_shape) if self.need_src else None
        return g_self, g_src


def _gather_src(grad, dim, index, src_shape):
    """gather(grad, dim, index) padded with zeros to ``src_shape`` (src may be larger than index)."""
    g = gather(grad, dim, index)
    if tuple(g.shape) == tuple(src_shape):
        return g
    if not len(src_shape):
        return g.reshape(())
    return _pad_to(g, src_shape)


class PadBackward(Node):
    """Gradient of zero-padding: the leading block."""

    def backward(self, grad):
        return (grad[tuple(slice(0, n) for n in self.shape)],)


def _pad_to(g, shape):
    """``g`` padded with zeros at the end of each dim to ``shape`` (differentiable)."""
    z = array_module(g).zeros(shape, dtype=g._data.dtype)
    z[tuple(slice(0, n) for n in g._data.shape)] = g._data
    res = _make(z)
    record(res, PadBackward, (g,), shape=g._data.shape)
    return res


@op(inplace=True)
def scatter(input, dim, index, src=None, value=None, *, reduce=None, out=None):
    """A copy of ``input`` with ``src`` (a tensor, or the number ``value``) written at ``index`` along ``dim``.

    ``reduce`` ('add' or 'multiply') combines instead of overwriting.
    """
    if src is None:
        src = value
    if src is None:
        raise TypeError("scatter() missing 1 required positional argument: 'src' or 'value'")
    arr, idx, d = _scatter_checks(input, dim, index, src, "scatter")
    refuse_wide_unsigned("scatter_gather_tensor_cpu" if isinstance(src, Tensor) else "scatter_gather_scalar_cpu", arr.dtype)
    res_arr = arr.copy()
    if idx.size:
        key = _key(arr, idx, d)
        if isinstance(src, Tensor):
            s = _flat_src(_src_block(src, idx), idx, arr)
            if reduce is not None:
                warnings.warn("The reduce argument of torch.scatter with Tensor src is deprecated and will be removed "
                              "in a future PyTorch release. Use torch.scatter_reduce instead for more reduction "
                              "options.", UserWarning, stacklevel=2)
        else:
            s = scalar_value(src)
            if isinstance(s, float) and arr.dtype.kind in "iub":
                s = int(s)
        if reduce is None:
            _target(res_arr)[key] = s
        elif reduce == "add":
            array_module(input).add.at(_target(res_arr), key, s)
        elif reduce == "multiply":
            array_module(input).multiply.at(_target(res_arr), key, s)
        else:
            raise RuntimeError("reduce argument must be either add or multiply.")
    res = _make(res_arr)
    src_t = src if isinstance(src, Tensor) else None
    if reduce is not None:
        record(res, NotImplementedBackward, (input, src_t),
               node_name="ScatterBackward1" if src_t is None else "ScatterBackward2",
               message="derivative for aten::scatter is not implemented")
    else:
        src_grad = src_t is not None and src_t._requires_grad
        record(res, ScatterBackward0, (input, src_t), dim=d, index=index, need_self=input._requires_grad,
               need_src=src_grad, src_shape=src_t._data.shape if src_grad else None)
    return res if out is None else write_out(out, res)


class NotImplementedBackward(Node):
    """The node of an op whose derivative PyTorch does not implement: backward raises ``message``.
    ``node_name`` is what ``name()`` reports."""

    def name(self):
        return self.node_name

    def backward(self, grad):
        raise RuntimeError(self.message)


class ScatterAddBackward0(Node):
    def backward(self, grad):
        g_src = _gather_src(grad, self.dim, self.index, self.src_shape) if self.need_src else None
        return (grad if self.need_self else None), g_src


@op(inplace=True)
def scatter_add(input, dim, index, src, *, out=None):
    """A copy of ``input`` with ``src`` added at ``index`` along ``dim`` (repeated indices sum)."""
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_add(): argument 'src' (position 3) must be Tensor, not {type(src).__name__}")
    arr, idx, d = _scatter_checks(input, dim, index, src, "scatter_add")
    refuse_wide_unsigned("scatter_gather_tensor_cpu", arr.dtype)
    res_arr = arr.copy()
    if idx.size:
        array_module(input).add.at(_target(res_arr), _key(arr, idx, d), _flat_src(_src_block(src, idx), idx, arr))
    res = _make(res_arr)
    record(res, ScatterAddBackward0, (input, src), dim=d, index=index, need_self=input._requires_grad,
           need_src=src._requires_grad, src_shape=src._data.shape)
    return res if out is None else write_out(out, res)


_REDUCE_UFUNC = {"sum": "add", "mean": "add", "prod": "multiply", "amax": "fmax", "amin": "fmin"}
_REDUCE_ALIAS = {"max": "amax", "min": "amin"}


def _identity(xp, reduce, dtype):
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    if dtype.kind == "f":
        return -math.inf if reduce == "amax" else math.inf
    if dtype.kind == "b":
        return reduce == "amin"
    info = xp.iinfo(dtype)
    return info.min if reduce == "amax" else info.max


def _scatter_reduce_array(arr, idx, d, s, reduce, include_self):
    xp = module_of_array(arr)
    res = arr.copy()
    if not idx.size:
        return res
    key = _key(arr, idx, d)
    res = _target(res)
    if not include_self:
        res[key] = _identity(xp, reduce, arr.dtype)
    ufunc = getattr(xp, _REDUCE_UFUNC[reduce])
    if reduce in ("amax", "amin") and arr.dtype.kind == "f":
        # NaN propagates, as in PyTorch
        ufunc = xp.maximum if reduce == "amax" else xp.minimum
    ufunc.at(res, key, s)
    if reduce == "mean":
        count = xp.zeros(arr.shape, dtype=xp.int64) if arr.ndim else xp.zeros((1,), dtype=xp.int64)
        xp.add.at(count, key, 1)
        count = count.reshape(res.shape)
        if include_self:
            count = count + 1
        count = xp.maximum(count, 1)
        if arr.dtype.kind in "iu":
            res = xp.floor_divide(res, count).astype(arr.dtype)
        else:
            res = (res / count).astype(arr.dtype)
    return res.reshape(arr.shape)


class ScatterReduceBackward0(Node):
    def backward(self, grad):
        dim, index, reduce = self.dim, self.index, self.reduce
        x, src = self.saved_tensors
        res = self.result()
        g_self = g_src = None
        if reduce == "sum":
            g_self = grad
            g_src = gather(grad, dim, index)
        elif reduce == "mean":
            n = (grad.new_ones(grad.shape) if self.include_self else grad.new_zeros(grad.shape))
            n = scatter_add(n, dim, index, _src_ones(src, index))
            n = n.masked_fill(n == 0, 1)
            g_self = grad / n
            g_src = gather(grad, dim, index) / gather(n, dim, index)
        elif reduce == "prod":
            masked_self = x.masked_fill(x == 0, 1)
            masked_self_result = scatter_reduce(masked_self, dim, index, src, "prod", include_self=self.include_self)
            g_self = grad * masked_self_result / masked_self
            s = _src_view(src, index)
            src_zero = s == 0
            num_zeros = gather(scatter_add(x.new_zeros(x.shape), dim, index, src_zero.to(x.dtype)), dim, index)
            single_zero = src_zero & (num_zeros == 1)
            masked_src = s.masked_fill(single_zero, 1)
            masked_src_result = scatter_reduce(x, dim, index, masked_src, "prod", include_self=self.include_self)
            from .elementwise import where
            g_src = where(single_zero, gather(grad * masked_src_result, dim, index),
                          gather(grad * res, dim, index) / s.masked_fill(src_zero, 1))
            g_src = g_src.masked_fill(num_zeros > 1, 0)
        else:  # amax / amin: the gradient is shared evenly among the entries equal to the result
            value = gather(res, dim, index)
            s = _src_view(src, index)
            self_is = (x == res).to(grad.dtype)
            src_is = (s == value).to(grad.dtype)
            if not self.include_self:
                self_is = self_is.scatter(dim, index, 0)
            n = scatter_add(self_is, dim, index, src_is)
            distributed = grad / n.masked_fill(n == 0, 1)
            g_self = self_is * distributed
            g_src = src_is * gather(distributed, dim, index)
        if not self.include_self and g_self is not None:
            g_self = g_self.scatter(dim, index, 0)
        if self.need_src and tuple(g_src.shape) != tuple(src.shape):
            g_src = _pad_to(g_src, src._data.shape)
        return (g_self if self.need_self else None), (g_src if self.need_src else None)


def _src_view(src, index):
    """``src`` cut to the shape of ``index`` (differentiably)."""
    if tuple(src.shape) == tuple(index.shape):
        return src
    return src[tuple(slice(0, n) for n in index.shape)]


def _src_ones(src, index):
    return src.new_ones(index.shape)


@op(inplace=True)
def scatter_reduce(input, dim, index, src, reduce, *, include_self=True, out=None):
    """A copy of ``input`` with ``src`` reduced into it at ``index`` along ``dim``.

    ``reduce`` is 'sum', 'prod', 'mean', 'amax' or 'amin'; with ``include_self=False`` the original
    values at scattered positions take no part in the reduction.
    """
    alias, reduce = reduce, _REDUCE_ALIAS.get(reduce, reduce)
    if reduce not in _REDUCE_UFUNC:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_reduce(): argument 'src' (position 3) must be Tensor, not {type(src).__name__}")
    arr, idx, d = _scatter_checks(input, dim, index, src, "scatter_reduce")
    s = _flat_src(_src_block(src, idx), idx, arr) if idx.size else None
    res = _make(_scatter_reduce_array(arr, idx, d, s, reduce, include_self))
    if alias != reduce:
        record(res, NotImplementedBackward, (input, src), node_name="ScatterReduceBackward0",
               message=f"Expected 'reduce' to be one of 'sum', 'prod', 'mean', 'amax', 'amin' but got {alias}.")
    else:
        record(res, ScatterReduceBackward0, (input, src), (input, src), output=True, dim=d, index=index,
               reduce=reduce, include_self=include_self, need_self=input._requires_grad,
               need_src=src._requires_grad)
    return res if out is None else write_out(out, res)


# ---------------------------------------------------------------------------- index_add / copy / fill
def _index_checks(input, dim, index, source, name):
    arr = input._data
    if not isinstance(index, Tensor):
        raise TypeError(f"{name}(): argument 'index' (position 2) must be Tensor, not {type(index).__name__}")
    if source is None:   # index_fill: an iterator op in PyTorch
        same_device(input, index)
    elif not type(input._data) is type(index._data) is type(source._data):
        raise RuntimeError(f"{name}(): self, index and source expected to be in the same device, but got (self) "
                           f"{input.device}, (index) {index.device}, and (source) {source.device}")
    if index.dtype not in (_dtype.int64, _dtype.int32):
        raise RuntimeError(f"{name}_(): Expected dtype int32/int64 for index but got: "
                           f"{dtype_name(index.dtype)}" if name != "index_copy" else
                           f"{name}_(): Expected a long tensor for index, but got {dtype_name(index.dtype)}")
    idx = index._data
    if idx.ndim > 1:
        raise IndexError(f"{name}_(): Index is supposed to be a vector")
    d = wrap_dim(dim, arr.ndim) if arr.ndim else wrap_dim(dim, 0)
    idx = idx.reshape(-1)
    size = arr.shape[d] if arr.ndim else 1
    if source is not None:
        if isinstance(source, Tensor) and source._data.dtype != arr.dtype:
            raise RuntimeError(f"{name}_(): self ({dtype_name(input.dtype)}) and source "
                               f"({dtype_name(source.dtype)}) must have the same scalar type")
        sshape = source._data.shape
        ns = (sshape[d] if len(sshape) > d else 1) if len(sshape) else 1
        if ns != idx.size:
            raise RuntimeError(f"{name}_(): Number of indices ({idx.size}) should be equal to source.size(dim): "
                               f"({ns}), for dim: {d}")
        if len(sshape) and arr.ndim and (len(sshape) != arr.ndim or any(
                sshape[k] != arr.shape[k] for k in range(arr.ndim) if k != d)):
            raise RuntimeError(f"{name}_(): Source/destination tensor must have same slice shapes. Destination "
                               f"slice shape: {list(arr.shape[:d] + arr.shape[d + 1:])} at dimension {d} and source "
                               f"slice shape: {list(sshape[:d] + sshape[d + 1:])} at dimension 0.")
    if idx.size:
        lo, hi = idx.min(), idx.max()
        if name == "index_fill":   # the one that counts a negative index from the end
            lo += size
        if lo < 0 or hi >= size:
            bad = idx.min() if lo < 0 else hi
            if name == "index_add":   # PyTorch's 1-D kernel and its strided one word it differently
                if arr.ndim <= 1:
                    raise IndexError("index out of range in self")
                raise RuntimeError(f"index {bad} is out of bounds for dimension {d} with size {size}")
            prefix = "index_copy_(): " if name == "index_copy" else ""
            raise IndexError(f"{prefix}index {bad} is out of bounds for dimension {d} with size {size}")
    return arr, idx, d


def _dim_key(arr, idx, d):
    if arr.ndim == 0:
        return (idx,) if idx.size else (slice(0, 0),)
    return (slice(None),) * d + (idx,)


class IndexAddBackward0(Node):
    def backward(self, grad):
        g_src = None
        if self.need_src:
            g_src = index_select(grad, self.dim, self.index) if grad._data.ndim else grad.reshape(1)
            if self.alpha != 1:
                g_src = g_src * self.alpha
            g_src = g_src.reshape(self.src_shape)
        return (grad if self.need_self else None), g_src


@op(inplace=True)
def index_add(input, dim, index, source, *, alpha=1, out=None):
    """A copy of ``input`` with ``alpha * source`` added at the 1-D ``index`` along ``dim`` (repeats sum)."""
    arr, idx, d = _index_checks(input, dim, index, source, "index_add")
    res_arr = arr.copy()
    s = source._data if alpha == 1 else source._data * alpha
    xp = array_module(input)
    if arr.ndim == 0:
        res_arr = res_arr.reshape(1)
        xp.add.at(res_arr, idx, s.reshape(-1).astype(arr.dtype, copy=False))
        res_arr = res_arr.reshape(())
    else:
        xp.add.at(res_arr, _dim_key(arr, idx, d), s.astype(arr.dtype, copy=False))
    res = _make(res_arr)
    node = record(res, IndexAddBackward0, (input, source), dim=d, alpha=alpha, need_self=input._requires_grad,
                  need_src=source._requires_grad, src_shape=source._data.shape)
    if node is not None:
        node.index = _make(idx) if index._data.ndim != 1 else index
    return res if out is None else write_out(out, res)


class IndexCopyBackward0(Node):
    def backward(self, grad):
        g_self = index_fill(grad, self.dim, self.index, 0) if self.need_self else None
        g_src = None
        if self.need_src:
            g_src = (index_select(grad, self.dim, self.index) if grad._data.ndim else grad.reshape(1))
            g_src = g_src.reshape(self.src_shape)
        return g_self, g_src


@op(inplace=True)
def index_copy(input, dim, index, source, *, out=None):
    """A copy of ``input`` with the slices of ``source`` written at the 1-D ``index`` along ``dim``."""
    arr, idx, d = _index_checks(input, dim, index, source, "index_copy")
    res_arr = arr.copy()
    if arr.ndim == 0:
        if idx.size:
            res_arr = source._data.reshape(()).copy()
    else:
        res_arr[_dim_key(arr, idx, d)] = source._data
    res = _make(res_arr)
    node = record(res, IndexCopyBackward0, (input, source), dim=d, need_self=input._requires_grad,
                  need_src=source._requires_grad, src_shape=source._data.shape)
    if node is not None:
        node.index = _make(idx)
    return res if out is None else write_out(out, res)


class IndexFillBackward0(Node):
    def backward(self, grad):
        g_self = index_fill(grad, self.dim, self.index, 0) if self.need_self else None
        g_val = None
        if self.need_value:
            sel = index_select(grad, self.dim, self.index) if grad._data.ndim else grad
            g_val = sel.sum().reshape(())
        return g_self, g_val


@op(inplace=True)
def index_fill(input, dim, index, value):
    """A copy of ``input`` with ``value`` (a number or 0-d tensor) at the 1-D ``index`` along ``dim``."""
    if isinstance(value, Tensor) and value._data.ndim:
        raise RuntimeError(f"index_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                           f"{value._data.ndim} dimension(s).")
    arr, idx, d = _index_checks(input, dim, index, None, "index_fill")
    v = value._data if isinstance(value, Tensor) else scalar_value(value)
    if not isinstance(value, Tensor) and not isinstance(v, complex):
        v = checked_scalar(v, input.dtype)
    res_arr = arr.copy()
    if arr.ndim == 0:
        if idx.size:
            res_arr[...] = v
    else:
        res_arr[_dim_key(arr, idx, d)] = v
    res = _make(res_arr)
    value_grad = isinstance(value, Tensor) and value._requires_grad
    node = record(res, IndexFillBackward0, (input, value if value_grad else None), dim=d,
                  need_self=input._requires_grad, need_value=value_grad)
    if node is not None:
        node.index = _make(idx)
    return res


# ---------------------------------------------------------------------------- index_put / put
class IndexPutBackward0(Node):
    def backward(self, grad):
        g_self = None
        if self.need_self:
            g_self = grad if self.accumulate else index_put(grad, self.indices, grad.new_zeros(()))
        g_val = None
        if self.need_values:
            g = advanced_index(grad, self.key)
            g_val = value_grad(g, self.values_shape)
        return g_self, g_val


@op(inplace=True, inplace_function=True)
def index_put(input, indices, values, accumulate=False):
    """A copy of ``input`` with ``values`` put at the advanced index ``indices`` (a tuple of index tensors);
    with ``accumulate`` repeated positions sum."""
    if not isinstance(indices, (tuple, list)):
        raise TypeError(f"index_put(): argument 'indices' (position 1) must be tuple of Tensors, not "
                        f"{type(indices).__name__}")
    if not isinstance(values, Tensor):
        raise TypeError(f"index_put(): argument 'values' (position 2) must be Tensor, not {type(values).__name__}")
    arr = input._data
    if len(indices) > arr.ndim:
        raise IndexError(f"too many indices for tensor of dimension {arr.ndim} (got {len(indices)})")
    if values._data.dtype != arr.dtype:
        raise RuntimeError(f"Index put requires the source and destination dtypes match, got "
                           f"{dtype_name(input.dtype)} for the destination and {dtype_name(values.dtype)} for the "
                           "source.")
    for i in indices:
        if i is not None and (not isinstance(i, Tensor) or i.dtype._category > 1):
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    basic, key = split_key(tuple(slice(None) if i is None else i for i in indices), arr.shape, array_module(input))
    if key is None:
        key = basic
    target = arr[key]
    v = values._data
    xp = array_module(input)
    while v.ndim > target.ndim and v.shape[0] == 1:
        v = v[0]
    try:
        xp.broadcast_shapes(v.shape, target.shape)
        if v.ndim > target.ndim:
            raise ValueError
    except ValueError:
        raise RuntimeError(f"shape mismatch: value tensor of shape {list(values.shape)} cannot be broadcast to "
                           f"indexing result of shape {list(target.shape)}") from None
    res_arr = arr.copy()
    if accumulate:
        xp.add.at(res_arr, key, v)
    else:
        res_arr[key] = v
    res = _make(res_arr)
    record(res, IndexPutBackward0, (input, values), indices=tuple(indices), key=key, accumulate=accumulate,
           need_self=input._requires_grad, need_values=values._requires_grad, values_shape=values._data.shape)
    return res


class PutBackward0(Node):
    def backward(self, grad):
        g_self = None
        if self.need_self:
            g_self = grad if self.accumulate else put(grad, self.index, grad.new_zeros(self.index.shape))
        g_src = take(grad, self.index).reshape(self.src_shape) if self.need_src else None
        return g_self, g_src


@op(inplace=True)
def put(input, index, source, accumulate=False):
    """A copy of ``input`` with ``source`` written at the flat indices ``index`` (summed with ``accumulate``)."""
    if not isinstance(index, Tensor) or index.dtype is not _dtype.int64:
        raise RuntimeError("put_(): Expected a long tensor for index, but got "
                           f"{index.dtype if isinstance(index, Tensor) else type(index).__name__}")
    same_device(input, index, source)
    if source._data.dtype != input._data.dtype:
        raise RuntimeError(f"put_(): self ({dtype_name(input.dtype)}) and source ({dtype_name(source.dtype)}) must "
                           "have the same scalar type")
    arr, idx = input._data, index._data
    if idx.size != source._data.size:
        raise IndexError(f"put_(): Expected source and index to have the same number of elements, but got "
                         f"source.numel() = {source._data.size}, index.numel() = {idx.size}")
    n = arr.size
    if idx.size and (idx.min() < -n or idx.max() >= n):
        bad = idx.max() if idx.max() >= n else idx.min()
        raise IndexError(f"out of range: tried to access index {bad} on a tensor of {n} elements.")
    flat = arr.copy().reshape(-1)
    xp = array_module(input)
    fi = xp.where(idx < 0, idx + n, idx).reshape(-1)
    if accumulate:
        xp.add.at(flat, fi, source._data.reshape(-1))
    else:
        flat[fi] = source._data.reshape(-1)
    res = _make(flat.reshape(arr.shape))
    node = record(res, PutBackward0, (input, source), accumulate=accumulate, need_self=input._requires_grad,
                  need_src=source._requires_grad, src_shape=source._data.shape)
    if node is not None:
        node.index = _make(fi)
    return res


# ---------------------------------------------------------------------------- masked_fill / masked_scatter
def _bool_mask(mask, name):
    if not isinstance(mask, Tensor):
        raise TypeError(f"{name}(): argument 'mask' (position 1) must be Tensor, not {type(mask).__name__}")
    if mask.dtype is not _dtype.bool:
        raise RuntimeError(f"{name}_ only supports boolean masks, but got mask with dtype {cpp_name(mask.dtype, 'typeid')}"
                           if name == "masked_fill" else
                           f"{name}_: expected BoolTensor for mask")
    return mask


class MaskedFillBackward0(Node):
    def backward(self, grad):
        g_self = None
        if self.need_self:
            g_self = unbroadcast(grad.masked_fill(self.mask, 0), self.shape)
        if self.need_value is None:        # the value was a number: one edge, as PyTorch's MaskedFillBackward0
            return (g_self,)
        g_val = None
        if self.need_value:
            g_val = (grad * self.mask).sum().reshape(self.value_shape)
        return g_self, g_val


class MaskedFillBackward1(MaskedFillBackward0):
    """Gradient of masked_fill with a 0-d tensor value (two edges)."""


@op(inplace=True)
def masked_fill(input, mask, value):
    """A copy of ``input`` with ``value`` (a number or 0-d tensor) where the bool ``mask`` (broadcast) is True."""
    mask = _bool_mask(mask, "masked_fill")
    if type(mask._data) is not type(input._data):
        raise RuntimeError(f"expected self and mask to be on the same device, but got mask on {mask.device} and self "
                           f"on {input.device}")
    arr = input._data
    refuse_wide_unsigned("masked_fill", arr.dtype)
    xp = array_module(input)
    if isinstance(value, Tensor):
        if value._data.ndim:
            raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                               f"{value._data.ndim} dimension(s).")
        v = value._data.astype(arr.dtype)
    else:
        v = scalar_value(value)
        if isinstance(v, float) and arr.dtype.kind == "b":
            v = bool(v)
        elif not isinstance(v, complex):
            v = checked_scalar(v, input.dtype)
    try:
        out = xp.where(mask._data, xp.asarray(v, dtype=arr.dtype), arr)
    except ValueError:
        raise broadcast_error(arr.shape, mask._data.shape) from None
    res = _make(out)
    if isinstance(value, Tensor):
        value_grad = value._requires_grad
        record(res, MaskedFillBackward1, (input, value), mask=mask, need_self=input._requires_grad,
               need_value=value_grad, shape=arr.shape, value_shape=value._data.shape if value_grad else None)
    else:
        record(res, MaskedFillBackward0, (input,), mask=mask, need_self=input._requires_grad, need_value=None,
               shape=arr.shape, value_shape=None)
    return res


class MaskedScatterBackward0(Node):
    def backward(self, grad):
        g_self = unbroadcast(grad.masked_fill(self.mask, 0), self.shape) if self.need_self else None
        g_src = None
        if self.need_src:
            from .indexing import masked_select
            sel = masked_select(grad, self.mask)
            n = sel.shape[0]
            flat = _pad_to(sel, (self.src_numel,)) if n != self.src_numel else sel
            g_src = flat.reshape(self.src_shape)
        return g_self, g_src


@op(inplace=True)
def masked_scatter(input, mask, source):
    """A copy of ``input`` with consecutive entries of ``source`` written where ``mask`` is True (row-major)."""
    mask = _bool_mask(mask, "masked_scatter")
    same_device(input, mask, source)
    if source._data.dtype != input._data.dtype:
        raise RuntimeError(f"masked_scatter_: expected self and source to have same dtypes but got "
                           f"{dtype_name(input.dtype)} and {dtype_name(source.dtype)}")
    arr, m = input._data, mask._data
    xp = array_module(input)
    try:
        shape = xp.broadcast_shapes(arr.shape, m.shape)
    except ValueError:
        raise broadcast_error(arr.shape, m.shape) from None
    mb = xp.broadcast_to(m, shape)
    count = int(mb.sum())
    if count > source._data.size:
        raise RuntimeError("Number of elements of source < number of ones in mask")
    res_arr = xp.broadcast_to(arr, shape).copy()
    res_arr[mb] = source._data.reshape(-1)[:count]
    res = _make(res_arr)
    node = record(res, MaskedScatterBackward0, (input, source), shape=arr.shape, need_self=input._requires_grad,
                  need_src=source._requires_grad, src_numel=source._data.size, src_shape=source._data.shape)
    if node is not None:
        node.mask = mask if m.shape == shape else _make(mb)
    return res

"""Math on sparse tensors: elementwise sums and products, zero-preserving functions of the values, reductions,
softmax over the specified entries, and the index ops (transpose, index_select, narrow_copy).

Each op is composed of two differentiable bridges, ``values_of`` (a sparse tensor's values as a dense tensor) and
``with_pattern`` (dense values placed at a sparse pattern), around ordinary dense ember ops on the values, so the
dense ops' derivatives (double backward included) serve the sparse case.
"""
from .. import _dtype
from ._common import Tensor, Node, record, _make, module_of_array, wrap_dim
from .sparse_tensor import (SPARSE_COO, SparseStore, sparse_method, sparse_operand, make_coo, make_compressed,
                            coalesce_store, linear_index, repeat_each)
from .sparse_layout import values_at, coalesce


# ---------------------------------------------------------------------------- the two bridges
class SparseValuesBackward0(Node):
    def backward(self, grad):
        s = self.store
        if s.coalesced:
            return (make_coo(s.indices, grad._data, s.shape, True),)
        # every duplicate of a position receives the position's gradient: one copy (their mean) is the gradient
        # with respect to the tensor, on its coalesced pattern
        xp = module_of_array(grad._data)
        total = coalesce_store(SparseStore(SPARSE_COO, s.shape, grad._data, indices=s.indices))
        counts = coalesce_store(SparseStore(SPARSE_COO, s.shape[:s.sparse_dim], xp.ones(s.nnz, grad._data.dtype),
                                            indices=s.indices)).values
        mean = total.values / counts.reshape((-1,) + (1,) * (grad._data.ndim - 1))
        return (make_coo(total.indices, mean.astype(grad._data.dtype, copy=False), s.shape, True),)

    def name(self):
        return "ValuesBackward0"


class SparseFromValuesBackward0(Node):
    def backward(self, grad):
        return (_make(values_at(grad, self.indices, self.shape)),)

    def name(self):
        return "SparseCooTensorWithDimsAndTensorsBackward0"


class DenseAtPatternBackward0(Node):
    def backward(self, grad):
        return (make_coo(self.indices, grad._data, self.shape, True),)

    def name(self):
        return "IndexBackward0"


def dense_at(dense, indices):
    """The entries of ``dense`` at the coalesced COO index columns ``indices`` (with its trailing dense dims), as
    a dense tensor whose gradient flows back into ``dense`` as a sparse tensor on that pattern (as PyTorch's
    sparse * dense product gives the dense operand a sparse gradient)."""
    picked = dense._data[tuple(indices)] if indices.shape[0] else dense._data[None]
    res = _make(picked)
    record(res, DenseAtPatternBackward0, (dense,), indices=indices, shape=tuple(dense.shape))
    return res


def values_of(input):
    """The stored values of COO tensor ``input`` as a dense tensor, differentiable (no coalesced check)."""
    s = input._data
    res = _make(s.values)
    record(res, SparseValuesBackward0, (input,), store=s)
    return res


def with_pattern(indices, values, shape, coalesced=False):
    """A COO tensor with ``values`` (a dense tensor, differentiable) at the int64 index columns ``indices``."""
    res = make_coo(indices, values._data, shape, coalesced)
    record(res, SparseFromValuesBackward0, (values,), indices=indices, shape=tuple(shape))
    return res


def add_stores(a, b):
    """A COO store with the entries of COO stores ``a`` and ``b``: concatenated, then coalesced when both were
    coalesced (as PyTorch's sparse add)."""
    xp = module_of_array(a.values)
    out = SparseStore(SPARSE_COO, a.shape, xp.concatenate([a.values, b.values.astype(a.values.dtype, copy=False)]),
                      indices=xp.concatenate([a.indices, b.indices], axis=1))
    return coalesce_store(out) if a.coalesced and b.coalesced else out


def _coo(t):
    """``t`` as a COO tensor (compressed layouts converted, with their gradient path)."""
    return t if t._data.layout == SPARSE_COO else t.to_sparse_coo()


def _check_same_shape(a, b, what):
    if tuple(a.shape) != tuple(b.shape):
        raise RuntimeError(f"{what}: expected 'self' and 'other' to have same size, but self has size "
                           f"{list(a.shape)} while other has size {list(b.shape)}")


# ---------------------------------------------------------------------------- sums and products
@sparse_method("add", "__add__")
def sparse_add(input, other, *, alpha=1, out=None):
    """``input + alpha * other`` for sparse ``other``: a sparse (COO) result.  (A dense sum is ``dense + sparse``.)"""
    if isinstance(other, Tensor) and other._sparse:
        _check_same_shape(input, other, "add")
        a, b = _coo(input), _coo(other)
        dt = _dtype.promote_types(a.dtype, b.dtype)
        va, vb = values_of(a), values_of(b)
        if va.dtype is not dt:
            va = va.to(dt)
        vb = vb.to(dt) if vb.dtype is not dt else vb
        xp = module_of_array(a._data.values)
        ind = xp.concatenate([a._data.indices, b._data.indices], axis=1)
        from .joining import cat
        vals = cat([va, vb * alpha if alpha != 1 else vb])
        res = with_pattern(ind, vals, a.shape)
        return res.coalesce() if a._data.coalesced and b._data.coalesced else res
    raise RuntimeError("add(sparse, dense) is not supported. Use add(dense, sparse) instead.")


@sparse_method("__radd__")
def sparse_radd(input, other):
    """``other + input`` for a dense ``other``: a dense result."""
    return other + input.to_dense() if isinstance(other, Tensor) else sparse_add(input, other)


@sparse_method("sub", "__sub__")
def sparse_sub(input, other, *, alpha=1, out=None):
    """``input - alpha * other``."""
    return sparse_add(input, other, alpha=-alpha)


@sparse_method("__rsub__")
def sparse_rsub(input, other):
    """``other - input`` for a dense ``other``."""
    return other - input.to_dense()


@sparse_operand(0, "zeros_like")
def sparse_zeros_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    """``ember.zeros_like`` of a sparse tensor: the same layout, shape and sparse/dense split with no entries
    (or a dense zero tensor when ``layout=ember.strided`` is asked of a COO tensor, as PyTorch allows)."""
    from .creation import zeros
    st = input._data
    if layout is not None and layout != st.layout:
        if st.layout == SPARSE_COO:
            return zeros(st.shape, dtype=dtype or input.dtype, device=device or input.device,
                         requires_grad=requires_grad)
        raise RuntimeError(f"empty_like with different sparse layout is not supported (self is SparseCsr but you "
                           f"requested {str(layout).rpartition('.')[2].capitalize()})")
    xp = module_of_array(st.values)
    np_dtype = (dtype or input.dtype).np
    if st.layout == SPARSE_COO:
        t = make_coo(xp.zeros((st.indices.shape[0], 0), dtype=xp.int64),
                     xp.zeros((0,) + st.values.shape[1:], dtype=np_dtype), st.shape, coalesced=True)
    else:
        t = make_compressed(st.layout, xp.zeros_like(st.compressed), xp.zeros(0, dtype=st.plain.dtype),
                            xp.zeros(0, dtype=np_dtype), st.shape)
    if device is not None:
        t = t.to(device)
    t._requires_grad = requires_grad
    return t


@sparse_operand(1, "add")
def dense_add_sparse(input, other, *, alpha=1, out=None):
    """``ember.add(dense, sparse)``: ``input + alpha * other`` as a dense tensor (PyTorch's layout)."""
    from .elementwise import add
    return add(input, other.to_dense(), alpha=alpha, out=out)


@sparse_operand(1, "sub", "subtract")
def dense_sub_sparse(input, other, *, alpha=1, out=None):
    """``ember.sub(dense, sparse)``: ``input - alpha * other`` as a dense tensor (PyTorch's layout)."""
    from .elementwise import sub
    return sub(input, other.to_dense(), alpha=alpha, out=out)


@sparse_operand(1, "mul", "multiply")
def dense_mul_sparse(input, other, *, out=None):
    """``ember.mul(dense, sparse)``: the sparse product (multiplication commutes; PyTorch's result is sparse)."""
    return sparse_mul(other, input, out=out)


def _map_values(input, fn, coalesced_first):
    """``input``'s pattern with values ``fn(values)`` (a dense ember op), differentiable through the values."""
    src = _coo(input)
    if coalesced_first:
        src = coalesce(src)
    s = src._data
    return with_pattern(s.indices, fn(values_of(src)), s.shape, s.coalesced)


@sparse_method("mul", "__mul__", "__rmul__", "multiply")
def sparse_mul(input, other, *, out=None):
    """Elementwise product: by a number or a 0-d tensor, by a dense tensor of the same shape, or by a sparse
    tensor (the entries both specify); a sparse result."""
    if not isinstance(other, Tensor) or (not other._sparse and other.ndim == 0):
        return _map_values(input, lambda v: v * other, False)
    if not other._sparse:
        _check_same_shape(input, other, "mul")
        src = coalesce(_coo(input))
        s = src._data
        return with_pattern(s.indices, values_of(src) * dense_at(other, s.indices), s.shape, True)
    _check_same_shape(input, other, "mul")
    a, b = coalesce(_coo(input)), coalesce(_coo(other))
    xp = module_of_array(a._data.values)
    sd = a._data.sparse_dim
    la, lb = linear_index(a._data.indices, a.shape[:sd]), linear_index(b._data.indices, b.shape[:sd])
    ia, ib = _common_entries(xp, la, lb)
    va = values_of(a).index_select(0, _make(ia))
    vb = values_of(b).index_select(0, _make(ib))
    return with_pattern(a._data.indices[:, ia], va * vb, a.shape, True)


def _common_entries(xp, la, lb):
    """The positions ``(ia, ib)`` in the sorted unique arrays ``la`` and ``lb`` of the values both hold."""
    if not (la.size and lb.size):
        return xp.zeros(0, dtype=xp.int64), xp.zeros(0, dtype=xp.int64)
    pos = xp.minimum(xp.searchsorted(lb, la), lb.size - 1)
    ia = xp.nonzero(lb[pos] == la)[0]
    return ia, pos[ia]


@sparse_method("mul_")
def sparse_mul_(input, other):
    """Scale the stored values in place by a number or 0-d tensor; returns ``input``."""
    if isinstance(other, Tensor) and (other._sparse or other.ndim):
        raise RuntimeError("mul_: ember scales a sparse tensor in place by a scalar only")
    s = input._data
    s.values = s.values * (other._data if isinstance(other, Tensor) else other)
    s.values = s.values.astype(input._data.values.dtype, copy=False)
    s.cache = None
    input._version[0] += 1
    return input


@sparse_method("zero_")
def sparse_zero_(input):
    """Remove every entry in place (nnz becomes 0); returns ``input``."""
    s = input._data
    if s.layout != SPARSE_COO:
        raise RuntimeError("zero_: ember empties COO sparse tensors only")
    s.values, s.indices, s.coalesced, s.cache = s.values[:0].copy(), s.indices[:, :0].copy(), True, None
    input._version[0] += 1
    return input


@sparse_method("div", "__truediv__", "true_divide", "divide")
def sparse_div(input, other, *, rounding_mode=None, out=None):
    """Division of the values by a number or 0-d tensor (a sparse result)."""
    if isinstance(other, Tensor) and (other._sparse or other.ndim):
        raise RuntimeError("Sparse division requires a scalar or zero-dim dense tensor divisor")
    return _map_values(input, lambda v: v.div(other, rounding_mode=rounding_mode), False)


# ---------------------------------------------------------------------------- functions of the values
_ZERO_PRESERVING = ("neg", "abs", "sqrt", "sin", "tan", "tanh", "asin", "atan", "sinh", "asinh", "atanh", "relu",
                    "sign", "sgn", "square", "expm1", "log1p", "trunc", "floor", "ceil", "round", "frac", "erf",
                    "erfinv", "deg2rad", "rad2deg", "signbit", "isnan", "isinf", "nan_to_num", "conj_physical",
                    "angle", "positive")
_LINEAR = {"neg", "positive", "conj_physical", "deg2rad", "rad2deg"}


def _value_function(name):
    def fn(input, *args, **kwargs):
        return _map_values(input, lambda v: getattr(v, name)(*args, **kwargs), name not in _LINEAR)
    fn.__name__ = fn.__qualname__ = "sparse_" + name
    fn.__doc__ = f"``{name}`` of a sparse tensor's values (zero stays zero): a sparse result with its pattern."
    return fn


for _name in _ZERO_PRESERVING:
    sparse_method(_name)(_value_function(_name))
sparse_method("__neg__")(_value_function("neg"))
sparse_method("__abs__")(_value_function("abs"))


@sparse_method("pow", "__pow__")
def sparse_pow(input, exponent):
    """Values raised to a positive number (zero stays zero)."""
    if isinstance(exponent, Tensor) or exponent <= 0:
        raise RuntimeError("pow: a sparse base needs a positive scalar exponent")
    return _map_values(input, lambda v: v.pow(exponent), True)


# ---------------------------------------------------------------------------- reductions and softmax
def _norm_dims(dim, ndim):
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    return tuple(sorted({wrap_dim(d, ndim) for d in dims}))


def sparse_sum(input, dim=None, dtype=None):
    """Sum over ``dim`` (all dims when None): a dense scalar for all dims, otherwise a sparse tensor over the
    dims kept (dense when no sparse dim is kept)."""
    src = _coo(input)
    s = src._data
    sd = s.sparse_dim
    v = values_of(src)
    if dtype is not None:
        v = v.to(dtype)
    elif v.dtype._category < 2:
        v = v.to(_dtype.int64)
    dims = _norm_dims(dim, s.ndim)
    dense_red = tuple(d - sd + 1 for d in dims if d >= sd)
    if dense_red:
        v = v.sum(dense_red)
    kept = [d for d in range(sd) if d not in dims]
    if len(kept) == sd:
        return with_pattern(s.indices, v, tuple(n for d, n in enumerate(s.shape) if d not in dims), s.coalesced)
    if not kept:
        return v.sum(0)
    shape = tuple(n for d, n in enumerate(s.shape) if d not in dims)
    return coalesce(with_pattern(s.indices[kept], v, shape))


@sparse_method("sum")
def sparse_sum_method(input, dim=None, keepdim=False, *, dtype=None):
    """``Tensor.sum`` of a sparse tensor: a dense scalar without ``dim``; with ``dim`` as ``torch.sparse.sum``."""
    return sparse_sum(input, dim, dtype)


def _groups(s, dim):
    """For each entry of coalesced COO store ``s``: the id of its softmax group (entries sharing every sparse
    index except ``dim``), and the number of groups."""
    xp = module_of_array(s.values)
    sd = s.sparse_dim
    others = [d for d in range(sd) if d != dim]
    if not others:
        return xp.zeros(s.nnz, dtype=xp.int64), 1
    lin = linear_index(s.indices[others], tuple(s.shape[d] for d in others))
    uniq, inv = xp.unique(lin, return_inverse=True)
    return inv.reshape(-1), uniq.size


def _softmax(input, dim, dtype, log):
    src = coalesce(_coo(input))
    s = src._data
    d = wrap_dim(dim, s.ndim)
    v = values_of(src)
    if dtype is not None:
        v = v.to(dtype)
    if d >= s.sparse_dim:   # a dense dim: an ordinary softmax of each entry's values
        r = v.log_softmax(d - s.sparse_dim + 1) if log else v.softmax(d - s.sparse_dim + 1)
        return with_pattern(s.indices, r, s.shape, True)
    xp = module_of_array(s.values)
    group, n = _groups(s, d)
    top = xp.full((n,) + v.shape[1:], -xp.inf, dtype=v._data.dtype)
    xp.maximum.at(top, group, v._data)
    g = _make(group)
    shifted = v - _make(top[group])
    e = shifted.exp()
    from .creation import zeros
    total = zeros((n,) + tuple(v.shape[1:]), dtype=v.dtype, device=v.device).index_add(0, g, e)
    per_entry = total.index_select(0, g)
    r = shifted - per_entry.log() if log else e / per_entry
    return with_pattern(s.indices, r, s.shape, True)


def sparse_softmax(input, dim, dtype=None):
    """Softmax along ``dim`` over the specified entries only (unspecified ones count as -inf)."""
    return _softmax(input, dim, dtype, False)


def sparse_log_softmax(input, dim, dtype=None):
    """Log-softmax along ``dim`` over the specified entries only."""
    return _softmax(input, dim, dtype, True)


# ---------------------------------------------------------------------------- index ops
class SparseTransposeBackward0(Node):
    def backward(self, grad):
        return (grad.transpose(self.d0, self.d1),)

    def name(self):
        return "TransposeBackward0"


@sparse_method("transpose", "swapaxes", "swapdims")
def sparse_transpose(input, dim0, dim1):
    """The tensor with dims ``dim0`` and ``dim1`` swapped (COO: index rows swapped; CSR <-> CSC for 2-D)."""
    s = input._data
    d0, d1 = wrap_dim(dim0, s.ndim), wrap_dim(dim1, s.ndim)
    if s.layout != SPARSE_COO:
        if {d0, d1} != {0, 1}:
            return input
        from .sparse_tensor import SPARSE_CSR, SPARSE_CSC, make_compressed
        layout = SPARSE_CSC if s.layout == SPARSE_CSR else SPARSE_CSR
        res = make_compressed(layout, s.compressed, s.plain, s.values, s.shape[::-1])
    else:
        sd = s.sparse_dim
        if (d0 < sd) != (d1 < sd):
            raise RuntimeError("transpose(): can't transpose a sparse dim with a dense dim")
        shape = list(s.shape)
        shape[d0], shape[d1] = shape[d1], shape[d0]
        if d0 < sd:
            ind = s.indices.copy()
            ind[[d0, d1]] = ind[[d1, d0]]
            res = make_coo(ind, s.values, shape, d0 == d1 and s.coalesced)
        else:
            vd0, vd1 = d0 - sd + 1, d1 - sd + 1
            res = make_coo(s.indices, module_of_array(s.values).swapaxes(s.values, vd0, vd1), shape, s.coalesced)
    record(res, SparseTransposeBackward0, (input,), d0=d0, d1=d1)
    return res


@sparse_method("t")
def sparse_t(input):
    """The transpose of a sparse matrix (a 1-D tensor is returned as it is)."""
    if input.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input.ndim}D")
    return input if input.ndim < 2 else sparse_transpose(input, 0, 1)


@sparse_method("index_select")
def sparse_index_select(input, dim, index):
    """Slices of ``input`` along ``dim`` at ``index`` (repeats allowed): a COO tensor."""
    src = coalesce(_coo(input))
    s = src._data
    d = wrap_dim(dim, s.ndim)
    idx = index._data.astype("int64") if isinstance(index, Tensor) else module_of_array(s.values).asarray(index)
    shape = list(s.shape)
    shape[d] = idx.size
    if d >= s.sparse_dim:
        vals = values_of(src).index_select(d - s.sparse_dim + 1, _make(idx))
        return with_pattern(s.indices, vals, shape, True)
    xp = module_of_array(s.values)
    # entry e is picked once per position p with idx[p] == its index along d
    order = xp.argsort(idx, kind="stable")
    sorted_idx = idx[order]
    lo = xp.searchsorted(sorted_idx, s.indices[d], "left")
    hi = xp.searchsorted(sorted_idx, s.indices[d], "right")
    counts = hi - lo
    entries = repeat_each(xp, xp.arange(s.nnz), counts)
    firsts = xp.cumsum(counts) - counts   # where each entry's copies start among all copies
    positions = order[xp.arange(entries.size) + (lo - firsts)[entries]] if entries.size else entries
    ind = s.indices[:, entries]
    ind[d] = positions
    vals = values_of(src).index_select(0, _make(entries))
    return coalesce(with_pattern(ind, vals, shape))


@sparse_method("narrow_copy")
def sparse_narrow_copy(input, dim, start, length):
    """The entries with ``start <= index < start + length`` along ``dim``, shifted to start at 0."""
    src = _coo(input)
    s = src._data
    d = wrap_dim(dim, s.ndim)
    shape = list(s.shape)
    shape[d] = length
    if d >= s.sparse_dim:
        vals = values_of(src).narrow(d - s.sparse_dim + 1, start, length)
        return with_pattern(s.indices, vals, shape, s.coalesced)
    keep = module_of_array(s.indices).nonzero((s.indices[d] >= start) & (s.indices[d] < start + length))[0]
    ind = s.indices[:, keep]
    ind[d] -= start
    return with_pattern(ind, values_of(src).index_select(0, _make(keep)), shape, s.coalesced)

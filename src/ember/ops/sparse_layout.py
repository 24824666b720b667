"""Building sparse tensors, converting between layouts, and reading their parts.

``sparse_coo_tensor`` / ``sparse_csr_tensor`` / ``sparse_csc_tensor`` build them (indices are checked against the
size always), ``Tensor.to_sparse*`` / ``to_dense`` convert, and ``indices``, ``values``, ``crow_indices``,
``coalesce``... read them.  Gradients flow into the values: through the constructor, ``to_dense``, ``values()`` and
``coalesce``; a gradient with respect to a sparse tensor is sparse with the tensor's own pattern.
"""
from .._device import backend_of, device_of
from ._common import Tensor, Node, record, method, function, module_of_array, _make
from .sparse_tensor import (SPARSE_COO, SPARSE_CSR, SPARSE_CSC, SparseStore, sparse_method, wrap_store, make_coo,
                            make_compressed, check_coo, check_compressed, coalesce_store, linear_index,
                            dense_to_coo, to_coo_store, to_compressed_store, to_dense_array, stored_indices)

_STRIDED_NAMES = {SPARSE_COO: "sparse coordinate", SPARSE_CSR: "sparse compressed", SPARSE_CSC: "sparse compressed"}


# ---------------------------------------------------------------------------- gradient plumbing
def values_at(grad, indices, shape):
    """The entries of ``grad`` (a dense or sparse tensor of ``shape``) at the index columns ``indices``."""
    if not grad._sparse:
        return grad._data[tuple(indices)]
    g = to_coo_store(grad._data)
    if g.indices is indices:
        return g.values
    g = coalesce_store(g)
    if g.indices is indices:
        return g.values
    xp = module_of_array(indices)
    sd = indices.shape[0]
    out = xp.zeros((indices.shape[1],) + tuple(shape[sd:]), dtype=g.values.dtype)
    if g.nnz and indices.shape[1]:
        have, want = linear_index(g.indices, shape[:sd]), linear_index(indices, shape[:sd])
        order = xp.argsort(want)   # searching in sorted order keeps the lookups in cache
        pos = xp.empty(want.size, dtype=xp.int64)
        pos[order] = xp.minimum(xp.searchsorted(have, want[order]), have.size - 1)
        hit = have[pos] == want
        out[hit] = g.values[pos[hit]]
    return out


def masked_like(grad, store):
    """``grad`` (dense or sparse) restricted to the pattern of sparse ``store``, in ``store``'s layout."""
    c = coalesce_store(to_coo_store(store))
    masked = make_coo(c.indices, values_at(grad, c.indices, c.shape), c.shape, True)
    if store.layout == SPARSE_COO:
        return masked
    return wrap_store(to_compressed_store(masked._data, store.layout))


class SparseCooTensorWithDimsAndTensorsBackward0(Node):
    def backward(self, grad):
        return (_make(values_at(grad, self.indices, self.shape)),)


class ToDenseBackward0(Node):
    def backward(self, grad):
        return (masked_like(grad, self.store),)


class ValuesBackward0(Node):
    def backward(self, grad):
        s = self.store
        if s.layout == SPARSE_COO:
            return (make_coo(s.indices, grad._data, s.shape, s.coalesced),)
        return (make_compressed(s.layout, s.compressed, s.plain, grad._data, s.shape),)


class CoalesceBackward0(Node):
    def backward(self, grad):
        return (grad,)


class ToSparseBackward0(Node):
    node_name = "ToSparseBackward0"

    def backward(self, grad):
        return (_make(to_dense_array(grad._data)) if grad._sparse else grad,)

    def name(self):
        return self.node_name


# ---------------------------------------------------------------------------- construction
def _index_array(indices, values):
    """``indices`` (tensor, array or nested lists) as an int64 array on the device of ``values`` (a tensor);
    floating indices, and an index tensor on another device, are errors."""
    xp = module_of_array(values._data)
    if isinstance(indices, Tensor):
        arr = indices._data
        if indices.device != values.device:
            raise RuntimeError(f"device of indices ({indices.device}) must match device of values ({values.device})")
    else:
        arr = xp.asarray(indices)
    if arr.dtype.kind not in "iu":
        if arr.size or arr.dtype.kind not in "f":
            raise RuntimeError(f"indices must be an integer tensor, but got {arr.dtype} indices")
    return arr.astype(xp.int64)


def _values_tensor(values, dtype, device):
    if isinstance(values, Tensor):
        return values.to(device=device, dtype=dtype)
    from .creation import tensor
    return tensor(values, dtype=dtype, device=device)


def _on_device(indices, device):
    """An index tensor moved to ``device`` when one is named (as PyTorch moves both parts to ``device=``)."""
    return indices.to(device) if device is not None and isinstance(indices, Tensor) else indices


def _finish(res, values, requires_grad, node_cls, **fields):
    """Record ``node_cls`` for the gradient into ``values``; make ``res`` a leaf needing grad on request."""
    record(res, node_cls, (values,), **fields)
    if requires_grad:
        res.requires_grad_(True)
    return res


@function
def sparse_coo_tensor(indices, values, size=None, *, dtype=None, device=None, pin_memory=False,
                      requires_grad=False, check_invariants=None, is_coalesced=None):
    """A COO sparse tensor with entries ``values`` at the columns of ``indices``.

    Args:
        indices: ``(sparse_dim, nnz)`` integers (tensor, array or lists).
        values: ``(nnz, *dense_shape)`` values (a tensor keeps its graph: gradients flow into it).
        size: the full shape; inferred from the largest indices and ``values``' trailing shape when omitted.
        dtype, device: of the values.  requires_grad: make the result a leaf that requires grad.
        check_invariants: accepted; indices are always checked against ``size``.
        is_coalesced: the caller's promise that the indices are sorted and unique (checked).

    Raises RuntimeError naming the dimension, index and size for an index out of range, and for negative
    indices or an nnz that differs between ``indices`` and ``values``.
    """
    v = _values_tensor(values, dtype, device)
    xp = module_of_array(v._data)
    ind = _index_array(_on_device(indices, device), v)
    if ind.ndim != 2:
        raise RuntimeError(f"indices must be sparse_dim x nnz, but got: {list(ind.shape)}")
    if size is None:
        if ind.shape[1] != v._data.shape[0]:
            check_coo(ind, v._data, (0,) * (ind.shape[0] + v._data.ndim - 1))
        hi = ind.max(axis=1) + 1 if ind.shape[1] else xp.zeros(ind.shape[0], xp.int64)
        size = tuple(int(h) for h in hi) + tuple(v._data.shape[1:])
    shape = tuple(int(s) for s in size)
    check_coo(ind, v._data, shape)
    coalesced = ind.shape[1] < 2
    if is_coalesced and not coalesced:
        lin = linear_index(ind, shape[:ind.shape[0]])
        coalesced = bool((lin[1:] > lin[:-1]).all())
        if not coalesced:
            raise RuntimeError("sparse_coo_tensor: is_coalesced=True but the indices are not sorted and unique")
    res = make_coo(ind, v._data, shape, coalesced)
    return _finish(res, v, requires_grad, SparseCooTensorWithDimsAndTensorsBackward0, indices=ind, shape=shape)


def _compressed(layout, compressed_indices, plain_indices, values, size, dtype, device, requires_grad):
    v = _values_tensor(values, dtype, device)
    comp = _index_array(_on_device(compressed_indices, device), v)
    plain = _index_array(_on_device(plain_indices, device), v)
    if size is None:
        n_plain = int(plain.max()) + 1 if plain.size else 0
        n_comp = comp.shape[0] - 1
        size = (n_comp, n_plain) if layout == SPARSE_CSR else (n_plain, n_comp)
    shape = tuple(int(s) for s in size)
    check_compressed(layout, comp, plain, v._data, shape)
    res = make_compressed(layout, comp, plain, v._data, shape)
    return _finish(res, v, requires_grad, SparseCooTensorWithDimsAndTensorsBackward0,
                   indices=stored_indices(res._data), shape=shape)


@function
def sparse_csr_tensor(crow_indices, col_indices, values, size=None, *, dtype=None, device=None, pin_memory=False,
                      requires_grad=False, check_invariants=None):
    """A 2-D CSR sparse tensor: row ``i``'s entries are ``values[crow[i]:crow[i+1]]`` at columns ``col_indices``."""
    return _compressed(SPARSE_CSR, crow_indices, col_indices, values, size, dtype, device, requires_grad)


@function
def sparse_csc_tensor(ccol_indices, row_indices, values, size=None, *, dtype=None, device=None, pin_memory=False,
                      requires_grad=False, check_invariants=None):
    """A 2-D CSC sparse tensor: column ``j``'s entries are ``values[ccol[j]:ccol[j+1]]`` at rows ``row_indices``."""
    return _compressed(SPARSE_CSC, ccol_indices, row_indices, values, size, dtype, device, requires_grad)


# ---------------------------------------------------------------------------- conversion
def _convert(input, store):
    """``store`` as a new sparse tensor with a gradient path back to dense ``input``."""
    res = wrap_store(store)
    suffix = {SPARSE_COO: "", SPARSE_CSR: "Csr", SPARSE_CSC: "Csc"}[store.layout]
    record(res, ToSparseBackward0, (input,), node_name=f"ToSparse{suffix}Backward0")
    return res


def _sparse_layout_result(input, layout, sparse_dim=None):
    if not input._sparse:
        a = input._data
        if layout != SPARSE_COO and a.ndim != 2:
            raise RuntimeError(f"to_sparse_{'csr' if layout == SPARSE_CSR else 'csc'}: expected a 2-D tensor, got "
                               f"{a.ndim}-D")
        store = dense_to_coo(a, sparse_dim)
        if layout != SPARSE_COO:
            store = to_compressed_store(store, layout)
        return _convert(input, store)
    s = input._data
    if s.layout == layout:
        return input
    store = to_coo_store(s) if layout == SPARSE_COO else to_compressed_store(s, layout)
    res = wrap_store(store)
    record(res, CoalesceBackward0, (input,))
    return res


@method
def to_sparse(input, sparse_dim=None, *, layout=None, blocksize=None, dense_dim=None):
    """This tensor in a sparse layout: COO by default (``sparse_dim`` index dimensions), or ``layout``."""
    if layout is not None and layout not in (SPARSE_COO, SPARSE_CSR, SPARSE_CSC):
        raise RuntimeError(f"to_sparse: layout {layout} is not supported")
    return _sparse_layout_result(input, layout or SPARSE_COO, sparse_dim)


@method
def to_sparse_coo(input):
    """This tensor in the COO layout."""
    return _sparse_layout_result(input, SPARSE_COO)


@method
def to_sparse_csr(input, dense_dim=None):
    """This 2-D tensor in the CSR layout."""
    return _sparse_layout_result(input, SPARSE_CSR)


@method
def to_sparse_csc(input, dense_dim=None):
    """This 2-D tensor in the CSC layout."""
    return _sparse_layout_result(input, SPARSE_CSC)


@method
def to_dense(input, dtype=None, *, masked_grad=None):
    """The dense (strided) tensor with this tensor's values (a dense tensor returns itself)."""
    if not input._sparse:
        return input if dtype is None or dtype is input.dtype else input.to(dtype)
    res = _make(to_dense_array(input._data))
    record(res, ToDenseBackward0, (input,), store=input._data)
    return res if dtype is None else res.to(dtype)


# ---------------------------------------------------------------------------- reading the parts
def _require(input, layouts, what):
    if not input._sparse or input._data.layout not in layouts:
        got = "Strided" if not input._sparse else input._data.layout.split("_", 1)[1].capitalize()
        kind = "sparse coordinate tensor" if layouts == (SPARSE_COO,) else "sparse tensor"
        raise RuntimeError(f"{what} expected {kind} layout but got {got}")
    return input._data


@method
def coalesce(input):
    """This COO tensor with sorted, unique indices (duplicates summed); itself when already coalesced."""
    s = _require(input, (SPARSE_COO,), "coalesce")
    if s.coalesced:
        return input
    res = wrap_store(coalesce_store(s))
    record(res, CoalesceBackward0, (input,))
    return res


@method
def is_coalesced(input):
    """Whether this COO tensor's indices are known sorted and unique."""
    return _require(input, (SPARSE_COO,), "is_coalesced").coalesced


@method
def _coalesced_(input, coalesced):
    """Mark this COO tensor as coalesced (or not) without checking; returns it."""
    _require(input, (SPARSE_COO,), "_coalesced_").coalesced = bool(coalesced)
    return input


@method
def indices(input):
    """The ``(sparse_dim, nnz)`` int64 indices of a coalesced COO tensor."""
    s = _require(input, (SPARSE_COO,), "indices")
    if not s.coalesced:
        raise RuntimeError("Cannot get indices on an uncoalesced tensor, please call .coalesce() first")
    return _make(s.indices)


@method
def _indices(input):
    """The COO indices as stored (coalesced or not)."""
    return _make(_require(input, (SPARSE_COO,), "_indices").indices)


@method
def values(input):
    """The values of a sparse tensor (a coalesced one for COO), with the gradient path back to it."""
    s = _require(input, (SPARSE_COO, SPARSE_CSR, SPARSE_CSC), "values")
    if s.layout == SPARSE_COO and not s.coalesced:
        raise RuntimeError("Cannot get values on an uncoalesced tensor, please call .coalesce() first")
    res = _make(s.values)
    record(res, ValuesBackward0, (input,), store=s)
    return res


@method
def _values(input):
    """The COO values as stored (no gradient path)."""
    return _make(_require(input, (SPARSE_COO,), "_values").values)


@method
def _nnz(input):
    """The number of stored entries (duplicates counted)."""
    if not input._sparse:
        raise NotImplementedError("Could not run 'aten::_nnz' with arguments from the 'CPU' backend.")
    return input._data.nnz


@method
def sparse_dim(input):
    """The number of index dimensions (0 for a dense tensor)."""
    return input._data.sparse_dim if input._sparse else 0


@method
def dense_dim(input):
    """The number of dense trailing dimensions of each entry (all of a dense tensor's)."""
    return input._data.values.ndim - 1 if input._sparse else input._data.ndim


def _compressed_part(input, layout, part, what):
    s = _require(input, (SPARSE_CSR, SPARSE_CSC), what)
    if s.layout != layout:
        raise RuntimeError(f"{what} expected sparse row compressed tensor layout but got "
                           f"{s.layout.split('_', 1)[1].capitalize()}")
    return _make(getattr(s, part))


@method
def crow_indices(input):
    """The compressed row pointers of a CSR tensor."""
    return _compressed_part(input, SPARSE_CSR, "compressed", "crow_indices")


@method
def col_indices(input):
    """The column of each entry of a CSR tensor."""
    return _compressed_part(input, SPARSE_CSR, "plain", "col_indices")


@method
def ccol_indices(input):
    """The compressed column pointers of a CSC tensor."""
    return _compressed_part(input, SPARSE_CSC, "compressed", "ccol_indices")


@method
def row_indices(input):
    """The row of each entry of a CSC tensor."""
    return _compressed_part(input, SPARSE_CSC, "plain", "row_indices")


@method
def sparse_mask(input, mask):
    """The entries of ``input`` (dense or sparse) at the pattern of sparse ``mask``, in ``mask``'s layout."""
    if not mask._sparse:
        raise RuntimeError("sparse_mask expected sparse mask but got Strided")
    res = masked_like(input.detach(), mask._data)
    record(res, ToSparseBackward0, (input,))
    return res


# ---------------------------------------------------------------------------- sparse cases of Tensor methods
@sparse_method("clone")
def sparse_clone(input, *, memory_format=None):
    """A copy of the sparse tensor's parts, with the gradient path."""
    res = wrap_store(input._data.copy())
    record(res, CoalesceBackward0, (input,))
    return res


@sparse_method("to")
def sparse_to(input, *args, **kwargs):
    """``to(dtype)`` / ``to(device)`` / ``to(device, dtype)`` / ``to(other)`` of a sparse tensor (the arguments of
    ``Tensor.to``): the values converted and, on a move, every index array copied through its backend."""
    s = input._data
    values = Tensor.to(_make(s.values), *args, **kwargs)._data   # the dense rules decide dtype, device and copy
    if values is s.values:
        return input
    parts = (s.indices, s.compressed, s.plain)
    if device_of(values) != device_of(s.values):
        target = backend_of(values)
        index = device_of(values).index
        parts = tuple(None if a is None else target.from_host(backend_of(a).to_host(a), index) for a in parts)
    res = wrap_store(SparseStore(s.layout, s.shape, values, parts[0], s.coalesced, parts[1], parts[2]))
    record(res, SparseToCopyBackward0, (input,), dtype=input.dtype, device=input.device)
    return res


class SparseToCopyBackward0(Node):
    def backward(self, grad):
        return (grad.to(device=self.device, dtype=self.dtype),)

    def name(self):
        return "ToCopyBackward0"


@sparse_method("type")
def sparse_type(input, dtype=None, non_blocking=False, **kwargs):
    """The legacy type name, or a cast."""
    if dtype is None:
        return "torch.sparse." + Tensor.type(_make(input._data.values[:0])).split(".", 1)[1]
    return Tensor.type(input, dtype)

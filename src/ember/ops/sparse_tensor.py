"""Sparse tensors: the COO and compressed (CSR, CSC) layouts, as one more kind of ember Tensor.

A sparse tensor is a ``SparseTensor``, a subclass of ``Tensor`` whose ``_data``
is a ``SparseStore`` instead of an array.  The store answers what the rest of
ember reads from ``_data`` (``shape``, ``ndim``, ``size``, ``dtype``, ``base``),
so shapes, dtypes, ``requires_grad``, graph recording and ``.grad`` work
unchanged; the layout's own parts (indices and values arrays) live beside.
Methods that differ for sparse inputs are methods of ``SparseTensor``
(``sparse_method`` below binds them), so a dense tensor never pays for a layout
check; the few ``ember.X`` functions that take sparse operands branch once on
``Tensor._sparse`` at their start.

Everything here works on arrays of the values' array module (``module_of_array``),
so a sparse tensor lives on any device that holds dense ones.  Products and
coalescing run in the sparse-matrix library of the values' backend
(``sparse_library``: SciPy for host arrays, ``cupyx.scipy.sparse``, i.e.
cuSPARSE, for CUDA), imported on first use, never by ``import ember``.
"""
import importlib
import math

# Exactly-NumPy arrays take the CPU-tuned paths (NumPy's repeat with an array of counts, products split over
# threads); every other array type (CuPy's; the tests' NumPy subclass, which stands in for a device) the generic ones.
from numpy import ndarray as _ndarray

from .. import _dtype
from .._constants import layout
from .._device import backend_of, device_of
from ._common import Tensor, module_of_array, _make
from ._declare import case

SPARSE_COO = layout("torch.sparse_coo")
SPARSE_CSR = layout("torch.sparse_csr")
SPARSE_CSC = layout("torch.sparse_csc")
_LAYOUT_NAME = {SPARSE_COO: "Sparse", SPARSE_CSR: "SparseCsr", SPARSE_CSC: "SparseCsc"}


# the value dtypes (NumPy type chars) each sparse library has kernels for; absent: all that SciPy takes
_LIBRARY_DTYPES = {"cupyx.scipy.sparse": "fdFD"}   # cuSPARSE: float32/64, complex64/128


def sparse_library(array):
    """The sparse-matrix library (``scipy.sparse``'s API) of ``array``'s backend, imported on first use: SciPy for
    host arrays, ``cupyx.scipy.sparse`` for CUDA.  Its results are arrays of the library's own type (SciPy
    returns plain ``ndarray`` for a NumPy subclass): callers pass them through their ``xp.asarray``."""
    return importlib.import_module(backend_of(array).sparse_module)


def library_computes(values):
    """True when the sparse library of ``values``' backend has kernels for their dtype."""
    kinds = _LIBRARY_DTYPES.get(backend_of(values).sparse_module)
    return kinds is None or values.dtype.char in kinds


class SparseStore:
    """What a sparse tensor holds in ``_data``: its layout, shape and parts.

    COO: ``indices`` ``(sparse_dim, nnz)`` int64 and ``values`` ``(nnz, *dense_shape)``; ``coalesced`` says the
    indices are sorted (row-major) and unique.  CSR/CSC: ``compressed`` (``crow``/``ccol``, length rows+1 /
    cols+1), ``plain`` (``col``/``row``, length nnz) and ``values`` ``(nnz,)``.  ``cache`` keeps SciPy matrices
    of a 2-D tensor once built (ops that change the parts in place reset it).
    """

    __slots__ = ("layout", "shape", "indices", "values", "coalesced", "compressed", "plain", "cache")
    base = None    # the engine asks whether a gradient's data is a view

    def __init__(self, layout, shape, values, indices=None, coalesced=False, compressed=None, plain=None):
        self.layout, self.shape, self.values = layout, tuple(int(s) for s in shape), values
        self.indices, self.coalesced, self.compressed, self.plain = indices, coalesced, compressed, plain
        self.cache = None

    @property
    def dispatch_key(self):
        """PyTorch's name for the backend of this layout ('SparseCPU', 'SparseCsrCPU'), for its op errors."""
        return _LAYOUT_NAME[self.layout].replace("Csc", "Csr") + device_of(self.values).type.upper()

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        return math.prod(self.shape)

    @property
    def dtype(self):
        return self.values.dtype

    @property
    def itemsize(self):
        return self.values.itemsize

    @property
    def nnz(self):
        return self.values.shape[0]

    @property
    def sparse_dim(self):
        return self.indices.shape[0] if self.layout == SPARSE_COO else 2

    def copy(self):
        """A store with copies of the parts (``clone``)."""
        def c(a):
            return None if a is None else a.copy()
        return SparseStore(self.layout, self.shape, c(self.values), c(self.indices), self.coalesced,
                           c(self.compressed), c(self.plain))


class SparseTensor(Tensor):
    """A tensor in a sparse layout (``layout`` is ``torch.sparse_coo``, ``sparse_csr`` or ``sparse_csc``).

    Build one with ``ember.sparse_coo_tensor``, ``ember.sparse_csr_tensor`` or ``Tensor.to_sparse()``; its type is
    a ``Tensor`` for every ``isinstance`` test.
    """

    __slots__ = ()
    _sparse = True

    @property
    def layout(self):
        return self._data.layout

    @property
    def is_sparse(self):
        return self._data.layout == SPARSE_COO

    @property
    def is_sparse_csr(self):
        return self._data.layout == SPARSE_CSR

    @property
    def device(self):
        return device_of(self._data.values)

    @property
    def data(self):
        return wrap_store(self._data)

    def stride(self, dim=None):
        raise RuntimeError(f"Tensors of type {_LAYOUT_NAME[self._data.layout]}TensorImpl do not have strides")

    def is_contiguous(self, memory_format=None):
        raise RuntimeError(f"Tensors of type {_LAYOUT_NAME[self._data.layout]}TensorImpl do not have "
                           "is_contiguous")

    def numpy(self, *, force=False):
        raise TypeError("can't convert Sparse layout tensor to numpy. Use Tensor.to_dense() first.")

    __array__ = numpy

    def data_ptr(self):
        raise RuntimeError("Cannot access data pointer of Tensor that doesn't have storage")

    def detach(self):
        """This sparse tensor's parts, cut from the graph."""
        t = wrap_store(self._data)
        t._version = self._version
        return t

    def _add_inplace_grad(self, other):
        """Gradient accumulation: the entries of ``other`` appended to this COO gradient (coalesced when read)."""
        from .sparse_math import add_stores
        self._data = add_stores(to_coo_store(self._data),
                                to_coo_store(other._data) if other._sparse else dense_to_coo(other._data, None))
        self._version[0] += 1

    def __repr__(self, *, tensor_contents=None):
        return sparse_repr(self)

    def __reduce_ex__(self, protocol):
        s = self._data
        parts = (s.indices,) if s.layout == SPARSE_COO else (s.compressed, s.plain)
        return (_rebuild_sparse, (s.layout, s.shape, parts, s.values, s.coalesced, self._requires_grad))

    def __deepcopy__(self, memo):
        if self._grad_fn is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support the deepcopy "
                               "protocol at the moment.")
        t = wrap_store(self._data.copy())
        t._requires_grad = self._requires_grad
        memo[id(self)] = t
        return t


def sparse_method(*names):
    """Bind the decorated function as the ``SparseTensor`` methods ``names`` (the sparse case of Tensor methods),
    and as the sparse case of the functions ``ember.<name>`` for the names that are not operators."""
    def bind(fn):
        for n in names:
            setattr(SparseTensor, n, fn)
        return case(SparseTensor, 0, *[n for n in names if not n.startswith("__")])(fn)
    return bind


def sparse_operand(position, *names):
    """Declare the decorated function as ``ember.<name>`` for a sparse argument at ``position`` (after dense
    ones: ``ember.mm(dense, sparse)``; at 0: functions without a Tensor method, ``ember.zeros_like``), and as
    ``Tensor.<name>`` of a dense tensor for ``position`` >= 1 (``dense.mm(sparse)``)."""
    return case(SparseTensor, position, *names)


def wrap_store(store):
    """A new SparseTensor (no grad) holding ``store``."""
    t = object.__new__(SparseTensor)
    t._data = store
    t._requires_grad = False
    t._grad_fn = None
    t._version = [0]
    return t


def make_coo(indices, values, shape, coalesced=False):
    """A COO SparseTensor from an int64 ``indices`` array ``(sparse_dim, nnz)`` and a ``values`` array."""
    return wrap_store(SparseStore(SPARSE_COO, shape, values, indices=indices, coalesced=coalesced))


def make_compressed(layout, compressed, plain, values, shape):
    """A CSR (or CSC) SparseTensor from its compressed and plain index arrays and its values."""
    return wrap_store(SparseStore(layout, shape, values, compressed=compressed, plain=plain))


def rebuild_sparse(layout, data):
    """``torch._utils._rebuild_sparse_tensor``: a sparse tensor from a checkpoint's layout and parts (COO:
    ``(indices, values, size, is_coalesced)``; CSR/CSC: ``(compressed, plain, values, size)``), its indices
    checked against the size as construction does."""
    if layout == SPARSE_COO:
        indices, values, size, coalesced = data
        return _rebuild_sparse(layout, tuple(size), (indices._data,), values._data, bool(coalesced), False)
    if layout in (SPARSE_CSR, SPARSE_CSC):
        compressed, plain, values, size = data
        return _rebuild_sparse(layout, tuple(size), (compressed._data, plain._data), values._data, False, False)
    raise RuntimeError(f"rebuilding a sparse tensor of layout {layout} is not supported")


def checkpoint_parts(t):
    """What PyTorch's checkpoints hold for sparse tensor ``t``: its layout and ``rebuild_sparse``'s ``data``."""
    s = t._data
    if s.layout == SPARSE_COO:
        return s.layout, (_make(s.indices), _make(s.values), t.shape, s.coalesced)
    return s.layout, (_make(s.compressed), _make(s.plain), _make(s.values), t.shape)


def _rebuild_sparse(layout, shape, parts, values, coalesced, requires_grad):
    """Unpickle a sparse tensor (checking its indices as construction does)."""
    if layout == SPARSE_COO:
        check_coo(parts[0], values, shape)
        if coalesced and parts[0].shape[1] > 1:   # a checkpoint's flag is checked, not trusted
            lin = linear_index(parts[0], shape[:parts[0].shape[0]])
            coalesced = bool((lin[1:] > lin[:-1]).all())
        t = make_coo(parts[0], values, shape, coalesced)
    else:
        check_compressed(layout, parts[0], parts[1], values, shape)
        t = make_compressed(layout, parts[0], parts[1], values, shape)
    t._requires_grad = requires_grad
    return t


# ---------------------------------------------------------------------------- invariants
def check_coo(indices, values, shape):
    """Raise RuntimeError unless ``indices`` fit ``shape`` and agree with ``values`` (always: an O(nnz) check)."""
    if indices.ndim != 2:
        raise RuntimeError(f"indices must be sparse_dim x nnz, but got: {list(indices.shape)}")
    sd, nnz = indices.shape
    if nnz != values.shape[0]:
        raise RuntimeError(f"indices and values must have same nnz, but got nnz from indices: {nnz}, nnz from "
                           f"values: {values.shape[0]}")
    if len(shape) != sd + values.ndim - 1:
        raise RuntimeError(f"'len(size) == sparse_dim + dense_dim' is not satisfied: len(size) = {len(shape)}, "
                           f"sparse_dim = {sd}, dense_dim = {values.ndim - 1}")
    if tuple(values.shape[1:]) != tuple(shape[sd:]):
        raise RuntimeError(f"values has incorrect size, expected {list((nnz,) + tuple(shape[sd:]))}, got "
                           f"{list(values.shape)}")
    if nnz:
        lo, hi = indices.min(axis=1), indices.max(axis=1)
        for d in range(sd):
            if lo[d] < 0:
                raise RuntimeError(f"found negative index {int(lo[d])} for dim {d}")
            if hi[d] >= shape[d]:
                raise RuntimeError(f"size is inconsistent with indices: for dim {d}, size is {shape[d]} but found "
                                   f"index {int(hi[d])}")


def check_compressed(layout, compressed, plain, values, shape):
    """Raise RuntimeError unless the compressed and plain indices describe a valid CSR/CSC tensor of ``shape``."""
    xp = module_of_array(values)
    c, p = ("crow_indices", "col_indices") if layout == SPARSE_CSR else ("ccol_indices", "row_indices")
    if len(shape) != 2 or values.ndim != 1:
        raise RuntimeError(f"ember supports 2-D {layout} tensors with 1-D values, got size {tuple(shape)}")
    n_comp, n_plain = (shape[0], shape[1]) if layout == SPARSE_CSR else (shape[1], shape[0])
    if compressed.shape != (n_comp + 1,):
        raise RuntimeError(f"{c}.size(-1) must be equal to size[-2] + 1 (that is {n_comp + 1}), but got: "
                           f"{compressed.shape[0]}")
    if plain.shape != values.shape:
        raise RuntimeError(f"{p} and values must have the same number of elements, but got {plain.shape[0]} and "
                           f"{values.shape[0]}")
    if compressed[0] != 0:
        raise RuntimeError(f"`{c}[..., 0] == 0` is not satisfied.")
    if compressed[-1] != plain.shape[0]:
        raise RuntimeError(f"`{c}[..., -1] == nnz` is not satisfied.")
    if (xp.diff(compressed) < 0).any():
        raise RuntimeError(f"`0 <= {c}[..., 1:] - {c}[..., :-1] <= {n_plain}` is not satisfied.")
    if plain.size and (plain.min() < 0 or plain.max() >= n_plain):
        bad = int(plain.min()) if plain.min() < 0 else int(plain.max())
        raise RuntimeError(f"`0 <= {p} < {n_plain}` is not satisfied: found index {bad}")


# ---------------------------------------------------------------------------- array algorithms
def linear_index(indices, shape):
    """Row-major position of each index column of ``indices`` within ``shape`` (int64 array of length nnz)."""
    if indices.shape[0] == 1:
        return indices[0]
    lin = indices[0].copy()
    for d in range(1, indices.shape[0]):
        lin *= shape[d]
        lin += indices[d]
    return lin


def unravel(lin, shape):
    """The inverse of ``linear_index``: an int64 ``(len(shape), n)`` index array."""
    xp = module_of_array(lin)
    if len(shape) == 1:
        return lin[None].astype(xp.int64, copy=False)
    return xp.stack(xp.unravel_index(lin, shape)).astype(xp.int64, copy=False)


def _library_coalesces(values):
    return values.ndim == 1 and values.dtype.kind in "fcib" and values.dtype.itemsize >= 4 \
        and values.dtype.name != "bfloat16" and library_computes(values)


def segment_ids(xp, counts):
    """``repeat(arange(len(counts)), counts)``: the segment of each of ``sum(counts)`` positions, searched among the
    segments' ends (CuPy's ``repeat`` takes no array of counts)."""
    ends = xp.cumsum(counts)
    total = int(ends[-1]) if ends.size else 0
    return xp.searchsorted(ends, xp.arange(total, dtype=ends.dtype), side="right")


def repeat_each(xp, values, counts):
    """``values[i]`` repeated ``counts[i]`` times (NumPy's ``repeat`` for NumPy arrays, ``segment_ids`` elsewhere)."""
    if type(counts) is _ndarray:
        return xp.repeat(values, counts)
    return values[segment_ids(xp, counts)]


def coalesce_store(s):
    """A coalesced COO store with ``s``'s entries: indices sorted row-major, duplicates summed."""
    if s.coalesced:
        return s
    ind, val = s.indices, s.values
    xp = module_of_array(val)
    sd = ind.shape[0]
    if val.shape[0] < 2:
        return SparseStore(SPARSE_COO, s.shape, val, indices=ind, coalesced=True)
    if sd == 2 and _library_coalesces(val):
        # the library's COO -> CSR sums duplicates in compiled code; its sorted CSR is the coalesced order
        m = sparse_library(val).csr_matrix((val, (ind[0], ind[1])), shape=s.shape[:2])
        m.sum_duplicates()
        data, ptr, cols = xp.asarray(m.data), xp.asarray(m.indptr), xp.asarray(m.indices)
        rows = repeat_each(xp, xp.arange(s.shape[0], dtype=xp.int64), xp.diff(ptr))
        return SparseStore(SPARSE_COO, s.shape, data.astype(val.dtype, copy=False),
                           indices=xp.stack([rows, cols.astype(xp.int64)]), coalesced=True)
    lin = linear_index(ind, s.shape[:sd])
    if (lin[1:] > lin[:-1]).all():
        return SparseStore(SPARSE_COO, s.shape, val, indices=ind, coalesced=True)
    order = xp.argsort(lin, kind="stable")
    lin = lin[order]
    starts = xp.nonzero(xp.concatenate([xp.ones(1, dtype=bool), lin[1:] != lin[:-1]]))[0]
    if starts.size == lin.size:
        summed = val[order]
    elif val.dtype.kind == "b":   # maximum is logical or on booleans (CuPy has no logical_or.reduceat)
        summed = xp.maximum.reduceat(val[order], starts, axis=0)
    else:
        summed = xp.add.reduceat(val[order], starts, axis=0).astype(val.dtype, copy=False)
    return SparseStore(SPARSE_COO, s.shape, summed, indices=unravel(lin[starts], s.shape[:sd]), coalesced=True)


def coo_to_dense(s):
    """The dense array of a COO store."""
    xp = module_of_array(s.values)
    out = xp.zeros(s.shape, dtype=s.values.dtype)
    c = coalesce_store(s)
    if c.values.shape[0]:
        out[tuple(c.indices)] = c.values
    return out


def dense_to_coo(a, sparse_dim):
    """A coalesced COO store of dense array ``a`` with ``sparse_dim`` index dimensions (all when None)."""
    xp = module_of_array(a)
    sd = a.ndim if sparse_dim is None else sparse_dim
    if sd == a.ndim:
        idx = xp.stack(xp.nonzero(a)).astype(xp.int64) if a.ndim else xp.zeros((0, 1), xp.int64)
        vals = a[tuple(idx)] if a.ndim else a.reshape(1)
    else:
        flat = a.reshape(a.shape[:sd] + (-1,)) if sd else a.reshape(1, -1)
        mask = (flat != 0).any(axis=-1)
        idx = xp.stack(xp.nonzero(mask)).astype(xp.int64) if sd else xp.zeros((0, 1), xp.int64)
        vals = a[tuple(idx)] if sd else a[None]
    idx = idx.reshape(sd, -1)
    return SparseStore(SPARSE_COO, a.shape, xp.ascontiguousarray(vals), indices=idx, coalesced=True)


def to_coo_store(s):
    """A COO store of a sparse store of any layout (compressed layouts give coalesced COO)."""
    if s.layout == SPARSE_COO:
        return s
    indices = stored_indices(s)
    if s.layout == SPARSE_CSR:
        return SparseStore(SPARSE_COO, s.shape, s.values, indices=indices, coalesced=True)
    return coalesce_store(SparseStore(SPARSE_COO, s.shape, s.values, indices=indices))


def stored_indices(s):
    """The ``(2, nnz)`` (row, column) index columns of a CSR or CSC store's entries, in its storage order."""
    xp = module_of_array(s.values)
    major = repeat_each(xp, xp.arange(s.compressed.size - 1, dtype=xp.int64), xp.diff(s.compressed))
    return xp.stack([major, s.plain] if s.layout == SPARSE_CSR else [s.plain, major])


def to_compressed_store(s, layout):
    """A CSR (``layout`` SPARSE_CSR) or CSC store of a 2-D sparse store with 1-D values."""
    if s.layout == layout:
        return s
    xp = module_of_array(s.values)
    c = coalesce_store(to_coo_store(s))
    if len(c.shape) != 2 or c.values.ndim != 1:
        raise RuntimeError(f"Only 2D tensors with 1-D values can be converted to the {layout} layout, got size "
                           f"{tuple(c.shape)}")
    major, minor = (c.indices[0], c.indices[1]) if layout == SPARSE_CSR else (c.indices[1], c.indices[0])
    n_major = c.shape[0] if layout == SPARSE_CSR else c.shape[1]
    order = None if layout == SPARSE_CSR else xp.argsort(major, kind="stable")
    if order is not None:
        major, minor = major[order], minor[order]
    compressed = xp.zeros(n_major + 1, dtype=xp.int64)
    if major.size:   # CuPy's bincount takes no empty array
        xp.cumsum(xp.bincount(major, minlength=n_major), out=compressed[1:])
    vals = c.values if order is None else c.values[order]
    return SparseStore(layout, c.shape, vals, compressed=compressed, plain=xp.ascontiguousarray(minor))


def library_matrix(s, transposed=False):
    """A CSR matrix of the values' sparse library (``sparse_library``) of a 2-D sparse store with 1-D values (or of
    its transpose), cached on the store.  The untransposed one shares the store's values array (a coalesced COO's
    row-major order is CSR's), so edits of the values in place show through.  Raises RuntimeError for a dtype the
    library has no kernels for (integers on CUDA)."""
    if s.cache is None:
        s.cache = {}
    key = "T" if transposed else "csr"
    m = s.cache.get(key)
    if m is None:
        if not library_computes(s.values):
            raise RuntimeError(f"sparse matrix products on {device_of(s.values).type} support floating and complex "
                               f"values, not {s.values.dtype.name}")
        sp = sparse_library(s.values)
        if transposed:
            m = library_matrix(s).T.tocsr()
        elif s.layout == SPARSE_CSR:
            m = sp.csr_matrix((s.values, s.plain, s.compressed), shape=s.shape, copy=False)
        elif s.layout == SPARSE_CSC:
            m = sp.csc_matrix((s.values, s.plain, s.compressed), shape=s.shape, copy=False).tocsr()
        else:
            c = to_compressed_store(s, SPARSE_CSR)
            m = sp.csr_matrix((c.values, c.plain, c.compressed), shape=s.shape, copy=False)
        s.cache[key] = m
    return m


def to_dense_array(s):
    """The dense array of a sparse store of any layout."""
    return coo_to_dense(to_coo_store(s))


# ---------------------------------------------------------------------------- printing
def sparse_repr(t):
    """PyTorch's text for a sparse tensor: its index tensors and values (printed without dtype), then suffixes."""
    from .._tensor_str import _tensor_str, _add_suffixes
    s = t._data

    def field(name, arr):
        indent = 7 + len(name) + 1
        inner = _make(arr)
        body = "tensor(" + _tensor_str(inner, indent + 7)
        return name + "=" + (body + f", size={tuple(arr.shape)})" if arr.size == 0 else body + ")")

    dev = t.device
    suffixes = ([f"device='{dev}'"] if dev.type != "cpu" else []) + [f"size={tuple(s.shape)}", f"nnz={s.nnz}"]
    if s.layout == SPARSE_COO:   # PyTorch puts a COO tensor's first suffix on a line of its own
        body = "tensor(" + field("indices", s.indices) + ",\n       " + field("values", s.values)
        body += ",\n       " + suffixes.pop(0)
    else:
        names = ("crow_indices", "col_indices") if s.layout == SPARSE_CSR else ("ccol_indices", "row_indices")
        body = ("tensor(" + field(names[0], s.compressed) + ",\n       " + field(names[1], s.plain)
                + ",\n       " + field("values", s.values))
    dt = t.dtype
    if dt not in (_dtype.get_default_dtype(), _dtype.int64, _dtype.bool) and dt is not _dtype.default_complex():
        suffixes.append(f"dtype={dt!r}")
    suffixes.append(f"layout={s.layout}")
    if t._grad_fn is not None:
        suffixes.append(f"grad_fn=<{t._grad_fn.name()}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    return _add_suffixes(body, suffixes, 7)


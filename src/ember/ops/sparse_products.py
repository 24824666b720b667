"""Products with sparse matrices: sparse @ dense (``mm``, ``spmm``, ``matmul``, ``@``, ``addmm``), dense @ sparse,
sparse @ sparse, batched ``bmm``, ``hspmm``, ``smm`` and the CSR-masked ``sampled_addmm``.

Forward runs the CSR kernels of the values' sparse library (SciPy on the CPU, spread over ember's threads in row
blocks; cuSPARSE through ``cupyx.scipy.sparse`` on CUDA, in one call), or for float32/float64 on the CPU with Numba
a compiled loop over row chunks on Numba's thread pool (``kernels/_numba_sparse_products.py``).  The gradient into
the dense operand is ``S^T @ G`` (the same product); the gradient into the sparse operand has the sparse operand's
pattern and is the sampled dense-dense product ``sum_f G[r, f] * X[c, f]`` over its entries, computed in blocks of
entries (or by the compiled loop over entries), so no dense N x N matrix ever exists (a 100k-node graph's gradient
fits in memory).
"""
from ._common import Node, record, function, op, _make, module_of_array, dtype_name, write_out
from ..kernels import Kernel
from . import _block_threads as _threads
from .sparse_tensor import (SPARSE_COO, SPARSE_CSR, sparse_method, sparse_operand, make_coo, make_compressed,
                            coalesce_store, stored_indices, library_matrix, sparse_library, _ndarray)
from .sparse_layout import masked_like

_BLOCK = 1 << 14   # entries per block of the sampled product: bounds its temporary memory, fits the caches
_PARALLEL_MIN = 1 << 16   # below this many entries (or rows) one thread does the whole product


def _in_ranges(n, step, work, big):
    """``work(lo, hi)`` over ``[0, n)`` in ranges of ``step``; when the work is ``big``, the ranges are shared
    among ``ember``'s threads (NumPy's loops and SciPy's sparse kernels release the GIL)."""
    ranges = [(lo, min(lo + step, n)) for lo in range(0, n, step)]
    nt = _threads.block_threads()
    if nt <= 1 or not big or len(ranges) < 2 or not _threads.parallel_ok():
        for lo, hi in ranges:
            work(lo, hi)
        return

    def run(group):
        for lo, hi in group:
            work(lo, hi)

    groups = [ranges[k::nt] for k in range(nt)]
    with _threads.timed_parallel(nt):
        _threads.run_split(run, [(g,) for g in groups])


def sampled_product_reference(rows, cols, a, b):
    """``(a @ b.T)[rows, cols]`` for arrays ``a`` ``(n, f)`` and ``b`` ``(m, f)``, without forming ``a @ b.T`` (NumPy
    arrays in blocks of entries shared among ember's threads, other arrays in one block)."""
    xp = module_of_array(a)
    out = xp.empty(rows.size, dtype=a.dtype)

    def work(lo, hi):
        pa = xp.take(a, rows[lo:hi], axis=0)
        pa *= xp.take(b, cols[lo:hi], axis=0)
        pa.sum(axis=1, out=out[lo:hi])

    host = type(a) is _ndarray
    _in_ranges(rows.size, _BLOCK if host else max(rows.size, 1), work, host and rows.size >= _PARALLEL_MIN)
    return out


def csr_times_dense_reference(x, m):
    """CSR matrix ``m`` (of ``x``'s sparse library) times dense array ``x`` (1-D or 2-D): a NumPy ``x`` in row blocks
    spread over ``ember``'s threads, any other in one library call."""
    xp = module_of_array(x)
    if type(x) is not _ndarray:
        return xp.asarray(m @ x)
    n = m.shape[0]
    out = xp.empty((n,) + x.shape[1:], dtype=xp.result_type(m.dtype, x.dtype))
    sp = sparse_library(x)
    ptr = m.indptr
    step = max(1, -(-n // (4 * max(1, _threads.block_threads()))))

    def work(lo, hi):
        s, e = ptr[lo], ptr[hi]
        block = sp.csr_matrix((m.data[s:e], m.indices[s:e], ptr[lo:hi + 1] - s), shape=(hi - lo, m.shape[1]),
                              copy=False)
        out[lo:hi] = block @ x

    _in_ranges(n, step, work, m.nnz >= _PARALLEL_MIN)
    return out


def _float_operands(*arrays):
    """The compiled products' condition: float32/float64 arrays of one dtype (a SciPy matrix's ``dtype`` counts)."""
    return arrays[0].dtype.char in "fd" and all(a.dtype == arrays[0].dtype for a in arrays)


_N = "ember.kernels._numba_sparse_products:"
sampled_product = Kernel("sampled_product", sampled_product_reference, numba=_N + "sampled_product",
                         accepts=lambda rows, cols, a, b: _float_operands(a, b))
csr_times_dense = Kernel("csr_times_dense", csr_times_dense_reference, numba=_N + "csr_times_dense",
                         accepts=lambda x, m: x.ndim in (1, 2) and _float_operands(x, m))


def _sparse_times_dense(store, x, transposed=False):
    """The 2-D sparse store (or its transpose) times dense array ``x``, in ``x``'s dtype; an empty pattern gives
    zeros without a library call."""
    if not store.nnz:
        n = store.shape[1] if transposed else store.shape[0]
        return module_of_array(x).zeros((n,) + x.shape[1:], dtype=x.dtype)
    return _as(csr_times_dense(x, library_matrix(store, transposed)), x.dtype)


def _pattern_grad(store, values):
    """A gradient with ``store``'s (coalesced) pattern and ``values``, in ``store``'s layout."""
    if store.layout == SPARSE_COO:
        c = coalesce_store(store)
        return make_coo(c.indices, values, c.shape, True)
    return make_compressed(store.layout, store.compressed, store.plain, values, store.shape)


def _entry_coords(store):
    """Row and column of each entry of a 2-D sparse store, in the order of ``_pattern_grad``'s values (a compressed
    store's own storage order: a CSC store's differs from the coalesced one)."""
    if store.layout == SPARSE_COO:
        c = coalesce_store(store)
        return c.indices[0], c.indices[1]
    rows, cols = stored_indices(store)
    return rows, cols


class SparseMmBackward(Node):
    """Gradient of ``S @ X`` (S sparse 2-D, X dense 2-D): sparse into S, dense into X."""
    node_name = "SparseAddmmBackward0"

    def backward(self, grad):
        s, x = self.saved_tensors
        gs = gx = None
        g = grad._data
        if s._requires_grad:
            rows, cols = _entry_coords(s._data)
            gs = _pattern_grad(s._data, sampled_product(rows, cols, g, x._data))
        if x._requires_grad:
            gx = _make(_sparse_times_dense(s._data, g, transposed=True))
        return gs, gx

    def name(self):
        return self.node_name


def _as(arr, dtype):
    return arr if arr.dtype == dtype else arr.astype(dtype)


def _check_mm(a, b):
    if a.ndim != 2 or b.ndim != 2:
        raise RuntimeError(f"{'self' if a.ndim != 2 else 'mat2'} must be a matrix")
    if a.shape[1] != b.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({a.shape[0]}x{a.shape[1]} and "
                           f"{b.shape[0]}x{b.shape[1]})")
    if a.dtype is not b.dtype:
        raise RuntimeError(f"expected mat1 and mat2 to have the same dtype, but got: {dtype_name(a.dtype).lower()} "
                           f"!= {dtype_name(b.dtype).lower()}")


def _scalar_values(t):
    if t._data.values.ndim != 1:
        raise RuntimeError("sparse matrix products need a sparse matrix without dense dimensions")


def sparse_mm(input, mat2, node_name="SparseAddmmBackward0"):
    """``input @ mat2`` where at least one is a sparse 2-D matrix: dense for sparse @ dense and dense @ sparse,
    sparse (COO) for sparse @ sparse."""
    _check_mm(input, mat2)
    if input._sparse and mat2._sparse:
        return _sparse_sparse(input, mat2)
    if not input._sparse:   # X @ S = (S^T @ X^T)^T
        return sparse_mm(mat2.t(), input.t(), node_name).t()
    _scalar_values(input)
    x = mat2._data
    res = _make(_sparse_times_dense(input._data, x))
    record(res, SparseMmBackward, (input, mat2), (input, mat2), node_name=node_name)
    return res


class SparseSparseMmBackward(Node):
    def backward(self, grad):
        a, b = self.saved_tensors
        ga = gb = None
        like = a._data.values
        g = library_matrix(grad._data) if grad._sparse else grad._data
        if a._requires_grad:
            ga = masked_like(_from_library(g @ library_matrix(b._data).T, a.shape, like), a._data)
        if b._requires_grad:
            gb = masked_like(_from_library(library_matrix(a._data).T @ g, b.shape, like), b._data)
        return ga, gb

    def name(self):
        return "SparseAddmmBackward0"


def _from_library(m, shape, like):
    """A matrix (or dense array) of the sparse library of array ``like`` as an ember COO tensor (or dense tensor)
    of ``like``'s array module."""
    xp = module_of_array(like)
    if not sparse_library(like).issparse(m):
        return _make(xp.asarray(m))
    c = m.tocoo()
    c.sum_duplicates()
    rows, cols = xp.asarray(c.row).astype(xp.int64), xp.asarray(c.col).astype(xp.int64)
    return make_coo(xp.stack([rows, cols]), xp.asarray(c.data), shape, True)


def _sparse_sparse(a, b):
    _scalar_values(a)
    _scalar_values(b)
    res = _from_library(library_matrix(a._data) @ library_matrix(b._data), (a.shape[0], b.shape[1]), a._data.values)
    record(res, SparseSparseMmBackward, (a, b), (a, b))
    return res


def sparse_matmul(input, other):
    """``matmul`` with a sparse operand: matrix @ matrix, or sparse matrix @ vector."""
    if input.ndim == 2 and other.ndim == 1 and not other._sparse:
        return sparse_mm(input, other.unsqueeze(1), "MvBackward0").squeeze(1)
    if input.ndim == 3 and other.ndim == 3:
        return sparse_bmm(input, other)
    return sparse_mm(input, other, "MmBackward0")


def sparse_addmm(input, mat1, mat2, beta=1, alpha=1):
    """``beta * input + alpha * (mat1 @ mat2)`` with sparse ``mat1`` (and a dense or sparse ``input``)."""
    prod = sparse_mm(mat1, mat2)
    prod = prod * alpha if alpha != 1 else prod
    if beta == 0:
        return prod
    return (input * beta if beta != 1 else input) + prod


def sparse_bmm(input, mat2):
    """Batched ``(b, n, k)`` sparse COO @ ``(b, k, m)`` dense -> ``(b, n, m)`` dense, as one block-diagonal
    sparse product (gradients as for ``mm``)."""
    if input.ndim != 3 or mat2.ndim != 3 or input._data.layout != SPARSE_COO:
        raise RuntimeError("bmm: expected a 3-D sparse COO tensor and a 3-D dense tensor")
    B, n, k = input.shape
    if mat2.shape[0] != B or mat2.shape[1] != k:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{B}, {k}] but got: "
                           f"[{mat2.shape[0]}, {mat2.shape[1]}].")
    s = input._data
    from .sparse_math import values_of, with_pattern
    ind = s.indices
    xp = module_of_array(ind)
    flat_ind = xp.stack([ind[0] * n + ind[1], ind[0] * k + ind[2]])
    flat = with_pattern(flat_ind, values_of(input), (B * n, B * k), s.coalesced)
    return sparse_mm(flat, mat2.reshape(B * k, mat2.shape[2]), "BmmBackward0").reshape(B, n, mat2.shape[2])


@function
def hspmm(mat1, mat2):
    """``mat1 @ mat2`` (sparse COO @ dense) as a hybrid COO tensor: one sparse dim (the rows ``mat1`` uses)."""
    if not mat1._sparse:
        raise RuntimeError("hspmm: expected a sparse COO matrix as mat1")
    prod = sparse_mm(mat1, mat2)
    rows = module_of_array(mat1._data.values).unique(coalesce_store(mat1._data).indices[0])
    from .sparse_math import with_pattern
    return with_pattern(rows[None], prod.index_select(0, _make(rows)), prod.shape, True)


@op
def smm(input, mat):
    """``input @ mat`` (sparse @ dense) as a 2-D COO tensor of the specified rows' products."""
    h = hspmm(input, mat)
    s = h._data
    xp = module_of_array(s.values)
    m = s.values.shape[1]
    rows = xp.repeat(s.indices[0], m)
    cols = xp.tile(xp.arange(m, dtype=xp.int64), s.indices.shape[1])
    from .sparse_math import values_of, with_pattern
    return with_pattern(xp.stack([rows, cols]), values_of(h).reshape(-1), h.shape, True)


class SampledAddmmBackward0(Node):
    def backward(self, grad):
        m1, m2 = self.saved_tensors
        gs = grad if grad._sparse else masked_like(grad, self.store)
        g_in = gs * self.beta if self.need_input else None
        g1 = g2 = None
        if m1._requires_grad or m2._requires_grad:
            xp = module_of_array(m1._data)
            gm = library_matrix(gs._data) * self.alpha
            g1 = _make(_as(xp.asarray(gm @ m2._data.T), m1._data.dtype)) if m1._requires_grad else None
            g2 = _make(_as(xp.asarray((gm.T @ m1._data).T), m2._data.dtype)) if m2._requires_grad else None
        return g_in, g1, g2


def sampled_addmm(input, mat1, mat2, *, beta=1.0, alpha=1.0, out=None):
    """``beta * input + alpha * (mat1 @ mat2)`` computed only at the entries of the CSR ``input``: a CSR result."""
    if not input._sparse or input._data.layout != SPARSE_CSR:
        raise RuntimeError("sampled_addmm: Expected self to be a sparse CSR tensor")
    _check_mm(mat1, mat2)
    s = input._data
    rows, cols = _entry_coords(s)
    vals = sampled_product(rows, cols, mat1._data, mat2._data.T) * alpha
    if beta != 0:
        vals = vals + s.values * beta
    res = make_compressed(SPARSE_CSR, s.compressed, s.plain, _as(vals, s.values.dtype), s.shape)
    record(res, SampledAddmmBackward0, (input, mat1, mat2), (mat1, mat2), store=s, alpha=alpha, beta=beta,
           need_input=input._requires_grad)
    return res


@function
def spmm(input, mat2):
    """``input @ mat2`` for a sparse (or dense) ``input``: ``mm`` with a sparse operand."""
    return sparse_mm(input, mat2, "MmBackward0") if input._sparse or mat2._sparse else input.mm(mat2)


@sparse_method("mm")
def sparse_mm_method(input, mat2):
    """``Tensor.mm`` of a sparse matrix."""
    return sparse_mm(input, mat2, "MmBackward0")


@sparse_method("matmul", "__matmul__")
def sparse_matmul_method(input, other):
    """``Tensor.matmul`` / ``@`` of a sparse tensor."""
    return sparse_matmul(input, other)


@sparse_operand(1, "mm", "matmul")
def dense_mm_sparse(input, other):
    """``ember.mm(dense, sparse)`` / ``matmul``: a dense result, differentiable into both."""
    return sparse_matmul(input, other)


@sparse_operand(2, "addmm")
def addmm_sparse_mat2(input, mat1, mat2, *, beta=1, alpha=1, out=None):
    """``ember.addmm`` with a dense ``mat1`` and sparse ``mat2``: refused, as PyTorch does."""
    raise RuntimeError("addmm_sparse_dense: expected either 'mat1' to have sparse layout and 'mat2' to have strided "
                       "layout, got 'mat1' with layout Strided and 'mat2' with layout Sparse")


@sparse_operand(1, "addmm")
def addmm_sparse_mat1(input, mat1, mat2, *, beta=1, alpha=1, out=None):
    """``ember.addmm(input, sparse, dense)``: ``beta * input + alpha * (mat1 @ mat2)``, dense as PyTorch's."""
    res = sparse_addmm(input, mat1, mat2, beta, alpha)
    return write_out(out, res) if out is not None else res


@sparse_method("__rmatmul__")
def sparse_rmatmul(input, other):
    """``other @ input`` for a dense ``other`` and sparse ``input``."""
    return sparse_matmul(other, input)


@sparse_method("bmm")
def sparse_bmm_method(input, mat2):
    """``Tensor.bmm`` of a 3-D sparse COO tensor."""
    return sparse_bmm(input, mat2)


@sparse_method("addmm")
def sparse_addmm_method(input, mat1, mat2, *, beta=1, alpha=1):
    """``Tensor.addmm`` with a sparse ``input``: ``beta * input + alpha * (mat1 @ mat2)``."""
    return sparse_addmm(input, mat1, mat2, beta, alpha)


from .. import sparse as _namespace  # noqa: E402,F401  ``ember.sparse`` (light: no SciPy) comes with its ops

"""The compiled sparse products (kernels/_numba_sparse_products.py) against their references in ops/sparse_products.py
(SciPy / NumPy on the block threads): CSR times a 1-D or 2-D dense operand (empty rows, int32/int64 indices, a
strided operand) and the sampled dense-dense product (a transposed operand), float32/float64, in 1, 2 or 3 chunks;
other dtypes go to the reference."""
import numpy as np
import pytest

from ember.kernels import numba_enabled
from ember.ops import sparse_products as SP

scipy_sparse = pytest.importorskip("scipy.sparse")
compiled = pytest.mark.skipif(not numba_enabled(), reason="Numba not available")
TOL = {np.float32: dict(rtol=1e-5, atol=1e-5), np.float64: dict(rtol=1e-12, atol=1e-12)}


@pytest.fixture(params=[1, 2, 3])
def nch(request, monkeypatch):
    """The compiled loops split into 1, 2 or 3 chunks whatever the size."""
    if numba_enabled():
        from ember.kernels import _numba_sparse_products as N
        monkeypatch.setattr(N, "chunks", lambda n, per: request.param)
    return request.param


def _csr(rng, n, m, density, dtype, index_dtype):
    d = np.where(rng.random((n, m)) < density, rng.standard_normal((n, m)), 0).astype(dtype)
    d[3] = 0                   # an empty row
    a = scipy_sparse.csr_matrix(d)
    a.indices, a.indptr = a.indices.astype(index_dtype), a.indptr.astype(index_dtype)
    return a


@compiled
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
def test_csr_times_dense_matches_reference(dtype, index_dtype, nch):
    rng = np.random.default_rng(0)
    m = _csr(rng, 37, 29, 0.2, dtype, index_dtype)
    wide = rng.standard_normal((29, 14)).astype(dtype)
    for x in (wide[:, :5], wide[:, ::2], wide[:, 0], np.ascontiguousarray(wide[:, :1])):
        got = SP.csr_times_dense(x, m)
        want = SP.csr_times_dense_reference(x, m)
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_allclose(got, want, **TOL[dtype])
        np.testing.assert_allclose(got, m @ x, **TOL[dtype])


@compiled
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sampled_product_matches_reference(dtype, nch):
    rng = np.random.default_rng(1)
    a = rng.standard_normal((11, 7)).astype(dtype)
    bt = rng.standard_normal((7, 13)).astype(dtype)
    rows, cols = rng.integers(0, 11, 50), rng.integers(0, 13, 50)
    got = SP.sampled_product(rows, cols, a, bt.T)
    np.testing.assert_allclose(got, SP.sampled_product_reference(rows, cols, a, bt.T), **TOL[dtype])
    np.testing.assert_allclose(got, (a @ bt)[rows, cols], **TOL[dtype])
    assert got.dtype == dtype


def test_other_dtypes_take_the_reference():
    m = scipy_sparse.csr_matrix(np.eye(3, dtype=np.float32))
    x = np.arange(6, dtype=np.int64).reshape(3, 2)
    assert not SP.csr_times_dense.accepts(x, m)
    np.testing.assert_array_equal(SP.csr_times_dense(x, m), x)
    a = np.ones((2, 3), np.float32)
    assert not SP.sampled_product.accepts(np.arange(2), np.arange(2), a, a.astype(np.float64))

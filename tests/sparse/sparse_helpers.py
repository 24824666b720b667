"""Helpers for the sparse tests: the same sparse tensor in ember and PyTorch, and comparisons of results."""

import numpy as np
import torch

import ember



def pair(indices, values, size, dtype="float32", requires_grad=False):
    """A COO tensor built from the same parts in ember and in PyTorch."""
    e = ember.sparse_coo_tensor(indices, ember.tensor(np.asarray(values, dtype=dtype)), size,
                                requires_grad=requires_grad)
    t = torch.sparse_coo_tensor(indices, torch.tensor(np.asarray(values, dtype=dtype)), size,
                                requires_grad=requires_grad)
    return e, t


def random_coo(rng, shape, nnz, dense=(), duplicates=False, dtype="float64"):
    """Index and value arrays of a random COO tensor (unsorted; with repeated indices when asked)."""
    idx = np.stack([rng.integers(0, n, nnz) for n in shape])
    if not duplicates:
        lin = np.unique(np.ravel_multi_index(tuple(idx), shape))
        idx = np.stack(np.unravel_index(rng.permutation(lin), shape))
    vals = rng.standard_normal((idx.shape[1],) + tuple(dense)).astype(dtype)
    return idx.astype(np.int64), vals


def dense(x):
    """A NumPy array of an ember or PyTorch tensor of any layout."""
    if isinstance(x, torch.Tensor):
        x = x.detach()
        return (x.to_dense() if x.layout != torch.strided else x).numpy()
    x = x.detach()
    return (x.to_dense() if x.is_sparse or x.is_sparse_csr or str(x.layout) != "torch.strided" else x).cpu().numpy()


def same_sparse(e, t, rtol=1e-6, atol=1e-6):
    """Assert ember tensor ``e`` equals PyTorch tensor ``t``: layout, shape, dtype, and values (coalesced)."""
    assert str(e.layout) == str(t.layout)
    assert tuple(e.shape) == tuple(t.shape)
    assert str(e.dtype) == str(t.dtype)
    np.testing.assert_allclose(dense(e), dense(t), rtol=rtol, atol=atol)
    if t.layout == torch.sparse_coo:
        ec, tc = e.detach().coalesce(), t.detach().coalesce()
        assert ec._nnz() == tc._nnz()
        np.testing.assert_array_equal(ec.indices().numpy(), tc.indices().numpy())
    elif t.layout in (torch.sparse_csr, torch.sparse_csc):
        a, b = (e.crow_indices(), t.crow_indices()) if t.layout == torch.sparse_csr else (e.ccol_indices(),
                                                                                          t.ccol_indices())
        np.testing.assert_array_equal(a.numpy(), b.numpy())

"""Building sparse tensors, converting layouts, reading their parts and printing them, against PyTorch 2.13."""
import numpy as np
import pytest
import torch

import ember
from sparse_helpers import pair, random_coo, same_sparse

IDX = [[1, 0, 1, 2], [2, 0, 2, 1]]   # unsorted, with a duplicate (1, 2)
VALS = [1., 2., 3., 4.]


def test_coo_attributes_and_coalesce():
    e, t = pair(IDX, VALS, (3, 3))
    assert (e.is_sparse, e.is_sparse_csr, str(e.layout)) == (t.is_sparse, t.is_sparse_csr, str(t.layout))
    assert (e._nnz(), e.is_coalesced(), e.sparse_dim(), e.dense_dim()) == \
        (t._nnz(), t.is_coalesced(), t.sparse_dim(), t.dense_dim())
    ec, tc = e.coalesce(), t.coalesce()
    assert ec.is_coalesced() and ec._nnz() == tc._nnz() == 3
    np.testing.assert_array_equal(ec.indices().numpy(), tc.indices().numpy())
    np.testing.assert_array_equal(ec.values().numpy(), tc.values().numpy())
    np.testing.assert_array_equal(e._indices().numpy(), t._indices().numpy())
    assert ec.coalesce() is ec
    same_sparse(e, t)
    assert isinstance(e, ember.Tensor) and e.shape == (3, 3) and e.dim() == 2 and e.numel() == 9


def test_infer_size_dtype_and_hybrid():
    e = ember.sparse_coo_tensor([[0, 4], [1, 0]], [1, 2])
    t = torch.sparse_coo_tensor([[0, 4], [1, 0]], [1, 2])
    same_sparse(e, t)
    e = ember.sparse_coo_tensor([[0, 1]], [1, 2], (3,), dtype=ember.float64)
    t = torch.sparse_coo_tensor([[0, 1]], [1, 2], (3,), dtype=torch.float64)
    same_sparse(e, t)
    e, t = pair([[2, 0, 2]], [[1., 2.], [3., 4.], [5., 6.]], (4, 2))   # hybrid: 1 sparse dim, 1 dense dim
    assert (e.sparse_dim(), e.dense_dim()) == (t.sparse_dim(), t.dense_dim()) == (1, 1)
    same_sparse(e, t)
    np.testing.assert_array_equal(e.coalesce().values().numpy(), t.coalesce().values().numpy())


def test_empty_sparse():
    e = ember.sparse_coo_tensor(ember.zeros(2, 0, dtype=ember.int64), ember.zeros(0), (2, 3))
    t = torch.sparse_coo_tensor(torch.zeros(2, 0, dtype=torch.int64), torch.zeros(0), (2, 3))
    same_sparse(e, t)
    assert e.is_coalesced() == t.is_coalesced()
    assert repr(e) == repr(t)
    same_sparse(ember.zeros(2, 2).to_sparse(), torch.zeros(2, 2).to_sparse())


@pytest.mark.parametrize("sparse_dim", [None, 1, 2])
def test_to_sparse_from_dense(sparse_dim):
    a = np.array([[[0, 1.], [0, 0]], [[2, 0], [0, 0]], [[0, 0], [0, 3]]], dtype=np.float32)
    e = ember.tensor(a).to_sparse(sparse_dim) if sparse_dim else ember.tensor(a).to_sparse()
    t = torch.tensor(a).to_sparse(sparse_dim) if sparse_dim else torch.tensor(a).to_sparse()
    same_sparse(e, t)
    assert e.sparse_dim() == t.sparse_dim() and e.is_coalesced() == t.is_coalesced()


def test_csr_csc_conversions():
    a = np.array([[0, 1., 0, 2], [0, 0, 0, 0], [3, 0, 4, 0]], dtype=np.float32)
    for conv in ("to_sparse_csr", "to_sparse_csc"):
        e, t = getattr(ember.tensor(a), conv)(), getattr(torch.tensor(a), conv)()
        same_sparse(e, t)
        assert repr(e) == repr(t)
    e, t = ember.tensor(a).to_sparse_csr(), torch.tensor(a).to_sparse_csr()
    np.testing.assert_array_equal(e.col_indices().numpy(), t.col_indices().numpy())
    np.testing.assert_array_equal(e.values().numpy(), t.values().numpy())
    same_sparse(e.to_sparse_coo(), t.to_sparse_coo())
    ec, tc = pair(IDX, VALS, (3, 3))
    same_sparse(ec.to_sparse_csr(), tc.to_sparse_csr())
    e = ember.sparse_csr_tensor([0, 2, 2, 4], [1, 3, 0, 2], [1., 2., 3., 4.], (3, 4))
    t = torch.sparse_csr_tensor([0, 2, 2, 4], [1, 3, 0, 2], [1., 2., 3., 4.], (3, 4))
    same_sparse(e, t)
    e = ember.sparse_csc_tensor([0, 1, 2, 3, 4], [2, 0, 2, 0], [1., 2., 3., 4.], (3, 4))
    t = torch.sparse_csc_tensor([0, 1, 2, 3, 4], [2, 0, 2, 0], [1., 2., 3., 4.], (3, 4))
    same_sparse(e, t)
    np.testing.assert_array_equal(e.row_indices().numpy(), t.row_indices().numpy())


def test_dense_methods_on_strided():
    x, y = ember.zeros(2, 3), torch.zeros(2, 3)
    assert x.to_dense() is x
    assert (x.sparse_dim(), x.dense_dim()) == (y.sparse_dim(), y.dense_dim())
    for name in ("indices", "coalesce", "values", "is_coalesced"):
        with pytest.raises(RuntimeError) as te:
            getattr(y, name)()
        with pytest.raises(RuntimeError) as ee:
            getattr(x, name)()
        assert str(ee.value) == str(te.value)


def test_clone_detach_to_transpose():
    e, t = pair(IDX, VALS, (3, 3), requires_grad=True)
    same_sparse(e.clone(), t.clone())
    d = e.detach()
    assert not d.requires_grad and d.is_sparse
    same_sparse(e.double(), t.double())
    same_sparse(e.to(ember.float64), t.to(torch.float64))
    same_sparse(e.t(), t.t())
    assert e.t().is_coalesced() == t.t().is_coalesced()
    same_sparse(e.transpose(0, 1), t.transpose(0, 1))
    e3, t3 = pair([[0, 1], [1, 0], [2, 2]], [1., 2.], (2, 2, 3))
    same_sparse(e3.transpose(0, 2), t3.transpose(0, 2))
    ec, tc = ember.tensor([[0, 1.], [2, 0]]).to_sparse_csr(), torch.tensor([[0, 1.], [2, 0]]).to_sparse_csr()
    same_sparse(ec.t(), tc.t())


@pytest.mark.parametrize("dim", [0, 1])
def test_index_select_and_narrow_copy(dim):
    rng = np.random.default_rng(1)
    i, v = random_coo(rng, (6, 5), 12)
    e, t = pair(i, v, (6, 5), "float64")
    index = [4, 0, 4, 2]
    same_sparse(e.index_select(dim, ember.tensor(index)), t.index_select(dim, torch.tensor(index)))
    same_sparse(e.narrow_copy(dim, 1, 3), t.narrow_copy(dim, 1, 3))


def test_sparse_mask():
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    e, t = pair([[0, 2, 1], [3, 0, 1]], [1., 1., 1.], (3, 4))
    same_sparse(ember.tensor(a).sparse_mask(e.coalesce()), torch.tensor(a).sparse_mask(t.coalesce()))


def test_printing():
    cases = [pair(IDX, VALS, (3, 3)), pair([[0, 1]], [[1., 2.], [3, 4]], (3, 2)),
             pair(IDX, VALS, (3, 3), requires_grad=True), pair(IDX, VALS, (3, 3), "float64")]
    for e, t in cases:
        assert repr(e) == repr(t)
    v = ember.tensor([1., 2.], requires_grad=True)
    tv = torch.tensor([1., 2.], requires_grad=True)
    assert repr(ember.sparse_coo_tensor([[0, 1]], v * 2, (2,))) == repr(torch.sparse_coo_tensor([[0, 1]], tv * 2, (2,)))


def test_invariant_errors_named_like_pytorch():
    cases = [([[0, 5], [0, 0]], [1., 2.], (3, 3)),       # index past the size
             ([[0, -1], [0, 0]], [1., 2.], (3, 3)),      # negative index
             ([[0, 1], [0, 0]], [1., 2., 3.], (3, 3)),   # nnz mismatch
             ([0, 1], [1., 2.], (3,)),                   # indices not 2-D
             ([[0, 1], [0, 0]], [[1., 2.], [3, 4]], (3, 3))]
    for i, v, size in cases:
        with pytest.raises(RuntimeError) as te:
            torch.sparse_coo_tensor(i, v, size, check_invariants=True)
        with pytest.raises(RuntimeError) as ee:
            ember.sparse_coo_tensor(i, v, size)   # ember always checks
        assert str(ee.value) == str(te.value)


def test_bad_input_beyond_pytorch():
    # PyTorch accepts these without invariant checks; ember always refuses them
    with pytest.raises(RuntimeError, match="for dim 1, size is 3 but found index 7"):
        ember.sparse_coo_tensor([[0, 1], [7, 0]], [1., 2.], (3, 3))
    with pytest.raises(RuntimeError, match="integer"):
        ember.sparse_coo_tensor(ember.tensor([[0., 1.]]), [1., 2.], (3,))
    with pytest.raises(RuntimeError, match="col_indices"):
        ember.sparse_csr_tensor([0, 1, 2], [0, 9], [1., 2.], (2, 2))
    with pytest.raises(RuntimeError, match="Cannot get values on an uncoalesced tensor"):
        pair(IDX, VALS, (3, 3))[0].values()


def test_import_ember_does_not_import_scipy():
    import subprocess
    import sys
    code = "import sys, ember; ember.sparse; assert 'scipy' not in sys.modules, 'scipy imported'"
    subprocess.run([sys.executable, "-c", code], check=True)

"""Sparse gradients of embeddings and the optimizers that take them, as PyTorch 2.13."""
import numpy as np
import pytest
import torch

import ember
from sparse_helpers import dense


def _embeddings(cls, **kw):
    e = getattr(ember.nn, cls)(10, 3, sparse=True, **kw)
    t = getattr(torch.nn, cls)(10, 3, sparse=True, **kw)
    with torch.no_grad():
        t.weight.copy_(torch.tensor(e.weight.detach().numpy()))
    return e, t


def test_embedding_sparse_gradient_matches_pytorch():
    e, t = _embeddings("Embedding", padding_idx=2)
    idx = [[0, 2, 5], [5, 9, 2]]
    for batch in (idx, [[1, 1]]):   # accumulation across two backwards concatenates, as PyTorch
        w = np.random.default_rng(len(batch)).standard_normal((len(batch), len(batch[0]), 3))
        (e(ember.tensor(batch)) * ember.tensor(w, dtype=ember.float32)).sum().backward()
        (t(torch.tensor(batch)) * torch.tensor(w, dtype=torch.float32)).sum().backward()
        g, tg = e.weight.grad, t.weight.grad
        assert g.is_sparse and (g._nnz(), g.is_coalesced(), g.sparse_dim(), g.dense_dim()) == \
            (tg._nnz(), tg.is_coalesced(), tg.sparse_dim(), tg.dense_dim())
        np.testing.assert_array_equal(g.coalesce().indices().numpy(), tg.coalesce().indices().numpy())
        np.testing.assert_allclose(g.coalesce().values().numpy(), tg.coalesce().values().numpy(), rtol=1e-6)


def test_embedding_bag_and_functional_sparse():
    e, t = _embeddings("EmbeddingBag", mode="mean")
    e(ember.tensor([1, 2, 1, 4]), ember.tensor([0, 3])).sum().backward()
    t(torch.tensor([1, 2, 1, 4]), torch.tensor([0, 3])).sum().backward()
    assert e.weight.grad.is_sparse
    np.testing.assert_allclose(dense(e.weight.grad), dense(t.weight.grad), rtol=1e-6)
    w = ember.randn(6, 2, requires_grad=True)
    ember.nn.functional.embedding(ember.tensor([3, 3, 0]), w, sparse=True).sum().backward()
    tw = torch.tensor(w.detach().numpy(), requires_grad=True)
    torch.nn.functional.embedding(torch.tensor([3, 3, 0]), tw, sparse=True).sum().backward()
    np.testing.assert_allclose(dense(w.grad), dense(tw.grad))


@pytest.mark.parametrize("opt,kw", [("SparseAdam", dict(lr=0.05)), ("SparseAdam", dict(lr=0.01, maximize=True)),
                                    ("SGD", dict(lr=0.1)), ("Adagrad", dict(lr=0.1, lr_decay=0.01))])
def test_sparse_optimizer_trajectory(opt, kw):
    """A model with a sparse embedding and a dense head, trained 5 steps: the same parameters as PyTorch."""
    rng = np.random.default_rng(0)
    e, t = _embeddings("Embedding")
    he, ht = ember.nn.Linear(3, 1), torch.nn.Linear(3, 1)
    with torch.no_grad():
        ht.weight.copy_(torch.tensor(he.weight.detach().numpy()))
        ht.bias.copy_(torch.tensor(he.bias.detach().numpy()))
    oe = getattr(ember.optim, opt)(e.parameters(), **kw)
    ot = getattr(torch.optim, opt)(t.parameters(), **kw)
    he_opt, ht_opt = ember.optim.SGD(he.parameters(), lr=0.1), torch.optim.SGD(ht.parameters(), lr=0.1)
    for _ in range(5):
        batch = rng.integers(0, 10, (4, 3))
        target = rng.standard_normal((4, 3, 1)).astype(np.float32)
        for emb, head, opts, lib in ((e, he, (oe, he_opt), ember), (t, ht, (ot, ht_opt), torch)):
            for o in opts:
                o.zero_grad()
            loss = ((head(emb(lib.tensor(batch))) - lib.tensor(target)) ** 2).mean()
            loss.backward()
            for o in opts:
                o.step()
    np.testing.assert_allclose(e.weight.detach().numpy(), t.weight.detach().numpy(), rtol=1e-5, atol=1e-6)
    if opt == "SparseAdam":
        se, st = oe.state[e.weight], ot.state[t.weight]
        assert se["step"] == st["step"]
        np.testing.assert_allclose(se["exp_avg_sq"].numpy(), st["exp_avg_sq"].numpy(), rtol=1e-5, atol=1e-9)


def test_optimizer_errors_as_pytorch():
    for lib in (ember, torch):
        emb = lib.nn.Embedding(4, 2)
        emb(lib.tensor([1])).sum().backward()
        with pytest.raises(RuntimeError, match="SparseAdam does not support dense gradients"):
            lib.optim.SparseAdam(emb.parameters()).step()
        semb = lib.nn.Embedding(4, 2, sparse=True)
        semb(lib.tensor([1])).sum().backward()
        with pytest.raises(RuntimeError, match="Adam does not support sparse gradients"):
            lib.optim.Adam(semb.parameters()).step()
        with pytest.raises(RuntimeError, match="weight_decay option is not compatible with sparse gradients"):
            lib.optim.Adagrad(semb.parameters(), weight_decay=0.1).step()
        with pytest.raises(ValueError, match="Invalid learning rate"):
            lib.optim.SparseAdam(semb.parameters(), lr=-1)


def test_zero_grad_and_clip_grad_norm_with_sparse_grads():
    e, t = _embeddings("Embedding")
    e(ember.tensor([1, 1, 4])).sum().backward()
    t(torch.tensor([1, 1, 4])).sum().backward()
    # PyTorch 2.13's clip_grad_norm_ cannot take a sparse gradient; ember's clips it as its dense equivalent
    t.weight.grad = t.weight.grad.to_dense()
    ne = ember.nn.utils.clip_grad_norm_(e.parameters(), 0.5)
    nt = torch.nn.utils.clip_grad_norm_(t.parameters(), 0.5)
    assert e.weight.grad.is_sparse
    np.testing.assert_allclose(float(ne), float(nt), rtol=1e-6)
    np.testing.assert_allclose(dense(e.weight.grad), dense(t.weight.grad), rtol=1e-6)
    ember.optim.SGD(e.parameters(), lr=0.1).zero_grad()
    assert e.weight.grad is None

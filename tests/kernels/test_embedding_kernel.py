"""The embedding backward kernel (kernels/embedding.py): compiled vs reference bit for bit (repeated indices,
padding_idx, scale_grad_by_freq), F.embedding / EmbeddingBag weight gradients against PyTorch in float32/float64,
float64 gradcheck, and the composed path under create_graph (gradgradcheck)."""
import numpy as np
import pytest
import torch

import ember
from ember.kernels import numba_enabled
from ember.kernels import embedding as E

TOL = {np.float32: dict(rtol=1e-6, atol=1e-6), np.float64: dict(rtol=1e-13, atol=1e-14)}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("padding_idx,scale", [(-1, False), (3, False), (-1, True), (0, True)])
@pytest.mark.parametrize("D", [1, 17, 256])
def test_embedding_backward_compiled_matches_reference(dtype, padding_idx, scale, D):
    rng = np.random.default_rng(D)
    idx = rng.integers(0, 12, 300)   # many repeats of each of 12 rows
    g = rng.standard_normal((300, D)).astype(dtype)
    assert (E.embedding_backward.implementation(g) is not E.embedding_backward.reference) == numba_enabled()
    gw = E.embedding_backward(g, idx, 20, padding_idx, scale)
    assert gw.shape == (20, D) and gw.dtype == dtype
    np.testing.assert_array_equal(gw, E.embedding_backward_reference(g, idx, 20, padding_idx, scale))
    assert not gw[12:].any()
    if padding_idx >= 0:
        assert not gw[padding_idx].any()


def test_padding_row_stays_zero_for_non_finite_gradients():
    g = np.full((3, 4), np.inf, np.float32)
    gw = E.embedding_backward(g, np.array([1, 2, 1]), 3, 1, False)
    assert not gw[1].any() and np.isinf(gw[2]).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kwargs", [dict(), dict(padding_idx=2), dict(scale_grad_by_freq=True),
                                    dict(padding_idx=0, scale_grad_by_freq=True)], ids=str)
def test_functional_embedding_grad_matches_torch(dtype, kwargs):
    rng = np.random.default_rng(1)
    w = rng.standard_normal((10, 6)).astype(dtype)
    idx = rng.integers(0, 10, (4, 9))
    g = rng.standard_normal((4, 9, 6)).astype(dtype)
    res = []
    for lib in (torch, ember):
        wt = lib.tensor(w, requires_grad=True)
        y = lib.nn.functional.embedding(lib.tensor(idx), wt, **kwargs)
        y.backward(lib.tensor(g))
        res.append((y.detach().numpy(), wt.grad.numpy()))
    for want, got in zip(*res):
        np.testing.assert_allclose(got, want, **TOL[dtype])


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_grad_matches_torch(mode):
    rng = np.random.default_rng(2)
    w = rng.standard_normal((15, 5)).astype(np.float32)
    idx = rng.integers(0, 15, 20)
    offsets = np.array([0, 3, 3, 11])
    g = rng.standard_normal((4, 5)).astype(np.float32)
    res = []
    for lib in (torch, ember):
        wt = lib.tensor(w, requires_grad=True)
        y = lib.nn.functional.embedding_bag(lib.tensor(idx), wt, lib.tensor(offsets), mode=mode)
        y.backward(lib.tensor(g))
        res.append((y.detach().numpy(), wt.grad.numpy()))
    for want, got in zip(*res):
        np.testing.assert_allclose(got, want, **TOL[np.float32])


def test_embedding_gradcheck_and_gradgradcheck_float64():
    rng = np.random.default_rng(3)
    w = ember.tensor(rng.standard_normal((7, 3)), requires_grad=True)
    idx = ember.tensor(rng.integers(0, 7, (5, 2)))
    f = lambda a: ember.nn.functional.embedding(idx, a) ** 2   # noqa: E731  (padding/frequency scaling: not a Jacobian)
    assert ember.autograd.gradcheck(f, (w,))
    assert ember.autograd.gradgradcheck(f, (w,))

"""Batch norm in training mode through the norm kernels against PyTorch, on the shapes of a small ResNet's
stages and BatchNorm1d's (N, C) input (float32 and float64): forward, input/affine gradients and running statistics."""
import numpy as np
import pytest
import torch

import ember

SHAPES = [(4, 64, 10, 10), (4, 128, 5, 5), (4, 512, 2, 2), (3, 5, 7), (128, 512), (7, 3), (5, 6, 1)]
TOL = {np.float32: dict(rtol=1e-4, atol=1e-5), np.float64: dict(rtol=1e-10, atol=1e-12)}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_batch_norm_train_matches_torch(shape, dtype):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(shape) * 2 + 0.5).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    C = shape[1]
    w = (rng.random(C) + 0.5).astype(dtype)
    b = rng.standard_normal(C).astype(dtype)
    res = []
    for lib in (torch, ember):
        xt, wt, bt = (lib.tensor(a, requires_grad=True) for a in (x, w, b))
        rm, rv = lib.zeros(C, dtype=xt.dtype), lib.ones(C, dtype=xt.dtype)
        y = lib.nn.functional.batch_norm(xt, rm, rv, wt, bt, training=True, momentum=0.1)
        y.backward(lib.tensor(g))
        res.append([y.detach().numpy(), xt.grad.numpy(), wt.grad.numpy(), bt.grad.numpy(), rm.numpy(), rv.numpy()])
    for name, want, got in zip(("y", "dx", "dw", "db", "running_mean", "running_var"), *res):
        np.testing.assert_allclose(got, want, **TOL[dtype], err_msg=name)


@pytest.mark.parametrize("nch", [1, 2])
@pytest.mark.parametrize("use_stats", [True, False])
@pytest.mark.parametrize("shape", [(9, 37, 1), (9, 37, 3)], ids=str)
def test_batch_norm_kernels_match_reference(shape, use_stats, nch, monkeypatch):
    """The compiled batch-norm kernels (per-channel rows of S elements; S == 1 runs along each sample's channels)
    against the NumPy references, on one chunk and on two."""
    from ember.kernels import norms, numba_enabled
    if not numba_enabled():
        pytest.skip("Numba disabled")
    from ember.kernels import _numba_norms as NN
    monkeypatch.setattr(NN, "_batch_chunks", lambda x, *elements: nch)
    rng = np.random.default_rng(1)
    x = (rng.standard_normal(shape) * 3 + 1).astype(np.float32)
    g = rng.standard_normal(shape).astype(np.float32)
    w = (rng.random(shape[1]) + 0.5).astype(np.float32)
    b = rng.standard_normal(shape[1]).astype(np.float32)
    for got, want in zip(NN.batch_norm_stats(x), norms.batch_norm_stats_reference(x)):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    mean, var = norms.batch_norm_stats_reference(x)
    rstd = (1 / np.sqrt(var + 1e-5)).astype(np.float32)
    mean = mean.astype(np.float32)
    np.testing.assert_allclose(NN.batch_norm_apply(x, mean, rstd, w, b),
                               norms.batch_norm_apply_reference(x, mean, rstd, w, b), rtol=1e-5, atol=1e-5)
    for got, want in zip(NN.batch_norm_backward(g, x, mean, rstd, w, use_stats, True),
                         norms.batch_norm_backward_reference(g, x, mean, rstd, w, use_stats, True)):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)

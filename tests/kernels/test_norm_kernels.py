"""Batch norm in training mode through the norm kernels against PyTorch, on the shapes of a small ResNet's
stages (float32 and float64): forward, input/affine gradients and running statistics."""
import numpy as np
import pytest
import torch

import ember

SHAPES = [(4, 64, 10, 10), (4, 128, 5, 5), (4, 512, 2, 2), (3, 5, 7)]
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

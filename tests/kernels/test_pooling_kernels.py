"""Max-pooling kernels (kernels/pooling.py): compiled vs the NumPy reference (values, argmax offsets and the
backward's scatter; 2x2/stride 2, overlapping, padded, dilated, ceil_mode and 1-D windows; NaN and -inf in
windows; float32/float64), and max_pool1d/2d through ember against PyTorch (values, indices, input gradient)."""
import numpy as np
import pytest
import torch

import ember
from ember.kernels import numba_enabled
from ember.kernels import pooling as K
from ember.ops.pool import _pool_geometry

CASES = [((4, 3, 9, 10), dict(kernel_size=2)),
         ((2, 3, 9, 7), dict(kernel_size=2, ceil_mode=True)),   # the last windows hang over the edge
         ((2, 3, 11, 9), dict(kernel_size=3, stride=2, padding=1)),
         ((2, 3, 12, 12), dict(kernel_size=3, stride=1, dilation=2, ceil_mode=True)),
         ((2, 2, 7, 8), dict(kernel_size=(2, 3), stride=(2, 3), padding=(1, 1), ceil_mode=True)),
         ((2, 5, 13), dict(kernel_size=3, stride=2, padding=1)),
         ((3, 4, 16), dict(kernel_size=2))]


def _input(rng, shape, dtype):
    x = rng.standard_normal(shape).astype(dtype)
    x[0, 0, :2] = np.nan          # NaN wins its windows
    x[-1, -1, ..., :3] = -np.inf  # windows of -inf only (next to padding)
    x[-1, 0, ..., 1] = x[-1, 0, ..., 0]   # ties: the earlier offset wins
    return x


def _geometry(x, kw):
    nd = x.ndim - 2
    return _pool_geometry(x, nd, kw["kernel_size"], kw.get("stride"), kw.get("padding", 0), kw.get("dilation", 1),
                          kw.get("ceil_mode", False), f"max_pool{nd}d")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,kw", CASES, ids=str)
def test_compiled_matches_reference(dtype, shape, kw):
    rng = np.random.default_rng(len(shape) + shape[-1])
    x = _input(rng, shape, dtype)
    w = _geometry(x, kw)
    assert (K.max_windows.implementation(x) is not K.max_windows.reference) == numba_enabled()
    m, idx = K.max_windows(x, w, True)
    rm, ridx = K.max_windows_reference(x, w, True)
    np.testing.assert_array_equal(m, rm)
    np.testing.assert_array_equal(idx, ridx)
    assert m.dtype == dtype and idx.dtype == ridx.dtype
    assert K.max_windows(x, w, False)[1] is None
    g = rng.standard_normal(m.shape).astype(dtype)
    np.testing.assert_allclose(K.offset_scatter(g, idx, w, x.dtype), K.offset_scatter_reference(g, idx, w, x.dtype),
                               rtol=1e-6 if dtype == np.float32 else 1e-14)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,kw", CASES, ids=str)
def test_max_pool_matches_torch(dtype, shape, kw):
    rng = np.random.default_rng(3)
    x = _input(rng, shape, dtype)
    fn = "max_pool1d" if len(shape) == 3 else "max_pool2d"
    res = []
    for lib in (torch, ember):
        xt = lib.tensor(x, requires_grad=True)
        y, i = getattr(lib.nn.functional, fn)(xt, return_indices=True, **kw)
        y.backward(lib.tensor(np.cos(np.arange(y.numel())).reshape(tuple(y.shape)).astype(dtype)))
        res.append((y.detach().numpy(), i.numpy(), xt.grad.numpy()))
    for want, got in zip(res[0][:2], res[1][:2]):
        np.testing.assert_array_equal(got, want)
    # overlapping windows add several gradients into one element: the reference adds them in another order
    np.testing.assert_allclose(res[1][2], res[0][2], rtol=1e-6 if dtype == np.float32 else 1e-14, atol=1e-7)

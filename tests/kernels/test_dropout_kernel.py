"""The fused dropout kernel (kernels/dropout.py: the mask from a keep pattern and the product in one pass):
compiled vs reference bit for bit, against the mathematics (kept elements scaled, the rest 0), and F.dropout's
values and gradient consistent with its mask."""
import numpy as np
import pytest

import ember
from ember.kernels import numba_enabled
from ember.kernels import dropout as D


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("p", [0.0, 0.3, 0.999, 1.0])
def test_dropout_forward_kernel(dtype, p):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((37, 129)).astype(dtype)
    keep = rng.random((37, 129)) < 1 - p
    scale = dtype(1 / (1 - p)) if p < 1 else dtype(0)
    impl = D.dropout_forward.implementation(x)
    assert (impl is not D.dropout_forward.reference) == numba_enabled()
    y, mask = D.dropout_forward(x, keep, scale)
    want_mask = np.where(keep, scale, dtype(0))
    np.testing.assert_array_equal(mask, want_mask)
    np.testing.assert_array_equal(y, x * want_mask)
    ry, rmask = D.dropout_forward.reference(x, keep, scale)
    np.testing.assert_array_equal(y, ry)
    np.testing.assert_array_equal(mask, rmask)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_functional_dropout_uses_one_mask(dtype):
    rng = np.random.default_rng(1)
    x = ember.tensor(rng.standard_normal((64, 33)).astype(dtype), requires_grad=True)
    y = ember.nn.functional.dropout(x, 0.25, training=True)
    kept = y.detach().numpy() != 0
    assert 0.6 < kept.mean() < 0.9
    np.testing.assert_allclose(y.detach().numpy()[kept], x.detach().numpy()[kept] / 0.75, rtol=1e-6)
    g = ember.tensor(rng.standard_normal((64, 33)).astype(dtype))
    y.backward(g)
    np.testing.assert_allclose(x.grad.numpy(), np.where(kept, g.numpy() / 0.75, 0), rtol=1e-6)

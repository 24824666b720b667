"""Sums are about as exact as PyTorch's (issue 10 §6): float32 sums, means, variances and running sums are
compared with the same sums done in float64, over contiguous and non-contiguous reduced axes."""
import numpy as np
import pytest
import torch

import ember

RNG = np.random.default_rng(0)


def _rel(got, exact):
    return float(np.max(np.abs(np.asarray(got, np.float64) - exact) / np.abs(exact)))


TALL = RNG.random((10 ** 6, 4), dtype=np.float32)      # sum(0): few sums over a long strided axis
WIDE = RNG.random((2000, 300), dtype=np.float32)       # sum(0): many sums at once
CUBE = RNG.random((300, 5, 200), dtype=np.float32)     # two non-adjacent reduced axes


@pytest.mark.parametrize("arr,dims", [(TALL, 0), (TALL, None), (TALL, 1), (WIDE, 0), (CUBE, (0, 2)), (CUBE, (2, 0)),
                                      (CUBE, 1)], ids=["tall0", "tall_all", "tall1", "wide0", "cube02", "cube20",
                                                       "cube1"])
def test_float32_sum_and_mean_are_exact_to_float32_rounding(arr, dims):
    t = ember.from_numpy(arr)
    exact = arr.astype(np.float64).sum(axis=dims)
    s = t.sum() if dims is None else t.sum(dims)
    m = t.mean() if dims is None else t.mean(dims)
    n = arr.size / np.asarray(exact).size
    assert s.dtype is ember.float32 and m.dtype is ember.float32
    assert _rel(s.numpy(), exact) < 2e-7
    assert _rel(m.numpy(), exact / n) < 2e-7
    # at least as good as PyTorch's cascade sum (within float32 rounding)
    ts = torch.from_numpy(arr).sum() if dims is None else torch.from_numpy(arr).sum(dims)
    assert _rel(s.numpy(), exact) <= max(_rel(ts.numpy(), exact), 6e-8) * 1.5


def test_float32_keepdim_shapes_follow_torch():
    t, tt = ember.from_numpy(CUBE), torch.from_numpy(CUBE)
    for dims in ((0, 2), (2, 0), 1, (0, 1, 2)):
        assert tuple(t.sum(dims, keepdim=True).shape) == tuple(tt.sum(dims, keepdim=True).shape)
        assert tuple(t.mean(dims).shape) == tuple(tt.mean(dims).shape)


def test_float32_cumsum_is_exact_to_float32_rounding():
    a = RNG.random(10 ** 6, dtype=np.float32)
    exact = np.cumsum(a.astype(np.float64))
    assert _rel(ember.from_numpy(a).cumsum(0).numpy(), exact) < 1e-7
    b = RNG.random((3000, 20), dtype=np.float32)
    assert _rel(ember.from_numpy(b).cumsum(0).numpy(), np.cumsum(b.astype(np.float64), 0)) < 1e-7


def test_cumsum_gradient_is_a_reverse_running_sum_in_double():
    a = RNG.random(10 ** 5, dtype=np.float32)
    x = ember.from_numpy(a).requires_grad_()
    x.cumsum(0).backward(ember.from_numpy(a))
    exact = np.cumsum(a.astype(np.float64)[::-1])[::-1]
    assert _rel(x.grad.numpy(), exact) < 1e-7


def test_float32_var_std_and_nansum():
    t = ember.from_numpy(WIDE)
    exact = WIDE.astype(np.float64).var(0, ddof=1)
    assert _rel(t.var(0).numpy(), exact) < 2e-7
    assert _rel(t.std(0).numpy(), np.sqrt(exact)) < 2e-7
    with_nan = TALL.copy()
    with_nan[::7, 2] = np.nan
    exact = np.nansum(with_nan.astype(np.float64), 0)
    assert _rel(ember.from_numpy(with_nan).nansum(0).numpy(), exact) < 2e-7


def test_half_precision_sums_round_once():
    a = RNG.random((4096, 3)).astype(np.float16)
    exact = a.astype(np.float64).sum(0)
    got = ember.from_numpy(a).sum(0)
    assert got.dtype is ember.float16
    np.testing.assert_array_equal(got.numpy(), exact.astype(np.float16))
    tb = ember.from_numpy(a.astype(np.float32)).to(ember.bfloat16)
    assert tb.sum(0).dtype is ember.bfloat16 and tb.cumsum(0).dtype is ember.bfloat16


@pytest.mark.parametrize("name", ["add", "sub"])
@pytest.mark.parametrize("low", ["bfloat16", "float16", "float32"])
def test_alpha_scales_in_the_result_dtype(name, low):
    """``add(x64, y_low, alpha=a)`` promotes ``y`` before scaling it, as PyTorch: ``a * y`` is not rounded to
    ``y``'s dtype first (Muon's bfloat16 update added to float64 weights depends on it)."""
    x = RNG.standard_normal(7)
    y = RNG.standard_normal(7).astype(np.float32)
    got = getattr(ember, name)(ember.tensor(x), ember.tensor(y).to(getattr(ember, low)), alpha=-0.0123)
    want = getattr(torch, name)(torch.tensor(x), torch.tensor(y).to(getattr(torch, low)), alpha=-0.0123)
    assert got.dtype is ember.float64
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-15, atol=0)   # PyTorch may fuse (FMA)

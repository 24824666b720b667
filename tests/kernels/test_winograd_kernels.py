"""The Winograd F(4x4, 3x3) data transforms (kernels/winograd.py): compiled vs the NumPy reference (paddings 0-2,
sizes that are not multiples of 4, float32/float64), the adjoint identities <In(x), m> = <x, In*(m)> and
<Out(m), y> = <m, Out*(y)> in float64, and 3x3 convolutions on the Winograd path (float32) against PyTorch,
forward and both gradients."""
import numpy as np
import pytest
import torch

import ember
from ember.kernels import numba_enabled
from ember.kernels import winograd as W

TOL = {np.float32: dict(rtol=1e-5, atol=1e-5), np.float64: dict(rtol=1e-12, atol=1e-12)}


def _case(rng, dtype, n, c, h, w, lo):
    th, tw = W.tiles((h + 2 * lo - 2, w + 2 * lo - 2))
    return rng.standard_normal((n, c, h, w)).astype(dtype), (lo, lo), th, tw


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,lo", [((2, 3, 8, 8), 1), ((3, 17, 13, 9), 1), ((1, 8, 6, 11), 0), ((2, 5, 7, 7), 2)],
                         ids=str)
def test_compiled_matches_reference(dtype, shape, lo):
    rng = np.random.default_rng(sum(shape))
    x, lo, th, tw = _case(rng, dtype, *shape, lo)
    assert (W.wino_input.implementation(x) is not W.wino_input.reference) == numba_enabled()
    vt = W.wino_input(x, lo, th, tw)
    assert vt.shape == (36, shape[0] * th * tw, shape[1]) and vt.dtype == dtype
    np.testing.assert_allclose(vt, W.wino_input_reference(x, lo, th, tw), **TOL[dtype])
    m = rng.standard_normal(vt.shape).astype(dtype)
    got, want = np.full_like(x, np.nan), np.full_like(x, np.nan)
    W.wino_input_adjoint(m, lo, th, tw, got)
    W.wino_input_adjoint_reference(m, lo, th, tw, want)
    np.testing.assert_allclose(got, want, **TOL[dtype])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(2, 3, 8, 8), (3, 17, 13, 9), (1, 8, 6, 11), (2, 5, 4, 5)], ids=str)
def test_output_transforms_compiled_match_reference(dtype, shape):
    rng = np.random.default_rng(sum(shape) + 1)
    n, o, ho, wo = shape
    th, tw = W.tiles((ho, wo))
    mt = rng.standard_normal((36, n * th * tw, o)).astype(dtype)
    bias = rng.standard_normal(o).astype(dtype)
    assert (W.wino_output.implementation(mt) is not W.wino_output.reference) == numba_enabled()
    for b in (None, bias):
        got, want = np.full(shape, np.nan, dtype), np.full(shape, np.nan, dtype)
        W.wino_output(mt, th, tw, b, got)
        W.wino_output_reference(mt, th, tw, b, want)
        np.testing.assert_allclose(got, want, **TOL[dtype])
    y = rng.standard_normal(shape).astype(dtype)
    gt = W.wino_output_adjoint(y, th, tw)
    assert gt.shape == mt.shape and gt.dtype == dtype
    np.testing.assert_allclose(gt, W.wino_output_adjoint_reference(y, th, tw), **TOL[dtype])


@pytest.mark.parametrize("shape", [(2, 4, 9, 10), (1, 3, 4, 4), (2, 2, 5, 7)], ids=str)
def test_output_adjoint_is_the_adjoint(shape):
    rng = np.random.default_rng(9)
    n, o, ho, wo = shape
    th, tw = W.tiles((ho, wo))
    m = rng.standard_normal((36, n * th * tw, o))
    y = rng.standard_normal(shape)
    fwd = np.empty(shape)
    W.wino_output(m, th, tw, None, fwd)
    np.testing.assert_allclose((fwd * y).sum(), (m * W.wino_output_adjoint(y, th, tw)).sum(), rtol=1e-12)


@pytest.mark.parametrize("shape,lo", [((2, 4, 9, 10), 1), ((1, 3, 6, 6), 0), ((2, 2, 5, 7), 2)], ids=str)
def test_input_adjoint_is_the_adjoint(shape, lo):
    rng = np.random.default_rng(7)
    x, lo, th, tw = _case(rng, np.float64, *shape, lo)
    m = rng.standard_normal((36, shape[0] * th * tw, shape[1]))
    back = np.empty_like(x)
    W.wino_input_adjoint(m, lo, th, tw, back)
    np.testing.assert_allclose((W.wino_input(x, lo, th, tw) * m).sum(), (x * back).sum(), rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("a,b", [(1, 1), (3, 5), (16, 16), (24, 40)], ids=str)   # 960 kernels: runs of 256 and a rest
def test_weight_transforms_compiled_match_reference(dtype, a, b):
    rng = np.random.default_rng(a * b)
    w = rng.standard_normal((a, b, 3, 3)).astype(dtype)
    assert (W.wino_weight.implementation(w) is not W.wino_weight.reference) == numba_enabled()
    for view in (w, w.transpose(1, 0, 2, 3), w[:, :, ::-1, ::-1]):   # a transposed (the forward's U^T) or strided w
        u = W.wino_weight(view)
        assert u.shape == (36,) + view.shape[:2] and u.dtype == dtype and u.flags.c_contiguous
        np.testing.assert_allclose(u, W.wino_weight_reference(view), **TOL[dtype])
    gu = rng.standard_normal((36, a, b)).astype(dtype)
    for view in (gu, gu.transpose(0, 2, 1)):
        gw = W.wino_weight_adjoint(view)
        assert gw.shape == view.shape[1:] + (3, 3) and gw.dtype == dtype
        np.testing.assert_allclose(gw, W.wino_weight_adjoint_reference(view), **TOL[dtype])
    # the transform of a kernel is G k G^T, each way
    G = W.wino_mats(np, np.float64)[1]
    k = w[-1, -1].astype(np.float64)
    np.testing.assert_allclose(W.wino_weight(w)[:, -1, -1].reshape(6, 6), G @ k @ G.T, **TOL[dtype])


def test_weight_adjoint_is_the_adjoint():
    rng = np.random.default_rng(5)
    w, m = rng.standard_normal((7, 300, 3, 3)), rng.standard_normal((36, 7, 300))
    np.testing.assert_allclose((W.wino_weight(w) * m).sum(), (w * W.wino_weight_adjoint(m)).sum(), rtol=1e-12)
    bad = rng.standard_normal((2, 2, 3, 3))
    bad[0, 0, 1, 1], bad[1, 0, 0, 2], bad[1, 1, 2, 0] = np.nan, np.inf, -np.inf   # special values go through alike
    with np.errstate(invalid="ignore"):
        np.testing.assert_allclose(W.wino_weight(bad), W.wino_weight_reference(bad), rtol=1e-12)


@pytest.mark.parametrize("shape,padding", [((4, 16, 32, 32), 1), ((3, 8, 13, 11), 1), ((2, 12, 10, 10), 0)], ids=str)
def test_winograd_conv_matches_torch(shape, padding):
    rng = np.random.default_rng(8)
    x = rng.standard_normal(shape).astype(np.float32)
    w = (rng.standard_normal((9, shape[1], 3, 3)) * 0.2).astype(np.float32)
    res = []
    for lib in (torch, ember):
        xt, wt = lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True)
        y = lib.nn.functional.conv2d(xt, wt, padding=padding)
        y.backward(lib.tensor(np.cos(np.arange(y.numel(), dtype=np.float32)).reshape(tuple(y.shape))))
        res.append((y.detach().numpy(), xt.grad.numpy(), wt.grad.numpy()))
    for want, got in zip(*res):   # Winograd's float32 rounding: relative to the largest entry (a sum of many terms)
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=2e-5 * np.abs(want).max())

"""The fused cross-entropy kernels (kernels/losses.py): the compiled implementation against the NumPy reference
(odd class counts so vector loops' tails run, NaN/inf logits, ignored rows, class weights, label smoothing),
F.cross_entropy against PyTorch in float32/float64, and float64 gradcheck."""
import numpy as np
import pytest
import torch

import ember
from ember.kernels import numba_enabled
from ember.kernels import losses as L

TOL = {np.float32: dict(rtol=2e-5, atol=2e-6), np.float64: dict(rtol=1e-12, atol=1e-13)}


def _ce_args(rng, M, C, dtype, smoothing, weighted):
    """Kernel arguments as ops/losses.py builds them; every third row ignored (pick 0, spread 0)."""
    x = (rng.standard_normal((M, C)) * 3).astype(dtype)
    t = rng.integers(0, C, M)
    valid = (np.arange(M) % 3 != 1).astype(dtype)
    cw = (rng.random(C) + 0.5).astype(dtype) if weighted else np.ones(C, dtype)
    pick = (cw[t] * valid * (1 - smoothing)).astype(dtype)
    spread = (valid * (smoothing / C)).astype(dtype) if smoothing else None
    return x, t, pick, spread, (cw if smoothing else None)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("C", [1, 7, 33, 2001])
@pytest.mark.parametrize("smoothing,weighted", [(0.0, False), (0.0, True), (0.2, False), (0.2, True)])
def test_cross_entropy_compiled_matches_reference(dtype, C, smoothing, weighted):
    rng = np.random.default_rng(C)
    x, t, pick, spread, cw = _ce_args(rng, 40, C, dtype, smoothing, weighted)
    assert (L.cross_entropy_forward.implementation(x) is not L.cross_entropy_forward.reference) == numba_enabled()
    loss, lse = L.cross_entropy_forward(x, t, pick, spread, cw)
    rloss, rlse = L.cross_entropy_forward_reference(x, t, pick, spread, cw)
    assert loss.dtype == lse.dtype == dtype
    np.testing.assert_allclose(lse, rlse, **TOL[dtype])
    np.testing.assert_allclose(loss, rloss, **TOL[dtype])
    assert not loss[1::3].any()   # ignored rows
    scale = rng.random(40).astype(dtype)
    g = L.cross_entropy_backward(x, lse, t, scale, pick, spread, cw)
    np.testing.assert_allclose(g, L.cross_entropy_backward_reference(x, rlse, t, scale, pick, spread, cw),
                               **TOL[dtype])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_nonfinite_rows(dtype):
    """A NaN anywhere in a row (first element too) or a +inf makes its loss NaN; -inf logits are ignored by the
    max and give 0 probability; compiled and reference agree."""
    x = np.random.default_rng(0).standard_normal((5, 37)).astype(dtype)
    x[0, 0] = np.nan
    x[1, 20] = np.nan
    x[2, 3] = np.inf
    x[3, :30] = -np.inf
    t = np.array([1, 2, 3, 33, 4])
    pick = np.ones(5, dtype)
    loss, lse = L.cross_entropy_forward(x, t, pick, None, None)
    rloss, rlse = L.cross_entropy_forward_reference(x, t, pick, None, None)
    assert np.isnan(loss[:3]).all() and np.isfinite(loss[3:]).all()
    np.testing.assert_allclose(loss[3:], rloss[3:], **TOL[dtype])
    np.testing.assert_allclose(lse[3:], rlse[3:], **TOL[dtype])
    want = torch.nn.functional.cross_entropy(torch.tensor(x), torch.tensor(t), reduction="none").numpy()
    np.testing.assert_allclose(loss, want, **TOL[dtype])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("options", [dict(), dict(weight=True, ignore_index=2), dict(label_smoothing=0.1),
                                     dict(weight=True, label_smoothing=0.3, reduction="sum"),
                                     dict(reduction="none", ignore_index=0)], ids=str)
def test_functional_cross_entropy_matches_torch(dtype, options):
    rng = np.random.default_rng(1)
    x = (rng.standard_normal((70, 201)) * 2).astype(dtype)
    t = rng.integers(0, 201, 70)
    t[::7] = options.get("ignore_index", 0)
    w = (rng.random(201) + 0.5).astype(dtype)
    res = []
    for lib in (torch, ember):
        xt = lib.tensor(x, requires_grad=True)
        kw = {k: v for k, v in options.items() if k != "weight"}
        if options.get("weight"):
            kw["weight"] = lib.tensor(w)
        loss = lib.nn.functional.cross_entropy(xt, lib.tensor(t), **kw)
        loss.backward(lib.ones_like(loss))
        res.append((loss.detach().numpy(), xt.grad.numpy()))
    for want, got in zip(*res):
        np.testing.assert_allclose(got, want, **TOL[dtype])


def test_functional_cross_entropy_gradcheck_float64():
    rng = np.random.default_rng(2)
    x = ember.tensor(rng.standard_normal((6, 9)), requires_grad=True)
    t = ember.tensor(rng.integers(0, 9, 6))
    w = ember.tensor(rng.random(9) + 0.5)
    f = lambda a: ember.nn.functional.cross_entropy(a, t, weight=w, label_smoothing=0.15, ignore_index=3)  # noqa
    assert ember.autograd.gradcheck(f, (x,))

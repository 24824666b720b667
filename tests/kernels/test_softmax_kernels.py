"""The softmax kernels' two layouts (kernels/_numba_softmax.py): contiguous rows (a trailing softmax, summed in
blocks) and B-wide columns (a softmax over an inner dim), compiled against the NumPy reference with NaN/inf
placed past the first block and on odd widths (vector loops' tails), softmax/log_softmax over the last and an
inner dim against PyTorch (float32/float64/bfloat16) with float64 gradcheck, and attention's in-place softmax."""
import numpy as np
import pytest
import torch

import ember
from ember.kernels import numba_enabled
from ember.kernels import softmax as S
from parity import forward_backward

TOL = {np.float32: dict(rtol=3e-6, atol=1e-7), np.float64: dict(rtol=1e-13, atol=1e-15)}
# log-softmax is x - (max + log sum): its rounding is absolute, on the scale of that constant
LOG_TOL = {np.float32: dict(rtol=3e-6, atol=2e-6), np.float64: dict(rtol=1e-13, atol=1e-13)}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(6, 700, 1), (64, 64, 1), (5, 300, 7), (5, 9, 64)], ids=str)
@pytest.mark.parametrize("log", [False, True])
def test_softmax_layouts_match_reference(dtype, shape, log):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(shape) * 4).astype(dtype)
    x[1, -1, 0] = np.nan               # NaN late in its row (past the first summing block when n > 256)
    x[2, :, 0] = -np.inf               # an all -inf row: NaN, as PyTorch
    x[3, :-1, 0] = -np.inf             # one finite entry: probability 1
    x[4, 5, 0] = np.inf                # +inf: NaN row
    y = S.softmax_forward(x, log)
    ry = S.softmax_forward_reference(x, log)
    # log-softmax is x - (max + log sum): its rounding is relative to that constant, not to the result
    tol = dict(TOL[dtype], atol=TOL[dtype]["rtol"] * 20) if log else TOL[dtype]
    np.testing.assert_allclose(y, ry, **tol)
    g = rng.standard_normal(shape).astype(dtype)
    np.testing.assert_allclose(S.softmax_backward(g, y, log), S.softmax_backward_reference(g, ry, log),
                               rtol=TOL[dtype]["rtol"] * 10, atol=TOL[dtype]["atol"] * 10)


@pytest.mark.parametrize("dtype", ["float32", "float64", "bfloat16"])
@pytest.mark.parametrize("log", [False, True])
@pytest.mark.parametrize("dim", [1, -1])
def test_softmax_inner_and_trailing_dim_match_torch(dtype, log, dim):
    rng = np.random.default_rng(1)
    x = (rng.standard_normal((3, 17, 5, 6)) * 3).astype(np.float32)
    g = rng.standard_normal(x.shape).astype(np.float32)
    res = [forward_backward(lib, lambda L, t: (L.log_softmax if log else L.softmax)(t, dim), [x], g, dtype)
           for lib in (torch, ember)]
    tol = {"float32": dict(rtol=2e-5, atol=2e-6), "float64": dict(rtol=1e-12, atol=1e-13),
           "bfloat16": dict(rtol=3e-2, atol=3e-2)}[dtype]
    for want, got in zip(*res):
        np.testing.assert_allclose(got, want, **tol)


@pytest.mark.parametrize("log", [False, True])
def test_softmax_inner_dim_gradcheck_float64(log):
    x = ember.tensor(np.random.default_rng(2).standard_normal((2, 5, 3)), requires_grad=True)
    assert ember.autograd.gradcheck(lambda a: (ember.log_softmax if log else ember.softmax)(a, 1), (x,))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("R,L,Sk", [(4096, 64, 64), (60, 6, 13), (8, 4, 300), (12, 6, 3)], ids=str)
@pytest.mark.parametrize("causal", [False, True])
def test_attention_softmax_matches_reference(dtype, R, L, Sk, causal):
    """In place, causal rows (query r % L keeps keys j <= r % L) with 0 beyond, NaN scores propagating."""
    x = (np.random.default_rng(5).standard_normal((R, Sk)) * 3).astype(dtype)
    x[1, 0] = np.nan
    got, want = x.copy(), x.copy()
    assert S.attention_softmax(got, L, causal) is got or not numba_enabled()
    S.attention_softmax_reference(want, L, causal)
    np.testing.assert_allclose(got, want, **TOL[dtype])
    if causal:   # beyond the diagonal: 0 (row 1, NaN throughout, aside)
        masked = np.arange(Sk)[None, :] > np.arange(R)[:, None] % L
        masked[1] = False
        assert (got[masked] == 0).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(40, 1, 1), (40, 7, 1), (9, 2001, 1), (3, 17, 5)], ids=str)
@pytest.mark.parametrize("log", [False, True])
def test_softmax_compiled_matches_reference(dtype, shape, log):
    rng = np.random.default_rng(3)
    x = (rng.standard_normal(shape) * 3).astype(dtype)
    x[0, 0, 0] = np.nan          # NaN first in its row: the whole row is NaN
    if shape[1] > 3:
        x[1, :-1] = -np.inf      # one finite entry left: probability 1 there
    tol = (LOG_TOL if log else TOL)[dtype]
    y = S.softmax_forward(x, log)
    ry = S.softmax_forward_reference(x, log)
    assert np.isnan(y[0, :, 0]).all()
    np.testing.assert_allclose(y, ry, **tol)
    g = rng.standard_normal(shape).astype(dtype)
    np.testing.assert_allclose(S.softmax_backward(g, y, log)[1:], S.softmax_backward_reference(g, ry, log)[1:],
                               **tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("log", [False, True])
def test_softmax_matches_torch(dtype, log):
    x = (np.random.default_rng(4).standard_normal((33, 129)) * 4).astype(dtype)
    g = np.random.default_rng(5).standard_normal((33, 129)).astype(dtype)
    res = []
    for lib in (torch, ember):
        xt = lib.tensor(x, requires_grad=True)
        y = (lib.log_softmax if log else lib.softmax)(xt, -1)
        y.backward(lib.tensor(g))
        res.append((y.detach().numpy(), xt.grad.numpy()))
    for want, got in zip(*res):
        np.testing.assert_allclose(got, want, **(LOG_TOL if log else TOL)[dtype])

"""The attention kernel (kernels/attention.py, kernels/_numba_attention.py): compiled against the NumPy reference
(float32/float64, causal or not, 3-D and 4-D, a batch of one, heads read in place from a packed projection, L != S,
layouts BLAS cannot read, the slices run in one chunk or several, gradients asked for in part), its results' memory
layout against PyTorch's, special values, and a GPT-shaped causal attention against PyTorch forward and backward."""
import numpy as np
import pytest
import torch

import ember
from ember.kernels import attention as A
from ember.kernels import numba_enabled

compiled = pytest.mark.skipif(not numba_enabled(), reason="Numba not available")
TOL = {np.float32: dict(rtol=2e-5, atol=2e-6), np.float64: dict(rtol=1e-12, atol=1e-13)}


def _packed(rng, B, L, H, E, dtype):
    """q, k, v as (B, H, L, E) views of one (B, L, 3 H E) projection, as a GPT block splits it."""
    x = rng.standard_normal((B, L, 3, H, E)).astype(dtype)
    return [x[:, :, i].transpose(0, 2, 1, 3) for i in range(3)]


def _cases(rng, dtype):
    yield "4-D packed", _packed(rng, 3, 7, 4, 5, dtype)
    yield "batch of one", _packed(rng, 1, 6, 3, 4, dtype)
    yield "3-D, L != S", [rng.standard_normal(s).astype(dtype) for s in ((5, 4, 6), (5, 9, 6), (5, 9, 3))]
    yield "4-D, L > S", [rng.standard_normal(s).astype(dtype) for s in ((2, 3, 8, 4), (2, 3, 5, 4), (2, 3, 5, 7))]
    # layouts BLAS cannot read in place (copied by the compiled kernel) or reads with unusual strides
    x = rng.standard_normal((2, 3, 6, 5)).astype(dtype)
    yield "column-major heads", [x.swapaxes(-1, -2)] * 3
    one = rng.standard_normal((1, 1, 1, 4)).astype(dtype)
    yield "one query, broadcast batch", [np.broadcast_to(one, (2, 3, 1, 4)), x[..., :4], x]
    yield "every other column", [x[..., ::2], x[..., ::-2], x[..., 1:]]
    yield "no value columns", [x, x, x[..., :0]]


@pytest.fixture(params=[1, 2, 3])
def split(request, monkeypatch):
    """Run the compiled kernel's (batch, head) slices in 1, 2 or 3 chunks whatever the size (on the calling thread,
    or on Numba's pool)."""
    if numba_enabled():
        from ember.kernels import _numba_attention as N
        monkeypatch.setattr(N, "_chunks", lambda q, work: request.param)
    return request.param


@compiled
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("causal", [False, True])
def test_compiled_matches_reference(dtype, causal, split):
    rng = np.random.default_rng(0)
    for name, (q, k, v) in _cases(rng, dtype):
        out, P = A.attention_forward(q, k, v, 0.4, causal)
        rout, rP = A.attention_forward_reference(q, k, v, 0.4, causal)
        np.testing.assert_allclose(out, rout, **TOL[dtype], err_msg=name)
        np.testing.assert_allclose(P, rP, **TOL[dtype], err_msg=name)
        g = rng.standard_normal(out.shape[:-1] + (2 * out.shape[-1],)).astype(dtype)[..., ::2]   # strided
        for need in ((True, True, True), (False, True, False), (True, False, True)):
            got = A.attention_backward(q, k, v, P, g, 0.4, need)
            want = A.attention_backward_reference(q, k, v, rP, g, 0.4, need)
            for a, b in zip(got, want):
                if a is None or b is None:
                    assert a is None and b is None
                else:
                    np.testing.assert_allclose(a, b, **TOL[dtype], err_msg=name)
            assert [a is not None for a in got] == list(need)


def test_causal_weights_are_zero_above_the_diagonal():
    q, k, v = _packed(np.random.default_rng(1), 2, 5, 2, 3, np.float32)
    _, P = A.attention_forward(q, k, v, 1.0, True)
    assert not P[..., ~np.tri(5, dtype=bool)].any()
    np.testing.assert_allclose(P.sum(-1), 1, rtol=1e-6)


def test_output_layout_follows_the_query_like_torch():
    """Heads read from a packed projection give an output whose transpose(1, 2) is contiguous, contiguous heads a
    contiguous output, in ember as in PyTorch."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 6, 3 * 8)).astype(np.float32)
    c = rng.standard_normal((2, 4, 6, 2)).astype(np.float32)
    for lib in (torch, ember):
        q, k, v = (t.view(2, 6, 4, 2).transpose(1, 2) for t in lib.tensor(x).split(8, dim=2))
        y = lib.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
        assert y.transpose(1, 2).is_contiguous(), lib.__name__
        t = lib.tensor(c)
        assert lib.nn.functional.scaled_dot_product_attention(t, t, t).is_contiguous(), lib.__name__


@pytest.mark.parametrize("causal", [False, True])
def test_nan_and_inf_spread_as_in_the_reference(causal):
    q, k, v = _packed(np.random.default_rng(3), 1, 5, 2, 3, np.float64)
    q[0, 0, 2, 1] = np.nan     # one query: its row only
    v[0, 1, 3, 0] = np.inf     # one value: the outputs that attend to it
    out, P = A.attention_forward(q, k, v, 0.5, causal)
    rout, rP = A.attention_forward_reference(q, k, v, 0.5, causal)
    np.testing.assert_array_equal(np.isnan(out), np.isnan(rout))
    np.testing.assert_array_equal(np.isinf(out), np.isinf(rout))
    np.testing.assert_allclose(out, rout, rtol=1e-12)
    np.testing.assert_allclose(P, rP, rtol=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gpt_block_attention_matches_torch(dtype, split):
    """A GPT block's causal attention (packed projection split into heads, output merged back) forward and backward
    against PyTorch, at a size the compiled kernel splits over threads."""
    rng = np.random.default_rng(4)
    B, L, H, E = 4, 32, 4, 16
    x = rng.standard_normal((B, L, 3 * H * E)).astype(dtype)
    g = rng.standard_normal((B, L, H * E)).astype(dtype)
    res = []
    for lib in (torch, ember):
        xt = lib.tensor(x, requires_grad=True)
        q, k, v = (t.view(B, L, H, E).transpose(1, 2) for t in xt.split(H * E, dim=2))
        y = lib.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
        y = y.transpose(1, 2).contiguous().view(B, L, H * E)
        y.backward(lib.tensor(g))
        res.append((y.detach().numpy(), xt.grad.numpy()))
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == "float32" else dict(rtol=1e-10, atol=1e-12)
    for want, got in zip(*res):
        np.testing.assert_allclose(got, want, **tol)


def test_gradcheck_float64_through_the_kernel():
    rng = np.random.default_rng(5)
    x = ember.tensor(rng.standard_normal((2, 4, 3 * 2 * 3)), requires_grad=True)

    def f(x):
        q, k, v = (t.view(2, 4, 2, 3).transpose(1, 2) for t in x.split(6, dim=2))
        return ember.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)

    assert ember.autograd.gradcheck(f, (x,))

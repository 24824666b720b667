"""The GELU kernels (kernels/activations.py): the compiled implementation against the NumPy reference and an
exact float64 GELU (float32's erfc fit keeps the left tail's relative accuracy), the op against PyTorch in
float32/float64/bfloat16 for both forms, NaN/inf, and float64 gradcheck."""
import math

import numpy as np
import pytest
import torch

import ember
from ember.kernels import activations as A
from ember.kernels import numba_enabled
from parity import forward_backward

GRID = np.concatenate([np.linspace(-12, 9, 20011), [0.0, -0.0, 1e-30, -1e-30]])


def _exact_gelu_and_grad(x):
    """float64 GELU and its derivative from math.erfc (accurate to a few ulp everywhere)."""
    cdf = np.array([0.5 * math.erfc(-v / math.sqrt(2)) for v in x])
    pdf = np.exp(-x * x / 2) / math.sqrt(2 * math.pi)
    return x * cdf, cdf + x * pdf


# (lowest x, relative tolerance) bands: float32's own rounding of z = -x / sqrt(2) and of z^2 inside exp(-z^2)
# is amplified by Phi's steepness in the left tail
BANDS = {np.float32: [(-4, 1.5e-6), (-8, 5e-6), (-13, 1.5e-5)], np.float64: [(-13, 1e-13)]}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gelu_exact_form_accuracy(dtype):
    """Relative accuracy everywhere, the left tail too (PyTorch's GELU loses it there).  The float64 reference is
    PyTorch's (1 + erf) / 2, whose tail underflows to 0 as PyTorch's does: it is held to float64's absolute
    resolution instead (and is what runs without Numba)."""
    x = GRID.astype(dtype)
    want, dwant = _exact_gelu_and_grad(x.astype(np.float64))
    g = np.ones_like(x)
    impls = [(A.gelu_forward_reference(x, "none"), A.gelu_backward_reference(g, x, "none"))]
    if dtype == np.float64:
        np.testing.assert_allclose(impls.pop()[0], want, rtol=1e-13, atol=4e-16)
    if numba_enabled():
        impls.append((A.gelu_forward(x, "none"), A.gelu_backward(g, x, "none")))
    for y, d in impls:
        assert y.dtype == dtype and d.dtype == dtype
        for lowest, rtol in BANDS[dtype]:
            band = x >= lowest
            np.testing.assert_allclose(y[band], want[band], rtol=rtol, atol=0)
            # the derivative crosses 0 near x = -0.75 (a cancellation): an absolute floor at the dtype's resolution
            np.testing.assert_allclose(d[band], dwant[band], rtol=rtol, atol=4 * np.finfo(dtype).eps)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("approximate", ["none", "tanh"])
@pytest.mark.parametrize("n", [1, 15, 70001])
def test_gelu_compiled_matches_reference(dtype, approximate, n):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(n) * 3).astype(dtype)
    g = rng.standard_normal(n).astype(dtype)
    tol = dict(rtol=2e-6, atol=1e-7) if dtype == np.float32 else dict(rtol=1e-13, atol=1e-15)
    if approximate == "tanh":
        # the gradient's (1 + tanh) and 1 - tanh^2 cancel for large |x|, in both implementations; the compiled
        # one computes float32 in float64
        tol = dict(rtol=2e-6, atol=5e-6) if dtype == np.float32 else dict(rtol=1e-13, atol=5e-14)
    np.testing.assert_allclose(A.gelu_forward(x, approximate), A.gelu_forward_reference(x, approximate), **tol)
    np.testing.assert_allclose(A.gelu_backward(g, x, approximate), A.gelu_backward_reference(g, x, approximate),
                               **tol)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_nonfinite(approximate):
    """NaN stays NaN, gelu(-inf) is NaN (-inf * 0) as in PyTorch, gelu(inf) = inf (PyTorch's exact form gives
    NaN there, its tanh form inf)."""
    x = np.array([np.nan, np.inf, -np.inf, 0.0], np.float32)
    for y in (A.gelu_forward(x, approximate), A.gelu_forward_reference(x, approximate)):
        np.testing.assert_array_equal(y, [np.nan, np.inf, np.nan, 0.0])


@pytest.mark.parametrize("dtype", ["float32", "float64", "bfloat16"])
@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_matches_torch(dtype, approximate):
    rng = np.random.default_rng(1)
    x = (rng.standard_normal((7, 131)) * 3).astype(np.float32)
    g = rng.standard_normal((7, 131)).astype(np.float32)
    res = [forward_backward(lib, lambda L, t: L.nn.functional.gelu(t, approximate=approximate), [x], g, dtype)
           for lib in (torch, ember)]
    # PyTorch computes float32 in float32, whose tanh-form gradient cancels for large |x| (ember: in float64)
    tol = {"float32": dict(rtol=1e-5, atol=2e-6), "float64": dict(rtol=1e-12, atol=1e-14),
           "bfloat16": dict(rtol=2e-2, atol=2e-2)}[dtype]
    for want, got in zip(*res):
        np.testing.assert_allclose(got, want, **tol)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_gradcheck_float64(approximate):
    x = ember.tensor(np.random.default_rng(2).standard_normal(40) * 3, requires_grad=True)
    assert ember.autograd.gradcheck(lambda a: ember.nn.functional.gelu(a, approximate=approximate), (x,))

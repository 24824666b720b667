"""The row-norm kernels (kernels/norms.py: layer, RMS, group and instance norm): the compiled implementation
against the NumPy reference (widths that leave vector-loop tails, missing affine, NaN/inf rows), the ops against
PyTorch in float32/float64/bfloat16, and float64 gradcheck."""
import numpy as np
import pytest
import torch

import ember
from ember.kernels import norms as N
from parity import forward_backward

TOL = {np.float32: dict(rtol=2e-5, atol=2e-5), np.float64: dict(rtol=1e-11, atol=1e-12)}


def _affine(rng, C, dtype, present):
    return ((rng.random(C) + 0.5).astype(dtype), rng.standard_normal(C).astype(dtype)) if present else (None, None)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("x3,groups", [((300, 256, 1), 1), ((37, 7, 1), 1), ((5, 1001, 1), 1), ((12, 4, 49), 3),
                                       ((8, 1, 33), 8)], ids=str)
@pytest.mark.parametrize("center", [True, False])
@pytest.mark.parametrize("affine", [True, False])
def test_row_norm_compiled_matches_reference(dtype, x3, groups, center, affine):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(x3) * 2 + 0.7).astype(dtype)
    g = rng.standard_normal(x3).astype(dtype)
    w, b = _affine(rng, groups * x3[1], dtype, affine)
    got = N.row_norm_forward(x, groups, w, b, 1e-5, center)
    want = N.row_norm_forward_reference(x, groups, w, b, 1e-5, center)
    for a, e in zip(got, want):
        np.testing.assert_allclose(a, e, **TOL[dtype])
    got = N.row_norm_backward(g, x, got[1], got[2], groups, w, center, affine)
    want = N.row_norm_backward_reference(g, x, want[1], want[2], groups, w, center, affine)
    for a, e in zip(got, want):
        if e is None:
            assert a is None
        else:
            np.testing.assert_allclose(a, e, rtol=TOL[dtype]["rtol"] * 10, atol=TOL[dtype]["atol"] * 10)


def test_row_norm_nonfinite_rows():
    x = np.random.default_rng(1).standard_normal((4, 19, 1)).astype(np.float32)
    x[1, 3] = np.nan
    x[2, 5] = np.inf
    y, mean, rstd = N.row_norm_forward(x, 1, None, None, 1e-5, True)
    assert np.isnan(y[1]).all() and np.isnan(y[2]).all()
    np.testing.assert_allclose(y[[0, 3]], N.row_norm_forward_reference(x, 1, None, None, 1e-5, True)[0][[0, 3]],
                               rtol=1e-5, atol=1e-5)


CASES = {
    "layer_norm": (lambda L, x, w, b: L.nn.functional.layer_norm(x, (64,), w, b), (6, 10, 64), 64),
    "layer_norm_2d": (lambda L, x, w, b: L.nn.functional.layer_norm(x, (4, 8), w.reshape(4, 8), b.reshape(4, 8)),
                      (5, 4, 8), 32),
    "rms_norm": (lambda L, x, w, b: L.nn.functional.rms_norm(x, (64,), w) + b, (6, 10, 64), 64),
    "group_norm": (lambda L, x, w, b: L.nn.functional.group_norm(x, 4, w, b), (3, 8, 5, 5), 8),
    "instance_norm": (lambda L, x, w, b: L.nn.functional.instance_norm(x, weight=w, bias=b), (3, 8, 13), 8),
}


@pytest.mark.parametrize("dtype", ["float32", "float64", "bfloat16"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_row_norms_match_torch(case, dtype):
    fn, shape, C = CASES[case]
    rng = np.random.default_rng(2)
    arrays = [(rng.standard_normal(shape) * 3 + 1).astype(np.float32), (rng.random(C) + 0.5).astype(np.float32),
              rng.standard_normal(C).astype(np.float32)]
    g = rng.standard_normal(shape).astype(np.float32)
    want = forward_backward(torch, fn, arrays, g, dtype)
    got = forward_backward(ember, fn, arrays, g, dtype)
    tol = {"float32": dict(rtol=1e-4, atol=1e-4), "float64": dict(rtol=1e-10, atol=1e-10),
           "bfloat16": dict(rtol=5e-2, atol=1e-1)}[dtype]
    for name, a, e in zip(("y", "dx", "dw", "db"), got, want):
        np.testing.assert_allclose(a, e, err_msg=name, **tol)


@pytest.mark.parametrize("case,shape", [("layer_norm", (3, 64)), ("rms_norm", (3, 64)), ("group_norm", (2, 8, 5))])
def test_row_norms_gradcheck_float64(case, shape):
    fn, _, C = CASES[case]
    rng = np.random.default_rng(3)
    x = ember.tensor(rng.standard_normal(shape), requires_grad=True)
    w = ember.tensor(rng.random(C) + 0.5, requires_grad=True)
    b = ember.tensor(rng.standard_normal(C), requires_grad=True)
    assert ember.autograd.gradcheck(lambda *a: fn(ember, *a), (x, w, b))

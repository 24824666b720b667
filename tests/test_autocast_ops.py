"""CPU autocast (bfloat16) on the ops PyTorch's CPU autocast covers: dtypes and values as torch."""
import numpy as np
import pytest
import torch

import ember
from parity import as_numpy

rng = np.random.default_rng(0)
A, B = rng.standard_normal((3, 4)).astype(np.float32), rng.standard_normal((4, 5)).astype(np.float32)
X = rng.standard_normal((2, 3, 8, 8)).astype(np.float32)
W = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)

CASES = {
    "matmul": lambda m, a, b: a @ b,
    "mm": lambda m, a, b: m.mm(a, b),
    "bmm": lambda m, a, b: m.bmm(a.unsqueeze(0), b.unsqueeze(0)),
    "linear": lambda m, a, b: m.nn.functional.linear(a, b.t()),
    "conv2d": lambda m, a, b: m.nn.functional.conv2d(m.from_numpy(X), m.from_numpy(W)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_autocast_bfloat16(name):
    fn = CASES[name]
    ae, be = ember.from_numpy(A.copy()).requires_grad_(), ember.from_numpy(B.copy())
    at, bt = torch.from_numpy(A.copy()).requires_grad_(), torch.from_numpy(B.copy())
    with ember.autocast("cpu", dtype=ember.bfloat16):
        re = fn(ember, ae, be)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        rt = fn(torch, at, bt)
    assert str(re.dtype) == str(rt.dtype) == "torch.bfloat16"
    np.testing.assert_allclose(as_numpy(re.float()), as_numpy(rt.float()), rtol=2e-2, atol=5e-2)
    if name != "conv2d":
        re.float().sum().backward()
        rt.float().sum().backward()
        assert ae.grad.dtype is ember.float32
        np.testing.assert_allclose(ae.grad.numpy(), at.grad.numpy(), rtol=2e-2, atol=5e-2)


def test_autocast_off_and_float64_untouched():
    a64 = ember.from_numpy(A.astype(np.float64))
    with ember.autocast("cpu", dtype=ember.bfloat16):
        assert (a64 @ a64.t()).dtype is ember.float64
    with ember.autocast("cpu", dtype=ember.bfloat16, enabled=False):
        assert (ember.from_numpy(A) @ ember.from_numpy(B)).dtype is ember.float32
    assert (ember.from_numpy(A) @ ember.from_numpy(B)).dtype is ember.float32

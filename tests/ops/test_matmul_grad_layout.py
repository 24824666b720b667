"""First-order gradients of 2-D matrix products (mm, matmul, @) run on arrays and come in their operand's layout,
as PyTorch's mm backward: ``x @ w.T`` gives ``w`` a C-contiguous gradient (no transposing copy into ``.grad``)."""
import numpy as np
import pytest
import torch

import ember


def _lib_case(lib, x, w, form):
    """Gradients of a weighted sum of a 6x4 product of leaves ``x`` and ``w`` written as ``form``."""
    xt, wt = lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True)
    if form == "x @ w.T":               # x (6, 5), w (4, 5): the second operand transposed
        y = xt @ wt.T
    elif form == "x.T @ w.T":           # x (5, 6): both operands transposed
        y = xt.T @ wt.T
    elif form == "mm(x, w.mT)":
        y = lib.mm(xt, wt.mT)
    else:                               # x (6, 5), w (5, 4): both row-major
        y = lib.matmul(xt, wt)
    (y * lib.tensor(np.arange(24, dtype=x.dtype).reshape(6, 4))).sum().backward()
    return xt.grad, wt.grad


@pytest.mark.parametrize("form", ["x @ w.T", "x.T @ w.T", "mm(x, w.mT)", "matmul(x, w)"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matrix_product_grads_match_torch_in_layout(form, dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 6) if form == "x.T @ w.T" else (6, 5)).astype(dtype)
    w = rng.standard_normal((5, 4) if form == "matmul(x, w)" else (4, 5)).astype(dtype)
    ge, gt = _lib_case(ember, x, w, form), _lib_case(torch, x, w, form)
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else {}
    for e, t in zip(ge, gt):
        np.testing.assert_allclose(e.numpy(), t.numpy(), **tol)
        assert e.stride() == t.stride()


def test_transposed_operand_gradient_for_autograd_grad():
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((3, 4)), rng.standard_normal((2, 4))
    xe, we = ember.tensor(x), ember.tensor(w, requires_grad=True)
    xt, wt = torch.tensor(x), torch.tensor(w, requires_grad=True)
    (ge,) = ember.autograd.grad((xe @ we.mT).sum(), we)
    (gt,) = torch.autograd.grad((xt @ wt.mT).sum(), wt)
    np.testing.assert_allclose(ge.numpy(), gt.numpy())
    assert ge.stride() == gt.stride()

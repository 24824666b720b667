"""Sparse inputs are one more case of an op: ``ember.X(sparse, ...)``, ``ember.X(dense, sparse)`` and
``dense.X(sparse)`` give PyTorch's layout, values and gradients; ops without a sparse case raise its
NotImplementedError."""
import warnings

import numpy as np
import pytest
import torch

import ember

CALLS = ["lib.add(s, s)", "lib.sub(s, s)", "lib.mul(s, s)", "lib.mul(s, 2.0)", "lib.mul(s, d)", "lib.mul(d, s)",
         "lib.add(d, s)", "lib.add(d, s, alpha=2)", "lib.sub(d, s)", "lib.subtract(d, s)", "d.add(s)", "d.mul(s)",
         "d.sub(s)", "d.mm(s)", "d.matmul(s)", "lib.neg(s)", "lib.abs(s)", "lib.sqrt(s)", "lib.sin(s)",
         "lib.tanh(s)", "lib.relu(s)", "lib.pow(s, 2)", "lib.mm(s, d)", "lib.mm(d, s)", "lib.matmul(d, s)",
         "lib.matmul(s, d)", "lib.addmm(d, s, d)", "lib.addmm(d, s, d, beta=0.5, alpha=2)", "lib.addmm(d, d, s)",
         "lib.div(s, 2.0)", "lib.clone(s)", "lib.t(s)", "lib.transpose(s, 0, 1)",
         "lib.index_select(s, 0, lib.tensor([0, 2]))", "lib.narrow_copy(s, 0, 0, 2)", "lib.sum(s)", "lib.sum(s, 0)",
         "lib.zeros_like(s)", "lib.zeros_like(s, dtype=lib.float64)", "lib.zeros_like(s, layout=lib.strided)",
         "lib.zeros_like(s.to_sparse_csr())", "lib.zeros_like(s.to_sparse_csr(), layout=lib.strided)",
         "lib.sign(s)", "lib.square(s)", "lib.floor(s)", "lib.log1p(s)", "lib.expm1(s)", "lib.sgn(s)",
         "lib.trunc(s)", "lib.nan_to_num(s)", "lib.exp(s)", "lib.cumsum(s, 0)", "s.exp()"]


def _outcome(lib, call):
    i = lib.tensor([[0, 1, 2, 2], [1, 0, 2, 2]])
    s = lib.sparse_coo_tensor(i, lib.tensor([1.0, 2.0, 3.0, 4.0]), (3, 3))
    d = lib.arange(9.0).reshape(3, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            r = eval(call, {"lib": lib, "s": s, "d": d})
        except (RuntimeError, NotImplementedError, TypeError) as e:
            return type(e).__name__
    layout = str(r.layout).rpartition(".")[2]
    dense = r.to_dense() if r.layout != lib.strided else r
    return layout, str(r.dtype).rpartition(".")[2], dense.detach().numpy().round(5).tolist()


@pytest.mark.parametrize("call", CALLS)
def test_functional_form_as_torch(call):
    assert _outcome(ember, call) == _outcome(torch, call)


@pytest.mark.parametrize("call", ["lib.mm(d, s)", "lib.mm(s, d)", "lib.add(d, s)", "d.mul(s)",
                                  "lib.addmm(d, s, d, alpha=2)", "lib.matmul(d, s)"])
def test_functional_form_gradients(call):
    """Gradients into the dense operand and into the sparse operand's values, as torch's."""
    grads = []
    for lib in (ember, torch):
        v = lib.tensor([1.0, 2.0, 3.0, 4.0], dtype=lib.float64, requires_grad=True)
        s = lib.sparse_coo_tensor(lib.tensor([[0, 1, 2, 2], [1, 0, 2, 2]]), v, (3, 3))
        d = lib.arange(9.0, dtype=lib.float64).reshape(3, 3).requires_grad_()
        r = eval(call, {"lib": lib, "s": s, "d": d})
        (r.to_dense() if r.layout != lib.strided else r).pow(2).sum().backward()
        grads.append([(str(g.layout).rpartition(".")[2], (g.to_dense() if g.layout != lib.strided else g).numpy())
                      for g in (v.grad, d.grad)])
    for (e_layout, e), (t_layout, t) in zip(*grads):
        assert e_layout == t_layout
        np.testing.assert_allclose(e, t, rtol=1e-12)


def test_sparse_error_names_the_backend():
    s = ember.eye(3).to_sparse()
    with pytest.raises(NotImplementedError, match="'SparseCPU' backend"):
        ember.exp(s)
    with pytest.raises(NotImplementedError, match="'SparseCsrCPU' backend"):
        s.to_sparse_csr().cumsum(0)

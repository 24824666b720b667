"""Sparse ops (values, result layouts, nnz) and their gradients, against PyTorch 2.13."""
import numpy as np
import pytest
import torch

import ember
from sparse_helpers import pair, random_coo, same_sparse, dense


def grads_pair(shape=(5, 4), nnz=9, seed=0, dense_shape=()):
    """The same random coalesced float64 COO leaf (requires grad) in ember and PyTorch."""
    rng = np.random.default_rng(seed)
    i, v = random_coo(rng, shape, nnz, dense_shape)
    e, t = pair(i, v, shape + dense_shape, "float64")
    return e.coalesce().requires_grad_(), t.coalesce().requires_grad_()


def dense_pair(shape, seed=1):
    a = np.random.default_rng(seed).standard_normal(shape)
    return ember.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)


def check_grads(pairs, rtol=1e-7, name=None):
    """Gradients equal PyTorch's; a sparse leaf's gradient has the leaf's pattern (PyTorch's add and mul
    backward give the whole incoming gradient, which the comparison masks to the leaf's pattern)."""
    for e, t in pairs:
        assert (e.grad is None) == (t.grad is None)
        if t.grad is not None:
            expected = t.grad
            if t.layout != torch.strided:
                assert e.grad.is_sparse
                expected = t.grad.sparse_mask(t.detach().coalesce()) if t.grad.is_sparse else \
                    t.grad * t.detach().to_dense().ne(0)
            elif name != "mul_dense":   # PyTorch gives the dense operand of sparse * dense a sparse gradient
                assert str(e.grad.layout) == str(t.grad.layout)
            np.testing.assert_allclose(dense(e.grad), dense(expected), rtol=rtol, atol=1e-9)


@pytest.mark.parametrize("fn", ["sparse.mm", "spmm", "mm", "matmul", "@", "method"])
def test_sparse_dense_products(fn):
    (se, st), (xe, xt) = grads_pair(), dense_pair((4, 3))
    ops = {"sparse.mm": lambda m, s, x: m.sparse.mm(s, x), "spmm": lambda m, s, x: m.spmm(s, x),
           "mm": lambda m, s, x: m.mm(s, x), "matmul": lambda m, s, x: m.matmul(s, x),
           "@": lambda m, s, x: s @ x, "method": lambda m, s, x: s.mm(x)}
    ye, yt = ops[fn](ember, se, xe), ops[fn](torch, st, xt)
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), rtol=1e-10)
    g = np.random.default_rng(2).standard_normal((5, 3))
    ye.backward(ember.tensor(g))
    yt.backward(torch.tensor(g))
    check_grads([(xe, xt)])
    # the gradient into the sparse operand has its pattern (PyTorch's torch.sparse.mm; its mm gives a dense one)
    (s2e, s2t), (x2e, x2t) = grads_pair(), dense_pair((4, 3))
    ember.sparse.mm(s2e, x2e).backward(ember.tensor(g))
    torch.sparse.mm(s2t, x2t).backward(torch.tensor(g))
    assert se.grad.is_sparse
    np.testing.assert_allclose(dense(se.grad), dense(s2t.grad), rtol=1e-10)
    check_grads([(s2e, s2t)])


def test_dense_at_sparse_and_vector():
    (se, st), (xe, xt) = grads_pair((4, 4)), dense_pair((3, 4))
    ye, yt = xe @ se, xt @ st
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), rtol=1e-10)
    ye.sum().backward()
    yt.sum().backward()
    check_grads([(xe, xt)])
    (se, st), (ve, vt) = grads_pair(), dense_pair((4,))
    ye, yt = se @ ve, st @ vt
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), rtol=1e-10)
    ye.sum().backward()
    yt.sum().backward()
    check_grads([(ve, vt)])


def test_csr_mm_and_addmm():
    a = np.random.default_rng(3).standard_normal((5, 4)) * (np.random.default_rng(4).random((5, 4)) < .4)
    ce = ember.tensor(a).to_sparse_csr().requires_grad_()
    ct = torch.tensor(a).to_sparse_csr().requires_grad_()
    (xe, xt), (be, bt) = dense_pair((4, 3)), dense_pair((5, 3), 7)
    ye, yt = ember.sparse.addmm(be, ce, xe, beta=.5, alpha=2.), torch.sparse.addmm(bt, ct, xt, beta=.5, alpha=2.)
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), rtol=1e-10)
    ye.sum().backward()
    yt.sum().backward()
    check_grads([(xe, xt), (be, bt)])
    np.testing.assert_allclose(dense(ce.grad), dense(ct.grad), rtol=1e-10)
    (se, st), (xe, xt) = grads_pair(), dense_pair((4, 3))
    ye, yt = ember.addmm(be.detach(), se, xe), torch.addmm(bt.detach(), st, xt)
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), rtol=1e-10)


def test_sparse_at_sparse():
    (ae, at), (be, bt) = grads_pair((4, 5), 7, 0), grads_pair((5, 3), 6, 1)
    ye, yt = ember.sparse.mm(ae, be), torch.sparse.mm(at, bt)
    same_sparse(ye, yt, rtol=1e-10)
    ember.sparse.sum(ye).backward()
    torch.sparse.sum(yt).backward()
    check_grads([(ae, at), (be, bt)])


def test_bmm_hspmm_smm_sampled_addmm():
    rng = np.random.default_rng(5)
    i, v = random_coo(rng, (2, 3, 4), 8)
    se, st = pair(i, v, (2, 3, 4), "float64", requires_grad=True)
    (xe, xt) = dense_pair((2, 4, 2))
    ye, yt = se.bmm(xe), st.bmm(xt)
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), rtol=1e-10)
    ye.sum().backward()
    yt.sum().backward()
    check_grads([(xe, xt)])
    # PyTorch's bmm gives the sparse operand a dense gradient; ember's has the operand's pattern
    assert se.grad.is_sparse
    np.testing.assert_allclose(dense(se.grad), dense(st.grad.sparse_mask(st.detach().coalesce())), rtol=1e-10)
    (se, st), (xe, xt) = grads_pair(), dense_pair((4, 3))
    same_sparse(ember.hspmm(se.detach(), xe.detach()), torch.hspmm(st.detach(), xt.detach()), rtol=1e-10)
    same_sparse(ember.smm(se.detach(), xe.detach()), torch.smm(st.detach(), xt.detach()), rtol=1e-10)
    a = (rng.random((5, 6)) < .3) * 1.0
    me, mt = ember.tensor(a).to_sparse_csr(), torch.tensor(a).to_sparse_csr()
    (m1e, m1t), (m2e, m2t) = dense_pair((5, 3)), dense_pair((3, 6), 9)
    ye, yt = ember.sparse.sampled_addmm(me, m1e, m2e, beta=.5), torch.sparse.sampled_addmm(mt, m1t, m2t, beta=.5)
    same_sparse(ye, yt, rtol=1e-10)
    ye.to_dense().sum().backward()
    yt.to_dense().sum().backward()
    check_grads([(m1e, m1t), (m2e, m2t)])


@pytest.mark.parametrize("name", ["add", "sub", "mul_scalar", "mul_sparse", "mul_dense", "div", "dense_add",
                                  "dense_sub"])
def test_elementwise(name):
    (ae, at), (be, bt) = grads_pair(seed=0), grads_pair(seed=1)
    (de, dt) = dense_pair((5, 4))
    ops = {"add": lambda a, b, d: a + b, "sub": lambda a, b, d: a - b, "mul_scalar": lambda a, b, d: a * 2.5,
           "mul_sparse": lambda a, b, d: a * b, "mul_dense": lambda a, b, d: a * d, "div": lambda a, b, d: a / 4,
           "dense_add": lambda a, b, d: d + a, "dense_sub": lambda a, b, d: d - a}
    re_, rt = ops[name](ae, be, de), ops[name](at, bt, dt)
    if rt.layout == torch.strided:
        assert not re_.is_sparse
        np.testing.assert_allclose(re_.detach().numpy(), rt.detach().numpy(), rtol=1e-10)
        re_.sum().backward()
        rt.sum().backward()
    else:
        same_sparse(re_, rt, rtol=1e-10)
        ember.sparse.sum(re_ * re_).backward()
        torch.sparse.sum(rt * rt).backward()
    check_grads([(ae, at), (be, bt), (de, dt)], name=name)


@pytest.mark.parametrize("name", ["neg", "abs", "sqrt", "sin", "tanh", "relu", "square", "pow"])
def test_zero_preserving_functions(name):
    (ae, at) = grads_pair(seed=3)
    if name == "sqrt":
        ae, at = ae.detach().abs().requires_grad_(), at.detach().abs().requires_grad_()
    fe = (lambda s: s.pow(3)) if name == "pow" else (lambda s: getattr(s, name)())
    re_, rt = fe(ae), fe(at)
    same_sparse(re_, rt, rtol=1e-10)
    # PyTorch cannot differentiate most of these on sparse inputs: the gradient is the derivative of the
    # function at each value, which PyTorch gives on the dense values
    ember.sparse.sum(re_).backward()
    vt = at.detach().values().requires_grad_()
    fe(vt).sum().backward()
    assert ae.grad.is_sparse
    np.testing.assert_array_equal(ae.grad.coalesce().indices().numpy(), at.detach().indices().numpy())
    np.testing.assert_allclose(ae.grad.coalesce().values().numpy(), vt.grad.numpy(), rtol=1e-10)


@pytest.mark.parametrize("dim", [None, 0, 1, (0, 1), 2, (1, 2)])
def test_sparse_sum(dim):
    (ae, at) = grads_pair((4, 3), 7, 4, dense_shape=(2,))
    re_ = ember.sparse.sum(ae) if dim is None else ember.sparse.sum(ae, dim)
    rt = torch.sparse.sum(at) if dim is None else torch.sparse.sum(at, dim)
    if rt.layout == torch.strided:
        np.testing.assert_allclose(re_.detach().numpy(), rt.detach().numpy(), rtol=1e-10)
        (re_ * re_).sum().backward()
        (rt * rt).sum().backward()
    else:
        same_sparse(re_, rt, rtol=1e-10)
        ember.sparse.sum(re_ * re_).backward()
        torch.sparse.sum(rt * rt).backward()
    check_grads([(ae, at)])


@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dim", [0, 1])
def test_sparse_softmax(fn, dim):
    (ae, at) = grads_pair((5, 4), 11, 6)
    re_, rt = getattr(ember.sparse, fn)(ae, dim), getattr(torch.sparse, fn)(at, dim)
    same_sparse(re_, rt, rtol=1e-10)
    w = np.random.default_rng(1).standard_normal((5, 4))
    ember.sparse.sum(re_ * ember.tensor(w)).backward()
    torch.sparse.sum(rt * torch.tensor(w)).backward()
    check_grads([(ae, at)])


def test_values_path_gradients():
    """Gradients reach the values tensor through sparse_coo_tensor, to_dense, values() and coalesce."""
    rng = np.random.default_rng(8)
    i, v = random_coo(rng, (4, 4), 9, duplicates=True)
    ve, vt = ember.tensor(v, requires_grad=True), torch.tensor(v, requires_grad=True)
    w = rng.standard_normal((4, 4))
    se, st = ember.sparse_coo_tensor(i, ve, (4, 4)), torch.sparse_coo_tensor(i, vt, (4, 4))
    (se.to_dense() * ember.tensor(w)).sum().backward()
    (st.to_dense() * torch.tensor(w)).sum().backward()
    check_grads([(ve, vt)])
    ve.grad = vt.grad = None
    ye = ember.sparse.mm(ember.sparse_coo_tensor(i, ve, (4, 4)), ember.tensor(w))
    yt = torch.sparse.mm(torch.sparse_coo_tensor(i, vt, (4, 4)), torch.tensor(w))
    (ye * ye).sum().backward()
    (yt * yt).sum().backward()
    check_grads([(ve, vt)])
    ve.grad = vt.grad = None
    (ember.sparse_coo_tensor(i, ve, (4, 4)).coalesce().values() ** 2).sum().backward()
    (torch.sparse_coo_tensor(i, vt, (4, 4)).coalesce().values() ** 2).sum().backward()
    check_grads([(ve, vt)])


def test_sparse_plus_dense_is_refused_as_pytorch():
    (ae, at), (de, dt) = grads_pair(), dense_pair((5, 4))
    with pytest.raises(RuntimeError) as te:
        at + dt
    with pytest.raises(RuntimeError) as ee:
        ae + de
    assert str(ee.value) == str(te.value)


def test_gradcheck_sparse_input():
    rng = np.random.default_rng(9)
    i, v = random_coo(rng, (4, 3), 6)
    s = ember.sparse_coo_tensor(i, v, (4, 3)).coalesce().requires_grad_()
    x = ember.tensor(rng.standard_normal((3, 2)), requires_grad=True)
    assert ember.autograd.gradcheck(lambda s, x: ember.sparse.mm(s, x), (s, x), masked=True)


def test_sparse_grad_accumulates_by_concatenation():
    (se, st), (xe, xt) = grads_pair(), dense_pair((4, 3))
    for _ in range(2):
        ember.sparse.mm(se, xe).sum().backward()
        torch.sparse.mm(st, xt).sum().backward()
    assert se.grad._nnz() == st.grad._nnz()
    check_grads([(se, st), (xe, xt)])

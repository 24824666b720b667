"""ember.autograd.functional against torch.autograd.functional: values, structure, flags and errors."""
import numpy as np
import pytest
import torch

import ember
from ember.autograd import functional as EF
from torch.autograd import functional as TF
from parity import assert_same

RNG = np.random.default_rng(0)
X = RNG.standard_normal(3)
Y = RNG.standard_normal((2, 3))


def both(*arrays, requires_grad=False):
    """The same float64 arrays as (ember tensors, torch tensors)."""
    e = tuple(ember.tensor(a, requires_grad=requires_grad) for a in arrays)
    t = tuple(torch.tensor(a, requires_grad=requires_grad) for a in arrays)
    return e, t


def same_error(fe, ft):
    """Both raise the same exception type with the same message."""
    with pytest.raises(Exception) as te:
        ft()
    with pytest.raises(Exception) as ee:
        fe()
    assert type(ee.value).__name__ == type(te.value).__name__
    assert str(ee.value) == str(te.value)


# functions written once, run with either library as `lib`
def scalar_fn(lib):
    return lambda x, y: (x.sin() * (y ** 2)).sum() + (x ** 3).sum()


def multi_fn(lib):
    return lambda x, y: (x.exp() * y, (y @ x).tanh())


def single_fn(lib):
    return lambda x: x.cos() * x.sum()


@pytest.mark.parametrize("create_graph", [False, True])
def test_vjp_jvp_multi_output(create_graph):
    (ex, ey), (tx, ty) = both(X, Y)
    (vo1, vo2), (to1, to2) = both(RNG.standard_normal((2, 3)), RNG.standard_normal(2))
    out_e = EF.vjp(multi_fn(ember), (ex, ey), (vo1, vo2), create_graph=create_graph)
    out_t = TF.vjp(multi_fn(torch), (tx, ty), (to1, to2), create_graph=create_graph)
    assert_same(out_e, out_t)
    (vx, vy), (wx, wy) = both(X * 0.5, Y - 1)
    assert_same(EF.jvp(multi_fn(ember), (ex, ey), (vx, vy), create_graph=create_graph),
                TF.jvp(multi_fn(torch), (tx, ty), (wx, wy), create_graph=create_graph))


def test_single_tensor_structure_and_v_none():
    (ex,), (tx,) = both(X)
    (ev,), (tv,) = both(np.ones(3))
    out_e, out_t = EF.vjp(single_fn(ember), ex, ev), TF.vjp(single_fn(torch), tx, tv)
    assert isinstance(out_e[1], ember.Tensor) and isinstance(out_t[1], torch.Tensor)
    assert_same(out_e, out_t)
    assert_same(EF.jvp(single_fn(ember), ex, ev), TF.jvp(single_fn(torch), tx, tv))
    (es,), (ts,) = both(np.array([0.7]))
    assert_same(EF.vjp(lambda s: (s * s).sum(), es), TF.vjp(lambda s: (s * s).sum(), ts))
    assert_same(EF.jvp(lambda s: s.exp(), es), TF.jvp(lambda s: s.exp(), ts))
    assert_same(EF.hvp(lambda s: s.exp().sum(), es), TF.hvp(lambda s: s.exp().sum(), ts))


@pytest.mark.parametrize("vectorize,strategy", [(False, "reverse-mode"), (True, "reverse-mode"),
                                                (True, "forward-mode")])
def test_jacobian(vectorize, strategy):
    (ex, ey), (tx, ty) = both(X, Y)
    assert_same(EF.jacobian(multi_fn(ember), (ex, ey), vectorize=vectorize, strategy=strategy),
                TF.jacobian(multi_fn(torch), (tx, ty), vectorize=vectorize, strategy=strategy))
    assert_same(EF.jacobian(single_fn(ember), ex, vectorize=vectorize, strategy=strategy),
                TF.jacobian(single_fn(torch), tx, vectorize=vectorize, strategy=strategy))
    # an input the output does not use gives zeros
    assert_same(EF.jacobian(lambda a, b: a * 2, (ex, ey), vectorize=vectorize, strategy=strategy),
                TF.jacobian(lambda a, b: a * 2, (tx, ty), vectorize=vectorize, strategy=strategy))


def test_jacobian_create_graph_is_differentiable():
    (ex,), (tx,) = both(X, requires_grad=True)
    je = EF.jacobian(single_fn(ember), ex, create_graph=True)
    jt = TF.jacobian(single_fn(torch), tx, create_graph=True)
    assert je.requires_grad and jt.requires_grad
    ge, = ember.autograd.grad(je.sum(), ex)
    gt, = torch.autograd.grad(jt.sum(), tx)
    assert_same(ge, gt)
    # without create_graph the result is detached even for inputs that require grad
    assert not EF.jacobian(single_fn(ember), ex).requires_grad


@pytest.mark.parametrize("strategy", ["reverse-mode", "forward-mode"])
def test_hessian(strategy):
    (ex, ey), (tx, ty) = both(X, Y)
    vec = strategy == "forward-mode"
    assert_same(EF.hessian(scalar_fn(ember), (ex, ey), vectorize=vec, outer_jacobian_strategy=strategy),
                TF.hessian(scalar_fn(torch), (tx, ty), vectorize=vec, outer_jacobian_strategy=strategy))
    assert_same(EF.hessian(lambda x: (x ** 4).sum(), ex), TF.hessian(lambda x: (x ** 4).sum(), tx))


@pytest.mark.parametrize("create_graph", [False, True])
def test_hvp_vhp(create_graph):
    (ex, ey), (tx, ty) = both(X, Y, requires_grad=create_graph)
    (vx, vy), (wx, wy) = both(X + 1, Y * 2)
    for fe, ft in ((EF.hvp, TF.hvp), (EF.vhp, TF.vhp)):
        re = fe(scalar_fn(ember), (ex, ey), (vx, vy), create_graph=create_graph)
        rt = ft(scalar_fn(torch), (tx, ty), (wx, wy), create_graph=create_graph)
        assert_same(re, rt)
        assert re[1][0].requires_grad == rt[1][0].requires_grad
        if create_graph:
            assert_same(ember.autograd.grad(re[1][0].sum(), ex), torch.autograd.grad(rt[1][0].sum(), tx))


def test_strict_mode_errors():
    (ex, ey), (tx, ty) = both(X, Y)
    cases = [
        (lambda F, x, y: F.vjp(lambda a, b: a * 2, (x, y), (x * 0 + 1,), strict=True)),
        (lambda F, x, y: F.jvp(lambda a, b: a * 2, (x, y), (x, y), strict=True)),
        (lambda F, x, y: F.jacobian(lambda a, b: a * 2, (x, y), strict=True)),
        (lambda F, x, y: F.jacobian(lambda a, b: a.detach(), (x, y), strict=True)),
        (lambda F, x, y: F.jacobian(lambda a, b: a * 2, (x, y), strict=True, vectorize=True)),
        (lambda F, x, y: F.jacobian(lambda a, b: a * 2, (x, y), strict=True, strategy="forward-mode",
                                    vectorize=True)),
        (lambda F, x, y: F.hessian(lambda a, b: (a * 2).sum(), (x, y), strict=True)),
        (lambda F, x, y: F.hessian(lambda a, b: (a * a).sum(), (x, y), strict=True)),
        (lambda F, x, y: F.vhp(lambda a, b: (a * a).sum(), (x, y), (x, y), strict=True)),
        (lambda F, x, y: F.hvp(lambda a, b: (a * 3).sum(), (x, y), (x, y), strict=True)),
        (lambda F, x, y: F.vjp(lambda a, b: (a * a).sum(), (x, y), strict=True, create_graph=True)),
    ]
    for case in cases:
        same_error(lambda: case(EF, ex, ey), lambda: case(TF, tx, ty))


def test_argument_errors():
    (ex, ey), (tx, ty) = both(X, Y)
    cases = [
        lambda F, x, y: F.vjp(lambda a: a, (x, 3)),
        lambda F, x, y: F.vjp(lambda a: a, [x]),
        lambda F, x, y: F.vjp(lambda a: 3, x),
        lambda F, x, y: F.vjp(lambda a: a * 2, x),
        lambda F, x, y: F.vjp(lambda a: (a, a), x, (x, x, x)),
        lambda F, x, y: F.vjp(lambda a: (a, a), x, (x, y)),
        lambda F, x, y: F.vjp(lambda a: a, x, (x, x)),
        lambda F, x, y: F.vjp(lambda a: a, x, y),
        lambda F, x, y: F.jvp(lambda a: a, x),
        lambda F, x, y: F.hvp(lambda a: a, x, x),
        lambda F, x, y: F.vhp(lambda a: (a, a), x, x),
        lambda F, x, y: F.hessian(lambda a: a, x),
        lambda F, x, y: F.hessian(lambda a: a, x, outer_jacobian_strategy="sideways"),
        lambda F, x, y: F.jacobian(lambda a: a, x, strategy="sideways"),
        lambda F, x, y: F.jacobian(lambda a: a, x, strategy="forward-mode"),
        lambda F, x, y: F.jacobian(lambda a: a, x, strategy="forward-mode", create_graph=True),
    ]
    for case in cases:
        same_error(lambda: case(EF, ex, ey), lambda: case(TF, tx, ty))

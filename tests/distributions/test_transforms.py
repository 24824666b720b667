"""Transforms and constraints against torch: forward, inverse, log |det J|, shapes, domains,
caching; constraint checks and reprs; biject_to / transform_to."""
import numpy as np
import pytest
import torch

import ember
import ember.distributions  # noqa: F401  (not yet a lazy attribute of ember)
from .cases import assert_same

_rng = np.random.default_rng(3)
X = _rng.normal(size=(2, 4))
POS = _rng.uniform(0.2, 2.0, size=(2, 4))
SQ = _rng.normal(size=(2, 3, 3))


def _t(lib, x):
    return lib.tensor(np.asarray(x, dtype=np.float64))


TRANSFORMS = {
    "Exp": (lambda L: L.distributions.ExpTransform(), X),
    "Power": (lambda L: L.distributions.PowerTransform(_t(L, [0.5, 2.0, -1.0, 3.0])), POS),
    "Sigmoid": (lambda L: L.distributions.SigmoidTransform(), X),
    "Tanh": (lambda L: L.distributions.TanhTransform(), X),
    "Softplus": (lambda L: L.distributions.SoftplusTransform(), X),
    "Affine": (lambda L: L.distributions.AffineTransform(_t(L, [1.0, -2.0, 0.5, 3.0]), _t(L, [2.0, -0.5, 1.0, 3.0])), X),
    "Affine_scalar": (lambda L: L.distributions.AffineTransform(1.5, -2.0), X),
    "Affine_event": (lambda L: L.distributions.AffineTransform(0.5, _t(L, [1.0, 2.0, 3.0, 4.0]), event_dim=1), X),
    "Softmax": (lambda L: L.distributions.SoftmaxTransform(), X),
    "StickBreaking": (lambda L: L.distributions.StickBreakingTransform(), X),
    "LowerCholesky": (lambda L: L.distributions.LowerCholeskyTransform(), SQ),
    "PositiveDefinite": (lambda L: L.distributions.PositiveDefiniteTransform(), SQ),
    "Abs": (lambda L: L.distributions.AbsTransform(), X),
    "Compose": (lambda L: L.distributions.ComposeTransform([L.distributions.AffineTransform(0.0, 2.0),
                                                            L.distributions.TanhTransform(),
                                                            L.distributions.AffineTransform(1.0, 0.5)]), X),
    "Compose_simplex": (lambda L: L.distributions.ComposeTransform([L.distributions.ExpTransform().inv,
                                                                    L.distributions.StickBreakingTransform()]), POS),
    "Independent": (lambda L: L.distributions.IndependentTransform(L.distributions.SigmoidTransform(), 1), X),
    "Reshape": (lambda L: L.distributions.ReshapeTransform((4,), (2, 2)), X),
    "Inverse_sigmoid": (lambda L: L.distributions.SigmoidTransform().inv, _rng.uniform(0.1, 0.9, (2, 4))),
    "Identity": (lambda L: L.distributions.transforms.identity_transform, X),
    "CorrCholesky": (lambda L: L.distributions.CorrCholeskyTransform(), _rng.normal(size=(2, 6))),
    "Cat": (lambda L: L.distributions.CatTransform([L.distributions.ExpTransform(), L.distributions.TanhTransform()],
                                                   dim=1, lengths=[1, 3]), X),
    "Cat_batch_dim": (lambda L: L.distributions.CatTransform([L.distributions.ExpTransform(),
                                                              L.distributions.SigmoidTransform()], dim=0), X),
    "Stack": (lambda L: L.distributions.StackTransform([L.distributions.ExpTransform(),
                                                        L.distributions.AffineTransform(1.0, 3.0)], dim=0), X),
    "CumulativeDistribution": (lambda L: L.distributions.CumulativeDistributionTransform(
        L.distributions.Normal(_t(L, [0.5, -1.0, 0.0, 2.0]), _t(L, [1.0, 2.0, 0.5, 1.5]))), X),
}


def _call(fn):
    try:
        return fn()
    except NotImplementedError:
        return NotImplementedError


@pytest.mark.parametrize("name", sorted(TRANSFORMS))
def test_transform_matches_torch(name):
    build, x = TRANSFORMS[name]
    et, tt = build(ember), build(torch)
    ex, tx = _t(ember, x), _t(torch, x)
    ey, ty = et(ex), tt(tx)
    assert_same(ey, ty)
    assert_same(et.inv(ey), tt.inv(ty), rtol=1e-6, atol=1e-9)
    want = _call(lambda: tt.log_abs_det_jacobian(tx, ty))
    got = _call(lambda: et.log_abs_det_jacobian(ex, ey))
    if want is NotImplementedError:
        assert got is NotImplementedError
    else:
        assert_same(got, want, rtol=1e-6, atol=1e-9)
    assert repr(et.domain) == repr(tt.domain)
    assert repr(et.codomain) == repr(tt.codomain)
    assert et.bijective == tt.bijective
    assert tuple(et.forward_shape(ember.Size(x.shape))) == tuple(tt.forward_shape(torch.Size(x.shape)))
    assert tuple(et.inverse_shape(ember.Size(ey.shape))) == tuple(tt.inverse_shape(torch.Size(ty.shape)))
    assert type(et).__name__ == type(tt).__name__
    assert repr(et).replace("ember", "torch") == repr(tt) or "(" in repr(tt)[len(type(tt).__name__) + 1:]


def test_log_abs_det_jacobian_is_the_autograd_jacobian():
    # for elementwise bijections, log|dy/dx| from autograd must equal log_abs_det_jacobian
    D = ember.distributions
    for t in (D.ExpTransform(), D.SigmoidTransform(), D.TanhTransform(), D.SoftplusTransform(),
              D.PowerTransform(ember.tensor(2.5, dtype=ember.float64)), D.AffineTransform(1.0, -3.0)):
        x = ember.tensor(POS[0], dtype=ember.float64, requires_grad=True)
        y = t(x)
        (dy,) = ember.autograd.grad(y.sum(), [x])
        np.testing.assert_allclose(t.log_abs_det_jacobian(x, y).detach().numpy(), np.log(np.abs(dy.numpy())),
                                   rtol=1e-9)


def test_stick_breaking_log_det_is_the_autograd_jacobian():
    D = ember.distributions
    t = D.StickBreakingTransform()
    x = ember.tensor(X[0, :3], dtype=ember.float64)
    rows = []
    for i in range(3):  # Jacobian of the first K-1 outputs (the last is determined by them)
        xi = x.clone().requires_grad_()
        (g,) = ember.autograd.grad(t(xi)[i], [xi])
        rows.append(g.numpy())
    _, logdet = np.linalg.slogdet(np.array(rows))
    np.testing.assert_allclose(t.log_abs_det_jacobian(x, t(x)).item(), logdet, rtol=1e-9)


def test_cache_returns_the_exact_input():
    D = ember.distributions
    t = D.TanhTransform(cache_size=1)
    x = ember.tensor([30.0, -0.5])
    y = t(x)
    assert t.inv(y) is x  # atanh(tanh(30)) would be inf
    assert D.TanhTransform().with_cache(1)._cache_size == 1
    assert t.with_cache(1) is t
    assert D.ExpTransform().inv.with_cache(1).inv._cache_size == 1


def test_equality_and_sign():
    D = ember.distributions
    assert D.ExpTransform() == D.ExpTransform()
    assert D.ExpTransform().inv == D.ExpTransform().inv
    assert D.AffineTransform(1.0, 2.0) == D.AffineTransform(1.0, 2.0)
    assert D.AffineTransform(1.0, 2.0) != D.AffineTransform(1.0, 3.0)
    assert D.ComposeTransform([D.ExpTransform()]) == D.ComposeTransform([D.ExpTransform()])
    assert D.AffineTransform(0.0, -2.0).sign == -1
    assert D.ComposeTransform([D.AffineTransform(0.0, -2.0), D.ExpTransform()]).sign == -1
    with pytest.raises(ValueError, match="Please use either .domain.event_dim or .codomain.event_dim"):
        D.ReshapeTransform((4,), (2, 2)).event_dim


CONSTRAINTS = {
    "real": (lambda C: C.real, [0.0, np.nan, np.inf]),
    "positive": (lambda C: C.positive, [0.0, 1.0, -1.0]),
    "nonnegative": (lambda C: C.nonnegative, [0.0, 1.0, -1.0]),
    "unit_interval": (lambda C: C.unit_interval, [0.0, 1.0, 1.5]),
    "interval": (lambda C: C.interval(-1.0, 2.0), [-1.0, 2.0, 2.5]),
    "half_open_interval": (lambda C: C.half_open_interval(-1.0, 2.0), [-1.0, 2.0, 0.0]),
    "greater_than": (lambda C: C.greater_than(1.0), [1.0, 2.0, 0.0]),
    "greater_than_eq": (lambda C: C.greater_than_eq(1.0), [1.0, 2.0, 0.0]),
    "less_than": (lambda C: C.less_than(1.0), [1.0, 2.0, 0.0]),
    "boolean": (lambda C: C.boolean, [0.0, 1.0, 0.5]),
    "nonnegative_integer": (lambda C: C.nonnegative_integer, [0.0, 2.0, 1.5]),
    "positive_integer": (lambda C: C.positive_integer, [0.0, 2.0, 1.0]),
    "integer_interval": (lambda C: C.integer_interval(0, 3), [0.0, 3.0, 4.0]),
    "simplex": (lambda C: C.simplex, [[0.2, 0.8], [0.5, 0.6], [-0.5, 1.5]]),
    "one_hot": (lambda C: C.one_hot, [[0.0, 1.0], [1.0, 1.0], [0.5, 0.5]]),
    "real_vector": (lambda C: C.real_vector, [[0.0, 1.0], [np.nan, 1.0]]),
    "multinomial": (lambda C: C.multinomial(3), [[1.0, 2.0], [2.0, 2.0], [-1.0, 1.0]]),
    "independent": (lambda C: C.independent(C.positive, 1), [[1.0, 2.0], [0.0, 1.0]]),
    "lower_triangular": (lambda C: C.lower_triangular, [[[1.0, 0.0], [2.0, -1.0]], [[1.0, 1.0], [0.0, 1.0]]]),
    "lower_cholesky": (lambda C: C.lower_cholesky, [[[1.0, 0.0], [2.0, 1.0]], [[1.0, 0.0], [2.0, -1.0]]]),
    "corr_cholesky": (lambda C: C.corr_cholesky, [[[1.0, 0.0], [0.6, 0.8]], [[1.0, 0.0], [0.6, 0.9]]]),
    "square": (lambda C: C.square, [[[1.0, 0.0], [2.0, 1.0]]]),
    "symmetric": (lambda C: C.symmetric, [[[1.0, 2.0], [2.0, 1.0]], [[1.0, 2.0], [3.0, 1.0]]]),
    "positive_definite": (lambda C: C.positive_definite, [[[2.0, 1.0], [1.0, 2.0]], [[1.0, 2.0], [2.0, 1.0]]]),
    "positive_semidefinite": (lambda C: C.positive_semidefinite, [[[1.0, 1.0], [1.0, 1.0]], [[1.0, 2.0], [2.0, 1.0]]]),
    "cat": (lambda C: C.cat([C.positive, C.real], 0, [1, 2]), [-1.0, -1.0, 2.0]),
    "stack": (lambda C: C.stack([C.positive, C.unit_interval], 0), [[1.0, 2.0], [0.5, 2.0]]),
    "mixture": (lambda C: C.MixtureSameFamilyConstraint(C.positive), [[1.0], [-1.0]]),
}


@pytest.mark.parametrize("name", sorted(CONSTRAINTS))
def test_constraint_matches_torch(name):
    build, value = CONSTRAINTS[name]
    ec, tc = build(ember.distributions.constraints), build(torch.distributions.constraints)
    got, want = ec.check(_t(ember, value)), tc.check(_t(torch, value))
    assert got.tolist() == want.tolist()
    assert repr(ec) == repr(tc)
    assert ec.event_dim == tc.event_dim
    assert ec.is_discrete == tc.is_discrete


BIJECT = ["real", "positive", "nonnegative", "unit_interval", "interval", "half_open_interval", "greater_than",
          "greater_than_eq", "less_than", "simplex", "real_vector", "independent", "cat", "stack"]
REGISTERED = [(r, n) for r in ("biject_to", "transform_to") for n in BIJECT] + [
    ("transform_to", "lower_cholesky"), ("transform_to", "positive_definite"), ("biject_to", "corr_cholesky"),
    ("transform_to", "corr_cholesky")]


@pytest.mark.parametrize("registry,name", REGISTERED)
def test_biject_to_and_transform_to(registry, name):
    build, _ = CONSTRAINTS[name]
    et = getattr(ember.distributions, registry)(build(ember.distributions.constraints))
    tt = getattr(torch.distributions, registry)(build(torch.distributions.constraints))
    x = {"lower_cholesky": SQ, "positive_definite": SQ, "cat": X[0, :3], "stack": X[:, :3],
         "corr_cholesky": X[:, :3]}.get(name, X[:, :3])
    ey, ty = et(_t(ember, x)), tt(_t(torch, x))
    assert_same(ey, ty, rtol=1e-7, atol=1e-9)
    assert bool(build(ember.distributions.constraints).check(ey).all())
    assert repr(et.codomain) == repr(tt.codomain)


UNREGISTERED = [("biject_to", "boolean"), ("transform_to", "one_hot"), ("biject_to", "lower_cholesky"),
                ("biject_to", "positive_definite")]


@pytest.mark.parametrize("registry,name", UNREGISTERED)
def test_unregistered_constraint_raises_as_torch(registry, name):
    msgs = []
    for lib in (ember, torch):
        with pytest.raises(NotImplementedError) as err:
            getattr(lib.distributions, registry)(getattr(lib.distributions.constraints, name))
        msgs.append(str(err.value))
    assert msgs[0] == msgs[1]

"""Every distribution against torch 2.13 on the same parameters: shapes, moments, log_prob, entropy,
cdf/icdf, enumerate_support and expand."""
import numpy as np
import pytest
import torch

import ember
from .cases import CASES, assert_same, both, t, to_numpy

# torch 2.13's Wishart.rsample warns "Singular sample detected." for every draw (its singularity test is
# inverted); the warning comes from the oracle, not from ember
pytestmark = pytest.mark.filterwarnings("ignore:Singular sample detected:UserWarning")

PROPERTIES = ["mean", "mode", "variance", "stddev"]


def _call(fn):
    """The result of ``fn()``, or the exception type it raised (for NotImplementedError parity)."""
    try:
        return fn()
    except NotImplementedError:
        return NotImplementedError


def _check(e_fn, t_fn, **tol):
    want = _call(t_fn)
    got = _call(e_fn)
    if want is NotImplementedError:
        assert got is NotImplementedError
    else:
        assert got is not NotImplementedError
        assert_same(got, want, **tol)


def _values(td, n=5):
    """Points in the support: torch's own (seeded) samples."""
    torch.manual_seed(0)
    return to_numpy(td.sample((n,)))


@pytest.mark.parametrize("name", sorted(CASES))
def test_shapes_and_flags(name):
    e, t_ = both(name)
    assert tuple(e.batch_shape) == tuple(t_.batch_shape)
    assert tuple(e.event_shape) == tuple(t_.event_shape)
    assert isinstance(e.batch_shape, ember.Size)
    assert e.has_rsample == t_.has_rsample
    assert e.has_enumerate_support == t_.has_enumerate_support
    assert type(e).__name__ == type(t_).__name__
    assert repr(e.support) == repr(t_.support) or callable(getattr(type(t_), "support", None))


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("prop", PROPERTIES)
def test_properties(name, prop):
    e, t_ = both(name)
    _check(lambda: getattr(e, prop), lambda: getattr(t_, prop), rtol=1e-6)


@pytest.mark.parametrize("name", sorted(CASES))
def test_entropy_and_perplexity(name):
    e, t_ = both(name)
    _check(e.entropy, t_.entropy, rtol=1e-6)
    _check(e.perplexity, t_.perplexity, rtol=1e-6)


@pytest.mark.parametrize("name", sorted(CASES))
def test_log_prob_and_cdf(name):
    e, t_ = both(name)
    v = _values(t_)
    _check(lambda: e.log_prob(ember.tensor(v)), lambda: t_.log_prob(torch.tensor(v)), rtol=1e-6, atol=1e-8)
    _check(lambda: e.cdf(ember.tensor(v)), lambda: t_.cdf(torch.tensor(v)), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", sorted(CASES))
def test_icdf(name):
    e, t_ = both(name)
    u = np.linspace(0.05, 0.95, 4 * int(np.prod(t_.batch_shape))).reshape((4,) + tuple(t_.batch_shape))
    _check(lambda: e.icdf(ember.tensor(u)), lambda: t_.icdf(torch.tensor(u)), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", sorted(CASES))
def test_enumerate_support(name):
    e, t_ = both(name)
    for expand in (True, False):
        _check(lambda: e.enumerate_support(expand), lambda: t_.enumerate_support(expand))


@pytest.mark.parametrize("name", sorted(CASES))
def test_expand(name):
    e, t_ = both(name)
    shape = (2,) + tuple(t_.batch_shape)
    ee, te = e.expand(shape), t_.expand(shape)
    assert type(ee) is type(e)
    assert tuple(ee.batch_shape) == tuple(te.batch_shape)
    assert tuple(ee.event_shape) == tuple(te.event_shape)
    v = _values(te, 1)[0]
    _check(lambda: ee.log_prob(ember.tensor(v)), lambda: te.log_prob(torch.tensor(v)), rtol=1e-6, atol=1e-8)
    _check(lambda: ee.mean, lambda: te.mean, rtol=1e-6)
    assert tuple(ee.sample().shape) == tuple(te.sample().shape)
    assert tuple(ee.sample((3,)).shape) == tuple(te.sample((3,)).shape)


@pytest.mark.parametrize("name", sorted(CASES))
def test_sample_shape_dtype_and_support(name):
    e, t_ = both(name)
    for shape in ((), (4,), (2, 3)):
        s, ts = e.sample(shape), t_.sample(shape)
        assert tuple(s.shape) == tuple(ts.shape)
        assert str(s.dtype) == str(ts.dtype)
        assert not s.requires_grad
        assert bool(e.support.check(s).all())


def test_float32_parameters_keep_float32():
    D = ember.distributions
    n = D.Normal(ember.zeros(3), ember.ones(3))
    assert n.rsample().dtype == ember.float32
    assert n.log_prob(ember.zeros(3)).dtype == ember.float32
    g = D.Gamma(ember.ones(3) * 2, ember.ones(3))
    assert g.rsample((5,)).dtype == ember.float32
    assert g.cdf(ember.ones(3)).dtype == ember.float32
    b = D.Binomial(10, ember.full((3,), 0.3))
    assert b.sample().dtype == ember.float32


def test_repr_matches_torch():
    for name in ("Normal", "Normal_scalar", "Categorical_probs", "Independent", "MixtureSameFamily", "Gamma"):
        e, t_ = both(name)
        assert repr(e) == repr(t_)


def test_exponential_family_entropy_by_bregman_matches_closed_form():
    # ExponentialFamily.entropy differentiates the log normalizer; it must agree with each closed form
    D = ember.distributions
    for name in ("Normal", "Gamma", "Exponential", "Bernoulli_probs"):
        e, _ = both(name)
        np.testing.assert_allclose(to_numpy(D.ExponentialFamily.entropy(e)), to_numpy(e.entropy()),
                                   rtol=1e-6, atol=1e-9)


def test_gamma_cdf_against_torch_wide_range():
    D = ember.distributions
    a = np.array([0.05, 0.3, 1.0, 3.0, 12.0, 80.0, 400.0, 2.5, 0.7])
    x = np.array([0.01, 2.0, 0.4, 9.0, 10.0, 95.0, 380.0, 1e-3, 30.0])
    got = D.Gamma(ember.tensor(a), 1.0).cdf(ember.tensor(x))
    want = torch.special.gammainc(torch.tensor(a), torch.tensor(x))
    np.testing.assert_allclose(to_numpy(got), to_numpy(want), rtol=1e-9, atol=1e-12)


def test_gamma_cdf_gradient_in_value_is_the_density():
    D = ember.distributions
    x = ember.tensor([0.3, 1.0, 4.0], dtype=ember.float64, requires_grad=True)
    g = D.Gamma(ember.tensor([0.8, 2.0, 5.0], dtype=ember.float64), ember.tensor(1.5, dtype=ember.float64))
    g.cdf(x).sum().backward()
    np.testing.assert_allclose(to_numpy(x.grad), to_numpy(g.log_prob(x).exp()), rtol=1e-10)


GRAD_CASES = {
    "Normal": (lambda D, a, b: D.Normal(a, b), ("loc", "scale")),
    "Gamma": (lambda D, a, b: D.Gamma(a, b), ("conc1", "rate")),
    "Beta": (lambda D, a, b: D.Beta(a, b), ("conc1", "conc0")),
    "StudentT": (lambda D, a, b, c: D.StudentT(a, b, c), ("df", "loc", "scale")),
    "MultivariateNormal": (lambda D, a, b: D.MultivariateNormal(a, scale_tril=b), ("mvn_loc", "tril")),
    "LowRankMultivariateNormal": (lambda D, a, b, c: D.LowRankMultivariateNormal(a, b, c),
                                  ("mvn_loc", "cov_factor", "cov_diag")),
    "VonMises": (lambda D, a, b: D.VonMises(a, b), ("loc", "kappa")),
    "Dirichlet": (lambda D, a: D.Dirichlet(a), ("conc_vec",)),
    "Categorical": (lambda D, a: D.Categorical(logits=a), ("cat_logits",)),
    "Binomial": (lambda D, a: D.Binomial(6, logits=a), ("logits",)),
    "Gumbel": (lambda D, a, b: D.Gumbel(a, b), ("loc", "scale")),
    "RelaxedOneHotCategorical": (lambda D, a: D.RelaxedOneHotCategorical(ember_or_torch_temp(D), probs=a),
                                 ("simplex",)),
}


def ember_or_torch_temp(D):
    lib = ember if D is ember.distributions else torch
    return t(lib, "temp")


@pytest.mark.parametrize("name", sorted(GRAD_CASES))
def test_log_prob_gradients_match_torch(name):
    build, names = GRAD_CASES[name]
    torch_dist = build(torch.distributions, *[t(torch, n) for n in names])
    v = _values(torch_dist, 2)
    grads = []
    for lib in (ember, torch):
        leaves = [t(lib, n).requires_grad_() for n in names]
        lp = build(lib.distributions, *leaves).log_prob(lib.tensor(v)).sum()
        grads.append([to_numpy(g) for g in lib.autograd.grad(lp, leaves)])
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-9)


def test_utils_match_torch():
    from torch.distributions import utils as tu
    from ember.distributions import utils as eu
    m = np.arange(16.0).reshape(2, 2, 4)[..., :2].reshape(2, 2, 2) + 1
    sq = np.arange(18.0).reshape(2, 3, 3)
    for diag in (0, -1, 1):
        assert_same(eu.tril_matrix_to_vec(ember.tensor(sq), diag), tu.tril_matrix_to_vec(torch.tensor(sq), diag))
        vec = tu.tril_matrix_to_vec(torch.tensor(sq), diag)
        assert_same(eu.vec_to_tril_matrix(ember.tensor(vec.numpy()), diag), tu.vec_to_tril_matrix(vec, diag))
    p = np.array([0.0, 0.3, 1.0])
    assert_same(eu.probs_to_logits(ember.tensor(p), True), tu.probs_to_logits(torch.tensor(p), True))
    assert_same(eu.clamp_probs(ember.tensor(p)), tu.clamp_probs(torch.tensor(p)))
    assert_same(eu.logits_to_probs(ember.tensor(m)), tu.logits_to_probs(torch.tensor(m)))
    a, b = eu.broadcast_all(ember.tensor([1.0, 2.0], dtype=ember.float64), 3)
    assert a.shape == b.shape == (2,) and b.dtype == ember.float64
    with pytest.raises(ValueError, match="Input arguments must all be instances of numbers.Number"):
        eu.broadcast_all(ember.tensor([1.0]), "x")


def test_straight_through_gradient_is_the_probs_gradient():
    D = ember.distributions
    probs = ember.tensor([0.2, 0.5, 0.3], requires_grad=True)
    d = D.OneHotCategoricalStraightThrough(probs=probs)
    s = d.rsample((4,))
    assert bool(D.constraints.one_hot.check(s.detach()).all())
    w = ember.tensor([1.0, 2.0, 3.0])
    (g,) = ember.autograd.grad((s * w).sum(), [probs], retain_graph=True)
    (want,) = ember.autograd.grad((d.probs * w).sum() * 4, [probs])
    np.testing.assert_allclose(g.numpy(), want.numpy(), rtol=1e-6)


def test_sample_n_warns_as_torch():
    with pytest.warns(FutureWarning, match="sample_n"):
        assert ember.distributions.Normal(0.0, 1.0).sample_n(3).shape == (3,)


def test_lazy_parameters_stay_differentiable_when_first_read_under_no_grad():
    logits = ember.tensor([0.1, 0.7, -0.3], requires_grad=True)
    d = ember.distributions.Categorical(logits=logits)
    with ember.no_grad():
        probs = d.probs
    assert probs.requires_grad

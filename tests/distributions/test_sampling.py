"""Samples: moments within a few standard errors of the distribution's mean and variance (seeded),
reparameterized gradients by gradcheck in float64, and the implicit reparameterization gradients of
Gamma, Chi2, Beta, Dirichlet and StudentT against the mathematics (computed with torch float64)."""
import math

import numpy as np
import pytest
import torch

import ember
from ember.distributions import _samplers
from .cases import CASES, t, to_numpy

N = 20000

# cases whose mean and variance are finite (Cauchy-like ones have none) and defined by torch
MOMENT_CASES = [n for n in sorted(CASES) if n not in ("Cauchy", "HalfCauchy", "Categorical_probs",
                                                     "Categorical_logits", "Transformed_affine_exp",
                                                     "Transformed_stick_breaking", "Transformed_tanh_power_sigmoid",
                                                     "RelaxedBernoulli", "RelaxedOneHotCategorical", "VonMises",
                                                     "LogisticNormal", "LKJCholesky")]


def _assert_moments(x, mean, var, z=5.0):
    """Sample mean and variance within ``z`` standard errors (estimated from the sample itself)."""
    x = np.asarray(x, dtype=np.float64)
    n = x.shape[0]
    m = x.mean(0)
    np.testing.assert_array_less(np.abs(m - mean), z * np.sqrt(var / n) + 1e-12)
    sq = (x - mean) ** 2
    se_var = sq.std(0) / math.sqrt(n)
    np.testing.assert_array_less(np.abs(sq.mean(0) - var), z * se_var + 1e-12)


@pytest.mark.parametrize("name", MOMENT_CASES)
def test_sample_moments(name):
    ember.manual_seed(1)
    d = CASES[name](ember)
    x = to_numpy(d.sample((N,)))
    _assert_moments(x, to_numpy(d.mean), to_numpy(d.variance))


def test_von_mises_circular_moments():
    ember.manual_seed(2)
    d = CASES["VonMises"](ember)
    x = to_numpy(d.sample((N,)))
    assert np.all((x >= -math.pi) & (x < math.pi))
    # E[cos(x - loc)] = I1(k) / I0(k) = 1 - variance
    c = np.cos(x - to_numpy(d.loc))
    np.testing.assert_array_less(np.abs(c.mean(0) - (1 - to_numpy(d.variance))), 5 * c.std(0) / math.sqrt(N))


def test_relaxed_samples_lie_in_their_support_and_harden_at_low_temperature():
    D = ember.distributions
    probs = ember.tensor([0.2, 0.7], dtype=ember.float64)
    hard = D.RelaxedBernoulli(ember.tensor(0.01, dtype=ember.float64), probs=probs).sample((N,))
    h = to_numpy(hard)
    assert np.all((h >= 0) & (h <= 1))
    # near-zero temperature: samples sit at 0 or 1 with Bernoulli(probs) frequencies
    frac = (h > 0.5).mean(0)
    np.testing.assert_array_less(np.abs(frac - [0.2, 0.7]), 5 * np.sqrt(0.25 / N))
    cat = D.RelaxedOneHotCategorical(ember.tensor(0.01, dtype=ember.float64),
                                     probs=ember.tensor([0.1, 0.3, 0.6], dtype=ember.float64)).sample((N,))
    c = to_numpy(cat)
    np.testing.assert_allclose(c.sum(-1), 1.0, rtol=1e-9)
    np.testing.assert_array_less(np.abs((c.argmax(-1)[:, None] == np.arange(3)).mean(0) - [0.1, 0.3, 0.6]),
                                 5 * np.sqrt(0.25 / N))


def test_lkj_cholesky_samples_are_correlation_factors_with_the_marginal_law():
    # for LKJ(eta) in dimension d, each off-diagonal correlation is 2 Beta(b, b) - 1 with b = eta - 1 + d / 2
    ember.manual_seed(5)
    d, eta = 3, 2.0
    L = ember.distributions.LKJCholesky(d, eta).sample((N,))
    assert bool(ember.distributions.constraints.corr_cholesky.check(L).all())
    corr = to_numpy(L @ L.mT)[:, 1, 0]
    b = eta - 1 + d / 2
    _assert_moments(corr[:, None], 0.0, 1.0 / (2 * b + 1))


@pytest.mark.parametrize("n,p", [(5, 0.3), (40, 0.5), (1000, 0.02), (1000, 0.97), (3000, 0.4), (0, 0.5)])
def test_binomial_sampler_moments_both_branches(n, p):
    count = ember.full((N,), float(n), dtype=ember.float64)
    x = to_numpy(_samplers.binomial(count, ember.full((N,), p, dtype=ember.float64)))
    assert np.all((x >= 0) & (x <= n) & (x == np.round(x)))
    if n:
        _assert_moments(x[:, None], n * p, n * p * (1 - p))


@pytest.mark.parametrize("alpha", [0.05, 0.5, 1.0, 3.0, 150.0])
def test_standard_gamma_sampler_moments(alpha):
    x = to_numpy(_samplers.standard_gamma(ember.full((N,), alpha, dtype=ember.float64)))
    assert np.all(x > 0)
    _assert_moments(x[:, None], alpha, alpha)


# ---- reparameterized gradients -------------------------------------------------------------------

def _seeded_rsample(build):
    def fn(*params):
        ember.manual_seed(3)
        return build(ember.distributions, *params).rsample((4,))
    return fn


RSAMPLE_CASES = {
    "Normal": (lambda D, a, b: D.Normal(a, b), ("loc", "scale")),
    "MultivariateNormal": (lambda D, a, b: D.MultivariateNormal(a, scale_tril=b.tril()), ("mvn_loc", "tril")),
    "LowRankMultivariateNormal": (lambda D, a, b, c: D.LowRankMultivariateNormal(a, b, c),
                                  ("mvn_loc", "cov_factor", "cov_diag")),
    "Independent": (lambda D, a, b: D.Independent(D.Normal(a, b), 1), ("loc23", "scale23")),
    "Laplace": (lambda D, a, b: D.Laplace(a, b), ("loc", "scale")),
    "Cauchy": (lambda D, a, b: D.Cauchy(a, b), ("loc", "scale")),
    "Uniform": (lambda D, a, b: D.Uniform(a, a + b), ("low", "width")),
    "Exponential": (lambda D, a: D.Exponential(a), ("rate",)),
    "LogNormal": (lambda D, a, b: D.LogNormal(a, b), ("loc", "scale")),
    "Gumbel": (lambda D, a, b: D.Gumbel(a, b), ("loc", "scale")),
    "HalfNormal": (lambda D, a: D.HalfNormal(a), ("scale",)),
    "HalfCauchy": (lambda D, a: D.HalfCauchy(a), ("scale",)),
    "StudentT_loc_scale": (lambda D, a, b: D.StudentT(4.0, a, b), ("loc", "scale")),
    "RelaxedBernoulli": (lambda D, a: D.RelaxedBernoulli(t(ember, "temp"), probs=a), ("probs",)),
    "RelaxedOneHotCategorical": (lambda D, a: D.RelaxedOneHotCategorical(t(ember, "temp"), logits=a),
                                 ("cat_logits",)),
    "Gamma_rate": (lambda D, a: D.Gamma(t(ember, "conc1"), a), ("rate",)),
    "Wishart_scale_tril": (lambda D, a: D.Wishart(6.0, scale_tril=a.tril()), ("tril",)),
    "Pareto": (lambda D, a, b: D.Pareto(a, b), ("scale", "big_alpha")),
    "Weibull": (lambda D, a, b: D.Weibull(a, b), ("scale", "conc1")),
    "Kumaraswamy": (lambda D, a, b: D.Kumaraswamy(a, b), ("conc1", "conc0")),
    "GeneralizedPareto": (lambda D, a, b: D.GeneralizedPareto(a, b, 0.2), ("loc", "scale")),
    "ContinuousBernoulli": (lambda D, a: D.ContinuousBernoulli(a), ("probs",)),
    "LogisticNormal": (lambda D, a, b: D.LogisticNormal(a, b), ("loc23", "scale23")),
    "Transformed_stick_breaking": (lambda D, a, b: D.TransformedDistribution(D.Normal(a, b),
                                                                             D.StickBreakingTransform()),
                                   ("loc23", "scale23")),
}


@pytest.mark.parametrize("name", sorted(RSAMPLE_CASES))
def test_rsample_gradcheck(name):
    build, names = RSAMPLE_CASES[name]
    params = [t(ember, n).requires_grad_() for n in names]
    assert ember.autograd.gradcheck(_seeded_rsample(build), params, eps=1e-6, atol=1e-5, rtol=1e-4)


def test_sample_has_no_graph_and_rsample_does():
    D = ember.distributions
    loc = ember.zeros(3, requires_grad=True)
    assert not D.Normal(loc, 1.0).sample().requires_grad
    assert D.Normal(loc, 1.0).rsample().requires_grad
    conc = ember.ones(3, requires_grad=True)
    assert D.Gamma(conc, 1.0).rsample().requires_grad
    assert not D.Gamma(conc, 1.0).sample().requires_grad


def _torch_gamma_implicit_grad(alpha, x):
    """-(dP(alpha, x)/dalpha) / pdf(x), with dP/dalpha by central differences of torch's gammainc."""
    a, xx = torch.tensor(alpha), torch.tensor(x)
    h = torch.tensor(1e-6 * np.maximum(alpha, 1.0))
    dp = (torch.special.gammainc(a + h, xx) - torch.special.gammainc(a - h, xx)) / (2 * h)
    pdf = torch.exp((a - 1) * xx.log() - xx - torch.lgamma(a))
    return (-dp / pdf).numpy()


@pytest.mark.parametrize("alpha", [0.3, 1.0, 2.5, 9.0, 60.0])
def test_gamma_rsample_gradient_is_the_implicit_reparameterization_gradient(alpha):
    conc = ember.full((200,), alpha, dtype=ember.float64, requires_grad=True)
    x = ember.distributions.Gamma(conc, 1.0).rsample()
    (g,) = ember.autograd.grad(x.sum(), [conc])
    want = _torch_gamma_implicit_grad(np.full(200, alpha), to_numpy(x))
    np.testing.assert_allclose(to_numpy(g), want, rtol=1e-5, atol=1e-8)
    # and within torch's own approximation of the same quantity
    torch_approx = torch._standard_gamma_grad(torch.full((200,), alpha, dtype=torch.float64), torch.tensor(to_numpy(x)))
    np.testing.assert_allclose(to_numpy(g), torch_approx.numpy(), rtol=5e-3, atol=1e-6)


def test_gamma_rate_and_chi2_df_gradients():
    rate = ember.tensor([0.5, 2.0], dtype=ember.float64, requires_grad=True)
    conc = ember.tensor([1.5, 4.0], dtype=ember.float64, requires_grad=True)
    x = ember.distributions.Gamma(conc, rate).rsample()
    g_conc, g_rate = ember.autograd.grad(x.sum(), [conc, rate])
    z = to_numpy(x) * to_numpy(rate)  # the standard gamma draw
    np.testing.assert_allclose(to_numpy(g_rate), -to_numpy(x) / to_numpy(rate), rtol=1e-12)
    np.testing.assert_allclose(to_numpy(g_conc), _torch_gamma_implicit_grad(to_numpy(conc), z) / to_numpy(rate),
                               rtol=1e-5)
    df = ember.tensor([3.0, 7.0], dtype=ember.float64, requires_grad=True)
    y = ember.distributions.Chi2(df).rsample()
    (g_df,) = ember.autograd.grad(y.sum(), [df])
    # y = 2 * G(df / 2): dy/ddf = dG/dalpha
    np.testing.assert_allclose(to_numpy(g_df), _torch_gamma_implicit_grad(to_numpy(df) / 2, to_numpy(y) / 2),
                               rtol=1e-5)


def _lbeta(a, b):
    return np.array([math.lgamma(ai) + math.lgamma(bi) - math.lgamma(ai + bi) for ai, bi in zip(a, b)])


def _beta_cdf(a, b, x, terms=400):
    """I_x(a, b) by its hypergeometric series x^a (1-x)^b / (a B(a, b)) * sum_n (a+b)_n / (a+1)_n x^n
    (on the side x <= 1/2, by the symmetry I_x(a, b) = 1 - I_{1-x}(b, a))."""
    flip = x > 0.5
    a2, b2, x2 = np.where(flip, b, a), np.where(flip, a, b), np.where(flip, 1 - x, x)
    k = np.arange(terms)[:, None]
    series = 1 + np.cumprod((a2 + b2 + k) / (a2 + 1 + k) * x2, axis=0).sum(0)
    i = np.exp(a2 * np.log(x2) + b2 * np.log1p(-x2) - np.log(a2) - _lbeta(a2, b2)) * series
    return np.where(flip, 1 - i, i)


def test_beta_rsample_gradient_is_the_implicit_reparameterization_gradient():
    a = np.array([1.2, 2.0, 3.5, 6.0, 1.5, 0.4, 30.0])
    b = np.array([2.5, 1.1, 4.0, 8.0, 1.5, 0.7, 12.0])
    c1 = ember.tensor(a, requires_grad=True)
    c0 = ember.tensor(b, requires_grad=True)
    x = ember.distributions.Beta(c1, c0).rsample()
    g1, g0 = ember.autograd.grad(x.sum(), [c1, c0])
    xv = to_numpy(x)
    h = 1e-6
    pdf = xv ** (a - 1) * (1 - xv) ** (b - 1) / np.exp(_lbeta(a, b))
    da = (_beta_cdf(a + h, b, xv) - _beta_cdf(a - h, b, xv)) / (2 * h)
    db = (_beta_cdf(a, b + h, xv) - _beta_cdf(a, b - h, xv)) / (2 * h)
    np.testing.assert_allclose(to_numpy(g1), -da / pdf, rtol=1e-5)
    np.testing.assert_allclose(to_numpy(g0), -db / pdf, rtol=1e-5)


def test_dirichlet_rsample_gradient_matches_torch_formula():
    conc = np.array([[0.7, 2.0, 3.0], [5.0, 1.5, 9.0]])
    c = ember.tensor(conc, requires_grad=True)
    x = ember.distributions.Dirichlet(c).rsample()
    weights = np.array([[1.0, -2.0, 0.5], [0.3, 0.2, -1.0]])
    (g,) = ember.autograd.grad((x * ember.tensor(weights)).sum(), [c])
    # torch's backward on the same draw: _dirichlet_grad(x, alpha, total) * (w - sum(x * w))
    tx = torch.tensor(to_numpy(x))
    tc = torch.tensor(conc)
    total = tc.sum(-1, True).expand_as(tc)
    tw = torch.tensor(weights)
    want = torch._dirichlet_grad(tx, tc, total) * (tw - (tx * tw).sum(-1, True))
    np.testing.assert_allclose(to_numpy(g), want.numpy(), rtol=5e-3, atol=1e-6)
    # the simplex constraint: gradients of sum(x) vanish
    (g_sum,) = ember.autograd.grad(ember.distributions.Dirichlet(c).rsample().sum(), [c])
    np.testing.assert_allclose(to_numpy(g_sum), 0.0, atol=1e-12)


def test_student_t_df_gradient_flows_through_chi2():
    df = ember.tensor([3.0, 6.0], dtype=ember.float64, requires_grad=True)
    ember.manual_seed(4)
    x = ember.distributions.StudentT(df).rsample()
    (g,) = ember.autograd.grad(x.sum(), [df])
    assert np.all(np.isfinite(to_numpy(g))) and np.any(to_numpy(g) != 0)

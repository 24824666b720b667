"""kl_divergence for every pair PyTorch 2.13 registers among ember's distributions, against torch; the
Bregman (exponential family) form; dispatch, register_kl and its errors."""
import warnings

import numpy as np
import pytest
import torch
import torch.distributions.kl as torch_kl

import ember
from .cases import assert_same

_rng = np.random.default_rng(7)


def _variant():
    return {
        "loc": _rng.normal(size=3), "scale": _rng.uniform(0.5, 2.0, 3), "rate": _rng.uniform(0.5, 2.0, 3),
        "c1": _rng.uniform(0.5, 3.0, 3), "c0": _rng.uniform(0.5, 3.0, 3), "probs": _rng.uniform(0.1, 0.9, 3),
        "simplex": _rng.dirichlet(np.ones(4), size=2), "conc": _rng.uniform(0.5, 3.0, (2, 3)),
        "low": _rng.uniform(0.05, 0.3, 3), "high": _rng.uniform(0.6, 0.95, 3),
        "mvn_loc": _rng.normal(size=(2, 3)), "factor": _rng.normal(size=(2, 3, 2)),
        "diag": _rng.uniform(0.5, 2.0, (2, 3)), "tril": np.tril(_rng.normal(size=(2, 3, 3)), -1)
        + np.eye(3) * _rng.uniform(0.5, 2.0, (2, 1, 3)),
        "loc23": _rng.normal(size=(2, 3)), "scale23": _rng.uniform(0.5, 2.0, (2, 3)),
    }


VARIANTS = [_variant(), _variant()]


def _t(L, k, name):
    return L.tensor(VARIANTS[k][name], dtype=L.float64)


BUILDERS = {
    "Bernoulli": lambda L, k: L.distributions.Bernoulli(_t(L, k, "probs")),
    "Beta": lambda L, k: L.distributions.Beta(_t(L, k, "c1"), _t(L, k, "c0")),
    "Binomial": lambda L, k: L.distributions.Binomial(L.tensor([6.0, 4.0, 5.0], dtype=L.float64) + (1 - k),
                                                      _t(L, k, "probs")),
    "Categorical": lambda L, k: L.distributions.Categorical(_t(L, k, "simplex")),
    "Cauchy": lambda L, k: L.distributions.Cauchy(_t(L, k, "loc"), _t(L, k, "scale")),
    "ContinuousBernoulli": lambda L, k: L.distributions.ContinuousBernoulli(_t(L, k, "probs")),
    "Dirichlet": lambda L, k: L.distributions.Dirichlet(_t(L, k, "conc")),
    "Exponential": lambda L, k: L.distributions.Exponential(_t(L, k, "rate")),
    "Gamma": lambda L, k: L.distributions.Gamma(_t(L, k, "c1"), _t(L, k, "rate")),
    "Geometric": lambda L, k: L.distributions.Geometric(_t(L, k, "probs")),
    "Gumbel": lambda L, k: L.distributions.Gumbel(_t(L, k, "loc"), _t(L, k, "scale")),
    "HalfNormal": lambda L, k: L.distributions.HalfNormal(_t(L, k, "scale")),
    "Independent": lambda L, k: L.distributions.Independent(
        L.distributions.Normal(_t(L, k, "loc23"), _t(L, k, "scale23")), 1),
    "Laplace": lambda L, k: L.distributions.Laplace(_t(L, k, "loc"), _t(L, k, "scale")),
    "LowRankMultivariateNormal": lambda L, k: L.distributions.LowRankMultivariateNormal(
        _t(L, k, "mvn_loc"), _t(L, k, "factor"), _t(L, k, "diag")),
    "MultivariateNormal": lambda L, k: L.distributions.MultivariateNormal(_t(L, k, "mvn_loc"),
                                                                          scale_tril=_t(L, k, "tril")),
    "Normal": lambda L, k: L.distributions.Normal(_t(L, k, "loc"), _t(L, k, "scale")),
    "OneHotCategorical": lambda L, k: L.distributions.OneHotCategorical(_t(L, k, "simplex")),
    "Pareto": lambda L, k: L.distributions.Pareto(_t(L, k, "scale"), _t(L, k, "c1") + 1.5 * k),
    "Poisson": lambda L, k: L.distributions.Poisson(_t(L, k, "rate")),
    "TransformedDistribution": lambda L, k: L.distributions.LogNormal(_t(L, k, "loc"), _t(L, k, "scale")),
    "Uniform": lambda L, k: L.distributions.Uniform(_t(L, k, "low"), _t(L, k, "high")),
}

# every (p, q) pair torch registers whose classes ember provides
PAIRS = sorted((p.__name__, q.__name__) for p, q in torch_kl._KL_REGISTRY
               if p.__name__ in BUILDERS and q.__name__ in BUILDERS)


def test_every_registered_pair_is_covered():
    ember_pairs = {(p.__name__, q.__name__) for p, q in ember.distributions.kl._KL_REGISTRY}
    torch_pairs = {(p.__name__, q.__name__) for p, q in torch_kl._KL_REGISTRY}
    assert ember_pairs == torch_pairs
    # all but (ExponentialFamily, ExponentialFamily), which test_bregman_kl_between_exponential_families covers
    assert len(PAIRS) == len(torch_pairs) - 1


@pytest.mark.parametrize("pair", PAIRS, ids=[f"{p}-{q}" for p, q in PAIRS])
def test_kl_matches_torch(pair):
    pn, qn = pair
    want = torch.distributions.kl_divergence(BUILDERS[pn](torch, 0), BUILDERS[qn](torch, 1))
    got = ember.distributions.kl_divergence(BUILDERS[pn](ember, 0), BUILDERS[qn](ember, 1))
    assert_same(got, want, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name", ["Normal", "Gamma", "Beta", "Dirichlet", "Exponential", "Bernoulli", "Poisson"])
def test_bregman_kl_between_exponential_families(name):
    want = torch_kl._kl_expfamily_expfamily(BUILDERS[name](torch, 0), BUILDERS[name](torch, 1))
    got = ember.distributions.kl._kl_expfamily_expfamily(BUILDERS[name](ember, 0), BUILDERS[name](ember, 1))
    assert_same(got, want, rtol=1e-6, atol=1e-9)
    closed = ember.distributions.kl_divergence(BUILDERS[name](ember, 0), BUILDERS[name](ember, 1))
    np.testing.assert_allclose(got.detach().numpy(), closed.detach().numpy(), rtol=1e-6, atol=1e-9)


def test_kl_binomial_with_larger_q_count_raises_as_torch():
    args = [(BUILDERS["Binomial"](lib, 1), BUILDERS["Binomial"](lib, 0)) for lib in (ember, torch)]
    with pytest.raises(NotImplementedError) as want:
        torch.distributions.kl_divergence(*args[1])
    with pytest.raises(NotImplementedError) as got:
        ember.distributions.kl_divergence(*args[0])
    assert str(got.value) == str(want.value)


def test_unregistered_pair_raises_as_torch():
    msgs = []
    for lib in (ember, torch):
        with pytest.raises(NotImplementedError) as err:
            lib.distributions.kl_divergence(BUILDERS["Cauchy"](lib, 0), BUILDERS["Normal"](lib, 0))
        msgs.append(str(err.value))
    assert msgs[0] == msgs[1]


def test_cross_family_bregman_raises():
    D = ember.distributions
    with pytest.raises(NotImplementedError, match="different exponential families"):
        D.kl._kl_expfamily_expfamily(BUILDERS["Normal"](ember, 0), BUILDERS["Gamma"](ember, 0))


def test_kl_gradients_match_torch():
    grads = []
    for lib in (ember, torch):
        loc = _t(lib, 0, "loc").requires_grad_()
        scale = _t(lib, 0, "scale").requires_grad_()
        kl = lib.distributions.kl_divergence(lib.distributions.Normal(loc, scale), BUILDERS["Gumbel"](lib, 1))
        grads.append([g.numpy() for g in lib.autograd.grad(kl.sum(), [loc, scale])])
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_register_kl_dispatches_to_most_specific_and_warns_on_ambiguity():
    D = ember.distributions

    class MyNormal(D.Normal):
        pass

    class MyGamma(D.Gamma):
        pass

    try:
        @D.register_kl(MyNormal, D.Normal)
        def _mine(p, q):
            return ember.zeros(p.batch_shape) + 42.0

        p = MyNormal(ember.zeros(2), ember.ones(2))
        q = D.Normal(ember.zeros(2), ember.ones(2))
        assert D.kl_divergence(p, q).tolist() == [42.0, 42.0]
        # the base registration still serves the base types
        assert D.kl_divergence(q, q).tolist() == [0.0, 0.0]

        @D.register_kl(D.Gamma, MyNormal)
        def _left(p, q):
            return ember.zeros(p.batch_shape)

        @D.register_kl(MyGamma, D.Normal)
        def _right(p, q):
            return ember.ones(p.batch_shape)

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            D.kl_divergence(MyGamma(ember.ones(2), ember.ones(2)), p)
        assert any("Ambiguous kl_divergence(MyGamma, MyNormal)" in str(w.message) for w in caught)
    finally:
        for key in [k for k in D.kl._KL_REGISTRY if MyNormal in k or MyGamma in k]:
            del D.kl._KL_REGISTRY[key]
        D.kl._KL_MEMOIZE.clear()

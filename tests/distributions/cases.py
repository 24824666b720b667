"""Shared distribution cases: the same parameters built in ember and in torch (the oracle).

Each builder takes the library module (``ember`` or ``torch``) and returns a distribution made from
fixed float64 NumPy parameters, so one table drives the parity, sampling and validation tests.
"""
import numpy as np
import torch

import ember
import ember.distributions  # noqa: F401  (makes ember.distributions available as an attribute)

_rng = np.random.default_rng(20240611)


def _pos(*shape):
    return _rng.uniform(0.5, 2.5, shape)


def _real(*shape):
    return _rng.normal(size=shape)


def _prob(*shape):
    return _rng.uniform(0.15, 0.85, shape)


def _simplex(*shape):
    p = _rng.uniform(0.2, 1.0, shape)
    return p / p.sum(-1, keepdims=True)


def _spd(n, batch=()):
    a = _rng.normal(size=batch + (n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


P = {
    "loc": _real(3), "scale": _pos(3), "rate": _pos(3), "conc1": _pos(3), "conc0": _pos(3),
    "probs": _prob(3), "logits": _real(3), "simplex": _simplex(2, 4), "cat_logits": _real(4),
    "low": _real(3), "width": _pos(3), "df": _rng.uniform(2.5, 6.0, 3), "conc_vec": _pos(2, 3),
    "mvn_loc": _real(2, 3), "cov": _spd(3), "cov_factor": _real(2, 3, 2), "cov_diag": _pos(2, 3),
    "loc23": _real(2, 3), "scale23": _pos(2, 3), "mix": _simplex(2, 3), "temp": np.array(0.7),
    "kappa": _pos(3) * 2, "big_alpha": _rng.uniform(5.0, 9.0, 3), "df2": _rng.uniform(9.0, 14.0, 3),
    "gp_conc": np.array([-0.3, 0.0, 0.2]), "counts": np.array([6.0, 6.0, 6.0]), "big_rate": _rng.uniform(5, 20, 3),
}
P["tril"] = np.linalg.cholesky(P["cov"])


def t(lib, name_or_array):
    """The named parameter (or an array) as a float64 tensor of ``lib``."""
    arr = P[name_or_array] if isinstance(name_or_array, str) else name_or_array
    return lib.tensor(np.asarray(arr), dtype=lib.float64)


def _affine_exp(L):
    D = L.distributions
    return D.TransformedDistribution(D.Normal(t(L, "loc"), t(L, "scale")),
                                     [D.AffineTransform(t(L, "low"), t(L, "width")), D.ExpTransform()])


def _stick_breaking(L):
    D = L.distributions
    return D.TransformedDistribution(D.Normal(t(L, "loc23"), t(L, "scale23")), D.StickBreakingTransform())


def _tanh_power(L):
    D = L.distributions
    return D.TransformedDistribution(D.Normal(t(L, "loc"), t(L, "scale")),
                                     [D.TanhTransform(), D.AffineTransform(2.0, 1.0),
                                      D.PowerTransform(t(L, "width")), D.SigmoidTransform()])


# name -> builder(lib); the name is the test id
CASES = {
    "Normal": lambda L: L.distributions.Normal(t(L, "loc"), t(L, "scale")),
    "Normal_scalar": lambda L: L.distributions.Normal(0.5, 2.0),
    "MultivariateNormal_cov": lambda L: L.distributions.MultivariateNormal(t(L, "mvn_loc"), covariance_matrix=t(L, "cov")),
    "MultivariateNormal_tril": lambda L: L.distributions.MultivariateNormal(t(L, "mvn_loc"), scale_tril=t(L, "tril")),
    "MultivariateNormal_prec": lambda L: L.distributions.MultivariateNormal(t(L, "mvn_loc"), precision_matrix=t(L, "cov")),
    "LowRankMultivariateNormal": lambda L: L.distributions.LowRankMultivariateNormal(
        t(L, "mvn_loc"), t(L, "cov_factor"), t(L, "cov_diag")),
    "Independent": lambda L: L.distributions.Independent(L.distributions.Normal(t(L, "loc23"), t(L, "scale23")), 1),
    "Categorical_probs": lambda L: L.distributions.Categorical(probs=t(L, "simplex")),
    "Categorical_logits": lambda L: L.distributions.Categorical(logits=t(L, "cat_logits")),
    "OneHotCategorical": lambda L: L.distributions.OneHotCategorical(probs=t(L, "simplex")),
    "Bernoulli_probs": lambda L: L.distributions.Bernoulli(probs=t(L, "probs")),
    "Bernoulli_logits": lambda L: L.distributions.Bernoulli(logits=t(L, "logits")),
    "Binomial": lambda L: L.distributions.Binomial(t(L, "counts"), probs=t(L, "probs")),
    "Binomial_logits": lambda L: L.distributions.Binomial(t(L, "counts"), logits=t(L, "logits")),
    "Multinomial": lambda L: L.distributions.Multinomial(7, probs=t(L, "simplex")),
    "Beta": lambda L: L.distributions.Beta(t(L, "conc1"), t(L, "conc0")),
    "Gamma": lambda L: L.distributions.Gamma(t(L, "conc1"), t(L, "rate")),
    "Dirichlet": lambda L: L.distributions.Dirichlet(t(L, "conc_vec")),
    "Exponential": lambda L: L.distributions.Exponential(t(L, "rate")),
    "Laplace": lambda L: L.distributions.Laplace(t(L, "loc"), t(L, "scale")),
    "Cauchy": lambda L: L.distributions.Cauchy(t(L, "loc"), t(L, "scale")),
    "Poisson": lambda L: L.distributions.Poisson(t(L, "big_rate")),
    "Uniform": lambda L: L.distributions.Uniform(t(L, "low"), t(L, "low") + t(L, "width")),
    "LogNormal": lambda L: L.distributions.LogNormal(t(L, "loc"), t(L, "scale")),
    "StudentT": lambda L: L.distributions.StudentT(t(L, "df"), t(L, "loc"), t(L, "scale")),
    "Chi2": lambda L: L.distributions.Chi2(t(L, "df")),
    "Geometric": lambda L: L.distributions.Geometric(probs=t(L, "probs")),
    "Geometric_logits": lambda L: L.distributions.Geometric(logits=t(L, "logits")),
    "Gumbel": lambda L: L.distributions.Gumbel(t(L, "loc"), t(L, "scale")),
    "HalfNormal": lambda L: L.distributions.HalfNormal(t(L, "scale")),
    "HalfCauchy": lambda L: L.distributions.HalfCauchy(t(L, "scale")),
    "VonMises": lambda L: L.distributions.VonMises(t(L, "loc"), t(L, "kappa")),
    "RelaxedBernoulli": lambda L: L.distributions.RelaxedBernoulli(t(L, "temp"), probs=t(L, "probs")),
    "RelaxedOneHotCategorical": lambda L: L.distributions.RelaxedOneHotCategorical(t(L, "temp"), probs=t(L, "simplex")),
    "MixtureSameFamily": lambda L: L.distributions.MixtureSameFamily(
        L.distributions.Categorical(probs=t(L, "mix")), L.distributions.Normal(t(L, "loc23"), t(L, "scale23"))),
    "ContinuousBernoulli": lambda L: L.distributions.ContinuousBernoulli(probs=t(L, [0.2, 0.4995, 0.8])),
    "ContinuousBernoulli_logits": lambda L: L.distributions.ContinuousBernoulli(logits=t(L, "logits")),
    "LKJCholesky": lambda L: L.distributions.LKJCholesky(3, t(L, "conc1")),
    "Wishart": lambda L: L.distributions.Wishart(t(L, [4.5, 7.0]), covariance_matrix=t(L, "cov")),
    "Wishart_tril": lambda L: L.distributions.Wishart(t(L, 5.0), scale_tril=t(L, "tril")),
    "Wishart_prec": lambda L: L.distributions.Wishart(t(L, 5.0), precision_matrix=t(L, "cov")),
    "Pareto": lambda L: L.distributions.Pareto(t(L, "scale"), t(L, "big_alpha")),
    "Weibull": lambda L: L.distributions.Weibull(t(L, "scale"), t(L, "conc1")),
    "InverseGamma": lambda L: L.distributions.InverseGamma(t(L, "big_alpha"), t(L, "rate")),
    "NegativeBinomial": lambda L: L.distributions.NegativeBinomial(t(L, "conc1"), probs=t(L, "probs")),
    "NegativeBinomial_logits": lambda L: L.distributions.NegativeBinomial(t(L, "conc1"), logits=t(L, "logits")),
    "Kumaraswamy": lambda L: L.distributions.Kumaraswamy(t(L, "conc1") + 1, t(L, "conc0") + 1),
    "FisherSnedecor": lambda L: L.distributions.FisherSnedecor(t(L, "df"), t(L, "df2")),
    "LogisticNormal": lambda L: L.distributions.LogisticNormal(t(L, "loc23"), t(L, "scale23")),
    # float32: torch 2.13's GeneralizedPareto.log_prob compares with a float32 zero and fails on float64
    "GeneralizedPareto": lambda L: L.distributions.GeneralizedPareto(t(L, "loc").float(), t(L, "scale").float(),
                                                                     t(L, "gp_conc").float()),
    "Transformed_affine_exp": _affine_exp,
    "Transformed_stick_breaking": _stick_breaking,
    "Transformed_tanh_power_sigmoid": _tanh_power,
}


def both(name):
    """(ember distribution, torch distribution) for a case."""
    return CASES[name](ember), CASES[name](torch)


def to_numpy(x):
    """A tensor of either library as a NumPy array."""
    return x.detach().numpy()


def assert_same(e, t_, rtol=1e-7, atol=1e-9):
    """Equal values (NaN where torch has NaN), shapes and dtypes."""
    assert tuple(e.shape) == tuple(t_.shape), (e.shape, t_.shape)
    assert str(e.dtype) == str(t_.dtype), (e.dtype, t_.dtype)
    np.testing.assert_allclose(to_numpy(e).astype(np.float64), to_numpy(t_).astype(np.float64),
                               rtol=rtol, atol=atol, equal_nan=True)

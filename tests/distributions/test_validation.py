"""validate_args and bad input: the same exception types and messages as torch 2.13."""
import numpy as np
import pytest
import torch

import ember
import ember.distributions  # noqa: F401  (not yet a lazy attribute of ember)


def _t(lib, x):
    return lib.tensor(np.asarray(x, dtype=np.float64))


def _same_error(make):
    """``make(lib)`` raises the same exception type with the same message in ember and torch."""
    with pytest.raises(Exception) as want:
        make(torch)
    with pytest.raises(Exception) as got:
        make(ember)
    assert type(got.value).__name__ == type(want.value).__name__
    assert str(got.value) == str(want.value)


BAD_PARAMS = {
    "Normal": lambda L: L.distributions.Normal(_t(L, [0.0, 1.0]), _t(L, [1.0, -1.0])),
    "Normal_nan_loc": lambda L: L.distributions.Normal(_t(L, [np.nan]), _t(L, [1.0])),
    "Exponential": lambda L: L.distributions.Exponential(_t(L, [-1.0, 2.0])),
    "Gamma": lambda L: L.distributions.Gamma(_t(L, [1.0, 0.0]), _t(L, [1.0, 1.0])),
    "Beta": lambda L: L.distributions.Beta(_t(L, [1.0]), _t(L, [-2.0])),
    "Dirichlet": lambda L: L.distributions.Dirichlet(_t(L, [[1.0, -1.0, 2.0]])),
    "Bernoulli": lambda L: L.distributions.Bernoulli(probs=_t(L, [0.2, 1.5])),
    "Categorical": lambda L: L.distributions.Categorical(probs=_t(L, [-0.5, 1.0, 0.5])),
    "OneHotCategorical": lambda L: L.distributions.OneHotCategorical(logits=_t(L, [np.nan, 1.0])),
    "Binomial": lambda L: L.distributions.Binomial(_t(L, [2.5]), probs=_t(L, [0.5])),
    "Multinomial": lambda L: L.distributions.Multinomial(3, probs=_t(L, [-0.2, 1.0])),
    "Uniform": lambda L: L.distributions.Uniform(_t(L, [0.0, 2.0]), _t(L, [1.0, 1.0])),
    "Poisson": lambda L: L.distributions.Poisson(_t(L, [-1.0])),
    "Laplace": lambda L: L.distributions.Laplace(0.0, -1.0),
    "Cauchy": lambda L: L.distributions.Cauchy(_t(L, [0.0]), _t(L, [0.0])),
    "LogNormal": lambda L: L.distributions.LogNormal(_t(L, [0.0]), _t(L, [-1.0])),
    "StudentT": lambda L: L.distributions.StudentT(_t(L, [-1.0])),
    "Chi2": lambda L: L.distributions.Chi2(_t(L, [0.0])),
    "Geometric_zero": lambda L: L.distributions.Geometric(probs=_t(L, [0.0, 0.5])),
    "Geometric_big": lambda L: L.distributions.Geometric(probs=_t(L, [1.5])),
    "Gumbel": lambda L: L.distributions.Gumbel(_t(L, [0.0]), _t(L, [-1.0])),
    "HalfNormal": lambda L: L.distributions.HalfNormal(_t(L, [-1.0])),
    "HalfCauchy": lambda L: L.distributions.HalfCauchy(_t(L, [-1.0])),
    "VonMises": lambda L: L.distributions.VonMises(_t(L, [0.0]), _t(L, [-1.0])),
    "MultivariateNormal": lambda L: L.distributions.MultivariateNormal(_t(L, [0.0, 0.0]),
                                                                       _t(L, [[1.0, 2.0], [2.0, 1.0]])),
    "MultivariateNormal_tril": lambda L: L.distributions.MultivariateNormal(_t(L, [0.0, 0.0]),
                                                                            scale_tril=_t(L, [[1.0, 1.0], [0.0, 1.0]])),
    "LowRankMultivariateNormal": lambda L: L.distributions.LowRankMultivariateNormal(
        _t(L, [0.0, 0.0]), _t(L, [[1.0], [2.0]]), _t(L, [1.0, -1.0])),
    "RelaxedBernoulli": lambda L: L.distributions.RelaxedBernoulli(_t(L, 0.5), probs=_t(L, [2.0])),
    "RelaxedOneHotCategorical": lambda L: L.distributions.RelaxedOneHotCategorical(_t(L, 0.5), probs=_t(L, [-1.0, 2.0])),
}


@pytest.mark.parametrize("name", sorted(BAD_PARAMS))
def test_bad_parameters(name):
    _same_error(BAD_PARAMS[name])


BAD_VALUES = {
    "Exponential_negative": (lambda L: L.distributions.Exponential(_t(L, [1.0, 2.0])), [-1.0, 1.0]),
    "Bernoulli_half": (lambda L: L.distributions.Bernoulli(_t(L, [0.3])), [0.5]),
    "Categorical_out_of_range": (lambda L: L.distributions.Categorical(_t(L, [0.3, 0.7])), [2.0]),
    "Beta_above_one": (lambda L: L.distributions.Beta(_t(L, [1.0]), _t(L, [2.0])), [1.5]),
    "Dirichlet_not_simplex": (lambda L: L.distributions.Dirichlet(_t(L, [1.0, 2.0])), [0.5, 0.7]),
    "Uniform_outside": (lambda L: L.distributions.Uniform(_t(L, [0.0]), _t(L, [1.0])), [1.5]),
    "Binomial_above_count": (lambda L: L.distributions.Binomial(_t(L, [3.0]), _t(L, [0.5])), [4.0]),
    "Poisson_fraction": (lambda L: L.distributions.Poisson(_t(L, [3.0])), [1.5]),
    "Gamma_negative": (lambda L: L.distributions.Gamma(_t(L, [3.0]), _t(L, [1.0])), [-1.0]),
    "OneHot_not_one_hot": (lambda L: L.distributions.OneHotCategorical(_t(L, [0.5, 0.5])), [1.0, 1.0]),
    "HalfNormal_negative": (lambda L: L.distributions.HalfNormal(_t(L, [1.0])), [-1.0]),
    "LogNormal_negative": (lambda L: L.distributions.LogNormal(_t(L, [0.0]), _t(L, [1.0])), [-1.0]),
    "MVN_wrong_event": (lambda L: L.distributions.MultivariateNormal(_t(L, [0.0, 0.0, 0.0]),
                                                                     L.eye(3, dtype=L.float64)), [1.0, 2.0]),
    "Normal_not_broadcastable": (lambda L: L.distributions.Normal(_t(L, [0.0, 1.0, 2.0]), 1.0), [1.0, 2.0]),
    "Multinomial_count": (lambda L: L.distributions.Multinomial(2, _t(L, [0.5, 0.5])), [3.0, 1.0]),
}


@pytest.mark.parametrize("name", sorted(BAD_VALUES))
def test_bad_log_prob_values(name):
    build, value = BAD_VALUES[name]
    _same_error(lambda L: build(L).log_prob(_t(L, value)))


def test_cdf_validates_values():
    _same_error(lambda L: L.distributions.Exponential(_t(L, [1.0])).cdf(_t(L, [-2.0])))
    _same_error(lambda L: L.distributions.Uniform(_t(L, [0.0]), _t(L, [1.0])).cdf(_t(L, [3.0])))


def test_log_prob_needs_a_tensor():
    _same_error(lambda L: L.distributions.Normal(0.0, 1.0).log_prob(0.5))


@pytest.mark.parametrize("make", [
    lambda L: L.distributions.Bernoulli(probs=_t(L, [0.5]), logits=_t(L, [0.0])),
    lambda L: L.distributions.Bernoulli(),
    lambda L: L.distributions.Categorical(),
    lambda L: L.distributions.Geometric(probs=_t(L, [0.5]), logits=_t(L, [0.0])),
    lambda L: L.distributions.Binomial(3),
    lambda L: L.distributions.Categorical(probs=_t(L, 0.5)),
    lambda L: L.distributions.Categorical(logits=_t(L, 0.5)),
    lambda L: L.distributions.Dirichlet(_t(L, 1.0)),
    lambda L: L.distributions.MultivariateNormal(_t(L, 0.0), L.eye(1)),
    lambda L: L.distributions.MultivariateNormal(_t(L, [0.0]), L.eye(1), scale_tril=L.eye(1)),
    lambda L: L.distributions.MultivariateNormal(_t(L, [0.0]), scale_tril=_t(L, [1.0])),
    lambda L: L.distributions.MultivariateNormal(_t(L, [0.0]), precision_matrix=_t(L, [1.0])),
    lambda L: L.distributions.LowRankMultivariateNormal(_t(L, [0.0, 0.0]), _t(L, [[1.0]]), _t(L, [1.0, 1.0])),
    lambda L: L.distributions.LowRankMultivariateNormal(_t(L, [0.0, 0.0]), _t(L, [1.0, 1.0]), _t(L, [1.0, 1.0])),
    lambda L: L.distributions.LowRankMultivariateNormal(_t(L, [0.0, 0.0]), _t(L, [[1.0], [1.0]]), _t(L, [1.0])),
    lambda L: L.distributions.Multinomial(2.0, probs=_t(L, [0.5, 0.5])),
    lambda L: L.distributions.Independent(L.distributions.Normal(_t(L, [0.0]), 1.0), 2),
    lambda L: L.distributions.TransformedDistribution(L.distributions.Normal(0.0, 1.0), [1]),
    lambda L: L.distributions.TransformedDistribution(L.distributions.Normal(0.0, 1.0), 1),
    lambda L: L.distributions.TransformedDistribution(L.distributions.Normal(0.0, 1.0),
                                                      L.distributions.StickBreakingTransform()),
    lambda L: L.distributions.MixtureSameFamily(L.distributions.Normal(0.0, 1.0), L.distributions.Normal(0.0, 1.0)),
    lambda L: L.distributions.MixtureSameFamily(L.distributions.Categorical(_t(L, [0.5, 0.5])), 3),
    lambda L: L.distributions.MixtureSameFamily(L.distributions.Categorical(_t(L, [0.5, 0.5])),
                                                L.distributions.Normal(_t(L, [0.0, 1.0, 2.0]), 1.0)),
    lambda L: L.distributions.MixtureSameFamily(L.distributions.Categorical(_t(L, [[0.5, 0.5]] * 2)),
                                                L.distributions.Normal(_t(L, [[0.0, 1.0]] * 3), 1.0)),
    lambda L: L.distributions.Binomial(_t(L, [2.0, 3.0]), _t(L, [0.5, 0.5])).entropy(),
    lambda L: L.distributions.Binomial(_t(L, [2.0, 3.0]), _t(L, [0.5, 0.5])).enumerate_support(),
    lambda L: L.distributions.Independent(L.distributions.Normal(_t(L, [0.0]), 1.0), 1).enumerate_support(),
    lambda L: L.distributions.Normal(0.0, 1.0).enumerate_support(),
    lambda L: L.distributions.Cauchy(0.0, 1.0).mode.add(L.distributions.VonMises(_t(L, 0.0), _t(L, 1.0)).entropy()),
    lambda L: L.distributions.Distribution.set_default_validate_args("yes"),
    lambda L: L.distributions.transforms.Transform(cache_size=2),
    lambda L: L.distributions.ReshapeTransform((2, 3), (5,)),
    lambda L: L.distributions.biject_to(L.distributions.constraints.dependent),
    lambda L: L.distributions.CatTransform([L.distributions.ExpTransform()], lengths=[2])(_t(L, [1.0, 2.0, 3.0])),
    lambda L: L.distributions.CatTransform([L.distributions.ExpTransform()], dim=3)(_t(L, [1.0])),
    lambda L: L.distributions.StackTransform([L.distributions.ExpTransform()]).inv(_t(L, [1.0, 2.0])),
    lambda L: L.distributions.CorrCholeskyTransform().forward_shape((4,)),
    lambda L: L.distributions.CorrCholeskyTransform().inverse_shape((2, 3)),
    lambda L: L.distributions.constraints.dependent.check(_t(L, [1.0])),
    lambda L: L.distributions.constraints.dependent.event_dim,
], ids=lambda f: "")
def test_construction_and_method_errors(make):
    _same_error(make)


@pytest.mark.filterwarnings("ignore:invalid value encountered in log:RuntimeWarning")  # log(-1) of the bad scale
def test_validate_args_false_skips_checks():
    D = ember.distributions
    d = D.Normal(ember.tensor([0.0]), ember.tensor([-1.0]), validate_args=False)
    assert d.log_prob(ember.tensor([0.0])).shape == (1,)
    D.Exponential(ember.tensor([1.0]), validate_args=False).log_prob(ember.tensor([-1.0]))
    D.Distribution.set_default_validate_args(False)
    try:
        D.Gamma(ember.tensor([-1.0]), ember.tensor([1.0]))
        D.Bernoulli(ember.tensor([0.3])).log_prob(ember.tensor([0.5]))
    finally:
        D.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError):
        D.Gamma(ember.tensor([-1.0]), ember.tensor([1.0]))


def test_expand_keeps_validation_flag_and_checks_no_args_again():
    D = ember.distributions
    d = D.Normal(ember.tensor([0.0]), ember.tensor([1.0]), validate_args=False)
    assert d.expand((3,))._validate_args is False
    e = D.Normal(ember.tensor([0.0]), ember.tensor([1.0]), validate_args=True).expand((2, 1))
    with pytest.raises(ValueError, match="within the support"):
        D.Exponential(ember.tensor([1.0])).expand((2,)).log_prob(ember.tensor([-1.0, 1.0]))
    assert e.batch_shape == (2, 1)

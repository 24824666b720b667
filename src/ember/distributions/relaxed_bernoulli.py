"""Relaxed (Concrete / Gumbel-softmax) Bernoulli distributions: differentiable stand-ins for coin flips."""
import ember
from . import constraints
from .distribution import Distribution
from .transformed_distribution import TransformedDistribution
from .transforms import SigmoidTransform
from ._params import _ProbsOrLogits, _RelaxedFromBase
from .utils import broadcast_all, clamp_probs

__all__ = ["LogitRelaxedBernoulli", "RelaxedBernoulli"]


class LogitRelaxedBernoulli(_ProbsOrLogits, Distribution):
    """The logit of a RelaxedBernoulli sample: ``(logit(u) + logits) / temperature`` for uniform ``u``.

    Args:
        temperature (Tensor): relaxation temperature (small: close to a hard coin flip).
        probs (Number or Tensor): probability of 1 (give either this or ``logits``).
        logits (Number or Tensor): its log-odds.
        validate_args (bool, optional): check arguments and values.
    """

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.real

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        self.temperature = temperature
        super().__init__(self._set_probs_or_logits(probs, logits), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._expand_probs_or_logits(LogitRelaxedBernoulli, batch_shape, _instance)
        new.temperature = self.temperature
        return new

    def rsample(self, sample_shape=ember.Size()):
        shape = self._extended_shape(sample_shape)
        probs = clamp_probs(self.probs.expand(shape))
        uniforms = clamp_probs(ember.rand(shape, dtype=probs.dtype, device=probs.device))
        return (uniforms.log() - (-uniforms).log1p() + probs.log() - (-probs).log1p()) / self.temperature

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        diff = logits - value.mul(self.temperature)
        return self.temperature.log() + diff - 2 * diff.exp().log1p()


class RelaxedBernoulli(_RelaxedFromBase, TransformedDistribution):
    """RelaxedBernoulli: samples in (0, 1) that approach 0/1 coin flips as ``temperature`` goes to 0;
    ``rsample`` is reparameterized (the sigmoid of a LogitRelaxedBernoulli sample).

    Args:
        temperature (Tensor): relaxation temperature.
        probs (Number or Tensor): probability of 1 (give either this or ``logits``).
        logits (Number or Tensor): its log-odds.
        validate_args (bool, optional): check arguments and values.
    """

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        super().__init__(LogitRelaxedBernoulli(temperature, probs, logits), SigmoidTransform(),
                         validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return super().expand(batch_shape, _instance=self._get_checked_instance(RelaxedBernoulli, _instance))

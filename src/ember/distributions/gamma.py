"""The Gamma distribution, with implicitly reparameterized samples."""
import ember
from . import constraints
from ._incomplete import gammainc_and_dalpha, standard_gamma_grad
from ._samplers import standard_gamma
from .exp_family import ExponentialFamily
from .utils import _batch_shape_of, broadcast_all

__all__ = ["Gamma"]


class _StandardGamma(ember.autograd.Function):
    """A Gamma(concentration, 1) draw whose gradient is the implicit reparameterization gradient
    ``dx/dalpha = -(dP(alpha, x)/dalpha) / pdf(x)`` (the CDF level of the draw held fixed)."""

    @staticmethod
    def forward(ctx, concentration):
        x = standard_gamma(concentration)
        ctx.save_for_backward(x, concentration)
        return x

    @staticmethod
    def backward(ctx, grad_output):
        x, concentration = ctx.saved_tensors
        return grad_output * standard_gamma_grad(x, concentration).to(grad_output.dtype)


class _GammaIncLower(ember.autograd.Function):
    """P(alpha, x), the regularized lower incomplete gamma function, differentiable in both arguments."""

    @staticmethod
    def forward(ctx, alpha, x):
        p, dp = gammainc_and_dalpha(alpha, x)
        ctx.save_for_backward(alpha, x, dp)
        return p.to(ember.promote_types(alpha.dtype, x.dtype))

    @staticmethod
    def backward(ctx, grad_output):
        alpha, x, dp = ctx.saved_tensors
        a, xd = alpha.double(), x.double()
        dx = ember.exp(ember.xlogy(a - 1, xd) - xd - ember.lgamma(a))
        return grad_output * dp.to(grad_output.dtype), grad_output * dx.to(grad_output.dtype)


def _gammainc(alpha, x):
    """P(alpha, x) on tensors, broadcast first (so gradients reduce through the expansion)."""
    return _GammaIncLower.apply(*broadcast_all(alpha, x))


class Gamma(ExponentialFamily):
    """Gamma distribution with shape ``concentration`` and inverse scale ``rate``.

    Args:
        concentration (float or Tensor): shape ``alpha`` (positive).
        rate (float or Tensor): rate ``beta`` (positive); the mean is ``alpha / beta``.
        validate_args (bool, optional): check arguments and values.
    """

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _mean_carrier_measure = 0

    def __init__(self, concentration, rate, validate_args=None):
        self.concentration, self.rate = broadcast_all(concentration, rate)
        super().__init__(_batch_shape_of((concentration, rate), self.concentration), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expanded(Gamma, batch_shape, _instance, ("concentration", "rate"))

    @property
    def mean(self):
        return self.concentration / self.rate

    @property
    def mode(self):
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self):
        return self.concentration / self.rate.pow(2)

    def rsample(self, sample_shape=ember.Size()):
        shape = self._extended_shape(sample_shape)
        value = _StandardGamma.apply(self.concentration.expand(shape)) / self.rate.expand(shape)
        value.detach().clamp_(min=ember.finfo(value.dtype).tiny)  # in place on the data: not recorded
        return value

    def log_prob(self, value):
        value = ember.as_tensor(value, dtype=self.rate.dtype, device=self.rate.device)
        if self._validate_args:
            self._validate_sample(value)
        return (ember.xlogy(self.concentration, self.rate) + ember.xlogy(self.concentration - 1, value)
                - self.rate * value - ember.lgamma(self.concentration))

    def entropy(self):
        return (self.concentration - ember.log(self.rate) + ember.lgamma(self.concentration)
                + (1.0 - self.concentration) * ember.digamma(self.concentration))

    @property
    def _natural_params(self):
        return self.concentration - 1, -self.rate

    def _log_normalizer(self, x, y):
        return ember.lgamma(x + 1) + (x + 1) * ember.log(-y.reciprocal())

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return _gammainc(self.concentration, self.rate * value)

"""The half-Cauchy distribution: ``|X|`` for a centred Cauchy ``X``."""
import math

import ember
from . import constraints
from ._folded import _Folded
from .cauchy import Cauchy

__all__ = ["HalfCauchy"]


class HalfCauchy(_Folded):
    """Distribution of ``|X|`` for ``X ~ Cauchy(0, scale)``.

    Args:
        scale (float or Tensor): scale of the underlying Cauchy (positive).
        validate_args (bool, optional): check arguments and values.
    """

    arg_constraints = {"scale": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, scale, validate_args=None):
        super().__init__(Cauchy(0, scale, validate_args=False), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return super().expand(batch_shape, _instance=self._get_checked_instance(HalfCauchy, _instance))

    @property
    def mean(self):
        return ember.full(self._extended_shape(), math.inf, dtype=self.scale.dtype, device=self.scale.device)

    @property
    def variance(self):
        return self.base_dist.variance

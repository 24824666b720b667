"""Parameter handling shared by several families: a probs-or-logits parameter, and delegation to a
wrapped Categorical or base distribution."""
from .utils import (_batch_shape_of, _check_probs_or_logits, broadcast_all, lazy_property, logits_to_probs,
                    probs_to_logits)


class _ProbsOrLogits:
    """Mixin for a distribution given either ``probs`` or ``logits`` (stored as ``_param``); the other
    is derived on first use. ``_is_binary`` says whether they are Bernoulli odds (sigmoid) or a
    distribution over the last dim (softmax)."""

    _is_binary = True

    def _set_probs_or_logits(self, probs, logits):
        """Store the given parameter (broadcast to a tensor); returns the batch shape it implies."""
        _check_probs_or_logits(probs, logits)
        raw = probs if probs is not None else logits
        (param,) = broadcast_all(raw)
        setattr(self, "probs" if probs is not None else "logits", param)
        self._param = param
        return _batch_shape_of((raw,), param)

    def _expand_probs_or_logits(self, cls, batch_shape, _instance, names=(), param_suffix=()):
        """``expand`` for these distributions: the stored parameter (and ``names``) expanded."""
        new = self._expanded(cls, batch_shape, _instance, ("probs", "logits") + tuple(names), param_suffix)
        new._param = new.probs if "probs" in self.__dict__ else new.logits
        return new

    def _new(self, *args, **kwargs):
        return self._param.new_empty(*args, **kwargs)

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=self._is_binary)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits, is_binary=self._is_binary)

    @property
    def param_shape(self):
        """The shape of the parameter the distribution was built from."""
        return self._param.size()


class _WrapsCategorical:
    """Mixin for distributions built on a ``Categorical`` kept as ``_categorical``."""

    def _new(self, *args, **kwargs):
        return self._categorical._new(*args, **kwargs)

    @property
    def _param(self):
        return self._categorical._param

    @property
    def param_shape(self):
        """The shape of the parameter the distribution was built from."""
        return self._categorical.param_shape

    @property
    def logits(self):
        return self._categorical.logits

    @property
    def probs(self):
        return self._categorical.probs

    def _expand_categorical(self, cls, batch_shape, _instance):
        """``expand`` for these distributions: the wrapped Categorical expanded."""
        new = self._expanded(cls, batch_shape, _instance, ())
        new._categorical = self._categorical.expand(batch_shape)
        return new


class _RelaxedFromBase:
    """Mixin for a relaxed distribution that transforms a base distribution holding the parameters."""

    @property
    def temperature(self):
        """The relaxation temperature."""
        return self.base_dist.temperature

    @property
    def logits(self):
        return self.base_dist.logits

    @property
    def probs(self):
        return self.base_dist.probs

"""``linear_cross_entropy``: a linear projection to logits followed by cross entropy."""
import math
import warnings

from ..._dtype import int64
from .linear import linear
from .loss import cross_entropy

__all__ = ["linear_cross_entropy"]


def _check_shapes(input, linear_weight, linear_bias):
    """Validate the shapes as torch does; return ``(num_classes, out_features)``."""
    if input.dim() < 1 or input.dim() > 2:
        raise RuntimeError(f"expected input with dimensionality 1 or 2, got {input.dim()}")
    if linear_weight.dim() < 2:
        raise RuntimeError(f"expected linear_weight with dimensionality at least 2, got {linear_weight.dim()}")
    in_features = input.shape[-1]
    if in_features != linear_weight.shape[-1]:
        raise RuntimeError("expected equal input and linear_weight last dimensions (in_features), "
                           f"got {in_features} and {linear_weight.shape[-1]}, respectively")
    num_classes = linear_weight.shape[0]
    out_features = tuple(linear_weight.shape[1:-1])
    if linear_bias is not None and tuple(linear_bias.shape) != (num_classes, *out_features):
        raise RuntimeError(f"expected linear_bias shape {(num_classes, *out_features)}, "
                           f"got {tuple(linear_bias.shape)}")
    if out_features and input.dim() == 1:
        raise RuntimeError(f"K-dimensional loss defined by linear_weight shape {tuple(linear_weight.shape)} requires"
                           f" batched input, (N, {in_features}), got unbatched input with shape {tuple(input.shape)}")
    return num_classes, out_features


def _warn_options_ignored(target, linear_bias, reduction, label_smoothing, out_features):
    """Torch's warning when ``options`` asks for the chunked path in a configuration it does not cover."""
    if not (out_features or reduction not in {"mean", "sum", "none"} or label_smoothing != 0.0
            or target.dtype != int64):
        return
    bias_shape = tuple(linear_bias.shape) if linear_bias is not None else None
    warnings.warn("linear_cross_entropy: ``options`` ignored; chunked path needs reduction in "
                  "{'mean','sum','none'}, label_smoothing == 0, target.dtype == int64, out_features == (). Got "
                  f"reduction={reduction!r}, label_smoothing={label_smoothing}, target.dtype={target.dtype}, "
                  f"out_features={out_features}, tracing=False, linear_bias.shape={bias_shape}.", stacklevel=3)


def linear_cross_entropy(input, linear_weight, target, *, linear_bias=None, weight=None, reduction="mean",
                         ignore_index=None, label_smoothing=0.0, options=None):
    """Cross entropy between ``linear(input, linear_weight, linear_bias)`` and ``target``.

    Args:
        input: (in_features) or (N, in_features).
        linear_weight: (C, in_features), or (C, d1, ..., dK, in_features) for a K-dimensional loss
            (needs batched input); the logits then have shape (N, C, d1, ..., dK).
        target: class indices (), (N) or (N, d1, ..., dK), or class probabilities shaped as the logits.
        linear_bias: (C) or (C, d1, ..., dK), matching ``linear_weight``.
        weight, reduction, label_smoothing: as in :func:`cross_entropy`.
        ignore_index: ``None`` means -100 for index targets; must stay ``None`` for probability targets.
        options: a :class:`~ember.nn.LinearCrossEntropyOptions` selecting torch's memory-saving chunked path;
            ember computes the same value either way (the chunking only changes peak memory).

    Returns:
        The loss: scalar, or shaped as the index target when ``reduction='none'``.
    """
    num_classes, out_features = _check_shapes(input, linear_weight, linear_bias)
    logits_shape = (*input.shape[:-1], num_classes, *out_features)
    # As cross_entropy, a target shaped like the logits holds class probabilities.
    if tuple(target.shape) == logits_shape and ignore_index is not None:
        raise RuntimeError("ignore_index cannot be specified when target contains probabilities")
    if ignore_index is None:
        ignore_index = -100
    if options is not None:
        _warn_options_ignored(target, linear_bias, reduction, label_smoothing, out_features)
    if out_features:
        flat = math.prod(out_features, start=num_classes)
        linear_weight = linear_weight.reshape((flat, input.shape[-1]))
        if linear_bias is not None:
            linear_bias = linear_bias.reshape(flat)
    logits = linear(input, linear_weight, linear_bias).reshape(logits_shape)
    return cross_entropy(logits, target, weight=weight, reduction=reduction, ignore_index=ignore_index,
                         label_smoothing=label_smoothing)

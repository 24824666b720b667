"""Normalisation: batch_norm, instance_norm, layer_norm, group_norm, rms_norm, local_response_norm, normalize."""
from ... import ops as _ops
from ...ops import normalization as _N
from ...ops.pnorm import pnorm as _pnorm

__all__ = ["batch_norm", "instance_norm", "layer_norm", "group_norm", "rms_norm", "local_response_norm",
           "normalize"]


def _verify_batch_size(size):
    size_prods = size[0]
    for i in range(len(size) - 2):
        size_prods *= size[i + 2]
    if size_prods == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {size}")


def _verify_spatial_size(size):
    size_prods = 1
    for i in range(2, len(size)):
        size_prods *= size[i]
    if size_prods == 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size {size}")


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Batch normalisation over all dims but the channel dim 1 (running statistics updated in training)."""
    if training:
        _verify_batch_size(input.size())
    return _N.batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5):
    """Normalise each channel of each sample over its spatial dims."""
    if use_input_stats:
        _verify_spatial_size(input.size())
    return _N.instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum, eps)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise over the trailing ``normalized_shape`` dims (with optional elementwise affine)."""
    return _N.layer_norm(input, normalized_shape, weight, bias, eps)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalise groups of channels of each sample (with optional per-channel affine)."""
    if input.dim() < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received {input.dim()}")
    _verify_batch_size([input.size(0) * input.size(1) // num_groups, num_groups] + list(input.size()[2:]))
    return _N.group_norm(input, num_groups, weight, bias, eps)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """``x / sqrt(mean(x^2 over the trailing dims) + eps) * weight`` (eps defaults to the dtype's eps)."""
    return _N.rms_norm(input, normalized_shape, weight, eps)


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """Normalise each element by the sum of squares over ``size`` neighbouring channels."""
    dim = input.dim()
    if dim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {dim} dimensions)")
    if input.numel() == 0:
        return input
    sq = input * input
    C = input.shape[1]
    before, after = size // 2, (size - 1) // 2
    pad_shape = list(input.shape)
    parts = []
    if before:
        pad_shape[1] = before
        parts.append(_ops.zeros(pad_shape, dtype=input.dtype, device=input.device))
    parts.append(sq)
    if after:
        pad_shape[1] = after
        parts.append(_ops.zeros(pad_shape, dtype=input.dtype, device=input.device))
    padded = _ops.cat(parts, 1) if len(parts) > 1 else sq
    div = padded.narrow(1, 0, C)
    for i in range(1, size):
        div = div + padded.narrow(1, i, C)
    div = (div * (alpha / size) + k).pow(beta)
    return input / div


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """``x / max(||x||_p, eps)`` along ``dim``."""
    denom = _pnorm(input, p, dim, True).clamp_min(eps).expand_as(input)
    if out is None:
        return input / denom
    return _ops.div(input, denom, out=out)

"""ember.cuda.amp: the deprecated CUDA spellings of the AMP API (``torch.cuda.amp``).

ember has no CUDA device, so -- as PyTorch on a machine without a GPU -- ``GradScaler()``
warns and disables itself (scale/step/update become pass-throughs) and ``autocast()`` warns and
leaves every op in its dtype.  Scripts written for CUDA mixed precision therefore run unchanged
on the CPU in full precision.
"""
import functools
import warnings

import ember
from ..amp import autocast_mode as _autocast_mode
from ..amp import grad_scaler as _grad_scaler

__all__ = ["GradScaler", "autocast", "custom_fwd", "custom_bwd", "amp_definitely_not_available"]


def amp_definitely_not_available():
    """True: ember has no CUDA, so CUDA AMP is never available."""
    return True


class GradScaler(_grad_scaler.GradScaler):
    """``torch.cuda.amp.GradScaler``: deprecated alias of ``ember.amp.GradScaler('cuda', ...)``.

    Without CUDA it warns and is disabled.  Arguments are those of
    :class:`ember.amp.GradScaler` without ``device``.
    """

    def __init__(self, init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5,
                 growth_interval=2000, enabled=True):
        warnings.warn("`torch.cuda.amp.GradScaler(args...)` is deprecated. Please use "
                      "`torch.amp.GradScaler('cuda', args...)` instead.", FutureWarning,
                      stacklevel=2)
        super().__init__("cuda", init_scale=init_scale, growth_factor=growth_factor,
                         backoff_factor=backoff_factor, growth_interval=growth_interval,
                         enabled=enabled)


class autocast(_autocast_mode.autocast):
    """``torch.cuda.amp.autocast``: deprecated alias of ``ember.autocast('cuda', ...)``.

    Without CUDA it warns and leaves autocast disabled.

    Args:
        enabled (bool): default True.
        dtype (ember.dtype): default float16.
        cache_enabled (bool): default True.
    """

    def __init__(self, enabled=True, dtype=None, cache_enabled=True):
        warnings.warn("`torch.cuda.amp.autocast(args...)` is deprecated. Please use "
                      "`torch.amp.autocast('cuda', args...)` instead.", FutureWarning,
                      stacklevel=2)
        super().__init__("cuda", enabled=enabled,
                         dtype=ember.float16 if dtype is None else dtype,
                         cache_enabled=cache_enabled)


def custom_fwd(fwd=None, *, cast_inputs=None):
    """Deprecated form of ``ember.amp.custom_fwd(device_type='cuda')``."""
    warnings.warn("`torch.cuda.amp.custom_fwd(args...)` is deprecated. Please use "
                  "`torch.amp.custom_fwd(args..., device_type='cuda')` instead.", FutureWarning,
                  stacklevel=2)
    return functools.partial(_autocast_mode.custom_fwd, device_type="cuda")(
        fwd=fwd, cast_inputs=cast_inputs)


def custom_bwd(bwd):
    """Deprecated form of ``ember.amp.custom_bwd(device_type='cuda')``."""
    warnings.warn("`torch.cuda.amp.custom_bwd(args...)` is deprecated. Please use "
                  "`torch.amp.custom_bwd(args..., device_type='cuda')` instead.", FutureWarning,
                  stacklevel=2)
    return functools.partial(_autocast_mode.custom_bwd, device_type="cuda")(bwd)

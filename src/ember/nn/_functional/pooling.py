"""Pooling: F.max_pool*, F.avg_pool*, F.adaptive_*_pool*, F.lp_pool*, F.max_unpool* (kernels in ``ember/ops/pool.py``)."""
from ...ops import pool as _P

__all__ = ["max_pool1d", "max_pool2d", "max_pool3d", "max_pool1d_with_indices", "max_pool2d_with_indices",
           "max_pool3d_with_indices", "avg_pool1d", "avg_pool2d", "avg_pool3d", "adaptive_avg_pool1d",
           "adaptive_avg_pool2d", "adaptive_avg_pool3d", "adaptive_max_pool1d", "adaptive_max_pool2d",
           "adaptive_max_pool3d", "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d_with_indices",
           "adaptive_max_pool3d_with_indices", "lp_pool1d", "lp_pool2d", "lp_pool3d", "max_unpool1d", "max_unpool2d",
           "max_unpool3d", "fractional_max_pool2d", "fractional_max_pool3d", "fractional_max_pool2d_with_indices",
           "fractional_max_pool3d_with_indices"]


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    """1-D max pooling returning (values, indices)."""
    return _P.max_pool(input, 1, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    """2-D max pooling returning (values, indices)."""
    return _P.max_pool(input, 2, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=False):
    """3-D max pooling returning (values, indices)."""
    return _P.max_pool(input, 3, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """1-D max pooling over (N, C, L) or (C, L); with ``return_indices`` also the argmax positions."""
    return _P.max_pool(input, 1, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """2-D max pooling over (N, C, H, W) or (C, H, W); ``stride`` defaults to ``kernel_size``.

    Indices (with ``return_indices``) are flat positions in each input plane, for ``max_unpool2d``.
    """
    return _P.max_pool(input, 2, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """3-D max pooling over (N, C, D, H, W) or (C, D, H, W)."""
    return _P.max_pool(input, 3, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """1-D average pooling over (N, C, L) or (C, L)."""
    return _P.avg_pool(input, 1, kernel_size, stride, padding, ceil_mode, count_include_pad)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """2-D average pooling over (N, C, H, W) or (C, H, W)."""
    return _P.avg_pool(input, 2, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """3-D average pooling over (N, C, D, H, W) or (C, D, H, W)."""
    return _P.avg_pool(input, 3, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)


def adaptive_avg_pool1d(input, output_size):
    """Average pooling to a fixed output length, whatever the input length."""
    return _P.adaptive_avg_pool(input, 1, output_size)


def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a fixed (H, W) output size (an int, a pair, or None entries to keep an input size)."""
    return _P.adaptive_avg_pool(input, 2, output_size)


def adaptive_avg_pool3d(input, output_size):
    """Average pooling to a fixed (D, H, W) output size."""
    return _P.adaptive_avg_pool(input, 3, output_size)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=False):
    return _P.adaptive_max_pool(input, 1, output_size, True)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=False):
    return _P.adaptive_max_pool(input, 2, output_size, True)


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=False):
    return _P.adaptive_max_pool(input, 3, output_size, True)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Max pooling to a fixed output length."""
    return _P.adaptive_max_pool(input, 1, output_size, return_indices)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max pooling to a fixed (H, W) output size."""
    return _P.adaptive_max_pool(input, 2, output_size, return_indices)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """Max pooling to a fixed (D, H, W) output size."""
    return _P.adaptive_max_pool(input, 3, output_size, return_indices)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling: ``(sum over the window of x ** p) ** (1 / p)``."""
    return _P.lp_pool(input, 1, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """2-D power-average pooling."""
    return _P.lp_pool(input, 2, norm_type, kernel_size, stride, ceil_mode)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """3-D power-average pooling."""
    return _P.lp_pool(input, 3, norm_type, kernel_size, stride, ceil_mode)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of max_pool1d: values put back at ``indices``, zeros elsewhere."""
    return _P.max_unpool(input, indices, 1, kernel_size, stride, padding, output_size)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of max_pool2d: values put back at ``indices``, zeros elsewhere."""
    return _P.max_unpool(input, indices, 2, kernel_size, stride, padding, output_size)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of max_pool3d."""
    return _P.max_unpool(input, indices, 3, kernel_size, stride, padding, output_size)


def _fractional(input, nd, kernel_size, output_size, output_ratio, return_indices, _random_samples):
    name = f"fractional_max_pool{nd}d"
    if output_size is None and output_ratio is None:
        raise ValueError(f"{name} requires specifying either an output_size or an output_ratio")
    if output_size is None:
        if len(output_ratio) > nd:  # a bare number raises TypeError here, as in PyTorch
            raise ValueError(f"{name} requires output_ratio to either be a single Int or tuple of Ints.")
        ratio = tuple(output_ratio) * nd if len(output_ratio) == 1 else tuple(output_ratio)
        output_size = [int(input.size(-nd + a) * ratio[a]) for a in range(nd)]
    if _random_samples is None:
        from ...ops.random import rand
        n_batch = 1 if input.dim() == nd + 1 else input.size(0)
        _random_samples = rand(n_batch, input.size(-nd - 1), nd, dtype=input.dtype)
    return _P.fractional_max_pool(input, nd, kernel_size, output_size, _random_samples, return_indices)


def fractional_max_pool2d_with_indices(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                                       _random_samples=None):
    """2-D fractional max pooling returning (values, indices)."""
    return _fractional(input, 2, kernel_size, output_size, output_ratio, True, _random_samples)


def fractional_max_pool3d_with_indices(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                                       _random_samples=None):
    """3-D fractional max pooling returning (values, indices)."""
    return _fractional(input, 3, kernel_size, output_size, output_ratio, True, _random_samples)


def fractional_max_pool2d(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                          _random_samples=None):
    """Fractional max pooling (Graham, 2014): max over ``kernel_size`` windows at pseudo-random starts, to a
    given ``output_size`` or ``output_ratio`` of the input size.  ``_random_samples`` (N, C, 2) in [0, 1) fixes
    the windows (default: fresh uniform samples from the global generator)."""
    return _fractional(input, 2, kernel_size, output_size, output_ratio, return_indices, _random_samples)


def fractional_max_pool3d(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                          _random_samples=None):
    """3-D fractional max pooling; ``_random_samples`` is (N, C, 3)."""
    return _fractional(input, 3, kernel_size, output_size, output_ratio, return_indices, _random_samples)

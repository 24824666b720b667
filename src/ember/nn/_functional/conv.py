"""F.conv1d/2d/3d, F.conv_transpose1d/2d/3d, F.unfold, F.fold (kernels in ``ember/ops/conv.py`` and ``pool.py``)."""
from ...ops.conv import conv1d, conv2d, conv3d, conv_transpose1d, conv_transpose2d, conv_transpose3d, conv_tbc
from ...ops.pool import im2col, col2im

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "conv_tbc", "unfold",
           "fold", "assert_int_or_pair"]


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Extract sliding local blocks (im2col): (N, C, H, W) -> (N, C * prod(kernel_size), L)."""
    return im2col(input, kernel_size, dilation, padding, stride)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Combine sliding local blocks into a tensor (col2im, summing overlaps): (N, C * prod(k), L) -> (N, C, *output_size)."""
    return col2im(input, output_size, kernel_size, dilation, padding, stride)


def assert_int_or_pair(arg, arg_name, message):
    """Raise ``AssertionError(message.format(arg_name))`` unless ``arg`` is an int or has length 2 (the check of
    ``kernel_size``-like arguments)."""
    if not (isinstance(arg, int) or len(arg) == 2):
        raise AssertionError(message.format(arg_name))

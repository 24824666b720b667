"""``torch.nn.grad``: the gradients of a convolution with respect to its input and to its weight.

Each is the backward of ``F.conv{1,2,3}d`` taken through autograd on a stand-in for the tensor whose gradient
is asked for, so the values are exactly those ``backward()`` of the convolution gives, and the result stays
differentiable in ``weight``/``input`` and ``grad_output`` when they require grad.
"""
from .. import autograd
from ..autograd.grad_mode import GradMode, enable_grad
from . import functional as F

__all__ = ["conv1d_input", "conv1d_weight", "conv2d_input", "conv2d_weight", "conv3d_input", "conv3d_weight"]


def _conv_grad(conv, wrt_input, given, size, grad_output, stride, padding, dilation, groups):
    """Differentiate ``conv(input, weight, ...)`` against ``grad_output`` with respect to the operand of shape
    ``size`` (the input when ``wrt_input``, else the weight); ``given`` is the other operand."""
    stand_in = grad_output.new_zeros(tuple(size)).requires_grad_()
    create_graph = GradMode.enabled and (given.requires_grad or grad_output.requires_grad)
    with enable_grad():
        operands = (stand_in, given) if wrt_input else (given, stand_in)
        out = conv(*operands, None, stride, padding, dilation, groups)
        return autograd.grad(out, stand_in, grad_output, create_graph=create_graph)[0]


def conv1d_input(input_size, weight, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """Gradient of ``F.conv1d`` with respect to its input.

    Args:
        input_size: shape of the input ``(N, C_in, L)``.
        weight: the convolution's weight ``(C_out, C_in / groups, kL)``.
        grad_output: gradient of the output ``(N, C_out, L_out)``.
        stride, padding, dilation, groups: as in ``F.conv1d``.

    Returns:
        Tensor of shape ``input_size``.
    """
    return _conv_grad(F.conv1d, True, weight, input_size, grad_output, stride, padding, dilation, groups)


def conv1d_weight(input, weight_size, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """Gradient of ``F.conv1d`` with respect to its weight: a tensor of shape ``weight_size``
    (``(C_out, C_in / groups, kL)``), given the convolution's ``input`` ``(N, C_in, L)``; the other arguments
    as in ``conv1d_input``."""
    return _conv_grad(F.conv1d, False, input, weight_size, grad_output, stride, padding, dilation, groups)


def conv2d_input(input_size, weight, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """Gradient of ``F.conv2d`` with respect to its input (``(N, C_in, H, W)``); arguments as ``conv1d_input``."""
    return _conv_grad(F.conv2d, True, weight, input_size, grad_output, stride, padding, dilation, groups)


def conv2d_weight(input, weight_size, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """Gradient of ``F.conv2d`` with respect to its weight (``(C_out, C_in / groups, kH, kW)``); arguments as
    ``conv1d_weight``."""
    return _conv_grad(F.conv2d, False, input, weight_size, grad_output, stride, padding, dilation, groups)


def conv3d_input(input_size, weight, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """Gradient of ``F.conv3d`` with respect to its input (``(N, C_in, D, H, W)``); arguments as
    ``conv1d_input``."""
    return _conv_grad(F.conv3d, True, weight, input_size, grad_output, stride, padding, dilation, groups)


def conv3d_weight(input, weight_size, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """Gradient of ``F.conv3d`` with respect to its weight (``(C_out, C_in / groups, kD, kH, kW)``); arguments
    as ``conv1d_weight``."""
    return _conv_grad(F.conv3d, False, input, weight_size, grad_output, stride, padding, dilation, groups)

"""Fused activation functions of ``nn.functional`` (leaky_relu, elu/selu/celu, gelu, silu, mish, softplus,
hardtanh, hardswish, hardsigmoid, threshold, logsigmoid, softshrink, hardshrink, rrelu).

Each computes its forward in one pass over the input's array and records one node.
A backward running without a graph computes the derivative on arrays; under
``create_graph`` the smooth ones write it with ember ops, so double backward works
(the piecewise-linear ones have a constant derivative mask).  ``ember.<name>`` exists
only for the names PyTorch has at the top level (``torch.selu``, ``torch.threshold`` ...).
"""
import math

import numpy   # host float32 rounding of rrelu's bounds, as PyTorch

from ._common import array_module, Node, record, op, function, _make, GradMode
from ..kernels import activations as _ka
from ._floating import require_floating


def _mask(cond, like):
    """A constant tensor from a boolean array, in ``like``'s dtype."""
    return _make(cond.astype(like._data.dtype))


# ---------------------------------------------------------------------------- piecewise linear
class LeakyReluBackward0(Node):
    """Gradient of leaky_relu (and of eval-mode rrelu): 1 or the slope."""

    def backward(self, grad):
        x, = self.saved_tensors
        if not GradMode.enabled:
            return (_make(_ka.leaky_relu_backward(grad._data, x._data, self.slope)),)
        xp = array_module(x)
        return (grad * _make(xp.where(x._data > 0, 1, self.slope).astype(grad._data.dtype)),)


def leaky_relu(input, negative_slope=0.01):
    """``x`` where positive, ``negative_slope * x`` elsewhere."""
    require_floating(input, "leaky_relu_cpu")
    res = _make(_ka.leaky_relu_forward(input._data, negative_slope))
    record(res, LeakyReluBackward0, (input,), (input,), slope=negative_slope)
    return res


class HardtanhBackward0(Node):
    """Gradient of hardtanh: 1 strictly inside ``(lo, hi)``, else 0."""

    def backward(self, grad):
        x = self.saved_tensors[0]._data
        return (grad * _mask((x > self.lo) & (x < self.hi), grad),)


def hardtanh(input, min_val=-1.0, max_val=1.0):
    """``x`` clipped to ``[min_val, max_val]``."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    a = input._data
    if a.dtype.kind == "b":
        raise RuntimeError("\"hardtanh_cpu\" not implemented for 'Bool'")
    res = _make(array_module(input).clip(a, min_val, max_val).astype(a.dtype, copy=False))
    record(res, HardtanhBackward0, (input,), (input,), lo=min_val, hi=max_val)
    return res


class ThresholdBackward0(Node):
    """Gradient of threshold: 1 where ``x > threshold``, else 0."""

    def backward(self, grad):
        return (grad * _mask(self.saved_tensors[0]._data > self.threshold, grad),)


@function(inplace_function=True)
def threshold(input, threshold, value):
    """``x`` where ``x > threshold``, ``value`` elsewhere (same shape and dtype as ``input``)."""
    a = input._data
    xp = array_module(input)
    res = _make(xp.where(a > threshold, a, xp.asarray(value, dtype=a.dtype)))
    record(res, ThresholdBackward0, (input,), (input,), threshold=threshold)
    return res


class SoftshrinkBackward0(Node):
    """Gradient of softshrink: 1 where ``|x| > lambd``, else 0."""

    def backward(self, grad):
        x = self.saved_tensors[0]._data
        return (grad * _mask(array_module(grad).abs(x) > self.lambd, grad),)


class HardshrinkBackward0(SoftshrinkBackward0):
    """Same mask as softshrink's: 1 where ``|x| > lambd``."""


def softshrink(input, lambd=0.5):
    """``x - lambd`` above ``lambd``, ``x + lambd`` below ``-lambd``, 0 between."""
    if lambd < 0:
        raise RuntimeError(f"lambda must be greater or equal to 0, but found to be {lambd}.")
    a = input._data
    t = a.dtype.type
    xp = array_module(input)
    r = xp.where(a > lambd, a - t(lambd), xp.where(a < -lambd, a + t(lambd), t(0)))
    res = _make(r.astype(a.dtype, copy=False))
    record(res, SoftshrinkBackward0, (input,), (input,), lambd=lambd)
    return res


@op
def hardshrink(input, lambd=0.5):
    """``x`` where ``|x| > lambd``, 0 elsewhere (same shape and dtype as ``input``)."""
    a = input._data
    xp = array_module(input)
    res = _make(xp.where(xp.abs(a) > lambd, a, a.dtype.type(0)))
    record(res, HardshrinkBackward0, (input,), (input,), lambd=lambd)
    return res


@op
def prelu(input, weight):
    """``x`` where ``x > 0``, ``weight * x`` elsewhere; ``weight`` holds one slope, or one per channel (dim 1) of
    an input with at least 2 dims."""
    from .elementwise import where
    n = weight.numel()
    if input.dim() == 0 or n == 1:
        w = weight.reshape(())
    else:
        channels = input.shape[1] if input.dim() >= 2 else 1
        if n != channels:
            raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found parameter numbers = {n} "
                               f"and channel size = {channels}.")
        w = weight.reshape((1, n) + (1,) * (input.dim() - 2))
    return where(input > 0, input, w * input)


class RreluWithNoiseBackward0(Node):
    """Gradient of training-mode rrelu: the per-element slopes drawn in forward."""

    def backward(self, grad):
        g = grad * self.noise   # half types: float32 slopes, the product rounded back as in forward
        return (g if g.dtype == grad.dtype else g.to(grad.dtype),)


@function(inplace_function=True)
def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, generator=None):
    """Randomized leaky ReLU: slope drawn from U(lower, upper) per element in training, ``(lower+upper)/2`` in eval."""
    if not training:
        return leaky_relu(input, (lower + upper) / 2)
    from ..random import generator_for
    a = input._data
    if a.dtype == numpy.float16:
        raise NotImplementedError('"rrelu_with_noise_out_cpu" not implemented for \'Half\'')
    xp = array_module(input)
    # PyTorch's draws: one 53-bit uniform per element <= 0, in C order, mapped to [lower, upper) with the bounds
    # rounded to float32
    negative = a <= 0
    u = xp.asarray(generator_for(generator).uniform_double(int(negative.sum())))
    wide = a.dtype == numpy.float64
    low, high = (lower, upper) if wide else (float(numpy.float32(lower)), float(numpy.float32(upper)))
    noise = xp.ones(a.shape, dtype=a.dtype if wide else numpy.float32)   # half types: float32 slopes
    noise[negative] = u * (high - low) + low
    res = _make((a * noise).astype(a.dtype, copy=False))
    record(res, RreluWithNoiseBackward0, (input,), noise=_make(noise))
    return res


# ---------------------------------------------------------------------------- exponential linear units
class EluBackward0(Node):
    """Gradient of elu, selu and celu (``scale``, ``alpha``, ``input_scale`` say which)."""

    def backward(self, grad):
        x, = self.saved_tensors
        if GradMode.enabled:   # double backward: d/dx of alpha*scale*exp(x*input_scale)
            from .elementwise import where
            neg = (x * self.input_scale).exp() * (self.alpha * self.scale * self.input_scale)
            return (grad * where(_make(x._data > 0), self.scale, neg),)
        return (_make(_ka.elu_backward(grad._data, x._data, self.alpha, self.scale, self.input_scale)),)


def _elu_family(input, alpha, scale, input_scale, grad_input_scale=None):
    """``scale * x`` where positive, ``alpha * scale * (exp(x * input_scale) - 1)`` elsewhere.
    ``grad_input_scale``: the input scale backward uses, when it differs (celu's float32 reciprocal)."""
    require_floating(input, "elu")
    res = _make(_ka.elu_forward(input._data, alpha, scale, input_scale))
    node = record(res, EluBackward0, (input,), (input,))
    if node is not None:
        node.alpha, node.scale = alpha, scale
        node.input_scale = input_scale if grad_input_scale is None else grad_input_scale
    return res


def elu(input, alpha=1.0):
    """``x`` where positive, ``alpha * (exp(x) - 1)`` elsewhere."""
    return _elu_family(input, alpha, 1.0, 1.0)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


@function(inplace_function=True)
def selu(input):
    """``scale * elu(x, alpha)`` with the self-normalising constants."""
    return _elu_family(input, _SELU_ALPHA, _SELU_SCALE, 1.0)


@function(inplace_function=True)
def celu(input, alpha=1.0):
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``."""
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError")
    # PyTorch's backward uses 1 / float32(alpha) as the input scale
    return _elu_family(input, alpha, 1.0, 1.0 / alpha, 1.0 / float(array_module(input).float32(alpha)))


# ---------------------------------------------------------------------------- gelu
class GeluBackward0(Node):
    """Gradient of gelu (exact or tanh-approximated): the fused kernel on arrays, ember ops under create_graph."""

    def backward(self, grad):
        x, = self.saved_tensors
        if not GradMode.enabled:
            return (_make(_ka.gelu_backward(grad._data, x._data, self.approximate)),)
        if self.approximate == "tanh":
            inner = (x + x * x * x * _ka.TANH_CUBIC) * _ka.SQRT_2_OVER_PI
            t = inner.tanh()
            dinner = (x * x * (3 * _ka.TANH_CUBIC) + 1) * _ka.SQRT_2_OVER_PI
            return (grad * ((t + 1) * 0.5 + x * 0.5 * (1 - t * t) * dinner),)
        from .special_math import erf
        cdf = (erf(x * (1 / math.sqrt(2.0))) + 1) * 0.5
        pdf = (x * x * -0.5).exp() * _ka.INV_SQRT_2PI
        return (grad * (cdf + x * pdf),)


def gelu(input, approximate="none"):
    """``x * Phi(x)`` (Phi the standard normal CDF), or its tanh approximation with ``approximate='tanh'``."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    require_floating(input, "GeluKernelImpl")
    res = _make(_ka.gelu_forward(input._data, approximate))
    record(res, GeluBackward0, (input,), (input,), approximate=approximate)
    return res


# ---------------------------------------------------------------------------- sigmoid-shaped
class SiluBackward0(Node):
    """Gradient of silu: ``s * (1 + x * (1 - s))`` with ``s = sigmoid(x)`` (the fused kernel on arrays)."""

    def backward(self, grad):
        x, = self.saved_tensors
        if GradMode.enabled:
            s = x.sigmoid()
            return (grad * (s * (1 + x * (1 - s))),)
        return (_make(_ka.silu_backward(grad._data, x._data)),)


def silu(input):
    """``x * sigmoid(x)``."""
    require_floating(input, "silu")
    res = _make(_ka.silu_forward(input._data))
    record(res, SiluBackward0, (input,), (input,))
    return res


class SoftplusBackward0(Node):
    """Gradient of softplus: ``sigmoid(beta * x)``, 1 above the threshold."""

    def backward(self, grad):
        x, = self.saved_tensors
        if GradMode.enabled:
            from .elementwise import where
            z = x * self.beta
            return (grad * where(z > self.threshold, 1.0, z.sigmoid()),)
        return (_make(_ka.softplus_backward(grad._data, x._data, self.beta, self.threshold)),)


def softplus(input, beta=1.0, threshold=20.0):
    """``log(1 + exp(beta * x)) / beta``, linear where ``beta * x > threshold``."""
    require_floating(input, "softplus")
    res = _make(_ka.softplus_forward(input._data, beta, threshold))
    record(res, SoftplusBackward0, (input,), (input,), beta=beta, threshold=threshold)
    return res


class MishBackward0(Node):
    """Gradient of mish."""

    def backward(self, grad):
        x, = self.saved_tensors
        if GradMode.enabled:
            tsp = softplus(x).tanh()
            return (grad * (tsp + x * x.sigmoid() * (1 - tsp * tsp)),)
        return (_make(_ka.mish_backward(grad._data, x._data)),)


def mish(input):
    """``x * tanh(softplus(x))``."""
    require_floating(input, "mish")
    res = _make(_ka.mish_forward(input._data))
    record(res, MishBackward0, (input,), (input,))
    return res


class LogSigmoidBackward0(Node):
    """Gradient of logsigmoid: ``sigmoid(-x)``."""

    def backward(self, grad):
        x, = self.saved_tensors
        if GradMode.enabled:
            return (grad * (-x).sigmoid(),)
        return (grad * _make(_ka.logistic(-x._data)),)


def logsigmoid(input):
    """``log(sigmoid(x))``, computed as ``min(x, 0) - log1p(exp(-|x|))``."""
    require_floating(input, "log_sigmoid_forward")
    a = input._data
    xp = array_module(input)
    res = _make(xp.minimum(a, 0) - xp.log1p(xp.exp(-xp.abs(a))))
    record(res, LogSigmoidBackward0, (input,), (input,))
    return res


class HardswishBackward0(Node):
    """Gradient of hardswish: 0 up to -3, ``x / 3 + 1/2`` below 3, 1 from 3 (PyTorch's CPU kernel's ends)."""

    def backward(self, grad):
        a = self.saved_tensors[0]._data
        if not GradMode.enabled:
            return (_make(_ka.hardswish_backward(grad._data, a)),)
        return (grad * _make(_ka.hardswish_derivative(a)),)


def hardswish(input):
    """``x * relu6(x + 3) / 6``."""
    require_floating(input, "hardswish_cpu")
    res = _make(_ka.hardswish_forward(input._data))
    record(res, HardswishBackward0, (input,), (input,))
    return res


class HardsigmoidBackward0(Node):
    """Gradient of hardsigmoid: 1/6 strictly inside ``(-3, 3)``, else 0."""

    def backward(self, grad):
        x = self.saved_tensors[0]._data
        if not GradMode.enabled:
            return (_make(_ka.hardsigmoid_backward(grad._data, x)),)
        return (grad * _mask((x > -3) & (x < 3), grad) * 0.1666666716337204,)   # PyTorch's float(1/6f)


def hardsigmoid(input):
    """``relu6(x + 3) / 6``."""
    require_floating(input, "hardsigmoid_cpu")
    res = _make(_ka.hardsigmoid_forward(input._data))
    record(res, HardsigmoidBackward0, (input,), (input,))
    return res

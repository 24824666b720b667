"""Activation functions: relu family, sigmoid family, softmax family, gumbel_softmax."""
import warnings

from ... import ops as _ops
from ...ops import activations as _A
from ...ops.softmax_ops import softmax as _softmax, log_softmax as _log_softmax
from ...ops._common import inplace as _inplace

__all__ = ["threshold", "threshold_", "relu", "relu_", "hardtanh", "hardtanh_", "relu6", "elu", "elu_", "selu",
           "selu_", "celu", "celu_", "leaky_relu", "leaky_relu_", "prelu", "rrelu", "rrelu_", "glu", "gelu",
           "logsigmoid", "hardshrink", "tanhshrink", "softsign", "softplus", "softmin", "softmax", "gumbel_softmax",
           "log_softmax", "softshrink", "tanh", "sigmoid", "hardsigmoid", "silu", "mish", "hardswish"]


def _named_inplace(op, name):
    f = _inplace(op)
    f.__name__ = f.__qualname__ = name
    return f


_hardtanh_ = _named_inplace(_A.hardtanh, "hardtanh_")
_elu_ = _named_inplace(_A.elu, "elu_")
_leaky_relu_ = _named_inplace(_A.leaky_relu, "leaky_relu_")
_silu_ = _named_inplace(_A.silu, "silu_")
_mish_ = _named_inplace(_A.mish, "mish_")
_hardswish_ = _named_inplace(_A.hardswish, "hardswish_")
_hardsigmoid_ = _named_inplace(_A.hardsigmoid, "hardsigmoid_")


def threshold(input, threshold, value, inplace=False):
    """``x`` where ``x > threshold``, else ``value``."""
    return _ops.threshold_(input, threshold, value) if inplace else _A.threshold(input, threshold, value)


threshold_ = _ops.threshold_


def relu(input, inplace=False):
    """``max(0, x)`` elementwise."""
    return input.relu_() if inplace else _ops.relu(input)


relu_ = _ops.relu_


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """``x`` clipped to ``[min_val, max_val]``."""
    return _hardtanh_(input, min_val, max_val) if inplace else _A.hardtanh(input, min_val, max_val)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    return _hardtanh_(input, min_val, max_val)


def relu6(input, inplace=False):
    """``min(max(0, x), 6)``."""
    return hardtanh(input, 0.0, 6.0, inplace)


def elu(input, alpha=1.0, inplace=False):
    """``x`` if ``x > 0`` else ``alpha * (exp(x) - 1)``."""
    return _elu_(input, alpha) if inplace else _A.elu(input, alpha)


def elu_(input, alpha=1.0):
    return _elu_(input, alpha)


def selu(input, inplace=False):
    """``scale * (max(0, x) + min(0, alpha * (exp(x) - 1)))`` with the SELU constants."""
    return _ops.selu_(input) if inplace else _A.selu(input)


selu_ = _ops.selu_


def celu(input, alpha=1.0, inplace=False):
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``."""
    return _ops.celu_(input, alpha) if inplace else _A.celu(input, alpha)


celu_ = _ops.celu_


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """``x`` if ``x > 0`` else ``negative_slope * x``."""
    return _leaky_relu_(input, negative_slope) if inplace else _A.leaky_relu(input, negative_slope)


def leaky_relu_(input, negative_slope=0.01):
    return _leaky_relu_(input, negative_slope)


prelu = _A.prelu


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Randomized leaky ReLU (random negative slope in training, the mean slope in eval)."""
    return _ops.rrelu_(input, lower, upper, training) if inplace else _A.rrelu(input, lower, upper, training)


rrelu_ = _ops.rrelu_


def glu(input, dim=-1):
    """Gated linear unit: ``a * sigmoid(b)`` where ``a, b`` are the halves of ``input`` along ``dim``."""
    if input.dim() == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = dim % input.dim()
    size = input.shape[d]
    if size % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size {size}")
    a, b = input.split(size // 2, d)
    return a * b.sigmoid()


def gelu(input, approximate="none"):
    """``x * Phi(x)``; ``approximate='tanh'`` uses the tanh approximation."""
    return _A.gelu(input, approximate)


def logsigmoid(input):
    """``log(sigmoid(x))``, computed stably."""
    return _A.logsigmoid(input)


def hardshrink(input, lambd=0.5):
    """``x`` where ``|x| > lambd``, else 0."""
    return _A.hardshrink(input, lambd)


def tanhshrink(input):
    """``x - tanh(x)``."""
    return input - input.tanh()


def softsign(input):
    """``x / (1 + |x|)``."""
    return input / (input.abs() + 1)


def softplus(input, beta=1.0, threshold=20.0):
    """``log(1 + exp(beta * x)) / beta`` (linear above ``threshold``)."""
    return _A.softplus(input, beta, threshold)


def _get_softmax_dim(name, ndim, stacklevel):
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X as "
                  "an argument.", stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """``softmax(-x, dim)``."""
    if dim is None:
        dim = _get_softmax_dim("softmin", input.dim(), _stacklevel)
    if dtype is not None:
        input = input.to(dtype)
    return _softmax(-input, dim)


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """``exp(x_i) / sum_j exp(x_j)`` along ``dim``."""
    if dim is None:
        dim = _get_softmax_dim("softmax", input.dim(), _stacklevel)
    return _softmax(input, dim, dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """``log(softmax(x))`` along ``dim``, computed stably."""
    if dim is None:
        dim = _get_softmax_dim("log_softmax", input.dim(), _stacklevel)
    return _log_softmax(input, dim, dtype)


def gumbel_softmax(logits, tau=1, hard=False, eps=1e-10, dim=-1):
    """Sample from the Gumbel-softmax distribution; with ``hard`` the sample is one-hot in forward and
    differentiable as the soft sample in backward (straight-through)."""
    if eps != 1e-10:
        warnings.warn("`eps` parameter is deprecated and has no effect.", stacklevel=2)
    gumbels = -_ops.empty_like(logits).exponential_().log()
    gumbels = (logits + gumbels) / tau
    y_soft = _softmax(gumbels, dim)
    if hard:
        index = y_soft.max(dim, keepdim=True)[1]
        y_hard = _ops.zeros_like(logits).scatter(dim, index, 1.0)
        return y_hard - y_soft.detach() + y_soft
    return y_soft


def softshrink(input, lambd=0.5):
    """``x - lambd`` above ``lambd``, ``x + lambd`` below ``-lambd``, else 0."""
    return _A.softshrink(input, lambd)


def tanh(input):
    """Elementwise tanh (kept for old code; same as ``ember.tanh``)."""
    return input.tanh()


def sigmoid(input):
    """Elementwise logistic sigmoid (kept for old code; same as ``ember.sigmoid``)."""
    return input.sigmoid()


def hardsigmoid(input, inplace=False):
    """``relu6(x + 3) / 6``."""
    return _hardsigmoid_(input) if inplace else _A.hardsigmoid(input)


def silu(input, inplace=False):
    """``x * sigmoid(x)`` (swish)."""
    return _silu_(input) if inplace else _A.silu(input)


def mish(input, inplace=False):
    """``x * tanh(softplus(x))``."""
    return _mish_(input) if inplace else _A.mish(input)


def hardswish(input, inplace=False):
    """``x * relu6(x + 3) / 6``."""
    return _hardswish_(input) if inplace else _A.hardswish(input)

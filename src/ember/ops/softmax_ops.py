"""The softmax family: ``softmax`` and ``log_softmax`` over one dim, computed stably, with their gradients.

The arithmetic runs in ``kernels/softmax.py`` over the ``(before, n, after)`` view of the input.
"""
import math

from ..kernels import softmax as _ks
from ._common import array_module, Node, record, op, _make, wrap_dim, GradMode
from ._floating import require_floating


def around_dim(shape, d):
    """``shape`` as ``(prod(shape[:d]), shape[d], prod(shape[d+1:]))``: the layout of the softmax kernels."""
    return (math.prod(shape[:d]), shape[d], math.prod(shape[d + 1:]))


class SoftmaxBackward0(Node):
    """Gradient of softmax from its saved output: ``r * (g - (g * r).sum(dim))``."""

    def backward(self, grad):
        r = self.result()
        if self.dim is None:
            return (grad * 0,)
        if not GradMode.enabled:
            return (_make(_ks.softmax_backward(grad._data.reshape(self.x3), r._data.reshape(self.x3),
                                               False).reshape(r.shape)),)
        return (r * (grad - (grad * r).sum(self.dim, keepdim=True)),)


class LogSoftmaxBackward0(Node):
    """Gradient of log_softmax from its saved output: ``g - exp(r) * g.sum(dim)``."""

    def backward(self, grad):
        r = self.result()
        if self.dim is None:
            return (grad * 0,)
        if not GradMode.enabled:
            return (_make(_ks.softmax_backward(grad._data.reshape(self.x3), r._data.reshape(self.x3),
                                               True).reshape(r.shape)),)
        return (grad - r.exp() * grad.sum(self.dim, keepdim=True),)


def _softmax_family(input, dim, dtype, log, node_cls, kernel_name):
    if dtype is not None:
        input = input.to(dtype)
    require_floating(input, kernel_name)
    a = input._data
    d = wrap_dim(dim, a.ndim)
    if a.ndim == 0 or a.size == 0:  # a scalar's softmax is 1 (log: 0); an empty tensor has no max to subtract
        xp = array_module(input)
        res = _make(xp.zeros_like(a) if log else xp.ones_like(a))
        x3 = None
    else:
        x3 = around_dim(a.shape, d)
        res = _make(_ks.softmax_forward(a.reshape(x3), log).reshape(a.shape))
    node = record(res, node_cls, (input,), output=True)
    if node is not None:
        node.dim, node.x3 = (d if x3 is not None else None), x3
    return res


@op
def softmax(input, dim, dtype=None):
    """``exp(x) / exp(x).sum(dim)``, computed stably; ``dtype`` casts the input first.  Same shape as ``input``."""
    return _softmax_family(input, dim, dtype, False, SoftmaxBackward0, "softmax_lastdim_kernel_impl")


@op
def log_softmax(input, dim, dtype=None):
    """``log(softmax(x, dim))``, computed stably; ``dtype`` casts the input first.  Same shape as ``input``."""
    return _softmax_family(input, dim, dtype, True, LogSoftmaxBackward0, "log_softmax_lastdim_kernel_impl")

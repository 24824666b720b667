"""The softmax family: ``softmax`` and ``log_softmax`` over one dim, computed stably, with their gradients.

``log_softmax_array`` is also the first step of the fused cross-entropy loss.
"""
from ._common import module_of_array, Node, record, op, _make, wrap_dim
from ._floating import require_floating
from ._ieee import ignore_array_fp_errors


def _softmax_array(a, dim):
    """``exp(a) / exp(a).sum(dim)`` of an array, shifted by the max so nothing overflows."""
    xp = module_of_array(a)
    if a.ndim == 0:
        return xp.ones_like(a)
    with ignore_array_fp_errors(a):   # a row of -inf (or with inf) gives nan, as in PyTorch
        e = xp.exp(a - a.max(axis=dim, keepdims=True))
        e /= e.sum(axis=dim, keepdims=True)
    return e


def log_softmax_array(a, dim):
    """``log(softmax(a, dim))`` of an array, computed as ``a - max - log(sum(exp(a - max)))``."""
    xp = module_of_array(a)
    if a.ndim == 0:
        return xp.zeros_like(a)
    with ignore_array_fp_errors(a):
        s = a - a.max(axis=dim, keepdims=True)
        s -= xp.log(xp.exp(s).sum(axis=dim, keepdims=True))
    return s


class SoftmaxBackward0(Node):
    """Gradient of softmax from its saved output: ``r * (g - (g * r).sum(dim))``."""

    def backward(self, grad):
        r = self.result()
        if self.dim is None:
            return (grad * 0,)
        return (r * (grad - (grad * r).sum(self.dim, keepdim=True)),)


class LogSoftmaxBackward0(Node):
    """Gradient of log_softmax from its saved output: ``g - exp(r) * g.sum(dim)``."""

    def backward(self, grad):
        r = self.result()
        if self.dim is None:
            return (grad * 0,)
        return (grad - r.exp() * grad.sum(self.dim, keepdim=True),)


def _softmax_family(input, dim, dtype, array_fn, node_cls, kernel_name):
    if dtype is not None:
        input = input.to(dtype)
    require_floating(input, kernel_name)
    nd = input._data.ndim
    d = wrap_dim(dim, nd)
    res = _make(array_fn(input._data, d))
    node = record(res, node_cls, (input,), output=True)
    if node is not None:
        node.dim = d if nd else None
    return res


@op
def softmax(input, dim, dtype=None):
    """``exp(x) / exp(x).sum(dim)``, computed stably; ``dtype`` casts the input first.  Same shape as ``input``."""
    return _softmax_family(input, dim, dtype, _softmax_array, SoftmaxBackward0, "softmax_lastdim_kernel_impl")


@op
def log_softmax(input, dim, dtype=None):
    """``log(softmax(x, dim))``, computed stably; ``dtype`` casts the input first.  Same shape as ``input``."""
    return _softmax_family(input, dim, dtype, log_softmax_array, LogSoftmaxBackward0,
                           "log_softmax_lastdim_kernel_impl")

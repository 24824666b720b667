"""Dropout: elementwise, of whole channels (``feature_``), and the self-normalising ``alpha_`` variants.

Each draws its mask from the host generator (``ember.random``), multiplies once, and
records a node that multiplies the gradient by the same mask.  Each is ``ember.<name>`` with its in-place
form ``ember.<name>_`` (PyTorch's ``torch.dropout_`` ...).
"""
from ..kernels import dropout as _kd
from ._common import array_module, Node, record, op, inplace, _make
from ._floating import require_floating

_SELU_ALPHA_SCALED = 1.7580993408473766   # SELU's scale * alpha: the value alpha dropout sets dropped units to


class MulBackward0(Node):
    """Gradient of ``input * mask`` for a constant ``mask`` tensor."""

    def backward(self, grad):
        return (grad * self.mask,)


def _draws(xp, shape, dtype, generator=None):
    """Uniform draws on [0, 1) of ``shape`` from the host generator, in ``dtype`` (float32 for half types)."""
    from ..random import np_generator
    work = dtype if dtype.kind == "f" and dtype.itemsize >= 4 else "float32"   # (dtype.name is slow)
    return xp.asarray(np_generator(generator).random(shape, dtype=work))


def dropout_mask(xp, shape, p, dtype, generator=None):
    """An array of ``shape`` (module ``xp``, dtype ``dtype``): 0 with probability ``p``, else ``1 / (1 - p)``."""
    keep = _draws(xp, shape, dtype, generator) >= p   # drawn even for p=1: same stream
    if p >= 1:
        return xp.zeros(shape, dtype=dtype)
    return (keep * dtype.type(1.0 / (1.0 - p))).astype(dtype, copy=False)


def _apply_mask(input, mask_arr, result=None):
    """``input * mask_arr`` (or the already computed ``result``) with its node."""
    res = _make(input._data * mask_arr if result is None else result)
    node = record(res, MulBackward0, (input,))
    if node is not None:
        node.mask = _make(mask_arr)
    return res


def _function_with_inplace(fn):
    """Declare the dropout op ``fn`` as ``ember.<name>`` with the in-place form ``ember.<name>_``, which leaves
    ``input`` untouched (no version bump, no leaf check) when not training or ``p == 0``, as PyTorch's does."""
    derived = inplace(fn)

    def fn_(input, p, train):
        return derived(input, p, train) if train and p else input
    fn_.__name__ = fn_.__qualname__ = derived.__name__
    fn_.__doc__ = derived.__doc__
    return op(fn, method=False, inplace=fn_, inplace_function=True)


@_function_with_inplace
def dropout(input, p, train):
    """Zero each element with probability ``p`` and scale the rest by ``1/(1-p)`` (when ``train``)."""
    if not train or p == 0:
        return input
    require_floating(input, "bernoulli_tensor_cpu_p_")
    a = input._data
    # the mask and the product in one pass (kernels/dropout); the draws stay on the generator's stream
    y, mask = _kd.dropout_forward(a, _draws(array_module(input), a.shape, a.dtype), p)
    return _apply_mask(input, mask, y)


@_function_with_inplace
def feature_dropout(input, p, train):
    """Dropout of whole channels: one draw per (batch, channel), broadcast over the trailing dims."""
    if not train or p == 0:
        return input
    a = input._data
    shape = a.shape[:2] + (1,) * (a.ndim - 2)
    return _apply_mask(input, dropout_mask(array_module(input), shape, p, a.dtype))


def _alpha_dropout_family(input, p, train, feature):
    if not train or p == 0:
        return input
    if p == 1:
        return input * 0
    from ..random import np_generator
    a = input._data
    xp = array_module(input)
    shape = a.shape[:2] + (1,) * (a.ndim - 2) if feature else a.shape
    keep = xp.asarray(np_generator(None).random(shape) >= p).astype(a.dtype)
    alpha = _SELU_ALPHA_SCALED
    a_ = ((1 - p) * (1 + p * alpha ** 2)) ** -0.5
    b = (1 - keep) * (-alpha * a_) + alpha * a_ * p
    mult = keep * a_
    res = _make(a * mult + b.astype(a.dtype))
    node = record(res, MulBackward0, (input,))
    if node is not None:
        node.mask = _make(xp.broadcast_to(mult, a.shape).astype(a.dtype))
    return res


@_function_with_inplace
def alpha_dropout(input, p, train):
    """Dropout that keeps the self-normalising mean and variance (for SELU networks)."""
    return _alpha_dropout_family(input, p, train, False)


@_function_with_inplace
def feature_alpha_dropout(input, p, train):
    """Alpha dropout of whole channels."""
    return _alpha_dropout_family(input, p, train, True)

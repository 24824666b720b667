"""Dropout: elementwise, of whole channels (``feature_``), and the self-normalising ``alpha_`` variants.

Each draws its mask from the host generator (``ember.random``), multiplies once, and
records a node that multiplies the gradient by the same mask.  Each is ``ember.<name>`` with its in-place
form ``ember.<name>_`` (PyTorch's ``torch.dropout_`` ...).
"""
import math

import numpy   # host dtypes of the scale constants (PyTorch rounds them to float32)

from ..kernels import dropout as _kd
from ..random import generator_for
from ._common import array_module, Node, record, op, inplace, _make
from ._floating import require_floating

_SELU_ALPHA_SCALED = 1.7580993408473766   # SELU's scale * alpha: the value alpha dropout sets dropped units to


class MulBackward0(Node):
    """Gradient of ``input * mask`` for a constant ``mask`` tensor."""

    def backward(self, grad):
        return (grad * self.mask,)


def keep_mask(xp, shape, p, generator=None):
    """Which elements dropout keeps: a bool array of ``shape`` (module ``xp``), True where one of PyTorch's
    53-bit uniform draws is below ``1 - p`` (one draw per element, in C order); nothing is drawn for ``p >= 1``."""
    if p >= 1:
        return xp.zeros(shape, dtype=bool)
    gen = generator_for(generator)
    keep = gen.uniform_double(math.prod(shape)).reshape(shape) < (1.0 - p)
    return xp.asarray(keep)


def dropout_scale(p, dtype):
    """PyTorch's ``1 / (1 - p)`` for a ``dtype`` tensor: in double for float64, else float32 rounded to ``dtype``."""
    if p >= 1:
        return dtype.type(0)
    if dtype == numpy.float64:
        return dtype.type(1.0 / (1.0 - p))
    return dtype.type(numpy.float32(1) / numpy.float32(1.0 - p))


def dropout_mask(xp, shape, p, dtype, generator=None):
    """An array of ``shape`` (module ``xp``, dtype ``dtype``): 0 with probability ``p``, else ``1 / (1 - p)``,
    from PyTorch's draws."""
    return (keep_mask(xp, shape, p, generator) * dropout_scale(p, dtype)).astype(dtype, copy=False)


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
    # the mask and the product in one pass (kernels/dropout); which elements survive comes from the generator
    y, mask = _kd.dropout_forward(a, keep_mask(array_module(input), a.shape, p), dropout_scale(p, a.dtype))
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
    a = input._data
    xp = array_module(input)
    shape = a.shape[:2] + (1,) * (a.ndim - 2) if feature else a.shape
    keep = keep_mask(xp, shape, p)
    # PyTorch's affine map: a = 1/sqrt((alpha^2 p + 1)(1 - p)), dropped units set to -alpha*a + alpha*a*p; its
    # constants and each in-place step are rounded to the tensor's dtype (computed in float32, double for float64)
    dt = a.dtype
    acc = numpy.float64 if dt == numpy.float64 else numpy.float32
    alpha = _SELU_ALPHA_SCALED
    scale = 1.0 / math.sqrt((alpha * alpha * p + 1) * (1 - p)) if p < 1 else 0.0

    def rounded(v):
        return numpy.asarray(v).astype(dt).astype(acc)
    kept = keep.astype(acc)
    b = rounded(rounded((kept - acc(1)) * rounded(alpha * scale)) + rounded(alpha * scale * p))
    mult = rounded(kept * rounded(scale))
    res = _make((rounded(a.astype(acc) * mult) + b).astype(dt))
    mult = mult.astype(dt)
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

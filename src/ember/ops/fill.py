"""In-place writers: zero_, fill_, copy_ (the writes whose gradient replaces the tensor's history), and ``fill``,
fill_'s out-of-place form."""
import warnings

from ._checked import checked_scalar
from ._common import (Tensor, Node, array_module, record, method, op, function, scalar_value, unbroadcast,
                      check_inplace_leaf, _make)
from ._views import prepare, rebase
from ..kernels.pointwise import fill_large


def _written(self):
    """Bump the version; a write through a view also rewrites its base's history (see ops/_views.py)."""
    self._version[0] += 1
    if self._base is not None:
        rebase(self)
    return self


def _write(self, value, fill=False):
    """``self``'s elements from ``value`` (an array broadcast to them; with ``fill``, one real number)."""
    try:
        if fill:
            fill_large(self._data, value)
        else:
            self._data[...] = value
    except ValueError as exc:
        if "read-only" in str(exc):
            raise RuntimeError("unsupported operation: more than one element of the written-to tensor refers to a "
                               "single memory location. Please clone() the tensor before performing the "
                               "operation.") from None
        raise


def _drop_history(self):
    # the old values are overwritten, so the old graph no longer feeds this tensor
    if self._grad_fn is not None:
        self._grad_fn = None
        self._requires_grad = False
        self.__dict__.pop("_output_nr", None)


@op
def zero_(self):
    """Fill with zeros in place; returns self."""
    return fill_(self, 0)


class FillBackward(Node):
    """Gradient of ``fill_`` with a 0-d tensor value: the sum of the incoming gradient."""

    def backward(self, grad):
        return (grad.sum().reshape(self.shape).to(self.dtype),)


@op
def fill_(self, value):
    """Fill with ``value`` (a number or a 0-d tensor) in place; returns self."""
    check_inplace_leaf(self)
    if self._base is not None:
        prepare(self)
    if isinstance(value, Tensor):
        if value._data.ndim:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with "
                               f"{value._data.ndim} dimensions.")
        _write(self, value._data)
        _drop_history(self)
        record(self, FillBackward, (value,), shape=value.shape, dtype=value.dtype)
        return _written(self)
    v = scalar_value(value)
    if isinstance(v, complex):
        _write(self, v)
    else:
        _write(self, checked_scalar(v, self.dtype), fill=True)
    _drop_history(self)
    return _written(self)


class FillBackward0(Node):
    """Gradient of out-of-place ``fill`` with a number: none reaches the input (zeros)."""

    def backward(self, grad):
        from .creation import zeros_like
        return (zeros_like(grad),)


class FillBackward1(FillBackward0):
    """Gradient of out-of-place ``fill`` with a 0-d tensor value: zeros for the input, the sum for the value."""

    def backward(self, grad):
        return FillBackward0.backward(self, grad) + FillBackward.backward(self, grad)


@function
def fill(input, value):
    """A new tensor of ``input``'s shape and dtype holding ``value`` (a number or a 0-d tensor) everywhere."""
    with_value = isinstance(value, Tensor)
    res = _make(input._data.copy())
    from ..autograd.grad_mode import no_grad
    with no_grad():
        fill_(res, value)
    record(res, FillBackward1 if with_value else FillBackward0, (input, value) if with_value else (input,),
           shape=value.shape if with_value else None, dtype=value.dtype if with_value else None)
    return res


class CopyBackwards(Node):
    def backward(self, grad):
        g = unbroadcast(grad, self.src_shape)
        return (g.to(self.src_dtype) if g.dtype is not self.src_dtype else g,)


@method
def copy_(self, src, non_blocking=False):
    """Copy ``src`` (broadcast to this shape, cast to this dtype) into this tensor; returns self.

    Gradient flows to ``src``; this tensor's previous history is replaced.
    """
    check_inplace_leaf(self)
    if self._base is not None:
        prepare(self)
    if not isinstance(src, Tensor):
        raise TypeError(f"copy_(): argument 'src' (position 1) must be Tensor, not {type(src).__name__}")
    try:
        fits = array_module(self).broadcast_shapes(src._data.shape, self._data.shape) == self._data.shape
    except ValueError:
        fits = False
    if not fits:
        raise RuntimeError(f"The size of tensor a ({self._data.shape[-1] if self._data.ndim else 1}) must match the "
                           f"size of tensor b ({src._data.shape[-1] if src._data.ndim else 1}) at non-singleton "
                           f"dimension {max(self._data.ndim - 1, 0)}")
    if src._data.dtype.kind == "c" and self._data.dtype.kind != "c":
        warnings.warn("Casting complex values to real discards the imaginary part", UserWarning, stacklevel=2)
        _write(self, src._data.real)
    else:
        _write(self, src._data)
    _drop_history(self)
    record(self, CopyBackwards, (src,), src_shape=src._data.shape, src_dtype=src.dtype)
    return _written(self)

"""``MaskedTensor``: a tensor and a same-shaped bool mask that travel together (PyTorch's prototype).

Elements where the mask is False are "unspecified": elementwise ops leave them unspecified, reductions
skip them (through the functions of :mod:`ember.masked`) and ``to_tensor(value)`` fills them in.
Gradients flow through the data; a ``masked_tensor(..., requires_grad=True)`` is a leaf whose ``.grad``
is a MaskedTensor with the same mask.
"""
import warnings

import ember

from . import _ops

_PROTOTYPE_WARNING = ("The PyTorch API of MaskedTensors is in prototype stage and will change in the near future. "
                      "Please open a Github issue for features requests and see our documentation on the "
                      "torch.masked module for further information about the project.")


class MaskedTensor:
    """A tensor with a mask: ``MaskedTensor(data, mask, requires_grad=False)``.

    Args:
        data (Tensor): the values, any shape.
        mask (Tensor): bool, the shape of ``data``; True marks the specified elements.
        requires_grad (bool): make the data a leaf that accumulates ``.grad``.
    """

    def __init__(self, data, mask, requires_grad=False):
        warnings.warn(_PROTOTYPE_WARNING, UserWarning, stacklevel=2)
        if not isinstance(data, ember.Tensor) or not isinstance(mask, ember.Tensor):
            raise TypeError("data and mask must be Tensors")
        if mask.dtype != ember.bool:
            raise TypeError("mask must have dtype bool.")
        if tuple(data.shape) != tuple(mask.shape):
            raise ValueError("data.size() must equal mask.size()")
        if requires_grad:
            data = data.detach().requires_grad_()
        self._data, self._mask = data, mask

    # -- the parts -------------------------------------------------------------------------------------------
    def get_data(self):
        """The underlying values (unspecified elements hold whatever the data had there)."""
        return self._data

    def get_mask(self):
        """The bool mask: True where an element is specified."""
        return self._mask

    def to_tensor(self, value):
        """A plain Tensor with the unspecified elements set to ``value``."""
        return ember.where(self._mask, self._data, ember.tensor(value, dtype=self.dtype, device=self.device))

    shape = property(lambda self: self._data.shape, doc="The shape of the data.")
    dtype = property(lambda self: self._data.dtype, doc="The dtype of the data.")
    device = property(lambda self: self._data.device, doc="The device of the data.")
    ndim = property(lambda self: self._data.ndim, doc="The number of dims.")
    requires_grad = property(lambda self: self._data.requires_grad, doc="Whether the data requires grad.")

    def size(self, dim=None):
        """The shape, or the size of one dim."""
        return self._data.size() if dim is None else self._data.size(dim)

    def dim(self):
        """The number of dims."""
        return self._data.ndim

    @property
    def grad(self):
        """The gradient accumulated on the data, as a MaskedTensor with this mask (None before backward)."""
        g = self._data.grad
        return None if g is None else _wrap(g, self._mask)

    def backward(self, gradient=None, retain_graph=None, create_graph=False):
        """Backpropagate from this (usually 0-d) MaskedTensor through its data."""
        if isinstance(gradient, MaskedTensor):
            gradient = gradient.get_data()
        self._data.backward(gradient, retain_graph=retain_graph, create_graph=create_graph)

    def detach(self):
        """The same data and mask, cut from the graph."""
        return _wrap(self._data.detach(), self._mask)

    def __repr__(self):
        if self.ndim == 0:
            shown = f"{self._data.item():8.4f}" if self.dtype.is_floating_point else str(self._data.item())
            return f"MaskedTensor({shown}, {bool(self._mask.item())})"
        return "MaskedTensor(\n" + _format(self._data.tolist(), self._mask.tolist(), self.dtype, "  ") + "\n)"

    # -- reductions -----------------------------------------------------------------------------------------
    def _reduce(self, name, dim=None, keepdim=False, dtype=None):
        data = getattr(_ops, name)(self._data, dim, keepdim=keepdim, dtype=dtype, mask=self._mask)
        mask = self._mask.any() if dim is None else self._mask.any(dim=dim, keepdim=keepdim)
        if keepdim and dim is None:
            mask = mask.reshape([1] * self.ndim)
        return _wrap(data, mask)

    def sum(self, dim=None, keepdim=False, *, dtype=None):
        """Sum of the specified elements; the result is specified where any input was."""
        return self._reduce("sum", dim, keepdim, dtype)

    def mean(self, dim=None, keepdim=False, *, dtype=None):
        """Mean of the specified elements."""
        return self._reduce("mean", dim, keepdim, dtype)

    def prod(self, dim=None, keepdim=False, *, dtype=None):
        """Product of the specified elements."""
        return self._reduce("prod", dim, keepdim, dtype)

    def amax(self, dim=None, keepdim=False):
        """Maximum of the specified elements."""
        return self._reduce("amax", dim, keepdim)

    def amin(self, dim=None, keepdim=False):
        """Minimum of the specified elements."""
        return self._reduce("amin", dim, keepdim)

    def argmax(self, dim=None, keepdim=False):
        """Index of the largest specified element."""
        return self._reduce("argmax", dim, keepdim)

    def argmin(self, dim=None, keepdim=False):
        """Index of the smallest specified element."""
        return self._reduce("argmin", dim, keepdim)

    # -- elementwise ops ------------------------------------------------------------------------------------
    def _binary(self, name, other, reverse=False):
        if isinstance(other, MaskedTensor):
            if not bool(ember.equal(self._mask, other._mask)):
                raise ValueError("Input masks must match. If you need support for this, please open an issue on Github.")
            other = other._data
        a, b = (other, self._data) if reverse else (self._data, other)
        return _wrap(getattr(ember, name)(a, b), self._mask)


def _unary(name):
    def method(self):
        return _wrap(getattr(ember, name)(self._data), self._mask)
    method.__name__ = name
    method.__doc__ = f"``ember.{name}`` of the data; the mask is kept."
    return method


def _binary(name, reverse=False):
    def method(self, other):
        return self._binary(name, other, reverse)
    method.__doc__ = f"``ember.{name}`` of the data (masks of two MaskedTensors must be equal); the mask is kept."
    return method


for _name in ("abs", "neg", "exp", "expm1", "log", "log1p", "log2", "sqrt", "rsqrt", "sin", "cos", "tan", "tanh",
              "sigmoid", "relu", "sign", "floor", "ceil", "round", "square", "reciprocal", "logical_not",
              "isnan", "isinf", "isfinite"):
    setattr(MaskedTensor, _name, _unary(_name))
for _name, _operator in (("add", "__add__"), ("sub", "__sub__"), ("mul", "__mul__"), ("div", "__truediv__"),
                         ("pow", "__pow__"), ("eq", "__eq__"), ("ne", "__ne__"), ("lt", "__lt__"),
                         ("le", "__le__"), ("gt", "__gt__"), ("ge", "__ge__"), ("maximum", None), ("minimum", None),
                         ("logical_and", "__and__"), ("logical_or", "__or__")):
    setattr(MaskedTensor, _name, _binary(_name))
    if _operator:
        setattr(MaskedTensor, _operator, _binary(_name))
for _name, _operator in (("add", "__radd__"), ("sub", "__rsub__"), ("mul", "__rmul__"), ("div", "__rtruediv__")):
    setattr(MaskedTensor, _operator, _binary(_name, reverse=True))
MaskedTensor.__neg__ = MaskedTensor.neg
MaskedTensor.__abs__ = MaskedTensor.abs
MaskedTensor.__hash__ = object.__hash__
del _name, _operator


def _format(values, mask, dtype, indent):
    """Nested rows of ``values`` with unspecified elements shown as ``--``."""
    if not isinstance(values, list):
        if not mask:
            return "      --"
        return f"{values:8.4f}" if dtype.is_floating_point else f"{values:8}"
    if values and not isinstance(values[0], list):
        return indent + "[" + ", ".join(_format(v, k, dtype, "") for v, k in zip(values, mask)) + "]"
    rows = ",\n".join(_format(v, k, dtype, indent + "  ") for v, k in zip(values, mask))
    return f"{indent}[\n{rows}\n{indent}]"


def _wrap(data, mask):
    """A MaskedTensor from ``data`` and ``mask`` without the prototype warning (results of ops)."""
    out = MaskedTensor.__new__(MaskedTensor)
    out._data, out._mask = data, mask
    return out


def is_masked_tensor(obj, /):
    """True when ``obj`` is a MaskedTensor."""
    return isinstance(obj, MaskedTensor)


def masked_tensor(data, mask, requires_grad=False):
    """A new MaskedTensor leaf: ``data`` detached (and made to require grad when ``requires_grad``)."""
    if not isinstance(data, ember.Tensor) or not isinstance(mask, ember.Tensor):
        raise TypeError("data and mask must be Tensors")
    return MaskedTensor(data.detach(), mask, requires_grad)


def as_masked_tensor(data, mask):
    """A MaskedTensor over ``data`` itself: gradients flow back to ``data``."""
    return MaskedTensor(data, mask)

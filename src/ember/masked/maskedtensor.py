"""``MaskedTensor``: a tensor and a same-shaped bool mask that travel together (PyTorch's prototype).

Elements where the mask is False are "unspecified": elementwise ops leave them unspecified, reductions
skip them (through the functions of :mod:`ember.masked`) and ``to_tensor(value)`` fills them in.
Gradients flow through the data; a ``masked_tensor(..., requires_grad=True)`` is a leaf whose ``.grad``
is a MaskedTensor with the same mask.  The ops PyTorch's MaskedTensor supports (unary, binary, reductions,
views) are its methods and the MaskedTensor cases of the ``ember.<name>`` functions (``_optable.py``);
other Tensor methods raise TypeError, as PyTorch's dispatch does.
"""
import warnings

import ember

_PROTOTYPE_WARNING = ("The PyTorch API of MaskedTensors is in prototype stage and will change in the near future. "
                      "Please open a Github issue for features requests and see our documentation on the "
                      "torch.masked module for further information about the project.")
_DTYPES = ("float16", "float32", "float64", "bool", "int8", "int16", "int32", "int64")


class MaskedTensor:
    """A tensor with a mask: ``MaskedTensor(data, mask, requires_grad=False)``.

    Args:
        data (Tensor): the values, any shape; float16/32/64, bool or int8/16/32/64.
        mask (Tensor): bool, the shape of ``data``; True marks the specified elements.
        requires_grad (bool): make the data a leaf that accumulates ``.grad``.
    """

    def __init__(self, data, mask, requires_grad=False):
        if not isinstance(data, ember.Tensor):
            raise TypeError("data must be a Tensor")
        if not isinstance(mask, ember.Tensor):
            raise TypeError("mask must be a Tensor")
        warnings.warn(_PROTOTYPE_WARNING, UserWarning, stacklevel=2)
        if data.requires_grad:
            warnings.warn("It is not recommended to create a MaskedTensor with a tensor that requires_grad. "
                          "To avoid this, you can use data.detach().clone()", UserWarning, stacklevel=2)
        _validate(data, mask)
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
    layout = property(lambda self: self._data.layout, doc="The layout of the data.")
    ndim = property(lambda self: self._data.ndim, doc="The number of dims.")
    requires_grad = property(lambda self: self._data.requires_grad, doc="Whether the data requires grad.")
    is_sparse = False

    def size(self, dim=None):
        """The shape, or the size of one dim."""
        return self._data.size() if dim is None else self._data.size(dim)

    def dim(self):
        """The number of dims."""
        return self._data.ndim

    def numel(self):
        """The number of elements, specified or not."""
        return self._data.numel()

    def __len__(self):
        return len(self._data)

    def is_contiguous(self, *args, **kwargs):
        """Whether the data is contiguous (``Tensor.is_contiguous``'s arguments)."""
        return self._data.is_contiguous(*args, **kwargs)

    def item(self):
        """The value of a one-element MaskedTensor whose element is specified."""
        if not self._mask.item():
            raise ValueError("__torch_dispatch__, aten._local_scalar_dense.default: expected a mask tensor")
        return self._data.item()

    def __bool__(self):
        return bool(self.item())

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    # -- autograd -------------------------------------------------------------------------------------------
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

    def requires_grad_(self, requires_grad=True):
        """Make the data a leaf that requires grad (in place); returns self."""
        self._data.requires_grad_(requires_grad)
        return self

    # -- data-only ops: the mask is kept ----------------------------------------------------------------------
    def detach(self):
        """The same data and mask, cut from the graph."""
        return _wrap(self._data.detach(), self._mask)

    def clone(self, **kwargs):
        """A copy of the data (gradients flow back to this one) and of the mask (``Tensor.clone``'s options)."""
        return _wrap(self._data.clone(**kwargs), self._mask.clone(**kwargs))

    def contiguous(self, *args, **kwargs):
        """Contiguous data and mask (self when the data already is; ``Tensor.contiguous``'s arguments)."""
        if self._data.is_contiguous(*args, **kwargs):
            return self
        return _wrap(self._data.contiguous(*args, **kwargs), self._mask.contiguous(*args, **kwargs))

    def to(self, *args, **kwargs):
        """The data converted as ``Tensor.to`` converts it; the mask follows to the device and stays bool."""
        data = self._data.to(*args, **kwargs)
        return _wrap(data, self._mask.to(device=data.device))

    def _is_any_true(self):
        """Whether any specified element of a bool MaskedTensor is True, as a specified 0-d MaskedTensor."""
        if self.dtype != ember.bool:
            raise ValueError("__torch_dispatch__, aten._is_any_true.default: expected a boolean tensor")
        return _wrap((self._data & self._mask).any(), ember.tensor(True, device=self.device))

    def __getitem__(self, index):
        index = index.get_data() if isinstance(index, MaskedTensor) else index
        return _wrap(self._data[index], self._mask[index])

    def __repr__(self):
        if self.ndim == 0:
            value = self._data.item()
            shown = f"{value:8.4f}" if isinstance(value, float) else str(value)
            if not self._mask.item():
                shown = "--"
            return f"MaskedTensor({shown}, {bool(self._mask.item())})"
        text = _format(self._data.tolist(), self._mask.tolist())
        return "MaskedTensor(\n" + "\n".join("  " + line for line in text.split("\n")) + "\n)"

    def __getattr__(self, name):
        # Only reached for names MaskedTensor lacks: PyTorch's MaskedTensor is a Tensor whose dispatch refuses
        # the Tensor ops it has no rule for, with a TypeError.
        if not name.startswith("__") and hasattr(ember.Tensor, name):
            def refused(*args, **kwargs):
                raise TypeError(f"Multiple dispatch failed for '{name}'; all __torch_dispatch__ handlers returned "
                                f"NotImplemented:\n\n  - tensor subclass {MaskedTensor}")
            return refused
        raise AttributeError(f"'MaskedTensor' object has no attribute '{name}'")

    __hash__ = object.__hash__


def _validate(data, mask):
    """PyTorch's checks of a MaskedTensor's parts."""
    if mask.dtype != ember.bool:
        raise TypeError("mask must have dtype bool.")
    if str(data.dtype).split(".")[-1] not in _DTYPES:
        raise TypeError(f"{data.dtype} is not supported in MaskedTensor.")
    if data.dim() != mask.dim():
        raise ValueError("data.dim() must equal mask.dim()")
    if tuple(data.shape) != tuple(mask.shape):
        raise ValueError("data.size() must equal mask.size()")


def _format(values, mask):
    """Nested rows of ``values`` with unspecified elements shown as ``--`` (PyTorch's layout)."""
    if values and not isinstance(values[0], list):
        shown = [f"{v:8.4f}" if isinstance(v, float) else str(v) for v in values]
        width = max(8 if not m else len(s) for s, m in zip(shown, mask))
        return "[" + ", ".join(s if m else "--".rjust(width) for s, m in zip(shown, mask)) + "]"
    rows = [_format(v, m) for v, m in zip(values, mask)]
    rows = ["\n".join("  " + line for line in row.split("\n")) for row in rows]
    return "[\n" + ",\n".join(rows) + "\n]"


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

"""Tensor's remaining Python protocol names: the Python 2 spellings of division (``__div__``, ``__rdiv__``,
``__idiv__``, ``__long__``, ``__nonzero__``), in-place ``%=``/``<<=``/``>>=``, reflected shifts,
``reversed()``, ``del t[i]`` (refused, as in PyTorch), and DLPack exchange (``__dlpack__``,
``__dlpack_device__``, ``from_dlpack``, ``to_dlpack``) sharing memory with other array libraries."""
import enum

from ._common import Tensor, method, function, _make, backend_for
from .elementwise import div, reflected_div, bitwise_left_shift, bitwise_right_shift


@method(name="__div__")
def python2_div(input, other):
    """``input / other`` under its Python 2 name."""
    return div(input, other)


@method(name="__rdiv__")
def python2_rdiv(input, other):
    """``other / input`` under its Python 2 name."""
    return reflected_div(input, other)


def _inplace_by_name(method_name, doc):
    """A dunder forwarding to the in-place method ``method_name`` of the tensor."""
    def dunder(input, other):
        return getattr(input, method_name)(other)
    dunder.__doc__ = doc
    return dunder


for _dunder, _target, _doc in (("__idiv__", "div_", "``input /= other`` under its Python 2 name."),
                               ("__imod__", "remainder_", "``input %= other``."),
                               ("__ilshift__", "bitwise_left_shift_", "``input <<= other``."),
                               ("__irshift__", "bitwise_right_shift_", "``input >>= other``.")):
    method(_inplace_by_name(_target, _doc), name=_dunder)


@method(name="__rlshift__")
def reflected_lshift(input, other):
    """``other << input`` for a number ``other``."""
    return bitwise_left_shift(other, input)


@method(name="__rrshift__")
def reflected_rshift(input, other):
    """``other >> input`` for a number ``other``."""
    return bitwise_right_shift(other, input)


@method(name="__long__")
def python2_long(input):
    """``int(input)`` under its Python 2 name."""
    return int(input)


@method(name="__nonzero__")
def python2_nonzero(input):
    """``bool(input)`` under its Python 2 name."""
    return bool(input)


@method(name="__reversed__")
def reversed_tensor(input):
    """``reversed(t)``: ``t`` flipped along its first dim (a 0-d tensor itself)."""
    return input if input.dim() == 0 else input.flip(0)


@method(name="__delitem__")
def delete_item(input, key):
    """``del t[key]``: tensors have a fixed size, so this raises TypeError as in PyTorch."""
    raise TypeError("Tensor does not support deleting items")


# ---------------------------------------------------------------------------- DLPack
class DLDeviceType(enum.IntEnum):
    """DLPack's device codes (the ones ember's devices map to)."""

    kDLCPU = 1
    kDLCUDA = 2


@method(name="__dlpack_device__")
def dlpack_device(input):
    """``(device type, index)`` in DLPack's codes."""
    dev = input.device
    return (DLDeviceType.kDLCUDA, dev.index or 0) if dev.type == "cuda" else (DLDeviceType.kDLCPU, 0)


@method(name="__dlpack__")
def dlpack(input, *, stream=-1, max_version=None, dl_device=None, copy=None):
    """A DLPack capsule viewing this tensor's memory (for ``numpy.from_dlpack``, ``jax``...)."""
    if input.requires_grad:
        raise BufferError("Can't export tensors that require gradient, use tensor.detach()")
    data = input._data.copy() if copy else input._data
    kwargs = {} if max_version is None else {"max_version": max_version}
    try:
        return data.__dlpack__(**kwargs)
    except TypeError:   # an array library whose __dlpack__ predates the versioned protocol
        return data.__dlpack__()


class _Capsule:
    """Wraps a bare DLPack capsule in the ``__dlpack__`` protocol that array libraries import from."""

    def __init__(self, capsule):
        self.capsule = capsule

    def __dlpack__(self, **kwargs):
        return self.capsule

    def __dlpack_device__(self):
        return (DLDeviceType.kDLCPU, 0)


@function
def from_dlpack(ext_tensor):
    """A tensor sharing memory with ``ext_tensor``: any object with ``__dlpack__`` (a NumPy array, another
    framework's tensor) or a DLPack capsule."""
    if isinstance(ext_tensor, Tensor):
        return ext_tensor
    source = ext_tensor if hasattr(ext_tensor, "__dlpack__") else _Capsule(ext_tensor)
    return _make(backend_for("cpu").xp.from_dlpack(source))


@function
def to_dlpack(tensor):
    """A DLPack capsule of ``tensor``'s memory."""
    return dlpack(tensor)

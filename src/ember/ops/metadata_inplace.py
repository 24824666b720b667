"""In-place ops that change a tensor's shape, not its values: ``t_``, ``transpose_``/``swapaxes_``/``swapdims_``,
``squeeze_``, ``unsqueeze_`` (the tensor becomes that view of its own memory, and its history gets the view's
node), and ``resize_``/``resize_as_`` (new sizes over the same, or grown, memory; ``resize``/``resize_as`` are
their deprecated out-of-place forms, views of the same elements)."""
import warnings

from ..autograd.grad_mode import no_grad
from ._common import Tensor, Node, record, op, method, _make, module_of_array, check_inplace_leaf, GradMode
from .shape import squeeze, t, transpose, unsqueeze


class _ReshapeBack(Node):
    """Gradient of an in-place squeeze/unsqueeze: the gradient back in the old shape."""

    def backward(self, grad):
        return (grad.reshape(self.old_shape),)


class SqueezeBackward3(_ReshapeBack):
    """Gradient of ``squeeze_()``."""


class SqueezeBackward4(_ReshapeBack):
    """Gradient of ``squeeze_(dim)``."""


class SqueezeBackward5(_ReshapeBack):
    """Gradient of ``squeeze_(dims)``."""


class UnsqueezeBackward1(_ReshapeBack):
    """Gradient of ``unsqueeze_(dim)``."""


class TBackward1(Node):
    def backward(self, grad):
        return (grad.t(),)


class TransposeBackward1(Node):
    def backward(self, grad):
        return (grad.transpose(self.dim0, self.dim1),)


def _restride(self, view_of, node_cls, **fields):
    """Make ``self`` the view ``view_of(self)`` of its own memory; its history continues through ``node_cls``."""
    check_inplace_leaf(self)
    with no_grad():
        new = view_of(self)._data
    old = None
    if GradMode.enabled and self._requires_grad:
        old = _make(self._data)
        old._version, old._requires_grad, old._grad_fn = self._version, True, self._grad_fn
        if "_output_nr" in self.__dict__:
            old.__dict__["_output_nr"] = self.__dict__.pop("_output_nr")
    old_shape = tuple(self._data.shape)
    self._data = new
    self._version[0] += 1
    if old is not None:
        record(self, node_cls, (old,), old_shape=old_shape, **fields)
    return self


@method
def t_(input):
    """Transpose a tensor of at most 2 dims in place; returns it."""
    return _restride(input, t, TBackward1)


@method(aliases=("swapaxes_", "swapdims_"))
def transpose_(input, dim0, dim1):
    """Swap dims ``dim0`` and ``dim1`` in place; returns the tensor."""
    return _restride(input, lambda x: transpose(x, dim0, dim1), TransposeBackward1, dim0=dim0, dim1=dim1)


@method
def squeeze_(input, dim=None):
    """Remove size-1 dims in place (all of them, or those among ``dim``); returns the tensor."""
    node = SqueezeBackward3 if dim is None else SqueezeBackward5 if isinstance(dim, (tuple, list)) else \
        SqueezeBackward4
    return _restride(input, lambda x: squeeze(x, dim), node)


@method
def unsqueeze_(input, dim):
    """Insert a size-1 dim at ``dim`` in place; returns the tensor."""
    return _restride(input, lambda x: unsqueeze(x, dim), UnsqueezeBackward1)


def _sizes(args):
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    return tuple(int(s) for s in args)


@method
def resize_(input, *sizes, memory_format=None):
    """Give the tensor ``sizes``, keeping its first elements in row-major order; memory grows (new elements
    are uninitialized) when more elements are needed.  Returns the tensor."""
    if input._requires_grad and GradMode.enabled:
        raise RuntimeError("cannot resize variables that require grad")
    shape = _sizes(sizes)
    if any(s < 0 for s in shape):
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(shape)}: {list(shape)}")
    n = 1
    for s in shape:
        n *= s
    a = input._data
    if n <= a.size and a.flags.c_contiguous:   # the same memory, as PyTorch keeps a storage large enough
        new = a.reshape(-1)[:n].reshape(shape)
    else:
        new = module_of_array(a).empty(shape, dtype=a.dtype)
        m = min(n, a.size)
        new.reshape(-1)[:m] = a.reshape(-1)[:m]
    input._data = new
    input._version[0] += 1
    return input


@op
def resize_as_(input, the_template, *, memory_format=None):
    """``resize_`` to the shape of ``the_template``."""
    if not isinstance(the_template, Tensor):
        raise TypeError(f"resize_as_(): argument 'the_template' (position 1) must be Tensor, not "
                        f"{type(the_template).__name__}")
    return resize_(input, tuple(the_template.shape))


def _resized_copy(input, shape, what):
    warnings.warn(f"non-inplace {what} is deprecated", UserWarning, stacklevel=3)
    n = 1
    for s in shape:
        n *= s
    if n != input.numel():
        raise RuntimeError(f"requested resize to {'x'.join(str(s) for s in shape)} ({n} elements in total), but the "
                           f"given tensor has a size of {'x'.join(str(s) for s in input.shape)} ({input.numel()} "
                           f"elements). autograd's resize can only change the shape of a given tensor, while "
                           f"preserving the number of elements. ")
    return input.contiguous().view(shape)


@method
def resize(input, *sizes):
    """The deprecated out-of-place resize: ``input`` viewed with ``sizes`` (same number of elements)."""
    return _resized_copy(input, _sizes(sizes), "resize")


@method
def resize_as(input, tensor):
    """The deprecated out-of-place ``resize_as``: ``input`` viewed with ``tensor``'s shape."""
    return _resized_copy(input, tuple(tensor.shape), "resize_as")

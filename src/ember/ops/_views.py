"""Autograd for in-place writes through views (PyTorch's CopySlices) and for views whose base changed.

A view shares memory with its base.  When an in-place op writes into a view while grad is recorded,
the base's values change too, so the base's history must change: ``rebase`` gives the base a
``CopySlices`` node whose gradient sends the view region through the in-place op's node and the rest
straight to the base's old history.  A view whose base was modified afterwards by somebody else has a
stale history; ``refresh`` (called by ``edge_of`` when the shared version counter moved) re-derives it
from the base's current history, as PyTorch regenerates a view's grad_fn.
"""
from ..autograd.grad_mode import enable_grad
from ._common import Node, GradMode, _make, array_module, record
from .shape import positions_in, root_array


def view_positions(view):
    """For every entry of ``view``, the flat row-major index of the entry of its base at the same address."""
    item = view._data.itemsize
    _, off = root_array(view)          # relative to the root of view._base's memory
    return positions_in(view._base, view._data.shape, tuple(s // item for s in view._data.strides), off)


class CopySlices(Node):
    """Gradient of a base after an in-place op on one of its views: the view region goes to that op."""

    def backward(self, grad):
        flat = grad.reshape(-1)
        g_rest = (flat * self.keep).reshape(self.shape) if self.need_base else None
        g_view = flat.index_select(0, self.positions).reshape(self.view_shape)
        return g_rest, g_view


class ViewOfBaseBackward(Node):
    """A view's gradient mapped back into its base by address (the regenerated history of a stale view)."""

    def name(self):
        return "AsStridedBackward0"

    def backward(self, grad):
        z = grad.new_zeros((self.numel,))
        return (z.index_add(0, self.positions, grad.reshape(-1)).reshape(self.shape),)


def check_view_inplace(view):
    """PyTorch's errors for in-place ops on views (grad mode on): a view of a leaf that requires grad, one of
    several views returned by one function (split, unbind, ...), a view made under no_grad."""
    base = view._base
    if base is None or not GradMode.enabled or view.__dict__.get("_detached"):
        return
    if base._requires_grad and view.__dict__.get("_nograd_view") and not view._requires_grad:
        raise RuntimeError("A view was created in no_grad mode and is being modified inplace with grad mode enabled. "
                           "Given that this use case is ambiguous and error-prone, it is forbidden. You can clarify "
                           "your code by moving both the view and the inplace either both inside the no_grad block "
                           "(if you don't want the inplace to be tracked) or both outside (if you want the inplace "
                           "to be tracked).")
    if base._requires_grad and base._grad_fn is None:
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place operation.")
    fn = view._grad_fn
    if fn is not None and fn._num_outputs > 1 and view._vv is not None:
        name = fn.name()
        name = name[:-len("Backward0")] if name.endswith("Backward0") else name
        raise RuntimeError(f"Output {view._output_nr} of {name} is a view and is being modified inplace. This view "
                           "is the output of a function that returns multiple views. Such functions do not allow the "
                           "output views to be modified inplace. You should replace the inplace operation by an "
                           "out-of-place one.")


_MULTI_VIEW = (". This view is the output of a function that returns multiple views. Such functions do not allow "
               "the output views to be modified inplace. You should replace the inplace operation by an "
               "out-of-place one.")


def _multi_view_error(view, what):
    """PyTorch's error for an output of split/chunk/unbind whose memory changed while it has a history."""
    name = view._grad_fn.name()
    stem = name.rstrip("0123456789")
    if stem.endswith("Backward"):
        name = stem[:-len("Backward")]
    return RuntimeError(f"Output {view._output_nr} of {name} is a view and {what}{_MULTI_VIEW}")


def prepare(view):
    """Before an in-place op on ``view``: raise for a view of a leaf, and bring a stale history up to date."""
    check_view_inplace(view)
    fn = view._grad_fn
    if fn is not None and GradMode.enabled and getattr(fn, "_multi_view", False):
        raise _multi_view_error(view, "is being modified inplace")
    vv = view._vv
    if vv is not None and vv != view._version[0]:
        refresh(view)


def rebase(view):
    """After an in-place op wrote into ``view`` (whose history is now the op's node), update its base's history.

    Call after the data were written and the view's ``_grad_fn`` was set.
    """
    base = view._base
    if base is None or not GradMode.enabled or not (view._requires_grad or base._requires_grad) \
            or view.__dict__.get("_detached"):
        return
    check_view_inplace(view)
    pos = view_positions(view).reshape(-1)
    if bool((pos < 0).any()):
        return
    view.__dict__["_vv"] = view._version[0]
    keep = array_module(base).ones(base._data.size, dtype=bool)
    keep[pos] = False
    record(base, CopySlices, (base if base._requires_grad else None, view), keep=_make(keep), positions=_make(pos),
           shape=base._data.shape, view_shape=view._data.shape, need_base=base._requires_grad)
    base.__dict__.pop("_output_nr", None)


def refresh(t):
    """Re-derive the history of view ``t`` from its base when the base was written after ``t`` was made."""
    base = t._base
    fn = t._grad_fn
    if fn is not None and getattr(fn, "_multi_view", False):
        raise _multi_view_error(t, "its base or another view of its base has been modified inplace")
    t.__dict__["_vv"] = t._version[0]
    if base is None or not base._requires_grad:
        return
    with enable_grad():   # a view's regenerated history does not depend on the current grad mode
        record(t, ViewOfBaseBackward, (base,), positions=_make(view_positions(t).reshape(-1)),
               numel=base._data.size, shape=base._data.shape)
    t.__dict__.pop("_output_nr", None)

"""``Variable``: the pre-0.4 wrapper the seeds use.  A Variable is simply a Tensor."""
import warnings

from .grad_mode import AutogradFlags


class _VariableMeta(type):
    def __instancecheck__(cls, obj):
        from .._tensor import Tensor
        return isinstance(obj, Tensor)


class Variable(metaclass=_VariableMeta):
    """``Variable(tensor, requires_grad=False, volatile=False)`` returns a tensor sharing ``tensor``'s data.

    ``volatile=True`` keeps the seeds' meaning: nothing computed from the
    result requires grad, whatever else takes part (the modern spelling is
    ``with no_grad():``; a DeprecationWarning says so).
    """

    def __new__(cls, data=None, requires_grad=False, volatile=False):
        from .._tensor import Tensor, _make
        if data is None:
            from ..ops.creation import empty
            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        t = _make(data._data)
        t._version = data._version
        if volatile:
            warnings.warn("volatile was removed (Variable.volatile is always False); use `with torch.no_grad():` "
                          "instead. ember keeps its old meaning: results computed from this tensor do not "
                          "require grad.", DeprecationWarning, stacklevel=2)
            AutogradFlags.volatile_used = True
            t._requires_grad = True   # makes every op consult record(), which sees the volatile flag
            t.__dict__["_volatile"] = True
        elif requires_grad:
            t.requires_grad = True
        return t

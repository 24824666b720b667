"""Hook handles (``torch.utils.hooks``): what ``register_*_hook`` returns."""
import weakref
from collections import OrderedDict

__all__ = ["RemovableHandle", "unserializable_hook", "warn_if_has_hooks"]


class RemovableHandle:
    """A handle to a hook stored in one (or several) dicts keyed by the handle's ``id``.

    ``handle.remove()`` deletes the hook; the handle is also a context manager that removes it on exit.
    ``extra_dict`` names further dicts (e.g. the "with kwargs" flags) the same id is removed from.
    """

    id: int
    next_id: int = 0

    def __init__(self, hooks_dict, *, extra_dict=None):
        self.hooks_dict_ref = weakref.ref(hooks_dict)
        self.id = RemovableHandle.next_id
        RemovableHandle.next_id += 1
        self.extra_dict_ref = ()
        if isinstance(extra_dict, dict):
            self.extra_dict_ref = (weakref.ref(extra_dict),)
        elif isinstance(extra_dict, list):
            self.extra_dict_ref = tuple(weakref.ref(d) for d in extra_dict)

    def remove(self):
        hooks_dict = self.hooks_dict_ref()
        if hooks_dict is not None and self.id in hooks_dict:
            del hooks_dict[self.id]
        for ref in self.extra_dict_ref:
            d = ref()
            if d is not None and self.id in d:
                del d[self.id]

    def __getstate__(self):
        if self.extra_dict_ref:
            return (self.hooks_dict_ref(), self.id, tuple(r() for r in self.extra_dict_ref))
        return (self.hooks_dict_ref(), self.id)

    def __setstate__(self, state):
        self.hooks_dict_ref = weakref.ref(OrderedDict() if state[0] is None else state[0])
        self.id = state[1]
        RemovableHandle.next_id = max(RemovableHandle.next_id, self.id + 1)
        self.extra_dict_ref = tuple(weakref.ref(d) for d in state[2]) if len(state) > 2 else ()

    def __enter__(self):
        return self

    def __exit__(self, *args):
        self.remove()


def _add_hook(hooks, hook, prepend=False, flags=()):
    """Store ``hook`` in the ordered dict ``hooks`` under a new handle's id and return the handle
    (first in line with ``prepend``).  ``flags`` are ``(dict, on)`` pairs: each dict records the
    handle's id when ``on`` (``with_kwargs``, ``always_call``) and forgets it with the handle.
    Removing the handle removes only this registration, even when the same function was
    registered again or the handle is removed twice."""
    handle = RemovableHandle(hooks, extra_dict=[d for d, _ in flags] or None)
    hooks[handle.id] = hook
    for d, on in flags:
        if on:
            d[handle.id] = True
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle


def unserializable_hook(f):
    """Mark a hook function as not to be serialized (kept for API parity)."""
    f.__torch_unserializable__ = True
    return f


def warn_if_has_hooks(tensor):
    if getattr(tensor, "_backward_hooks", None):
        import warnings
        warnings.warn(f"backward hook {tensor._backward_hooks!r} on tensor will not be serialized.")

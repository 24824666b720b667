"""Error context for a module's forward: a failing forward's message is extended with the module that raised,
its path inside the model and the shapes it was called with."""
from ..._tensor import Tensor


_TAGGED_ERRORS = (RuntimeError, ValueError, IndexError, TypeError)


def _describe_args(args):
    parts = []
    for a in args:
        if isinstance(a, Tensor):
            parts.append(f"shape {list(a.shape)}")
        elif isinstance(a, (tuple, list)) and a and all(isinstance(x, Tensor) for x in a):
            parts.append("(" + ", ".join(f"shape {list(x.shape)}" for x in a) + ")")
    return ", ".join(parts)


def _short_repr(module):
    try:
        extra = module.extra_repr()
    except Exception:  # pragma: no cover - a broken extra_repr must not hide the real error
        extra = ""
    if "\n" in extra:
        extra = ""
    return f"{module._get_name()}({extra})"


def _tag_error(exc, module, args):
    """Add ``module`` (the innermost module whose forward raised) to ``exc``'s message."""
    if not isinstance(exc, _TAGGED_ERRORS) or len(exc.args) != 1 or not isinstance(exc.args[0], str):
        return
    d = exc.__dict__
    if "_ember_module" in d:
        return
    try:
        d["_ember_module"] = module
        d["_ember_path"] = ""
        d["_ember_message"] = exc.args[0]
        d["_ember_inputs"] = _describe_args(args)
        _render_error(exc)
    except Exception:  # pragma: no cover - never let the decoration itself fail
        pass


def _name_error_path(exc, parent):
    """While the error passes up through ``parent``, prefix the path with the child's attribute name."""
    d = exc.__dict__
    inner = d["_ember_path_head"] if "_ember_path_head" in d else d["_ember_module"]
    if inner is parent:
        return
    for name, child in parent._modules.items():
        if child is inner:
            d["_ember_path"] = name + ("." + d["_ember_path"] if d["_ember_path"] else "")
            d["_ember_path_head"] = parent
            _render_error(exc)
            return
    d["_ember_path_head"] = parent


def _render_error(exc):
    d = exc.__dict__
    module = d["_ember_module"]
    where = _short_repr(module)
    if d["_ember_path"]:
        where = f"{d['_ember_path']} ({where})"
    note = f"[in module {where}"
    if d["_ember_inputs"]:
        note += f", called with input {d['_ember_inputs']}"
    note += "]"
    exc.args = (d["_ember_message"] + "\n" + note,)



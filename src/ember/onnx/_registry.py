"""Symbolic functions by op name: ember's own (``_symbolics``) and the user's (``register_custom_op_symbolic``).

An internal symbolic is ``fn(g, call)`` (``call`` is the traced ``Call``; ``g``
the ``_lower.Lowering`` that owns the graph).  A custom one follows PyTorch:
``fn(g, *args)`` with tensors given as ``Value`` and every other argument as
the Python value the op received.
"""
import re

_BUILTIN = {}      # name -> (fn, first opset)
_CUSTOM = {}       # name -> {opset: fn}
_NAME = re.compile(r"^[a-zA-Z0-9-_]+::[a-zA-Z]+[a-zA-Z0-9_]*$")


def symbolic(*names, since=1):
    """Decorator registering an internal symbolic under ``names`` (``"aten::relu"``) from opset ``since``."""
    def register(fn):
        for n in names:
            _BUILTIN[n] = (fn, since)
        return fn
    return register


def lookup(name, opset):
    """``(fn, is_custom, first supported opset or None)`` for ``name`` at ``opset``; fn is None when missing."""
    custom = _CUSTOM.get(name)
    if custom:
        usable = [v for v in custom if v <= opset]
        if usable:
            return custom[max(usable)], True, None
    fn, since = _BUILTIN.get(name, (None, None))
    if fn is not None and since > opset:
        return None, False, since
    return fn, False, None


def _check_name(symbolic_name):
    if not _NAME.match(symbolic_name):
        from .errors import OnnxExporterError
        raise OnnxExporterError(f"Failed to register operator {symbolic_name}. The symbolic name must match the "
                                "format domain::name, and should start with a letter and contain only "
                                "alphanumeric characters")


def has_custom(calls):
    """Whether a custom symbolic is registered for any of ``calls`` or the calls they made."""
    return bool(_CUSTOM) and any(_CUSTOM.get(c.name) or has_custom(c.children) for c in calls)


def register_custom_op_symbolic(symbolic_name, symbolic_fn, opset_version):
    """Use ``symbolic_fn(g, *args)`` for the op ``symbolic_name`` in exports at ``opset_version`` and above.

    Args:
        symbolic_name: ``"<namespace>::<op>"``, e.g. ``"aten::relu"`` for an ember op.
        symbolic_fn: builds the nodes with ``g.op(...)`` and returns the output Value(s).
        opset_version: the lowest opset it applies to.
    """
    _check_name(symbolic_name)
    _CUSTOM.setdefault(symbolic_name, {})[opset_version] = symbolic_fn


def unregister_custom_op_symbolic(symbolic_name, opset_version):
    """Remove what ``register_custom_op_symbolic(symbolic_name, ..., opset_version)`` registered."""
    _check_name(symbolic_name)
    _CUSTOM.get(symbolic_name, {}).pop(opset_version, None)

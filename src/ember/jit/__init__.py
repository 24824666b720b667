"""``ember.jit``: TorchScript is not part of ember.

The names exist so that programs importing them load; calling ``trace`` or
``script`` raises NotImplementedError pointing to what ember offers instead:
plain eager execution, and ``ember.onnx.export`` to hand a model to another
runtime.  ``TracerWarning`` is real: ``ember.onnx.export`` emits it.
"""

__all__ = ["TracerWarning", "ScriptModule", "ScriptFunction", "trace", "trace_module", "script", "freeze",
           "save", "load", "ignore", "unused", "export", "is_scripting", "is_tracing", "annotate"]


class TracerWarning(Warning):
    """A traced export treated a value that depends on a tensor as a Python constant."""


class _Unsupported:
    """Base of the TorchScript classes; constructing one raises like ``trace``."""

    def __init__(self, *args, **kwargs):
        raise _not_implemented(type(self).__name__)


class ScriptModule(_Unsupported):
    """TorchScript module (not provided by ember)."""


class ScriptFunction(_Unsupported):
    """TorchScript function (not provided by ember)."""


def _not_implemented(name):
    return NotImplementedError(
        f"ember.jit.{name} is not supported: ember has no TorchScript. Run the model eagerly as it is, "
        "or export it with ember.onnx.export(model, args, f) to run it in ONNX Runtime.")


def _unsupported(name):
    def raiser(*args, **kwargs):
        raise _not_implemented(name)
    raiser.__name__ = raiser.__qualname__ = name
    raiser.__doc__ = "Not supported (no TorchScript in ember); raises NotImplementedError naming ember.onnx.export."
    return raiser


trace = _unsupported("trace")
trace_module = _unsupported("trace_module")
script = _unsupported("script")
freeze = _unsupported("freeze")
save = _unsupported("save")
load = _unsupported("load")


def ignore(drop=False, **kwargs):
    """Decorator marking a function TorchScript should leave alone; eager code runs it unchanged."""
    if callable(drop):
        return drop
    return lambda fn: fn


def unused(fn):
    """Decorator marking a method TorchScript should skip; eager code runs it unchanged."""
    return fn


def export(fn):
    """Decorator marking a method TorchScript should compile; eager code runs it unchanged."""
    return fn


def is_scripting():
    """Always False: ember code never runs under TorchScript."""
    return False


def is_tracing():
    """Always False: ember has no ``jit.trace`` (``ember.onnx.is_in_onnx_export`` tells about ONNX export)."""
    return False


def annotate(the_type, the_value):
    """TorchScript type hint; returns ``the_value``."""
    return the_value



"""Tracing one run of a model through ember's op layer.

Every op is a plain Python function that ember declares (``ember.ops._declare``)
or exports (``ember.ops.__all__``, ``Tensor`` methods, ``ember.nn.functional``).
While a trace is on, a profile hook (``sys.setprofile``, on the exporting thread) sees each Python call;
calls whose code object belongs to a known op become ``Call`` records with
their bound arguments and their result.  Calls nested inside a recorded call are
kept as its ``children``: a symbolic function maps the outer call when it has
one, else the export lowers the children.  Nothing is installed when no export
runs, so ops pay nothing for being traceable.
"""
import sys
import types
import warnings

import ember
from ember.jit import TracerWarning
from ember.ops import _declare

_CONVERSIONS = {"item": "a Python number", "tolist": "a Python list", "__bool__": "a Python boolean",
                "__int__": "a Python integer", "__float__": "a Python float", "__index__": "a Python index",
                "numpy": "a NumPy array", "__len__": "a Python length (len)"}
_NOT_TRACED = {"__init__", "__repr__", "__format__", "__hash__", "__deepcopy__", "__reduce_ex__", "__iter__",
               "__array__", "__array_wrap__", "register_hook", "backward", "retain_grad", "requires_grad_",
               "register_post_accumulate_grad_hook", "grad", "grad_fn", "_version_count", "_add_inplace_grad"}


class Call:
    """One traced op call.

    Attributes:
        name: qualified op name (``"aten::add"``, ``"nn.functional::conv2d"``).
        args: the function's parameters bound at call time, in signature order (a dict).
        varargs: the name of its ``*args`` parameter, or None.
        result: what it returned.
        children: traced calls made while it ran.
        scope: the module path and class it was called from (for error messages).
    """

    __slots__ = ("name", "args", "varargs", "result", "children", "scope")

    def __init__(self, name, args, varargs, scope):
        self.name, self.args, self.varargs, self.scope = name, args, varargs, scope
        self.result = None
        self.children = []

    def positional(self):
        """The argument values in signature order, ``*args`` expanded in place, without ``out=``
        (the arguments a custom symbolic receives, as in an ATen schema)."""
        out = []
        for k, v in self.args.items():
            if k == "out":
                continue
            if k == self.varargs:
                out.extend(v)
            else:
                out.append(v)
        return out


def _add(table, fn, name):
    fn = _declare.undispatched(fn)
    code = getattr(fn, "__code__", None)
    if code is None:
        return
    key = None
    if fn.__closure__:
        try:
            key = tuple(id(c.cell_contents) for c in fn.__closure__)
        except ValueError:      # an empty cell: cannot tell closures of this code apart
            return
    entries = table.setdefault(code, [])
    if all(k != key for k, _ in entries):
        entries.append((key, name))


def op_table():
    """``{code object: [(closure key, qualified name)]}`` for every traceable function of ember.

    Order decides the name of a function known under several: declared ops and
    ``ember.ops`` exports first (``aten::<name>``), then Tensor methods and
    properties, then ``ember.nn.functional`` (``nn.functional::<name>``).
    """
    from ember import ops
    from ember.ops.attention import sdpa
    from ember.ops.rnn_ops import rnn_layer
    import ember.nn.functional as F
    table = {}
    for fn, decl in _declare.declarations():
        _add(table, fn, "aten::" + decl.name)
        if callable(decl.inplace):
            _add(table, decl.inplace, "aten::" + decl.name + "_")
    for name, fn in ((n, getattr(ops, n)) for n in ops.__all__):
        _add(table, fn, "aten::" + name)
    _add(table, rnn_layer, "aten::rnn_layer")     # fused kernels the nn layers call directly
    _add(table, sdpa, "aten::sdpa")
    for name, v in vars(ember.Tensor).items():
        if name in _NOT_TRACED:
            continue
        if isinstance(v, property):
            v = v.fget
        if isinstance(v, types.FunctionType):
            _add(table, v, "aten::" + name)
    for name, fn in vars(F).items():
        if isinstance(fn, types.FunctionType) and not name.startswith("_"):
            _add(table, fn, "nn.functional::" + name)
    return table


def _has_tensor(obj):
    if isinstance(obj, ember.Tensor):
        return True
    if isinstance(obj, (tuple, list)):
        return any(_has_tensor(o) for o in obj)
    return False


def tensors_in(obj):
    """The tensors in ``obj`` (a tensor, or nested tuples/lists/dicts of them), in order."""
    if isinstance(obj, ember.Tensor):
        return [obj]
    if isinstance(obj, (tuple, list)):
        return [t for o in obj for t in tensors_in(o)]
    if isinstance(obj, dict):
        return [t for o in obj.values() for t in tensors_in(o)]
    return []


class Tracer:
    """Records the op calls of one model run (use as a context manager around the run).

    Args:
        table: from ``op_table()``.
        dynamic: tensors whose values depend on the model inputs (the inputs themselves).
        module_names: ``{id(module): path}`` for scope names in error messages.
    """

    def __init__(self, table, dynamic, module_names):
        from ember.nn import Module
        self.table = table
        self.calls = []
        self._stack = []          # (frame, Call) of recorded calls now running
        self._modules = []        # (frame, scope) of Module.__call__ now running
        self._module_code = Module.__call__.__code__
        self._module_names = module_names
        self._dynamic = {id(t) for t in dynamic}
        self._keep = list(dynamic)

    def __enter__(self):
        self._old = sys.getprofile()
        sys.setprofile(self._profile)      # this thread only: ops run in the thread that calls them
        return self

    def __exit__(self, *exc):
        sys.setprofile(self._old)

    def _scope(self):
        return self._modules[-1][1] if self._modules else "the model's top level"

    def _profile(self, frame, event, arg):
        if event == "call":
            code = frame.f_code
            if code is self._module_code:
                mod = frame.f_locals.get("self")
                path = self._module_names.get(id(mod), "")
                self._modules.append((frame, f"module '{path}' ({type(mod).__name__})" if path
                                      else f"the model ({type(mod).__name__})"))
                return
            entries = self.table.get(code)
            if entries is None:
                return
            loc = frame.f_locals
            name = entries[0][1]
            if len(entries) > 1 or entries[0][0] is not None:
                key = tuple(id(loc.get(v)) for v in code.co_freevars)
                name = next((n for k, n in entries if k == key), None)
                if name is None:
                    return
            if not self._stack:
                self._check_conversion(name, loc, frame)
            n = code.co_argcount + code.co_kwonlyargcount
            varargs = code.co_varnames[n] if code.co_flags & 0x04 else None
            n += (1 if code.co_flags & 0x04 else 0) + (1 if code.co_flags & 0x08 else 0)
            args = {k: loc[k] for k in code.co_varnames[:n] if k in loc}
            self._stack.append((frame, Call(name, args, varargs, self._scope())))
        elif event == "return":
            if self._stack and self._stack[-1][0] is frame:
                call = self._stack.pop()[1]
                if not _has_tensor(arg):
                    if call.name != "aten::__setitem__":
                        return
                    arg = next(iter(call.args.values()))     # a write into a tensor: its new value is the result
                call.result = arg
                if self._stack:
                    self._stack[-1][1].children.append(call)
                else:
                    self.calls.append(call)
                    if any(id(t) in self._dynamic for t in tensors_in(call.args)):
                        outs = tensors_in(arg)
                        self._dynamic.update(id(t) for t in outs)
                        self._keep.extend(outs)
            elif self._modules and self._modules[-1][0] is frame:
                self._modules.pop()

    def _check_conversion(self, name, loc, frame):
        what = _CONVERSIONS.get(name.split("::", 1)[1])
        if what is None:
            return
        t = loc.get("self")
        if id(t) not in self._dynamic:
            return
        caller = frame.f_back
        warnings.warn_explicit(
            f"Converting a tensor to {what} might cause the trace to be incorrect. The exporter cannot follow "
            "Python values, so this value is treated as a constant: the exported model may not generalize to "
            "other inputs!", TracerWarning, caller.f_code.co_filename, caller.f_lineno)

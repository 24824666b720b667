"""Turning traced calls into ONNX nodes: the value environment and the per-call dispatch.

Each traced tensor maps (by identity) to the ``Value`` that computes it.  A call
whose tensor arguments are all literal constants folds into a constant (when
constant folding is on, or when nothing computes it otherwise); a call with a
symbolic function is lowered by it; a call without one is lowered through the
calls it made (its ``children``); an op that cannot be lowered either way raises
``UnsupportedOperatorError`` naming it and the module that called it.
"""
import numpy

import ember
from . import _registry
from ._graph import Graph, Value
from ._trace import tensors_in
from .errors import UnsupportedOperatorError, SymbolicValueError


def array_of(t):
    """The NumPy array of tensor ``t`` (on the CPU)."""
    return numpy.asarray(t.detach().cpu().numpy())


class Lowering(Graph):
    """A Graph that also knows which Value computes each traced tensor.

    Args:
        opset: the ONNX opset version.
        params: ``{id(tensor): state_dict name}`` of the model's parameters and buffers.
        export_params: store parameters as initializers (else they are graph inputs).
        fold: fold calls on literal constants into constants.
    """

    def __init__(self, opset, params, export_params=True, fold=True):
        super().__init__(opset)
        self.env = {}                 # id(tensor) -> Value
        self._dim_names = {}          # traced size -> the dynamic dim name first seen with it
        self._keep = []               # tensors whose ids key env (kept alive so ids stay unique)
        self.params = params
        self.export_params = export_params
        self.param_inputs = []        # (name, array) of parameters exported as graph inputs
        self.fold = fold
        self.graph_inputs = []        # ValueInfoProtos, set by the exporter (used by shape inference)
        self.symbols = {}             # traced size -> (input Value, axis) of the one dynamic axis with that size

    def add_input(self, tensor, name, value_info, dynamic):
        """Bind graph input ``tensor`` as ``name``; ``dynamic`` maps its dynamic axes to dim names."""
        val = Value(name)
        self.bind(tensor, val)
        self.graph_inputs.append(value_info)
        for axis, dim_name in dynamic.items():
            size = tensor.shape[axis]
            prev = self._dim_names.setdefault(size, dim_name)
            self.symbols[size] = (val, axis) if prev == dim_name and self.symbols.get(size, 0) is not None \
                else None

    # ------------------------------------------------------------------ tensors and values
    def bind(self, tensor, value):
        """Record that ``value`` computes ``tensor``; fills the value's traced shape and dtype."""
        arr_dtype = array_dtype(tensor)
        if value.array is None:
            value.shape, value.dtype = tuple(tensor.shape), arr_dtype
        self.env[id(tensor)] = value
        self._keep.append(tensor)

    def v(self, t):
        """The Value of ``t``: a tensor's (a parameter's initializer, a literal constant for an unseen
        tensor), or a constant for a Python number; None stays None."""
        if t is None or isinstance(t, Value):
            return t
        if not isinstance(t, ember.Tensor):
            return self.const(numpy.asarray(t))
        got = self.env.get(id(t))
        if got is not None:
            return got
        name = self.params.get(id(t))
        if name is not None:
            arr = array_of(t)
            if self.export_params:
                val = self.initializer(name, arr)
            else:
                val = Value(name, shape=arr.shape, dtype=arr.dtype)
                self.param_inputs.append((name, arr))
        else:
            val = self.const(array_of(t))
        self.bind(t, val)
        return val

    def is_literal(self, t):
        """Whether tensor ``t`` is a literal constant (not an input, not a parameter, not computed from them)."""
        if id(t) in self.env:
            return self.env[id(t)].array is not None
        return id(t) not in self.params

    def static_shape(self, value):
        """Which dims of ``value`` are proven fixed by shape inference of the graph built so far."""
        return self.static_dims(value, self.graph_inputs)

    # ------------------------------------------------------------------ lowering
    def lower(self, call):
        """Add the nodes computing ``call``'s result."""
        outs = tensors_in(call.result)
        ins = tensors_in(call.args)
        if all(self.is_literal(t) for t in ins) and (self.fold or not ins):
            for t in outs:
                self.bind(t, self.const(array_of(t)))
            return
        fn, custom, since = _registry.lookup(call.name, self.opset)
        if not custom and _registry.has_custom(call.children):     # the user's symbolic for an inner op wins
            fn = None
        if fn is None and call.name.endswith("_"):       # an in-place form lowers as its out-of-place op
            fn, custom, since2 = _registry.lookup(call.name[:-1], self.opset)
            since = since or since2
        if fn is not None:
            got = fn(self, *[self._convert(a) for a in call.positional()]) if custom else fn(self, call)
            got = [got] if isinstance(got, Value) else list(got)
            if len(got) != len(outs):
                raise SymbolicValueError(f"the symbolic of {call.name} returned {len(got)} values for "
                                         f"{len(outs)} tensors")
            for t, val in zip(outs, got):
                self.bind(t, val)
            return
        if call.children:
            for child in call.children:
                self.lower(child)
            if all(id(t) in self.env for t in outs):
                return
        elif not _writes(call.name) and all(any(o is i for i in ins) for o in outs):
            # returns its input unchanged (contiguous, eval dropout)
            for t in outs:
                self.v(t)
            return
        if all(self.is_literal(t) for t in ins):
            for t in outs:
                self.bind(t, self.const(array_of(t)))
            return
        raise UnsupportedOperatorError(call.name, self.opset, since, call.scope)

    def _convert(self, a):
        if isinstance(a, ember.Tensor):
            return self.v(a)
        if isinstance(a, (list, tuple)) and any(isinstance(x, ember.Tensor) for x in a):
            return type(a)(self._convert(x) for x in a)
        return a


def _writes(name):
    """Whether the op ``name`` writes into its input (``x.add_``, ``x += y``, ``x[i] = v``)."""
    op = name.split("::", 1)[1]
    return op == "__setitem__" or op.startswith("__i") or (op.endswith("_") and not op.startswith("__"))


def array_dtype(t):
    """The NumPy dtype of tensor ``t``."""
    return numpy.dtype(t.dtype.np) if hasattr(t.dtype, "np") else array_of(t).dtype

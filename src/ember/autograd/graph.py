"""Graph nodes: the records that ops leave behind when they run with grad enabled.

A node knows where the gradients of its inputs go (``_edges``: one
``(node, output_nr)`` pair or None per differentiable input) and how to turn
the gradient of its output into gradients of its inputs (``backward``).
Leaves that require grad end their paths in an ``AccumulateGrad`` node that
adds into ``tensor.grad``.
"""
import itertools
import weakref
from collections import OrderedDict

from ..utils.hooks import _add_hook
from .grad_mode import GradMode

_make = None   # ember._tensor._make, bound by Node.result on first use

_WRAPPED_NUMBER = {bool: "bool", int: "int64", float: "float64", complex: "complex128"}

# A node's place in the backward order: taken when its edges are wired (``record``, ``Function.apply``) or, for an
# AccumulateGrad, when it is made (while its first consumer's edges are wired), so every node's ``_order`` is below
# that of each node its edges point to.  The engine runs the node with the lowest ``_order`` first: PyTorch's order by
# sequence number (the most recently recorded first), and a node only after every node that sends it a gradient.
next_order = itertools.count(-1, -1).__next__

_FREED_MSG = (
    "Trying to backward through the graph a second time (or directly access saved tensors after they "
    "have already been freed). Saved intermediate values of the graph are freed when you call .backward() "
    "or autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time "
    "or if you need to access saved tensors after calling backward.")


class Node:
    """Base of every backward node (``MulBackward0``, ``AccumulateGrad``, custom Functions).

    Subclasses implement ``backward(self, *grads)`` (one gradient per output)
    returning a tuple with one gradient (or None) per edge.  What a node keeps
    for backward is explicit: ``_saved`` holds one ``(value, version counter,
    version)`` triple per saved operand (the counter is None for a Python number
    or None operand), ``_result`` the op's own output; backward releases them by
    setting both to None.  Nodes are made and wired by
    ``ember.ops._record.record``.
    """

    _num_outputs = 1
    _saved = ()                # None once released
    _result = None             # None once released (or never saved)
    _tensor_pre_hooks = None   # {output_nr: {handle id: hook(grad) -> grad or None}}
    _retained = None           # {output_nr: weakref to the tensor that retains its grad}
    _pre_hooks = None          # {handle id: hook(grad_outputs) -> grad_outputs or None}
    _post_hooks = None         # {handle id: hook(grad_inputs, grad_outputs) -> grad_inputs or None}
    _anomaly_trace = None
    _edges = ()
    _hooked = False            # True once any hook or retain_grad is registered
    _user_defined = False      # True for custom Functions: the engine copies what their backward returns
    _custom_release = False    # True for subclasses whose release() frees more than the saved state
    _fast = True               # False when one of the three above is True: the engine's one test for its fast path
    _saved_names = ()          # PyTorch's names of the ``_saved`` entries, in order (``grad_fn._saved_self``...)
    _result_name = None        # PyTorch's name of the saved output (``"result"``) when the node keeps it
    _packed = None             # {index into _saved, or "result": (packed value, unpack hook)}: SavedTensor hooks
    _order = 0                 # the backward order (see next_order); set when the node is wired into a graph

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "release" in cls.__dict__:
            cls._custom_release = True
        if cls._custom_release or cls._user_defined:
            cls._fast = False
        # PyTorch's introspection of saved values, grad_fn._saved_<name> and grad_fn._raw_saved_<name>, as
        # properties of the class (a __getattr__ would slow every attribute read of every node)
        keys = list(enumerate(cls.__dict__.get("_saved_names", ())))
        if cls.__dict__.get("_result_name"):
            keys.append(("result", cls._result_name))
        for key, name in keys:
            setattr(cls, "_saved_" + name, property(lambda self, k=key: self._saved_value(k)))
            setattr(cls, "_raw_saved_" + name, property(lambda self, k=key: SavedTensor._of(self, k)))

    # ---- introspection as in PyTorch
    def name(self):
        return type(self).__name__

    @property
    def next_functions(self):
        return tuple((None, 0) if e is None else e for e in self._edges)

    @property
    def metadata(self):
        if "_metadata" not in self.__dict__:
            self._metadata = {}
        return self._metadata

    # ---- saved operands
    def save(self, *values):
        """Keep ``values`` (tensors, numbers or None) for backward; tensors are version-checked on use."""
        saved = []   # a plain loop: cheaper than a list comprehension (a function call) for the usual 1-3 values
        for v in values:
            counter = getattr(v, "_version", None)
            saved.append((v, None, None) if counter is None else (v, counter, counter[0]))
        self._saved = tuple(saved)

    @property
    def saved_tensors(self):
        """The saved operands in order (tensors checked against in-place edits since they were saved)."""
        saved = self._saved
        if saved is None:
            raise RuntimeError(_FREED_MSG)
        out = []
        for value, counter, version in saved:
            if counter is not None and counter[0] != version:
                raise RuntimeError(_inplace_message(value, counter[0], version))
            out.append(value)
        if self._packed is not None:
            for key, (packed, unpack) in self._packed.items():
                if key != "result":
                    out[key] = unpack(packed)
        return tuple(out)

    def save_result(self, out):
        """Keep the op's output ``out`` (a tensor or a tuple of them) without a reference cycle: its arrays."""
        if isinstance(out, tuple):
            self._result = tuple((t._data, t._version, t._version[0]) for t in out)
        else:
            self._result = (out._data, out._version, out._version[0])

    def result(self, index=None):
        """The saved output as a tensor (output ``index`` of a tuple); under create_graph its grad_fn is this
        node, as in PyTorch."""
        global _make
        if _make is None:   # bound on first use: _tensor imports autograd, so not at import time
            from .._tensor import _make
        if self._result is None:
            raise RuntimeError(_FREED_MSG)
        if self._packed is not None and "result" in self._packed:
            packed, unpack = self._packed["result"]
            return unpack(packed)
        data, counter, version = self._result if index is None else self._result[index]
        t = _make(data)
        t._version = counter
        if counter[0] != version:
            raise RuntimeError(_inplace_message(t, counter[0], version, self))
        if GradMode.enabled:
            t._grad_fn = self
            t._requires_grad = True
            if index:
                t.__dict__["_output_nr"] = index
        return t

    def _saved_value(self, key):
        """The saved value ``key`` names (an index into ``_saved`` or "result") as backward reads it: hooks'
        unpacked value, checked against in-place edits; a saved Python number as a 0-d tensor, as PyTorch keeps it."""
        if key == "result":
            return self.result()
        value = self.saved_tensors[key]
        if type(value) in _WRAPPED_NUMBER:   # PyTorch keeps a number operand as a 0-d float64/int64/... tensor
            from .. import _dtype
            from ..ops.creation import tensor
            return tensor(value, dtype=getattr(_dtype, _WRAPPED_NUMBER[type(value)]))
        return value

    def release(self):
        """Free what was saved for backward (after a backward without retain_graph)."""
        self._saved = self._result = None

    # ---- hooks
    def register_hook(self, fn):
        """Call ``fn(grad_inputs, grad_outputs)`` after this node runs; it may return new grad_inputs."""
        self._hooked = True
        self._fast = False
        if self._post_hooks is None:
            self._post_hooks = OrderedDict()
        return _add_hook(self._post_hooks, fn)

    def register_prehook(self, fn):
        """Call ``fn(grad_outputs)`` before this node runs; it may return new grad_outputs."""
        self._hooked = True
        self._fast = False
        if self._pre_hooks is None:
            self._pre_hooks = OrderedDict()
        return _add_hook(self._pre_hooks, fn)

    def _add_tensor_hook(self, output_nr, fn):
        self._hooked = True
        self._fast = False
        if self._tensor_pre_hooks is None:
            self._tensor_pre_hooks = {}
        hooks = self._tensor_pre_hooks.get(output_nr)
        if hooks is None:
            hooks = self._tensor_pre_hooks[output_nr] = OrderedDict()
        return _add_hook(hooks, fn)

    def __call__(self, *grads):
        out = self.backward(*grads)
        return out if isinstance(out, tuple) else (out,)

    def __repr__(self):
        return f"<{self.name()} object at {hex(id(self))}>"


class AccumulateGrad(Node):
    """The node that ends a leaf's path: adds incoming gradients into ``variable.grad``."""

    _fast = False   # the engine's test for a leaf's node comes after its fast-path test

    def __init__(self, variable):
        self._edges = ()
        self._ref = weakref.ref(variable)
        self._order = next_order()

    @property
    def variable(self):
        return self._ref()

    def backward(self, grad):
        raise RuntimeError("AccumulateGrad is run by the engine, not called directly")


def _inplace_message(t, now, expected, producer=None):
    """PyTorch's error for a saved tensor modified in place.  ``producer`` is the node whose own output
    was saved; otherwise the tensor's current grad_fn is named (as PyTorch does, without 'Backward0')."""
    dims = ", ".join(str(s) for s in t.shape)
    node = producer if producer is not None else t._grad_fn
    which = ""
    if node is not None:
        name = node.name()
        stem = name.rstrip("0123456789")
        if stem.endswith("Backward"):
            name = stem[:-len("Backward")]
        which = f", which is output {0 if producer is not None else t._output_nr} of {name},"
    return ("one of the variables needed for gradient computation has been modified by an inplace operation: "
            f"[{t._type_name()} [{dims}]]{which} is at version {now}; expected version {expected} instead. "
            "Hint: enable anomaly detection to find the operation that failed to compute its gradient, "
            "with torch.autograd.set_detect_anomaly(True, check_nan=False).")


def edge_of(t):
    """The edge along which gradient reaches tensor ``t`` (None if it does not require grad)."""
    if not t._requires_grad:
        return None
    fn = t._grad_fn
    if fn is not None:
        vv = t._vv
        if vv is not None and vv != t._version[0]:  # a view whose base was written since: re-derive
            from ..ops._views import refresh
            refresh(t)
            fn = t._grad_fn
        return (fn, t._output_nr)
    acc = t._acc
    if acc is None:
        acc = t._acc = AccumulateGrad(t)
    return (acc, 0)


def any_volatile(inputs):
    """True when an input is a volatile ``Variable``'s result (the seeds' ``volatile=True`` turns recording off)."""
    for t in inputs:
        if getattr(t, "_volatile", False):
            return True
    return False


class SavedTensor:
    """A value a graph node keeps for backward, as ``grad_fn._raw_saved_<name>`` gives it; nodes make them, Python
    cannot (RuntimeError, as in PyTorch).

    ``register_hooks(pack, unpack)`` calls ``pack(tensor)`` now and keeps what it returns instead of the tensor;
    backward (and ``grad_fn._saved_<name>``) then read ``unpack(packed)``: PyTorch's per-tensor saved-tensor hooks.
    """

    __slots__ = ("_node", "_key")

    def __new__(cls, *args, **kwargs):
        raise RuntimeError("Trying to create a SavedTensor object from Python is forbidden.")

    @classmethod
    def _of(cls, node, key):
        saved = object.__new__(cls)
        saved._node, saved._key = node, key
        return saved

    def _freed(self):
        node = self._node
        return (node._result if self._key == "result" else node._saved) is None

    def unpack(self):
        """The saved value as backward reads it (a tensor, or None for an operand the node did not need)."""
        return self._node._saved_value(self._key)

    @property
    def data(self):
        """The saved tensor itself (what ``unpack()`` returns when no hooks are set)."""
        return self.unpack()

    @property
    def unpack_hook(self):
        """The ``unpack`` function given to ``register_hooks``, or None."""
        packed = self._node._packed
        return packed[self._key][1] if packed is not None and self._key in packed else None

    def register_hooks(self, pack, unpack):
        """Replace the saved tensor by ``pack(tensor)`` now; backward reads ``unpack(packed)``.

        Raises TypeError for arguments that are not callable, RuntimeError after backward freed the value, for a
        value that is None, or when hooks are already set (one pair per saved tensor, as in PyTorch)."""
        if not callable(pack) or not callable(unpack):
            raise TypeError("register_hooks(): incompatible function arguments. The following argument types are "
                            "supported:\n    1. (self: SavedTensor, arg0: Callable, arg1: Callable) -> None")
        node, key = self._node, self._key
        if self._freed():
            raise RuntimeError(
                "Calling register_hooks on a saved tensor after it has been freed. Saved intermediate values of the "
                "graph are freed when you call .backward() or autograd.grad(). Specify retain_graph=True if you need "
                "to backward through the graph a second time or if you need to access saved variables after calling "
                "backward.")
        if node._packed is not None and key in node._packed:
            raise RuntimeError("Calling register_hooks on a saved tensor whose hooks have already been set. "
                               "Hint: only one pair of hooks is allowed at a time.")
        value = self.unpack()
        if value is None:
            raise RuntimeError("Calling register_hooks on a saved tensor with value None is forbidden")
        if node._packed is None:
            node._packed = {}
        node._packed[key] = (pack(value), unpack)
        if key == "result":   # a version no counter has: array fast paths that read _result go through result()
            data, counter, _ = node._result
            node._result = (data, counter, -1)
        else:   # the node keeps only what pack returned
            node._saved = node._saved[:key] + ((None, None, None),) + node._saved[key + 1:]

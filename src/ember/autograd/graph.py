"""Graph nodes: the records that ops leave behind when they run with grad enabled.

A node knows where the gradients of its inputs go (``_edges``: one
``(node, output_nr)`` pair or None per differentiable input) and how to turn
the gradient of its output into gradients of its inputs (``backward``).
Leaves that require grad end their paths in an ``AccumulateGrad`` node that
adds into ``tensor.grad``.
"""
import weakref
from collections import OrderedDict

from ..utils.hooks import _add_hook
from .grad_mode import GradMode

_FREED_MSG = (
    "Trying to backward through the graph a second time (or directly access saved tensors after they "
    "have already been freed). Saved intermediate values of the graph are freed when you call .backward() "
    "or autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time "
    "or if you need to access saved tensors after calling backward.")


class Node:
    """Base of every backward node (``MulBackward0``, ``AccumulateGrad``, custom Functions).

    Subclasses implement ``backward(self, grad)`` (one output) returning a
    tuple with one gradient (or None) per edge.  Nodes with several outputs
    set ``_num_outputs`` and receive one gradient per output.
    """

    _num_outputs = 1
    _saved = ()
    _result = ()
    _tensor_pre_hooks = None   # {output_nr: {handle id: hook(grad) -> grad or None}}
    _retained = None           # {output_nr: weakref to the tensor that retains its grad}
    _pre_hooks = None          # {handle id: hook(grad_outputs) -> grad_outputs or None}
    _post_hooks = None         # {handle id: hook(grad_inputs, grad_outputs) -> grad_inputs or None}
    _anomaly_trace = None
    _edges = ()
    _hooked = False            # True once any hook or retain_grad is registered (the engine's fast path test)
    _custom_release = False    # True for subclasses whose release() frees more than the saved tensors

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "release" in cls.__dict__:
            cls._custom_release = True

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

    # ---- saved tensors
    def save(self, *tensors):
        """Keep ``tensors`` for backward, remembering their versions to catch in-place edits."""
        self._saved = tuple((t, t._version, t._version[0]) if t is not None else None for t in tensors)

    @property
    def saved_tensors(self):
        saved = self._saved
        if saved is None:
            raise RuntimeError(_FREED_MSG)
        out = []
        for item in saved:
            if item is None:
                out.append(None)
                continue
            t, counter, version = item
            if counter[0] != version:
                raise RuntimeError(_inplace_message(t, counter[0], version))
            out.append(t)
        return tuple(out)

    def save_result(self, out):
        """Keep the op's output ``out`` for backward without a reference cycle (its array, not the tensor)."""
        self._result = (out._data, out._version, out._version[0])

    def result(self):
        """The saved output as a tensor; under create_graph its grad_fn is this node, as in PyTorch."""
        from .._tensor import _make
        saved = self._result
        if saved is None:
            raise RuntimeError(_FREED_MSG)
        data, counter, version = saved
        t = _make(data)
        t._version = counter
        if counter[0] != version:
            raise RuntimeError(_inplace_message(t, counter[0], version, self))
        if GradMode.enabled:
            t._grad_fn = self
            t._requires_grad = True
        return t

    def release(self):
        """Free the saved tensors (after a backward without retain_graph)."""
        if self._saved != ():
            self._saved = None
        if self._result != ():
            self._result = None

    # ---- hooks
    def register_hook(self, fn):
        """Call ``fn(grad_inputs, grad_outputs)`` after this node runs; it may return new grad_inputs."""
        self._hooked = True
        if self._post_hooks is None:
            self._post_hooks = OrderedDict()
        return _add_hook(self._post_hooks, fn)

    def register_prehook(self, fn):
        """Call ``fn(grad_outputs)`` before this node runs; it may return new grad_outputs."""
        self._hooked = True
        if self._pre_hooks is None:
            self._pre_hooks = OrderedDict()
        return _add_hook(self._pre_hooks, fn)

    def _add_tensor_hook(self, output_nr, fn):
        self._hooked = True
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


    def __init__(self, variable):
        self._edges = ()
        self._ref = weakref.ref(variable)

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


def attach(out, node, *inputs):
    """Make ``node`` the grad_fn of ``out``, with edges to ``inputs`` (None for non-tensors); returns ``out``."""
    if GradMode.volatile_used and _any_volatile(inputs):
        out._requires_grad = True
        out.__dict__["_volatile"] = True
        return out
    if len(inputs) == 1:
        t = inputs[0]
        node._edges = (edge_of(t) if t is not None else None,)
    else:
        node._edges = tuple([edge_of(t) if t is not None else None for t in inputs])
    out._grad_fn = node
    out._requires_grad = True
    if GradMode.anomaly:
        import traceback
        node._anomaly_trace = "".join(traceback.format_stack()[:-2])
    return out


def _any_volatile(inputs):
    for t in inputs:
        if t is not None and t._volatile:
            return True
    return False

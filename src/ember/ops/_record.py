"""The one place where an op records its backward node.

Every differentiable op ends with ``record(out, NodeClass, inputs, ...)``.  It
decides whether to record (grad mode on and some tensor among ``inputs``
requires grad), makes the node, keeps what backward needs, and wires the
edges: one per entry of ``inputs``, None for an entry that is a Python number
or None.  Backward formulas are written with ember ops, so the graph they
build under ``create_graph=True`` gives higher derivatives.
"""
from .._tensor import Tensor
from ..autograd.grad_mode import AutogradFlags, GradMode
from ..autograd.graph import edge_of, any_volatile, next_order


def grad_needed(inputs):
    """True when an op on ``inputs`` will be recorded (grad mode on, a tensor among them requires grad): for the
    few ops that keep extra forward state only when a backward will follow."""
    for t in inputs:
        if isinstance(t, Tensor) and t._requires_grad:
            return GradMode.enabled
    return False


def may_record(a, b):
    """False when neither of two operands requires grad: the hottest binary ops skip building ``record``'s
    arguments in that common case (``record`` still makes the decision, grad mode included)."""
    return isinstance(a, Tensor) and a._requires_grad or isinstance(b, Tensor) and b._requires_grad


def record(out, node_cls, inputs, saved=(), output=False, **fields):
    """Record a ``node_cls`` node as the grad_fn of ``out`` if gradients must flow through this op.

    Args:
        out: the op's result, a tensor or a tuple of tensors (one per node output).
        node_cls: the Node subclass whose ``backward`` computes the inputs' gradients.
        inputs: the op's differentiable operands in edge order; tensors get edges, numbers and None do not.
        saved: operands backward needs (tensors are version-checked when read back; numbers kept as they are),
            read in backward as ``self.saved_tensors``.
        output: keep ``out`` for backward (read as ``self.result()``), as ops whose gradient uses their output do.
        **fields: plain attributes of the node (shapes, dims, flags), read in backward as ``self.<name>``.

    Returns the node, or None when nothing was recorded (grad mode off, or no input requires grad).
    """
    # the inputs first: reading them is cheaper than the (per-thread) grad mode, and most calls stop there; a type
    # test before each isinstance call: most operands are plain tensors
    for t in inputs:
        if (t.__class__ is Tensor or isinstance(t, Tensor)) and t._requires_grad:
            break
    else:
        return None
    if not GradMode.enabled:
        return None
    if AutogradFlags.volatile_used and any_volatile(inputs):   # process-wide: no thread-local lookup
        for o in out if isinstance(out, tuple) else (out,):
            o._requires_grad = True
            o.__dict__["_volatile"] = True
        return None
    node = node_cls()
    if fields:
        node.__dict__.update(fields)
    if saved:
        node.save(*saved)
    if output:
        if out.__class__ is Tensor:   # Node.save_result inlined for the usual single output
            node._result = (out._data, out._version, out._version[0])
        else:
            node.save_result(out)
    # the edges: one per input (most ops have one or two, written out: no list to build); edge_of inlined for an
    # op's result that is no view (grad_fn set, no view version to check)
    if len(inputs) == 1:
        a = inputs[0]   # the loop above found that it requires grad
        fn = a._grad_fn
        node._edges = ((fn, a._output_nr) if fn is not None and a._vv is None else edge_of(a),)
    elif len(inputs) == 2:
        a, b = inputs
        if a.__class__ is Tensor and a._requires_grad and a._grad_fn is not None and a._vv is None:
            ea = (a._grad_fn, a._output_nr)
        else:
            ea = edge_of(a) if (a.__class__ is Tensor or isinstance(a, Tensor)) and a._requires_grad else None
        node._edges = (ea, edge_of(b) if (b.__class__ is Tensor or isinstance(b, Tensor)) and b._requires_grad
                       else None)
    else:
        node._edges = tuple([edge_of(t) if isinstance(t, Tensor) and t._requires_grad else None for t in inputs])
    node._order = next_order()   # after the edges: below every node they point to
    if out.__class__ is Tensor or not isinstance(out, tuple):
        out._grad_fn = node
        out._requires_grad = True
    else:
        if len(out) > 1:
            node._num_outputs = len(out)
        for nr, o in enumerate(out):
            o._grad_fn = node
            o._requires_grad = True
            if nr:
                o.__dict__["_output_nr"] = nr
    if AutogradFlags.anomaly:
        import traceback
        node._anomaly_trace = "".join(traceback.format_stack()[:-2])
    return node

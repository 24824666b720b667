"""The graph of one forward pass, for TensorBoard's graph plugin (``SummaryWriter.add_graph``).

ember has no op tracer, so the graph is read from what one forward leaves behind: forward hooks on
every submodule say which module produced which outputs from which inputs (the module tree), and the
autograd graph of the outputs (``grad_fn.next_functions``) gives the ops and how they connect. The
inputs are made leaves that require grad, so every op that depends on them is recorded; a backward
pass (``autograd.grad``, which leaves ``.grad`` alone) tells each op's output shapes through node
pre-hooks. Ops are named after their backward nodes (``ConvolutionBackward0`` -> ``Convolution``).
"""
import inspect

from tensorboard.compat.proto.attr_value_pb2 import AttrValue
from tensorboard.compat.proto.config_pb2 import RunMetadata
from tensorboard.compat.proto.graph_pb2 import GraphDef
from tensorboard.compat.proto.node_def_pb2 import NodeDef
from tensorboard.compat.proto.step_stats_pb2 import DeviceStepStats, StepStats
from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto
from tensorboard.compat.proto.versions_pb2 import VersionDef


def _tensors(obj):
    """The tensors in ``obj`` (a tensor or nested tuples, lists and dict values), in order."""
    from ... import Tensor
    if isinstance(obj, Tensor):
        return [obj]
    if isinstance(obj, dict):
        obj = list(obj.values())
    if isinstance(obj, (tuple, list)):
        return [t for item in obj for t in _tensors(item)]
    return []


def _node(name, op, inputs=(), shapes=(), attr=None):
    attrs = {"_output_shapes": AttrValue(list=AttrValue.ListValue(shape=[
        TensorShapeProto(dim=[TensorShapeProto.Dim(size=int(d)) for d in s]) for s in shapes]))}
    if attr is not None:
        attrs["attr"] = AttrValue(s=attr.encode("utf_8"))
    return NodeDef(name=name, op=op, input=list(inputs), attr=attrs)


def _op_name(fn):
    stem = fn.name().rstrip("0123456789")
    return stem[:-len("Backward")] if stem.endswith("Backward") else stem


def _module_scopes(model):
    """id(module) -> its scope, e.g. ``Net/Sequential[features]/Conv2d[0]``."""
    root = type(model).__name__
    modules = dict(model.named_modules())
    scopes = {id(model): root}
    for name, module in modules.items():
        if name:
            parts = name.split(".")
            path = [f"{type(modules['.'.join(parts[:i + 1])]).__name__}[{p}]" for i, p in enumerate(parts)]
            scopes.setdefault(id(module), "/".join([root] + path))
    return scopes


def _run_forward(model, args):
    """Run ``model(*args)`` once in eval mode with grad enabled; returns (inputs, outputs, module calls)."""
    from ... import Tensor, enable_grad
    inputs = tuple(a.detach().requires_grad_(a.is_floating_point() or a.is_complex()) if isinstance(a, Tensor)
                   else a for a in args)
    calls = []
    handles = [m.register_forward_hook(lambda m, i, o: calls.append((m, _tensors(i), _tensors(o))))
               for m in model.modules()]
    training = model.training
    model.train(False)
    try:
        with enable_grad():
            out = model(*inputs)
    finally:
        model.train(training)
        for h in handles:
            h.remove()
    return inputs, _tensors(out), calls


def _reachable(outputs):
    """Every autograd node behind ``outputs``, each after the nodes it takes input from."""
    order, seen = [], set()
    stack = [(t.grad_fn, False) for t in reversed(outputs) if t.grad_fn is not None]
    while stack:
        fn, expanded = stack.pop()
        if expanded:
            order.append(fn)
            continue
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        stack.append((fn, True))
        stack.extend((nxt, False) for nxt, _ in fn.next_functions if nxt is not None and id(nxt) not in seen)
    return order


def _assign_scopes(calls, scopes):
    """id(node) -> scope of the innermost module call whose outputs depend on it within that call."""
    owner = {}
    for module, call_inputs, call_outputs in calls:  # hooks fire innermost first
        boundary = {id(t.grad_fn) for t in call_inputs if t.grad_fn is not None}
        stack = [t.grad_fn for t in call_outputs if t.grad_fn is not None]
        seen = set()
        while stack:
            fn = stack.pop()
            if id(fn) in seen or id(fn) in boundary:
                continue
            seen.add(id(fn))
            owner.setdefault(id(fn), scopes[id(module)])
            stack.extend(nxt for nxt, _ in fn.next_functions if nxt is not None)
    return owner


def _output_shapes(outputs, nodes):
    """id(node) -> shapes of its outputs, read from the gradients reaching it in one backward pass."""
    from ... import autograd, ones_like
    roots = [t for t in outputs if t.grad_fn is not None]
    leaves = [fn.variable for fn in nodes if hasattr(fn, "variable") and fn.variable is not None]
    shapes = {}
    if not roots or not leaves:
        return shapes

    def hook_for(fn):
        def record(grads):
            shapes[id(fn)] = [list(g.shape) for g in grads if g is not None]
        return record

    handles = [fn.register_prehook(hook_for(fn)) for fn in nodes if not hasattr(fn, "variable")]
    try:
        autograd.grad(roots, leaves, grad_outputs=[ones_like(t) for t in roots], allow_unused=True)
    finally:
        for h in handles:
            h.remove()
    return shapes


def graph(model, args, verbose=False):
    """A ``GraphDef`` of one forward of ``model`` on ``args`` (a tensor or a tuple), and the run metadata
    TensorBoard expects beside it. Returns ``(GraphDef, RunMetadata)``."""
    if args is None:
        args = ()
    elif not isinstance(args, (tuple, list)):
        args = (args,)
    inputs, outputs, calls = _run_forward(model, tuple(args))
    scopes = _module_scopes(model)
    root = scopes[id(model)]
    try:
        arg_names = list(inspect.signature(model.forward).parameters)
    except (TypeError, ValueError):
        arg_names = []
    param_names = {}
    for module_name, module in model.named_modules():
        for pname, p in module.named_parameters(recurse=False):
            param_names.setdefault(id(p), f"{scopes[id(module)]}/{pname}")

    defs, names = [], {}
    input_ids = {}
    for i, t in enumerate(inputs):
        if t is None or not hasattr(t, "shape"):
            continue
        name = "input/" + (arg_names[i] if i < len(arg_names) else f"input.{i}")
        input_ids[id(t)] = name
        defs.append(_node(name, "IO Node", shapes=[list(t.shape)]))

    nodes = _reachable(outputs)
    owner = _assign_scopes(calls, scopes)
    shapes = _output_shapes(outputs, nodes)
    for k, fn in enumerate(nodes):
        var = getattr(fn, "variable", None)
        if hasattr(fn, "variable"):  # a leaf: an input, a parameter or another tensor that requires grad
            if var is not None and id(var) in input_ids:
                names[id(fn)] = input_ids[id(var)]
                continue
            name = param_names.get(id(var), f"{root}/leaf.{k}")
            names[id(fn)] = name
            defs.append(_node(name, "Parameter", shapes=[list(var.shape)] if var is not None else []))
            continue
        name = f"{owner.get(id(fn), root)}/{_op_name(fn)}.{k}"
        names[id(fn)] = name
        ins = [names[id(nxt)] for nxt, _ in fn.next_functions if nxt is not None]
        defs.append(_node(name, _op_name(fn), ins, shapes.get(id(fn), []), attr=f"{{ grad_fn : {fn.name()} }}"))

    for i, t in enumerate(outputs):
        producer = names.get(id(t.grad_fn)) if t.grad_fn is not None else input_ids.get(id(t))
        defs.append(_node(f"output/output.{i + 1}", "IO Node", [producer] if producer else [], [list(t.shape)]))
    if verbose:
        for d in defs:
            print(d.name, d.op, list(d.input))
    stats = RunMetadata(step_stats=StepStats(dev_stats=[DeviceStepStats(device="/device:CPU:0")]))
    return GraphDef(node=defs, versions=VersionDef(producer=22)), stats

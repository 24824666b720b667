"""The backward engine: runs the nodes reachable from the roots, the most recently recorded first.

A node's ``_order`` (see ``graph.next_order``) is below that of every node its
edges point to, so running the reached node with the lowest ``_order`` next (a
heap, as PyTorch's ready queue by sequence number) runs each node after all the
nodes that send it a gradient, with no dependency count over the graph first.
It is iterative (no recursion), so chains of any length work, and it frees each
node's saved tensors right after running it unless ``retain_graph`` is set.
"""
from heapq import heapify, heappop, heapreplace, heappush
from sys import getrefcount

from ._checks import check_hook_result, check_hook_results, validate_function_outputs
from .grad_mode import AutogradFlags, GradMode
from .graph import AccumulateGrad, edge_of


def _accumulate_into_leaf(acc, grad, create_graph, owned):
    """Add ``grad`` into the leaf's ``.grad``.  ``owned`` says the engine made ``grad`` and nothing else holds it,
    so the first gradient can become ``.grad`` without a copy."""
    var = acc._ref()
    if var is None:
        return
    grad_dtype = var.__dict__.get("_grad_dtype")   # set by Tensor.grad_dtype; None (unset) keeps the dtype
    if grad_dtype is not None and grad.dtype is not grad_dtype:
        grad, owned = grad.to(grad_dtype), True
    if var._hooks:
        for hook in tuple(var._hooks.values()):  # a hook may remove itself: all registered run
            new = hook(grad)
            if new is not None:
                check_hook_result(hook, grad, new)
                grad, owned = new, False
    if var._grad is None:
        var._grad = grad if create_graph or owned else grad.detach().clone()
    elif create_graph or GradMode.enabled:
        var._grad = var._grad + grad
    else:
        var._grad._add_inplace_grad(grad)
    if var._post_accumulate_hooks:
        for hook in tuple(var._post_accumulate_hooks.values()):
            hook(var)


def _owned_result(g, k, out, incoming):
    """Whether output ``k`` of a built-in node, ``g``, is a buffer only the engine holds: a new array (or a
    reshape of one that nothing else references), not in a graph, not an incoming gradient passed through, that no
    other output shares."""
    data = g._data
    if g._grad_fn is not None or data.base is not None and not _private_reshape(data):
        return False
    for j, o in enumerate(out):
        if j != k and o is not None and (o._data is data or o._data.base is data):
            return False
    for x in incoming:
        if x is not None and (x._data is data or x._data.base is data):
            return False
    return True


def _private_reshape(data):
    """True when ``data`` is a C-contiguous view of all of an array that owns its memory and that nothing but this
    view references (a backward's temporary reshaped: conv weight and norm parameter gradients): handing it to
    ``.grad`` is as safe as handing over the temporary, and saves a copy per parameter per step."""
    if getrefcount(data.base) != 2:   # 2: this view's reference and the call's argument
        return False
    base = data.base
    return type(base) is type(data) and base.base is None and data.nbytes == base.nbytes and data.flags.c_contiguous


def run_backward(tensors, grad_tensors, retain_graph, create_graph, inputs=None, accumulate=True,
                 allow_unused=False):
    """Backpropagate ``grad_tensors`` from ``tensors``.

    With ``accumulate`` the gradients of leaves (or only of ``inputs``, when
    given) are added into their ``.grad``; otherwise the gradients with
    respect to ``inputs`` are returned as a tuple, as ``autograd.grad`` does.
    """
    # buffers: the gradients that arrived at each reached node so far: the tensor itself for a node with one output
    # (most nodes: no list to make), a list with one entry per output for a node with several; None before any
    roots, buffers = [], {}
    for t, g in zip(tensors, grad_tensors):
        edge = edge_of(t)
        if edge is None:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
        node, nr = edge
        if node not in buffers:
            roots.append(node)
        _buffer(buffers, node, nr, g)

    # capture targets: the edge through which each input's gradient arrives
    captures = None
    if inputs is not None:
        captures = {}
        for i, t in enumerate(inputs):
            edge = edge_of(t)
            if edge is None:
                raise RuntimeError("One of the differentiated Tensors does not require grad")
            captures.setdefault(edge[0], []).append((edge[1], i))
    results = [None] * (len(inputs) if inputs is not None else 0)

    owned = set()   # leaf nodes whose buffered gradient the engine made and nothing else holds
    heap = [(n._order, n) for n in roots]   # reached nodes not run yet; buffers holds an entry (maybe None) for each
    heapify(heap)
    following = None   # the one node the last node reached first, kept off the heap while it is the next to run
    check_nan = AutogradFlags.anomaly and AutogradFlags.anomaly_check_nan
    prev_mode = GradMode.enabled
    GradMode.enabled = create_graph
    try:
        while True:   # the hot loop: once per node of every backward, so the common case is written out
            if following is not None:
                if heap and heap[0][0] < following._order:
                    node = heapreplace(heap, (following._order, following))[1]
                else:
                    node = following
                following = None
            elif heap:
                node = heappop(heap)[1]
            else:
                break
            grads = buffers.pop(node)   # see ``buffers``; None when no gradient arrived
            if captures is not None and node in captures:
                listed = _listed(node, grads)
                for nr, i in captures[node]:
                    results[i] = _apply_tensor_hooks(node, listed)[nr] if node._tensor_pre_hooks else listed[nr]
            fast = node._fast   # no hooks, built-in backward, plain release (never a leaf's node): one read decides
            if not fast and type(node) is AccumulateGrad:
                if accumulate and grads is not None and (captures is None or node in captures):
                    _accumulate_into_leaf(node, grads, create_graph, node in owned)
                    del grads
                continue
            trusted = fast or not (node._hooked or node._user_defined)
            if not trusted:
                out = _call_user_code(node, _listed(node, grads))
            else:   # _run_node inlined
                if grads is None:
                    out = (None,) * len(node._edges)
                elif type(grads) is not list:
                    out = node.backward(grads)
                elif all(g is None for g in grads):
                    out = (None,) * len(node._edges)
                else:
                    out = node.backward(*grads)
                if type(out) is not tuple:
                    out = tuple(out) if isinstance(out, list) else (out,)
                if check_nan:
                    _check_nan(node, out)
            if not retain_graph:
                if fast:   # Node.release inlined
                    node._saved = node._result = None
                else:
                    node.release()
            edges = node._edges
            if len(out) != len(edges):
                raise RuntimeError(f"function {node.name()} returned an incorrect number of gradients "
                                   f"(expected {len(edges)}, got {len(out)})")
            for k, edge in enumerate(edges):
                if edge is None:
                    continue
                nxt = edge[0]
                g = out[k]
                if nxt not in buffers:   # reached for the first time: it runs (even with no gradient), in order
                    if following is None:
                        following = nxt
                    else:
                        heappush(heap, (nxt._order, nxt))
                    if g is not None and nxt._num_outputs == 1:   # the common case: one store
                        buffers[nxt] = g
                        if type(nxt) is AccumulateGrad and trusted and _owned_result(g, k, out, _listed(node, grads)):
                            owned.add(nxt)
                        continue
                    prev = buffers[nxt] = None
                elif g is None:
                    continue
                else:
                    prev = buffers[nxt]
                if g is None:
                    continue
                if nxt._num_outputs != 1:
                    _buffer(buffers, nxt, edge[1], g)
                elif prev is None:
                    buffers[nxt] = g
                    if type(nxt) is AccumulateGrad and trusted and _owned_result(g, k, out, _listed(node, grads)):
                        owned.add(nxt)
                else:
                    buffers[nxt] = prev + g   # a sum the engine made: owned
                    if type(nxt) is AccumulateGrad:
                        owned.add(nxt)
            del grads
    finally:
        GradMode.enabled = prev_mode

    if not accumulate:
        for i, r in enumerate(results):
            if r is None and not allow_unused:
                raise RuntimeError("One of the differentiated Tensors appears to not have been used in the graph. "
                                   "Set allow_unused=True if this is the desired behavior.")
        return tuple(results)
    return tuple(results) if inputs is not None else None


def _buffer(buffers, node, nr, g):
    """Add ``g``, the gradient of output ``nr`` of ``node``, to what ``buffers`` holds for it (see run_backward)."""
    if node._num_outputs == 1:
        prev = buffers.get(node)
        buffers[node] = g if prev is None else prev + g
    else:
        buf = buffers.get(node)
        if buf is None:
            buf = buffers[node] = [None] * node._num_outputs
        buf[nr] = g if buf[nr] is None else buf[nr] + g


def _listed(node, grads):
    """What ``buffers`` held for ``node`` as a list with one gradient (or None) per output."""
    if type(grads) is list:
        return grads
    return [None] * node._num_outputs if grads is None else [grads]


def _call_user_code(node, grads):
    """Run ``node`` with its tensor hooks, retain_grad, pre-hooks and post-hooks around it, checking what the
    hooks and (for a custom Function) its backward return."""
    if node._tensor_pre_hooks:
        grads = _apply_tensor_hooks(node, grads)
    if node._retained:
        _retain(node, grads)
    if node._pre_hooks:
        for hook in tuple(node._pre_hooks.values()):
            new = hook(tuple(grads))
            if new is not None:
                check_hook_results(hook, grads, new)
                grads = list(new)
    if all(g is None for g in grads):
        out = (None,) * len(node._edges)
    else:
        out = _run_node(node, grads)
        if node._user_defined:
            out = validate_function_outputs(node, out)
    if node._post_hooks:
        for hook in tuple(node._post_hooks.values()):
            new = hook(out, tuple(grads))
            if new is not None:
                check_hook_results(hook, out, new)
                out = new
    return out


def _run_node(node, grads):
    """``node.backward(*grads)`` as a tuple, checked for NaN under anomaly detection."""
    out = node.backward(*grads)
    if type(out) is not tuple:
        out = tuple(out) if isinstance(out, list) else (out,)
    if AutogradFlags.anomaly and AutogradFlags.anomaly_check_nan:
        _check_nan(node, out)
    return out


def _apply_tensor_hooks(node, grads):
    grads = list(grads)
    for nr, hooks in tuple(node._tensor_pre_hooks.items()):
        for hook in tuple(hooks.values()):
            if grads[nr] is None:
                break
            new = hook(grads[nr])
            if new is not None:
                check_hook_result(hook, grads[nr], new)
                grads[nr] = new
    return grads


def _retain(node, grads):
    for nr, ref in node._retained.items():
        t = ref()
        if t is None or grads[nr] is None:
            continue
        g = grads[nr]
        if t._grad is None:
            t._grad = g.detach().clone() if not GradMode.enabled else g
        else:
            t._grad = t._grad + g


def _check_nan(node, grads):
    for i, g in enumerate(grads):
        if g is not None and g.dtype.is_floating_point and bool(g.isnan().any()):
            msg = f"Function '{node.name()}' returned nan values in its {i}th output."
            if node._anomaly_trace:
                import warnings
                warnings.warn("Error detected in " + node.name() + ". Traceback of forward call that caused "
                              "the error:\n" + node._anomaly_trace, stacklevel=2)
                msg += "\nForward call that created it:\n" + node._anomaly_trace
            raise RuntimeError(msg)

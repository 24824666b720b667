"""Walks over the recorded autograd graph behind some tensors (through the public Node API)."""

__all__ = ["graph_leaves", "graph_node_names"]


def _nodes(tensors):
    """Every node reachable from the ``grad_fn`` of ``tensors``, each once."""
    seen, stack = set(), [t.grad_fn for t in tensors if t.grad_fn is not None]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        yield node
        if node.name() != "AccumulateGrad":
            stack.extend(n for n, _ in node.next_functions)


def graph_leaves(tensors):
    """The leaf tensors requiring grad that ``tensors`` depend on (themselves if they are such leaves)."""
    found = {id(t): t for t in tensors if t.requires_grad and t.grad_fn is None}
    for node in _nodes(tensors):
        if node.name() == "AccumulateGrad" and node.variable is not None:
            found.setdefault(id(node.variable), node.variable)
    return list(found.values())


def graph_node_names(tensors):
    """The names of the nodes behind ``tensors`` (``MulBackward0``...), for messages."""
    return [node.name() for node in _nodes(tensors)]

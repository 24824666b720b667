"""Nested containers of tensors ("pytrees"): flatten to a list of leaves and rebuild.

Tuples, lists, dicts (key order kept) and namedtuples are containers; everything else is a leaf.
"""
__all__ = ["tree_flatten", "tree_unflatten", "tree_map", "TreeSpec", "LeafSpec"]

class TreeSpec:
    """How a container was built: its ``type``, its keys (``context``, dicts) or None, and one spec per child."""

    def __init__(self, type, context, children_specs):
        self.type, self.context, self.children_specs = type, context, children_specs
        self.num_leaves = sum(c.num_leaves for c in children_specs)

    def __eq__(self, other):
        return (isinstance(other, TreeSpec) and self.type is other.type and self.context == other.context
                and self.children_specs == other.children_specs)

    def __repr__(self, indent=0):
        # PyTorch's layout: first child inline, each further child on its own line, indented by depth
        indent += 2
        kids = [c.__repr__(indent) for c in self.children_specs]
        return f"TreeSpec({self.type.__name__}, {self.context}, [" + (",\n" + " " * indent).join(kids) + "])"


class LeafSpec:
    """The spec of a single leaf."""

    num_leaves = 1

    def __eq__(self, other):
        return isinstance(other, LeafSpec)

    def __repr__(self, indent=0):
        return "*"


_LEAF = LeafSpec()


def _children(tree):
    """``(children, context)`` of a container, or None for a leaf."""
    if isinstance(tree, dict):
        return list(tree.values()), list(tree.keys())
    if isinstance(tree, (tuple, list)):
        return list(tree), None
    return None


def tree_flatten(tree):
    """``(leaves, spec)``: the leaves of ``tree`` in order, and the spec that ``tree_unflatten`` rebuilds from."""
    leaves = []
    return leaves, _flatten_into(tree, leaves)


def _flatten_into(node, leaves):
    # module-level recursion: a recursive closure would be a reference cycle keeping the leaves alive until gc
    parts = _children(node)
    if parts is None:
        leaves.append(node)
        return _LEAF
    children, context = parts
    return TreeSpec(type(node), context, [_flatten_into(c, leaves) for c in children])


def tree_unflatten(leaves, spec):
    """Rebuild the structure described by ``spec`` with ``leaves`` in order."""
    return _build(iter(leaves), spec)


def _build(it, spec):
    if isinstance(spec, LeafSpec):
        return next(it)
    children = [_build(it, c) for c in spec.children_specs]
    if issubclass(spec.type, dict):
        return spec.type(zip(spec.context, children))
    if _is_namedtuple_type(spec.type):
        return spec.type(*children)
    return spec.type(children)


def _is_namedtuple_type(t):
    return issubclass(t, tuple) and hasattr(t, "_fields")


def tree_map(fn, tree):
    """The same structure with ``fn`` applied to every leaf."""
    leaves, spec = tree_flatten(tree)
    return tree_unflatten([fn(x) for x in leaves], spec)

"""The table builder for elementwise functions of one tensor (exp, sin, erf, ...).

One row per op: the array-module function that computes it, and its derivative
written with ember ops (so double backward works)::

    exp = unary_op("exp", "exp", lambda g, r: g * r, saves="output", inplace=True)

``saves`` names what the derivative receives after the incoming gradient:
"input" (x), "output" (r), "both" (x, r) or None (nothing).
"""
import sys

from ._common import array_module, float_array, record, write_out, Node, _make
from ._declare import op as _declare_op

_SAVES = {"input": (True, False), "output": (False, True), "both": (True, True), None: (False, False)}


def _node_name(name):
    return "".join(p.capitalize() for p in name.split("_")) + "Backward0"


def derivative_node(name, derivative, saves):
    """A Node subclass called ``name`` whose backward applies ``derivative`` to what ``saves`` names."""
    if saves == "input":
        def backward(self, grad):
            return (derivative(grad, self.saved_tensors[0]),)
    elif saves == "output":
        def backward(self, grad):
            return (derivative(grad, self.result()),)
    elif saves == "both":
        def backward(self, grad):
            return (derivative(grad, self.saved_tensors[0], self.result()),)
    else:
        def backward(self, grad):
            return (derivative(grad),)
    return type(name, (Node,), {"backward": backward, "__doc__": f"Gradient of an elementwise op ({name})."})


def unary_op(name, forward, derivative=None, *, saves="input", promote=True, node_name=None, declare=True,
             **declaration):
    """Build and declare the elementwise op ``name``.

    Args:
        name: the public name (``ember.<name>``, ``Tensor.<name>``).
        forward: the name of the array-module function computing it (``"exp"``), or a function
            ``forward(xp, array) -> array`` for anything longer.
        derivative: ``derivative(grad, *saved) -> grad_input`` written with ember ops; None for an op
            without gradient.
        saves: what ``derivative`` receives: "input", "output", "both" or None.
        promote: integer and bool inputs compute in the default float dtype.
        node_name: the backward node's class name (default ``<Name>Backward0``).
        declare: declare it as an op (False for a building block other ops use).
        **declaration: more ``@op`` options (``inplace=True``, ``aliases=...``).

    Returns the op function ``op(input, *, out=None)``.
    """
    save_x, save_r = _SAVES[saves]
    node_cls = derivative_node(node_name or _node_name(name), derivative, saves) if derivative else None
    by_name = isinstance(forward, str)

    def unary(input, *, out=None):
        arr = float_array(input) if promote else input._data
        xp = array_module(input)
        res = _make(getattr(xp, forward)(arr) if by_name else forward(xp, arr))
        if node_cls is not None:
            record(res, node_cls, (input,), (input,) if save_x else (), save_r)
        return write_out(out, res) if out is not None else res

    unary.__name__ = unary.__qualname__ = name
    unary.__module__ = sys._getframe(1).f_globals["__name__"]   # the family module that declared it
    unary.__doc__ = f"Elementwise ``{name}`` of ``input``; returns a new tensor (or writes ``out``)."
    return _declare_op(unary, **declaration) if declare else unary

"""The table builder for elementwise functions of one tensor (exp, sin, erf, ...).

One row per op: the array-module function that computes it, and its derivative
written with ember ops (so double backward works)::

    exp = unary_op("exp", "exp", lambda g, r: g * r, saves="output", inplace=True)

``saves`` names what the derivative receives after the incoming gradient:
"input" (x), "output" (r), "both" (x, r) or None (nothing).
"""
import sys

import numpy   # the CPU array module, checked first (the common case)

from ._ieee import retry_quietly
from ._common import array_module, float_array, record, write_out, Node, _make, GradMode
from ._declare import op as _declare_op

_SAVES = {"input": (True, False), "output": (False, True), "both": (True, True), None: (False, False)}


def _node_name(name):
    return "".join(p.capitalize() for p in name.split("_")) + "Backward0"


def derivative_node(name, derivative, saves, on_arrays=False):
    """A Node subclass called ``name`` whose backward applies ``derivative`` to what ``saves`` names.

    With ``on_arrays`` (a derivative written with arithmetic operators only, which mean the same on arrays) a
    first-order backward (grad mode off) of a float32/float64 gradient applies it to the arrays directly:
    one array expression instead of several recorded-op calls.  Under create_graph it composes ember ops.
    ``on_arrays`` may also be the derivative written for arrays (``fn(grad_array, saved_array)``).
    """
    on_arrays, array_derivative = bool(on_arrays), on_arrays if callable(on_arrays) else derivative
    if saves == "input":
        def backward(self, grad):
            x = self.saved_tensors[0]
            if on_arrays and not GradMode.enabled and _same_float(grad._data, x._data):
                return (_make(_quietly(array_derivative, grad._data, x._data)),)
            return (derivative(grad, x),)
    elif saves == "output":
        def backward(self, grad):
            if on_arrays and not GradMode.enabled:
                saved = self._result   # the output's array, checked as result() checks it
                if saved is None or saved[1][0] != saved[2]:
                    return (derivative(grad, self.result()),)   # raises the freed or the in-place error
                r = saved[0]
                g = grad._data
                if g.dtype is r.dtype and g.dtype.char in "fd":   # _same_float and _quietly inlined: hot
                    try:
                        return (_make(array_derivative(g, r)),)
                    except RuntimeWarning:
                        return (_make(retry_quietly(g, array_derivative, g, r)),)
            return (derivative(grad, self.result()),)
    elif saves == "both":
        def backward(self, grad):
            return (derivative(grad, self.saved_tensors[0], self.result()),)
    else:
        def backward(self, grad):
            return (derivative(grad),)
    return type(name, (Node,), {"backward": backward, "__doc__": f"Gradient of an elementwise op ({name}).",
                                "_saved_names": ("self",) if saves in ("input", "both") else (),
                                "_result_name": "result" if saves in ("output", "both") else None})


def _quietly(fn, g, a):
    """``fn(g, a)`` on arrays, with IEEE results and no warning even where a filter makes warnings errors."""
    try:
        return fn(g, a)
    except RuntimeWarning:
        return retry_quietly(g, fn, g, a)


def _same_float(g, a):
    """Both arrays float32, or both float64: the dtypes where array arithmetic gives ember's results."""
    return g.dtype is a.dtype and g.dtype.char in "fd"


def unary_op(name, forward, derivative=None, *, saves="input", promote=True, node_name=None, declare=True,
             on_arrays=False, **declaration):
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
        on_arrays: ``derivative`` uses arithmetic operators only, so a first-order backward may run it on the
            arrays (see ``derivative_node``); or the derivative written for arrays, ``fn(grad, saved)``.
        **declaration: more ``@op`` options (``inplace=True``, ``aliases=...``).

    Returns the op function ``op(input, *, out=None)``.
    """
    save_x, save_r = _SAVES[saves]
    node_cls = derivative_node(node_name or _node_name(name), derivative, saves, on_arrays) if derivative else None
    by_name = isinstance(forward, str)

    numpy_fn = getattr(numpy, forward) if by_name else forward   # the CPU case, looked up once

    def unary(input, *, out=None):
        arr = input._data
        if promote and arr.dtype.char not in "fd":   # float32/float64 need no promotion: no float_array call
            arr = float_array(input)
        if type(input._data) is numpy.ndarray:
            xp, fn = numpy, numpy_fn
        else:
            xp = array_module(input)
            fn = getattr(xp, forward) if by_name else forward
        try:
            res = _make(fn(arr) if by_name else fn(xp, arr))
        except RuntimeWarning:   # only when a warning filter made NumPy's IEEE warning an error: compute quietly
            res = _make(retry_quietly(arr, fn, arr) if by_name else retry_quietly(arr, fn, xp, arr))
        if node_cls is not None and input._requires_grad:   # record() decides; this only skips the call
            record(res, node_cls, (input,), (input,) if save_x else (), save_r)
        return write_out(out, res) if out is not None else res

    unary.__name__ = unary.__qualname__ = name
    unary.__module__ = sys._getframe(1).f_globals["__name__"]   # the family module that declared it
    unary.__doc__ = f"Elementwise ``{name}`` of ``input``; returns a new tensor (or writes ``out``)."
    return _declare_op(unary, **declaration) if declare else unary

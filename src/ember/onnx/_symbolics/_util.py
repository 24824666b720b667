"""Helpers the symbolic functions share: argument access, dtypes, axes, runtime shapes, reshapes."""
import numpy

import ember
from .._lower import array_dtype

INT64_MAX = numpy.iinfo(numpy.int64).max


def arg(call, *names, default=None):
    """The first of ``names`` present among ``call``'s bound arguments, else ``default``."""
    for n in names:
        if n in call.args:
            return call.args[n]
    return default


def out(call, i=0):
    """The ``i``-th tensor ``call`` returned."""
    from .._trace import tensors_in
    return tensors_in(call.result)[i]


def out_dtype(call, i=0):
    """NumPy dtype of the ``i``-th tensor ``call`` returned."""
    return array_dtype(out(call, i))


def operand(g, x, dtype):
    """The Value of ``x`` (tensor or Python number) as ``dtype``."""
    if isinstance(x, ember.Tensor):
        return g.cast(g.v(x), dtype)
    return g.const(numpy.asarray(x, dtype=dtype))


def wrap(dim, rank):
    """``dim`` made non-negative for a tensor of ``rank`` dims."""
    return dim + rank if dim < 0 else dim


def dims_list(dim, rank):
    """A dim argument (int, tuple, list or None meaning every dim) as a sorted list of non-negative dims."""
    if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0):
        return list(range(rank))
    if isinstance(dim, int):
        dim = [dim]
    return sorted(wrap(d, rank) for d in dim)


def axes_op(g, op_type, x, axes, **attrs):
    """An op that takes its ``axes`` as an input from opset 13 (Squeeze, Unsqueeze)."""
    return g.op(op_type, x, g.ints(axes), **attrs)


def reduce(g, op_type, x, axes, keepdims):
    """``op_type`` (ReduceSum, ReduceMean, ...) over ``axes`` (a list); axes as an input where the opset
    says so (ReduceSum from 13, the others from 18)."""
    as_input = op_type == "ReduceSum" or g.opset >= 18
    if as_input:
        return g.op(op_type, x, g.ints(axes), keepdims=int(keepdims))
    return g.op(op_type, x, axes=list(axes), keepdims=int(keepdims))


def shape_dims(g, x, dims):
    """A 1-D int64 Value with the runtime sizes of ``x`` along ``dims``."""
    return g.op("Gather", g.op("Shape", x), g.ints(dims), axis=0)


def numel(g, x, dims):
    """An int64 scalar-shaped (1-D, one element) Value: the runtime product of ``x``'s sizes along ``dims``."""
    return reduce(g, "ReduceProd", shape_dims(g, x, dims), [0], True)


def _groups(a, b):
    """Pair contiguous runs of dims of shapes ``a`` and ``b`` with equal products (how a view regroups)."""
    groups, i, j = [], 0, 0
    while i < len(a) or j < len(b):
        gi, gj = [], []
        pa = pb = 1
        if i < len(a):
            gi.append(i); pa *= a[i]; i += 1
        if j < len(b):
            gj.append(j); pb *= b[j]; j += 1
        while pa != pb:
            if pa < pb and i < len(a):
                gi.append(i); pa *= a[i]; i += 1
            elif j < len(b):
                gj.append(j); pb *= b[j]; j += 1
            elif i < len(a):
                gi.append(i); pa *= a[i]; i += 1
            else:
                break
        while i < len(a) and a[i] == 1 and j >= len(b):
            gi.append(i); i += 1
        while j < len(b) and b[j] == 1 and i >= len(a):
            gj.append(j); j += 1
        groups.append((gi, gj))
    return groups


def reshape_to(g, x, target):
    """Reshape Value ``x`` to the traced shape ``target``, keeping dynamic dims dynamic.

    The dims of ``x`` and ``target`` are matched in runs with equal products (the way a view
    regroups memory).  A run whose input dims are all fixed gives fixed output sizes.  Otherwise a
    run with one output dim takes the runtime product of its input sizes; a run that splits a
    dynamic dim takes, for each output dim whose traced size is that of one dynamic axis of the
    graph inputs, that axis's runtime size (the other dims stay fixed); when none matches, its
    first dim takes the quotient of the runtime product by the rest.  One dynamic output dim becomes a ``-1``; several are computed from
    ``Shape``.
    """
    target = [int(s) for s in target]
    if 0 in target or 0 in x.shape:
        return g.op("Reshape", x, g.ints(target))
    static = g.static_shape(x)
    spec = list(target)          # int, or a function g -> 1-D int64 Value
    for gi, gj in _groups(list(x.shape), target):
        if all(static[i] for i in gi) or not gj:
            continue
        if len(gj) > 1:
            matched = [j for j in gj if g.symbols.get(target[j]) is not None]
            for j in matched:
                src, axis = g.symbols[target[j]]
                spec[j] = lambda g, src=src, axis=axis: shape_dims(g, src, [axis])
            if matched:
                continue
        j0 = next((j for j in gj if target[j] != 1), gj[0])
        divisor = 1
        for j in gj:
            if j != j0:
                divisor *= target[j]

        def size(g, gi=gi, divisor=divisor):
            n = numel(g, x, gi) if len(gi) > 1 else shape_dims(g, x, gi)
            return g.op("Div", n, g.ints([divisor])) if divisor != 1 else n
        spec[j0] = size
    dynamic = [s for s in spec if callable(s)]
    if not dynamic:
        return g.op("Reshape", x, g.ints(target))
    if len(dynamic) == 1:
        return g.op("Reshape", x, g.ints([-1 if callable(s) else s for s in spec]))
    parts = [s(g) if callable(s) else g.ints([s]) for s in spec]
    return g.op("Reshape", x, g.op("Concat", *parts, axis=0))

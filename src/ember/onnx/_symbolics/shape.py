"""Symbolics of shape and indexing ops: views, transposes, joins, splits, slicing, gathers, casts."""
import numpy

import ember
from .._registry import symbolic
from .._lower import array_dtype
from ._util import arg, out, out_dtype, operand, wrap, axes_op, reshape_to, INT64_MAX


def _x(call):
    return arg(call, "input", "self", "tensor")


@symbolic("aten::view", "aten::reshape", "aten::flatten", "aten::unflatten", "aten::view_as", "aten::reshape_as",
          "aten::ravel")
def reshape(g, call):
    return reshape_to(g, g.v(_x(call)), out(call).shape)


@symbolic("aten::squeeze")
def squeeze(g, call):
    x = g.v(_x(call))
    dim = arg(call, "dim")
    dims = range(x.rank()) if dim is None else ([dim] if isinstance(dim, int) else dim)
    axes = sorted({wrap(d, x.rank()) for d in dims if x.shape[wrap(d, x.rank())] == 1})
    return axes_op(g, "Squeeze", x, axes) if axes else g.op("Identity", x)


@symbolic("aten::unsqueeze")
def unsqueeze(g, call):
    x = g.v(_x(call))
    return axes_op(g, "Unsqueeze", x, [wrap(arg(call, "dim"), x.rank() + 1)])


def _perm(g, x, perm):
    return g.op("Transpose", x, perm=list(perm))


@symbolic("aten::transpose", "aten::swapaxes", "aten::swapdims")
def transpose(g, call):
    x = g.v(_x(call))
    perm = list(range(x.rank()))
    a = wrap(arg(call, "dim0", "axis0"), x.rank())
    b = wrap(arg(call, "dim1", "axis1"), x.rank())
    perm[a], perm[b] = perm[b], perm[a]
    return _perm(g, x, perm)


@symbolic("aten::t", "aten::T", "aten::mT", "aten::adjoint", "aten::mH", "aten::H")
def t(g, call):
    x = g.v(_x(call))
    if x.rank() < 2:
        return g.op("Identity", x)
    perm = list(range(x.rank()))
    if call.name in ("aten::T", "aten::H"):
        perm = perm[::-1]
    else:
        perm[-1], perm[-2] = perm[-2], perm[-1]
    return _perm(g, x, perm)


@symbolic("aten::permute")
def permute(g, call):
    x = g.v(_x(call))
    dims = arg(call, "dims")
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = dims[0]
    return _perm(g, x, [wrap(d, x.rank()) for d in dims])


@symbolic("aten::movedim", "aten::moveaxis")
def movedim(g, call):
    x = g.v(_x(call))
    src, dst = arg(call, "source"), arg(call, "destination")
    src = [src] if isinstance(src, int) else list(src)
    dst = [dst] if isinstance(dst, int) else list(dst)
    n = x.rank()
    src, dst = [wrap(d, n) for d in src], [wrap(d, n) for d in dst]
    perm = [None] * n
    for s, d in zip(src, dst):
        perm[d] = s
    rest = iter(d for d in range(n) if d not in src)
    return _perm(g, x, [p if p is not None else next(rest) for p in perm])


@symbolic("aten::expand", "aten::expand_as", "aten::broadcast_to")
def expand(g, call):
    x = g.v(_x(call))
    target = list(out(call).shape)
    lead = len(target) - x.rank()
    spec = [1 if i >= lead and x.shape[i - lead] == s else s for i, s in enumerate(target)]
    return g.op("Expand", x, g.ints(spec))


@symbolic("aten::repeat")
def repeat(g, call):
    x = g.v(_x(call))
    sizes = arg(call, "sizes", "repeats")
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = sizes[0]
    if len(sizes) > x.rank():
        x = axes_op(g, "Unsqueeze", x, list(range(len(sizes) - x.rank())))
    return g.op("Tile", x, g.ints(sizes))


def _identity_or_cast(g, call):
    x = g.v(_x(call))
    return g.cast(x, out_dtype(call)) if x.dtype != out_dtype(call) else g.op("Identity", x)


for _name in ("contiguous", "clone", "detach", "to", "type", "type_as", "float", "double", "half", "long", "int",
              "short", "char", "byte", "bool", "cpu", "cuda", "data", "alias", "positive", "resolve_conj",
              "resolve_neg"):
    symbolic("aten::" + _name)(_identity_or_cast)


@symbolic("aten::cat", "aten::concat", "aten::concatenate")
def cat(g, call):
    tensors = [t for t in arg(call, "tensors") if not (t.dim() == 1 and t.shape[0] == 0)]
    dt = out_dtype(call)
    dim = wrap(arg(call, "dim", default=0), tensors[0].dim())
    return g.op("Concat", *[operand(g, t, dt) for t in tensors], axis=dim)


@symbolic("aten::stack")
def stack(g, call):
    tensors = arg(call, "tensors")
    dt = out_dtype(call)
    dim = wrap(arg(call, "dim", default=0), tensors[0].dim() + 1)
    return g.op("Concat", *[axes_op(g, "Unsqueeze", operand(g, t, dt), [dim]) for t in tensors], axis=dim)


@symbolic("aten::split", "aten::chunk", "aten::split_with_sizes", "aten::tensor_split", "aten::unbind",
          "aten::hsplit", "aten::vsplit")
def split(g, call):
    x = g.v(_x(call))
    from .._trace import tensors_in
    parts = tensors_in(call.result)
    dim = arg(call, "dim", default=0)
    if call.name == "aten::hsplit":
        dim = 1 if x.rank() > 1 else 0
    elif call.name == "aten::vsplit":
        dim = 0
    dim = wrap(dim, x.rank())
    if call.name == "aten::unbind":
        outs = g.op("Split", x, g.ints([1] * len(parts)), axis=dim, outputs=len(parts))
        outs = outs if isinstance(outs, tuple) else (outs,)
        return tuple(axes_op(g, "Squeeze", o, [dim]) for o in outs)
    sizes = [p.shape[dim] for p in parts]
    outs = g.op("Split", x, g.ints(sizes), axis=dim, outputs=len(parts))
    return outs if isinstance(outs, tuple) else (outs,)


@symbolic("aten::narrow")
def narrow(g, call):
    x = g.v(_x(call))
    dim, start, length = wrap(arg(call, "dim"), x.rank()), arg(call, "start"), arg(call, "length")
    start = int(start) if not isinstance(start, ember.Tensor) else int(start.item())
    if start < 0:
        start += x.shape[dim]
    return g.op("Slice", x, g.ints([start]), g.ints([start + length]), g.ints([dim]))


@symbolic("aten::select")
def select(g, call):
    x = g.v(_x(call))
    idx = g.const(numpy.asarray(int(arg(call, "index")), dtype=numpy.int64))
    return g.op("Gather", x, idx, axis=wrap(arg(call, "dim"), x.rank()))


@symbolic("aten::gather", "aten::take_along_dim")
def gather(g, call):
    x = g.v(_x(call))
    idx = g.cast(g.v(arg(call, "index", "indices")), numpy.int64)
    return g.op("GatherElements", x, idx, axis=wrap(arg(call, "dim"), x.rank()))


@symbolic("aten::index_select")
def index_select(g, call):
    x = g.v(_x(call))
    return g.op("Gather", x, g.cast(g.v(arg(call, "index")), numpy.int64), axis=wrap(arg(call, "dim"), x.rank()))


@symbolic("aten::tril", "aten::triu", since=14)
def trilu(g, call):
    x = g.v(_x(call))
    k = g.const(numpy.asarray(int(arg(call, "diagonal", default=0)), dtype=numpy.int64))
    return g.op("Trilu", x, k, upper=int(call.name == "aten::triu"))


@symbolic("aten::__getitem__")
def getitem(g, call):
    x = g.v(arg(call, "self", "input"))
    key = arg(call, "key", "idx", "index", "item")
    key = list(key) if isinstance(key, tuple) else [key]
    used = sum(1 for k in key if k is not None and k is not Ellipsis
               and not (isinstance(k, ember.Tensor) and array_dtype(k) == bool))
    if Ellipsis in key:
        i = key.index(Ellipsis)
        key[i:i + 1] = [slice(None)] * (x.rank() - used)
    cur, axis, dim = x, 0, 0
    for k in key:
        if k is None:
            cur = axes_op(g, "Unsqueeze", cur, [axis])
            axis += 1
            continue
        size = x.shape[dim]
        if isinstance(k, slice):
            start, stop, step = k.start or 0, k.stop, k.step or 1
            if start != 0 or step != 1 or (stop is not None and stop < size):
                end = INT64_MAX if stop is None or stop >= size else int(stop)
                cur = g.op("Slice", cur, g.ints([int(start)]), g.ints([end]), g.ints([axis]), g.ints([step]))
            axis += 1
        elif isinstance(k, ember.Tensor) or isinstance(k, (list, bool)):
            if isinstance(k, ember.Tensor) and array_dtype(k) == bool:
                from ..errors import SymbolicValueError
                raise SymbolicValueError("indexing with a boolean mask gives a data-dependent shape; use "
                                         "masked_fill or where instead (in " + call.scope + ")")
            idx = g.cast(g.v(k) if isinstance(k, ember.Tensor) else g.const(numpy.asarray(k)), numpy.int64)
            cur = g.op("Gather", cur, idx, axis=axis)
            axis += len(k.shape) if isinstance(k, ember.Tensor) else numpy.ndim(k)
        else:
            cur = g.op("Gather", cur, g.const(numpy.asarray(int(k), dtype=numpy.int64)), axis=axis)
        dim += 1
    return cur if cur is not x else g.op("Identity", x)


_FILL = {"new_zeros": 0, "zeros_like": 0, "new_ones": 1, "ones_like": 1}


@symbolic("aten::new_zeros", "aten::new_ones", "aten::new_full", "aten::new_empty", "aten::zeros_like",
          "aten::ones_like", "aten::full_like", "aten::empty_like")
def filled(g, call):
    """``*_like`` follow the runtime shape of their input; ``new_*`` have the traced size."""
    from onnx import numpy_helper
    res = out(call)
    name = call.name.split("::")[1]
    value = numpy.asarray([_FILL.get(name, arg(call, "fill_value", default=0))], dtype=array_dtype(res))
    if name.endswith("_like"):
        return g.op("ConstantOfShape", g.op("Shape", g.v(_x(call))), value=numpy_helper.from_array(value))
    return g.const(numpy.full(tuple(res.shape), value[0], dtype=value.dtype))

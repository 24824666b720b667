"""Symbolic of ember's attention kernel (``ember.ops.attention.sdpa``), which
``scaled_dot_product_attention`` and ``multi_head_attention_forward`` call: MatMul, scale, mask, Softmax,
MatMul.  A causal mask is built from the runtime sequence lengths, so it follows dynamic axes."""
import math

import numpy
from onnx import numpy_helper

from .._registry import symbolic
from ..errors import SymbolicValueError
from .._lower import array_dtype
from ._util import arg, shape_dims


def _causal_bias(g, q, k, dtype):
    """A float (L, S) addend: 0 where key j <= query i, -inf above the diagonal."""
    size = g.op("Concat", shape_dims(g, q, [q.rank() - 2]), shape_dims(g, k, [k.rank() - 2]), axis=0)
    ones = g.op("ConstantOfShape", size, value=numpy_helper.from_array(numpy.ones(1, dtype=numpy.bool_)))
    allowed = g.op("Trilu", ones, g.const(numpy.asarray(0, dtype=numpy.int64)), upper=0)
    return g.op("Where", allowed, g.const(numpy.asarray(0, dtype=dtype)),
                g.const(numpy.asarray(-numpy.inf, dtype=dtype)))


@symbolic("aten::sdpa", since=14)
def sdpa(g, call):
    if arg(call, "dropout_p", default=0.0):
        raise SymbolicValueError(f"attention dropout cannot be exported; export in eval mode (in {call.scope})")
    if arg(call, "enable_gqa", default=False):
        raise SymbolicValueError(f"grouped-query attention cannot be exported yet (in {call.scope})")
    q, k, v = g.v(arg(call, "query")), g.v(arg(call, "key")), g.v(arg(call, "value"))
    dt = q.dtype
    scale = arg(call, "scale")
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else float(scale)
    perm = list(range(k.rank()))
    perm[-1], perm[-2] = perm[-2], perm[-1]
    scores = g.op("MatMul", g.op("Mul", q, g.const(numpy.asarray(scale, dtype=dt))),
                  g.op("Transpose", k, perm=perm))
    mask = arg(call, "attn_mask")
    if arg(call, "is_causal", default=False):
        scores = g.op("Add", scores, _causal_bias(g, q, k, dt))
    elif mask is not None:
        if array_dtype(mask) == bool:
            m = g.op("Where", g.v(mask), g.const(numpy.asarray(0, dtype=dt)),
                     g.const(numpy.asarray(-numpy.inf, dtype=dt)))
        else:
            m = g.cast(g.v(mask), dt)
        scores = g.op("Add", scores, m)
    weights = g.op("Softmax", scores, axis=-1)
    out = g.op("MatMul", weights, v)
    return (out, weights) if arg(call, "need_weights", default=False) else out

"""Symbolics of elementwise math, comparisons, matrix products and reductions."""
import math as _math

import numpy

import ember
from .._registry import symbolic
from ._util import arg, out, out_dtype, operand, dims_list, reduce, numel, wrap


def _x(call):
    return arg(call, "input", "self", "a")


# ---------------------------------------------------------------------- unary
_UNARY = {"exp": "Exp", "log": "Log", "sqrt": "Sqrt", "abs": "Abs", "neg": "Neg", "negative": "Neg",
          "sigmoid": "Sigmoid", "tanh": "Tanh", "relu": "Relu", "erf": "Erf", "sin": "Sin", "cos": "Cos",
          "tan": "Tan", "asin": "Asin", "acos": "Acos", "atan": "Atan", "sinh": "Sinh", "cosh": "Cosh",
          "floor": "Floor", "ceil": "Ceil", "reciprocal": "Reciprocal", "sign": "Sign", "logical_not": "Not",
          "bitwise_not": "Not", "softsign": "Softsign", "selu": "Selu",
          "isnan": "IsNaN", "round": "Round"}


def _unary(onnx_op):
    def lower(g, call):
        dt = out_dtype(call)
        x = g.v(_x(call))
        return g.op(onnx_op, g.cast(x, dt) if onnx_op not in ("Not", "IsNaN") else x)
    return lower


for _name, _op in _UNARY.items():
    symbolic("aten::" + _name, "nn.functional::" + _name)(_unary(_op))


def _composite(fn):
    def lower(g, call):
        return fn(g, g.cast(g.v(_x(call)), out_dtype(call)), call)
    return lower


def _c(g, value, like):
    return g.const(numpy.asarray(value, dtype=like.dtype))


_COMPOSITE = {
    "rsqrt": lambda g, x, c: g.op("Reciprocal", g.op("Sqrt", x)),
    "square": lambda g, x, c: g.op("Mul", x, x),
    "log1p": lambda g, x, c: g.op("Log", g.op("Add", x, _c(g, 1, x))),
    "expm1": lambda g, x, c: g.op("Sub", g.op("Exp", x), _c(g, 1, x)),
    "log2": lambda g, x, c: g.op("Div", g.op("Log", x), _c(g, _math.log(2), x)),
    "log10": lambda g, x, c: g.op("Div", g.op("Log", x), _c(g, _math.log(10), x)),
    "exp2": lambda g, x, c: g.op("Pow", _c(g, 2, x), x),
    "silu": lambda g, x, c: g.op("Mul", x, g.op("Sigmoid", x)),
    "mish": lambda g, x, c: g.op("Mul", x, g.op("Tanh", g.op("Softplus", x))),
    "logsigmoid": lambda g, x, c: g.op("Neg", g.op("Softplus", g.op("Neg", x))),
    "tanhshrink": lambda g, x, c: g.op("Sub", x, g.op("Tanh", x)),
    "relu6": lambda g, x, c: g.op("Clip", x, _c(g, 0, x), _c(g, 6, x)),
    "hardsigmoid": lambda g, x, c: g.op("HardSigmoid", x, alpha=1.0 / 6, beta=0.5),
    "hardswish": lambda g, x, c: g.op("Mul", x, g.op("HardSigmoid", x, alpha=1.0 / 6, beta=0.5)),
    "trunc": lambda g, x, c: g.op("Mul", g.op("Sign", x), g.op("Floor", g.op("Abs", x))),
    "frac": lambda g, x, c: g.op("Sub", x, g.op("Mul", g.op("Sign", x), g.op("Floor", g.op("Abs", x)))),
}
for _name, _fn in _COMPOSITE.items():
    symbolic("aten::" + _name, "nn.functional::" + _name)(_composite(_fn))


@symbolic("aten::gelu", "nn.functional::gelu")
def gelu(g, call):
    x = g.cast(g.v(_x(call)), out_dtype(call))
    if arg(call, "approximate", default="none") == "tanh":
        inner = g.op("Mul", _c(g, _math.sqrt(2 / _math.pi), x),
                     g.op("Add", x, g.op("Mul", _c(g, 0.044715, x), g.op("Mul", x, g.op("Mul", x, x)))))
        return g.op("Mul", g.op("Mul", _c(g, 0.5, x), x), g.op("Add", _c(g, 1, x), g.op("Tanh", inner)))
    cdf = g.op("Add", _c(g, 1, x), g.op("Erf", g.op("Div", x, _c(g, _math.sqrt(2), x))))
    return g.op("Mul", g.op("Mul", _c(g, 0.5, x), x), cdf)


@symbolic("aten::leaky_relu", "nn.functional::leaky_relu")
def leaky_relu(g, call):
    return g.op("LeakyRelu", g.v(_x(call)), alpha=float(arg(call, "negative_slope", default=0.01)))


@symbolic("aten::elu", "nn.functional::elu")
def elu(g, call):
    return g.op("Elu", g.v(_x(call)), alpha=float(arg(call, "alpha", default=1.0)))


@symbolic("aten::celu", "nn.functional::celu")
def celu(g, call):
    return g.op("Celu", g.v(_x(call)), alpha=float(arg(call, "alpha", default=1.0)))


@symbolic("aten::hardtanh", "nn.functional::hardtanh")
def hardtanh(g, call):
    x = g.v(_x(call))
    return g.op("Clip", x, _c(g, arg(call, "min_val", default=-1.0), x), _c(g, arg(call, "max_val", default=1.0), x))


@symbolic("aten::softplus", "nn.functional::softplus")
def softplus(g, call):
    x = g.v(_x(call))
    beta, threshold = float(arg(call, "beta", default=1.0)), float(arg(call, "threshold", default=20.0))
    bx = g.op("Mul", x, _c(g, beta, x)) if beta != 1 else x
    soft = g.op("Softplus", bx)
    if beta != 1:
        soft = g.op("Div", soft, _c(g, beta, x))
    return g.op("Where", g.op("Greater", bx, _c(g, threshold, x)), x, soft)


@symbolic("aten::threshold", "nn.functional::threshold")
def threshold(g, call):
    x = g.v(_x(call))
    return g.op("Where", g.op("Greater", x, _c(g, arg(call, "threshold"), x)), x, _c(g, arg(call, "value"), x))


@symbolic("aten::prelu", "nn.functional::prelu")
def prelu(g, call):
    x, w = g.v(_x(call)), g.v(arg(call, "weight"))
    if x.rank() >= 2 and w.shape[0] > 1:      # one slope per channel (dim 1)
        w = g.op("Reshape", w, g.ints([-1] + [1] * (x.rank() - 2)))
    return g.op("PRelu", x, w)


@symbolic("aten::glu", "nn.functional::glu")
def glu(g, call):
    x = g.v(_x(call))
    dim = wrap(arg(call, "dim", default=-1), x.rank())
    half = x.shape[dim] // 2
    a, b = g.op("Split", x, g.ints([half, half]), axis=dim, outputs=2)
    return g.op("Mul", a, g.op("Sigmoid", b))


# ---------------------------------------------------------------------- binary
def _binary(onnx_op, swap=False):
    def lower(g, call):
        dt = out_dtype(call)
        a, b = operand(g, _x(call), dt), operand(g, arg(call, "other", "exponent"), dt)
        alpha = arg(call, "alpha", default=1)
        if alpha != 1:
            b = g.op("Mul", b, g.const(numpy.asarray(alpha, dtype=dt)))
        return g.op(onnx_op, b, a) if swap else g.op(onnx_op, a, b)
    return lower


for _name, _op in {"add": "Add", "sub": "Sub", "subtract": "Sub", "mul": "Mul", "multiply": "Mul",
                   "pow": "Pow", "maximum": "Max", "minimum": "Min", "fmax": "Max", "fmin": "Min"}.items():
    symbolic("aten::" + _name)(_binary(_op))


@symbolic("aten::rsub")
def rsub(g, call):
    dt = out_dtype(call)
    a, b = operand(g, _x(call), dt), operand(g, arg(call, "other"), dt)
    alpha = arg(call, "alpha", default=1)
    if alpha != 1:
        a = g.op("Mul", a, g.const(numpy.asarray(alpha, dtype=dt)))
    return g.op("Sub", b, a)


@symbolic("aten::reflected_sub", "aten::__rsub__")
def reflected_sub(g, call):
    dt = out_dtype(call)
    return g.op("Sub", operand(g, arg(call, "other"), dt), operand(g, _x(call), dt))


def _reflected(onnx_op):
    def lower(g, call):
        dt = out_dtype(call)
        return g.op(onnx_op, operand(g, arg(call, "other"), dt), operand(g, _x(call), dt))
    return lower


for _name, _op in {"__rtruediv__": "Div", "reflected_div": "Div", "__rpow__": "Pow",
                   "reflected_pow": "Pow"}.items():
    symbolic("aten::" + _name)(_reflected(_op))


@symbolic("aten::div", "aten::true_divide", "aten::divide")
def div(g, call):
    dt = out_dtype(call)
    a, b = operand(g, _x(call), dt), operand(g, arg(call, "other"), dt)
    mode = arg(call, "rounding_mode")
    if mode is None or dt.kind != "f":
        q = g.op("Div", a, b)
        if mode == "floor" and dt.kind != "f":     # integer Div truncates: step down where signs differ
            r = g.op("Mod", a, b, fmod=0)
            return g.op("Div", g.op("Sub", a, r), b)
        return q
    q = g.op("Div", a, b)
    if mode == "floor":
        return g.op("Floor", q)
    return g.op("Mul", g.op("Sign", q), g.op("Floor", g.op("Abs", q)))


@symbolic("aten::floor_divide")
def floor_divide(g, call):
    dt = out_dtype(call)
    a, b = operand(g, _x(call), dt), operand(g, arg(call, "other"), dt)
    if dt.kind == "f":
        return g.op("Floor", g.op("Div", a, b))
    return g.op("Div", g.op("Sub", a, g.op("Mod", a, b, fmod=0)), b)


@symbolic("aten::remainder")
def remainder(g, call):
    dt = out_dtype(call)
    a, b = operand(g, _x(call), dt), operand(g, arg(call, "other"), dt)
    if dt.kind == "f":
        return g.op("Sub", a, g.op("Mul", g.op("Floor", g.op("Div", a, b)), b))
    return g.op("Mod", a, b, fmod=0)


@symbolic("aten::fmod")
def fmod(g, call):
    dt = out_dtype(call)
    return g.op("Mod", operand(g, _x(call), dt), operand(g, arg(call, "other"), dt), fmod=1)


def _common_dtype(a, b):
    ta = isinstance(a, ember.Tensor)
    tb = isinstance(b, ember.Tensor)
    from .._lower import array_dtype
    if ta and tb:
        return numpy.promote_types(array_dtype(a), array_dtype(b))
    t, other = (a, b) if ta else (b, a)
    dt = array_dtype(t)
    if isinstance(other, float) and dt.kind in "biu":
        return numpy.dtype(numpy.float32)
    return dt


def _compare(onnx_op, negate=False):
    def lower(g, call):
        a, b = _x(call), arg(call, "other")
        dt = _common_dtype(a, b)
        r = g.op(onnx_op, operand(g, a, dt), operand(g, b, dt))
        return g.op("Not", r) if negate else r
    return lower


for _name, (_op, _neg) in {"eq": ("Equal", False), "ne": ("Equal", True), "lt": ("Less", False),
                           "gt": ("Greater", False), "le": ("LessOrEqual", False),
                           "ge": ("GreaterOrEqual", False), "less": ("Less", False),
                           "greater": ("Greater", False), "not_equal": ("Equal", True),
                           "greater_equal": ("GreaterOrEqual", False), "less_equal": ("LessOrEqual", False)}.items():
    symbolic("aten::" + _name)(_compare(_op, _neg))


def _logical(onnx_op):
    def lower(g, call):
        b = numpy.dtype(bool)
        return g.op(onnx_op, operand(g, _x(call), b), operand(g, arg(call, "other"), b))
    return lower


for _name, _op in {"logical_and": "And", "logical_or": "Or", "logical_xor": "Xor", "__and__": "And",
                   "__or__": "Or", "__xor__": "Xor", "bitwise_and": "And", "bitwise_or": "Or"}.items():
    symbolic("aten::" + _name)(_logical(_op))


@symbolic("aten::where")
def where(g, call):
    cond, a, b = arg(call, "condition"), _x(call), arg(call, "other")
    dt = out_dtype(call)
    return g.op("Where", operand(g, cond, numpy.dtype(bool)), operand(g, a, dt), operand(g, b, dt))


@symbolic("aten::masked_fill")
def masked_fill(g, call):
    dt = out_dtype(call)
    x = g.v(_x(call))
    return g.op("Where", operand(g, arg(call, "mask"), numpy.dtype(bool)), operand(g, arg(call, "value"), dt), x)


@symbolic("aten::clamp", "aten::clip")
def clamp(g, call):
    dt = out_dtype(call)
    x = operand(g, _x(call), dt)
    lo, hi = arg(call, "min"), arg(call, "max")
    if isinstance(lo, ember.Tensor) or isinstance(hi, ember.Tensor):
        if lo is not None:
            x = g.op("Max", x, operand(g, lo, dt))
        if hi is not None:
            x = g.op("Min", x, operand(g, hi, dt))
        return x
    return g.op("Clip", x, None if lo is None else operand(g, lo, dt), None if hi is None else operand(g, hi, dt))


@symbolic("aten::addcmul")
def addcmul(g, call):
    dt = out_dtype(call)
    prod = g.op("Mul", operand(g, arg(call, "tensor1"), dt), operand(g, arg(call, "tensor2"), dt))
    value = arg(call, "value", default=1)
    if value != 1:
        prod = g.op("Mul", prod, g.const(numpy.asarray(value, dtype=dt)))
    return g.op("Add", operand(g, _x(call), dt), prod)


@symbolic("aten::lerp")
def lerp(g, call):
    dt = out_dtype(call)
    x, end, w = operand(g, _x(call), dt), operand(g, arg(call, "end"), dt), operand(g, arg(call, "weight"), dt)
    return g.op("Add", x, g.op("Mul", w, g.op("Sub", end, x)))


# ---------------------------------------------------------------------- products
@symbolic("aten::matmul", "aten::mm", "aten::bmm", "aten::__rmatmul__")
def matmul(g, call):
    dt = out_dtype(call)
    a, b = operand(g, _x(call), dt), operand(g, arg(call, "other", "mat2"), dt)
    return g.op("MatMul", b, a) if call.name == "aten::__rmatmul__" else g.op("MatMul", a, b)


@symbolic("aten::addmm")
def addmm(g, call):
    dt = out_dtype(call)
    return g.op("Gemm", operand(g, arg(call, "mat1"), dt), operand(g, arg(call, "mat2"), dt),
                operand(g, _x(call), dt), alpha=float(arg(call, "alpha", default=1)),
                beta=float(arg(call, "beta", default=1)))


@symbolic("aten::baddbmm", "aten::addbmm")
def baddbmm(g, call):
    dt = out_dtype(call)
    p = g.op("MatMul", operand(g, arg(call, "batch1"), dt), operand(g, arg(call, "batch2"), dt))
    alpha, beta = arg(call, "alpha", default=1), arg(call, "beta", default=1)
    if call.name == "aten::addbmm":
        p = reduce(g, "ReduceSum", p, [0], False)
    if alpha != 1:
        p = g.op("Mul", p, g.const(numpy.asarray(alpha, dtype=dt)))
    base = operand(g, _x(call), dt)
    if beta != 1:
        base = g.op("Mul", base, g.const(numpy.asarray(beta, dtype=dt)))
    return g.op("Add", base, p)


@symbolic("nn.functional::linear", "aten::linear")
def linear(g, call):
    dt = out_dtype(call)
    x, w, b = g.v(_x(call)), g.v(arg(call, "weight")), g.v(arg(call, "bias"))
    x = g.cast(x, dt)
    if x.rank() == 2:
        return g.op("Gemm", x, w, b, transB=1)
    y = g.op("MatMul", x, g.op("Transpose", w, perm=[1, 0]))
    return g.op("Add", y, b) if b is not None else y


@symbolic("aten::einsum")
def einsum(g, call):
    args = call.positional()
    eq, ops = args[0], args[1:]
    if len(ops) == 1 and isinstance(ops[0], (list, tuple)):
        ops = ops[0]
    dt = out_dtype(call)
    return g.op("Einsum", *[operand(g, t, dt) for t in ops], equation=eq.replace(" ", ""))


# ---------------------------------------------------------------------- reductions
def _reduction(onnx_op):
    def lower(g, call):
        x = g.v(_x(call))
        dt = out_dtype(call)
        dim = arg(call, "dim")
        y = reduce(g, onnx_op, g.cast(x, dt), dims_list(dim, x.rank()),
                   arg(call, "keepdim", default=False))
        return g.cast(y, dt)
    return lower


for _name, _op in {"sum": "ReduceSum", "mean": "ReduceMean", "amax": "ReduceMax", "amin": "ReduceMin",
                   "prod": "ReduceProd", "logsumexp": "ReduceLogSumExp", "nansum": "ReduceSum"}.items():
    symbolic("aten::" + _name)(_reduction(_op))


def _max_min(onnx_op, arg_op):
    def lower(g, call):
        x = g.v(_x(call))
        dim, other = arg(call, "dim"), arg(call, "other")
        if isinstance(dim, ember.Tensor) or other is not None:    # binary max(a, b)
            dt = out_dtype(call)
            return g.op("Max" if onnx_op == "ReduceMax" else "Min", g.cast(x, dt), operand(g, other if other
                                                                                          is not None else dim, dt))
        if dim is None:
            return reduce(g, onnx_op, x, list(range(x.rank())), False)
        keep = arg(call, "keepdim", default=False)
        d = wrap(dim, x.rank())
        return (reduce(g, onnx_op, x, [d], keep),
                g.op(arg_op, x, axis=d, keepdims=int(keep), select_last_index=0))
    return lower


symbolic("aten::max")(_max_min("ReduceMax", "ArgMax"))
symbolic("aten::min")(_max_min("ReduceMin", "ArgMin"))


def _arg_reduce(onnx_op):
    def lower(g, call):
        x = g.v(_x(call))
        dim, keep = arg(call, "dim"), arg(call, "keepdim", default=False)
        if dim is None:
            flat = g.op("Reshape", x, g.ints([-1]))
            y = g.op(onnx_op, flat, axis=0, keepdims=0)
            return g.op("Reshape", y, g.ints([1] * x.rank())) if keep else y
        return g.op(onnx_op, x, axis=wrap(dim, x.rank()), keepdims=int(keep))
    return lower


symbolic("aten::argmax")(_arg_reduce("ArgMax"))
symbolic("aten::argmin")(_arg_reduce("ArgMin"))


def _moment(take_sqrt):
    def lower(g, call):
        x = g.v(_x(call))
        axes = dims_list(arg(call, "dim"), x.rank())
        keep = arg(call, "keepdim", default=False)
        corr = arg(call, "correction")
        if corr is None:
            unbiased = arg(call, "unbiased")
            corr = 0 if unbiased is False else 1
        mean = reduce(g, "ReduceMean", x, axes, True)
        dev = g.op("Sub", x, mean)
        var = reduce(g, "ReduceMean", g.op("Mul", dev, dev), axes, keep)
        if corr:
            n = g.cast(numel(g, x, axes), x.dtype)
            var = g.op("Mul", var, g.op("Div", n, g.op("Sub", n, _c(g, corr, x))))
        return g.op("Sqrt", var) if take_sqrt else var
    return lower


symbolic("aten::var")(_moment(False))
symbolic("aten::std")(_moment(True))


@symbolic("aten::norm", "aten::linalg_vector_norm", "aten::vector_norm")
def norm(g, call):
    x = g.v(_x(call))
    p = arg(call, "p", "ord", default=2)
    axes = dims_list(arg(call, "dim"), x.rank())
    keep = arg(call, "keepdim", default=False)
    if p in (2, "fro", 2.0):
        return reduce(g, "ReduceL2", x, axes, keep)
    if p in (1, 1.0):
        return reduce(g, "ReduceL1", x, axes, keep)
    if p == _math.inf:
        return reduce(g, "ReduceMax", g.op("Abs", x), axes, keep)
    s = reduce(g, "ReduceSum", g.op("Pow", g.op("Abs", x), _c(g, p, x)), axes, keep)
    return g.op("Pow", s, _c(g, 1.0 / p, x))


def _any_all(onnx_op):
    def lower(g, call):
        x = g.cast(g.v(_x(call)), numpy.int32)
        dim = arg(call, "dim")
        y = reduce(g, onnx_op, x, dims_list(dim, x.rank()), arg(call, "keepdim", default=False))
        return g.cast(y, bool)
    return lower


symbolic("aten::any")(_any_all("ReduceMax"))
symbolic("aten::all")(_any_all("ReduceMin"))


@symbolic("aten::cumsum")
def cumsum(g, call):
    x = g.v(_x(call))
    axis = g.const(numpy.asarray(wrap(arg(call, "dim"), x.rank()), dtype=numpy.int64))
    return g.op("CumSum", g.cast(x, out_dtype(call)), axis)


@symbolic("aten::softmax", "aten::log_softmax", "aten::special_softmax")
def softmax(g, call):
    x = g.v(_x(call))
    dt = out_dtype(call)
    op_type = "LogSoftmax" if call.name.endswith("log_softmax") else "Softmax"
    return g.op(op_type, g.cast(x, dt), axis=wrap(arg(call, "dim"), x.rank()))


@symbolic("nn.functional::softmax", "nn.functional::log_softmax", "nn.functional::softmin")
def f_softmax(g, call):
    x = g.v(_x(call))
    dt = out_dtype(call)
    dim = arg(call, "dim")
    if dim is None:
        dim = 0 if x.rank() in (0, 1, 3) else 1
    x = g.cast(x, dt)
    if call.name.endswith("softmin"):
        x = g.op("Neg", x)
    return g.op("LogSoftmax" if call.name.endswith("log_softmax") else "Softmax", x, axis=wrap(dim, x.rank()))

"""Elementwise ops: arithmetic, math functions, comparisons, logic; each with its gradient.

Unary math functions are declared as one table row each: the NumPy forward and
the derivative written with ember ops (so double backward works).  The
derivative's parameter names say what it needs saved: ``x`` (the input),
``r`` (the result) or both.
"""
from .. import _dtype
from ._common import (xp, Tensor, Node, attach, GradMode, _make, needs_grad, float_array, binary_arrays,
                      broadcast_error, grad_for, scalar_value, unbroadcast)


def write_out(out, result):
    """Copy ``result`` into the user's ``out=`` tensor (resizing an empty one) and return ``out``."""
    if not isinstance(out, Tensor):
        raise TypeError(f"out must be a Tensor, not {type(out).__name__}")
    if out._requires_grad and GradMode.enabled:
        raise RuntimeError("out=... arguments don't support automatic differentiation, but one of the "
                           "arguments requires grad.")
    if out._data.shape != result._data.shape:
        if out._data.size:
            import warnings
            warnings.warn(f"An output with one or more elements was resized since it had shape "
                          f"{list(out.shape)}, which does not match the required output shape {list(result.shape)}. "
                          "This behavior is deprecated.", UserWarning, stacklevel=3)
        out._data = xp.empty(result._data.shape, dtype=out._data.dtype)
    elif not _dtype.can_cast(result.dtype, out.dtype):
        raise RuntimeError(f"result type {_dtype_name(result.dtype)} can't be cast to the desired output type "
                           f"{_dtype_name(out.dtype)}")
    out._data[...] = result._data
    out._version[0] += 1
    return out


def _dtype_name(dt):
    return {"float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16", "int64": "Long",
            "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool",
            "complex64": "ComplexFloat", "complex128": "ComplexDouble"}[dt.name]


# ---------------------------------------------------------------------------- dtype conversion
class ToCopyBackward0(Node):
    def backward(self, grad):
        return (grad.to(self.src_dtype),)


def _to_dtype(t, dtype):
    """``t`` cast to ``dtype`` (a copy), differentiable between floating types."""
    r = _make(t._data.astype(dtype.np))
    if t._requires_grad and GradMode.enabled and dtype._category >= 2:
        node = ToCopyBackward0()
        node.src_dtype = t.dtype
        attach(r, node, t)
    return r


# ---------------------------------------------------------------------------- unary math table
def _node_name(name):
    return "".join(p.capitalize() for p in name.split("_")) + "Backward0"


def _define_unary(name, forward, derivative=None, promote=True, node_name=None):
    """Build the op ``name``: ``forward`` maps an array to an array; ``derivative(g, x|r)`` is the gradient."""
    node_cls = None
    if derivative is not None:
        code = derivative.__code__
        params = code.co_varnames[1:code.co_argcount]
        want_x, want_r = "x" in params, "r" in params

        if want_x and want_r:
            def backward(self, grad):
                return (derivative(grad, self.saved_tensors[0], self.result()),)
        elif want_x:
            def backward(self, grad):
                return (derivative(grad, self.saved_tensors[0]),)
        elif want_r:
            def backward(self, grad):
                return (derivative(grad, self.result()),)
        else:
            def backward(self, grad):
                return (derivative(grad),)

        node_cls = type(node_name or _node_name(name), (Node,), {"backward": backward})

    def op(input, *, out=None):
        arr = float_array(input) if promote else input._data
        res = _make(forward(arr))
        if node_cls is not None and input._requires_grad and GradMode.enabled:
            node = node_cls()
            if want_x:
                node.save(input)
            if want_r:
                node.save_result(res)
            attach(res, node, input)
        if out is not None:
            return write_out(out, res)
        return res

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise ``{name}`` of ``input``; returns a new tensor (or writes ``out``)."
    return op


def _sigmoid_array(a):
    # exp(-|a|) never overflows; the two branches of the logistic function share it
    e = xp.exp(-xp.abs(a))
    t = 1 / (1 + e)
    return xp.where(a >= 0, t, e * t)


exp = _define_unary("exp", xp.exp, lambda g, r: g * r)
exp2 = _define_unary("exp2", xp.exp2, lambda g, r: g * r * 0.6931471805599453)
expm1 = _define_unary("expm1", xp.expm1, lambda g, r: g * (r + 1))
log = _define_unary("log", xp.log, lambda g, x: g / x)
log2 = _define_unary("log2", xp.log2, lambda g, x: g / (x * 0.6931471805599453))
log10 = _define_unary("log10", xp.log10, lambda g, x: g / (x * 2.302585092994046))
log1p = _define_unary("log1p", xp.log1p, lambda g, x: g / (x + 1))
sqrt = _define_unary("sqrt", xp.sqrt, lambda g, r: g / (r * 2))
rsqrt = _define_unary("rsqrt", lambda a: 1 / xp.sqrt(a), lambda g, r: g * r.pow(3) * -0.5)
sin = _define_unary("sin", xp.sin, lambda g, x: g * x.cos())
cos = _define_unary("cos", xp.cos, lambda g, x: g * -x.sin())
tan = _define_unary("tan", xp.tan, lambda g, r: g * (r * r + 1))
asin = _define_unary("asin", xp.arcsin, lambda g, x: g * (1 - x * x).rsqrt())
acos = _define_unary("acos", xp.arccos, lambda g, x: g * -(1 - x * x).rsqrt())
atan = _define_unary("atan", xp.arctan, lambda g, x: g / (x * x + 1))
sinh = _define_unary("sinh", xp.sinh, lambda g, x: g * x.cosh())
cosh = _define_unary("cosh", xp.cosh, lambda g, x: g * x.sinh())
tanh = _define_unary("tanh", xp.tanh, lambda g, r: g * (1 - r * r))
asinh = _define_unary("asinh", xp.arcsinh, lambda g, x: g * (x * x + 1).rsqrt())
acosh = _define_unary("acosh", xp.arccosh, lambda g, x: g * (x * x - 1).rsqrt())
atanh = _define_unary("atanh", xp.arctanh, lambda g, x: g / (1 - x * x))
sigmoid = _define_unary("sigmoid", _sigmoid_array, lambda g, r: g * r * (1 - r))
reciprocal = _define_unary("reciprocal", lambda a: 1 / a, lambda g, r: g * -(r * r))
square = _define_unary("square", xp.square, lambda g, x: g * x * 2, promote=False, node_name="PowBackward0")


def _negative(a):
    if a.dtype.kind == "b":
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If you are trying to "
                           "invert a mask, use the `~` or `logical_not()` operator instead.")
    return xp.negative(a)


neg = _define_unary("neg", _negative, lambda g: -g, promote=False)
negative = neg
def _relu_grad(g, r):
    """``g * (r > 0)``; one fused NumPy call when no graph is being recorded (the common case)."""
    if GradMode.enabled:
        return g * (r > 0)
    ga = g._data
    if ga.dtype == xp.float32 or ga.dtype == xp.float64:
        return _make(xp.multiply(ga, r._data > 0))  # float * bool: one pass, no bool->float copy
    return g * (r > 0)


relu = _define_unary("relu", lambda a: xp.maximum(a, 0), _relu_grad, promote=False, node_name="ReluBackward0")
abs = _define_unary("abs", xp.abs, lambda g, x: g * x.sign(), promote=False)
absolute = abs
def _sign_array(a):
    if a.dtype == bool:
        return a.copy()
    r = xp.asarray(xp.sign(a))
    if r.dtype.kind not in "iu":
        xp.copyto(r, 0, where=r != r)  # sign(NaN) is 0 in PyTorch
    return r


sign = _define_unary("sign", _sign_array, lambda g: g * 0, promote=False)
floor = _define_unary("floor", xp.floor, lambda g: g * 0, promote=False)
ceil = _define_unary("ceil", xp.ceil, lambda g: g * 0, promote=False)
trunc = _define_unary("trunc", xp.trunc, lambda g: g * 0, promote=False)
fix = trunc
frac = _define_unary("frac", lambda a: a - xp.trunc(a), lambda g: g, promote=False)


def round(input, *, decimals=0, out=None):
    """Round half to even, to ``decimals`` decimal places."""
    if decimals and input._data.dtype.kind in "biu":
        raise NotImplementedError(f'"round_cpu" not implemented for \'{_dtype_name(input.dtype)}\'')
    if input._data.dtype == bool:
        raise NotImplementedError('"round_vml_cpu" not implemented for \'Bool\'')
    res = _make(xp.round(input._data, decimals))
    if needs_grad(input):
        attach(res, _ZeroGradBackward("RoundBackward0" if not decimals else "RoundBackward1"), input)
    return write_out(out, res) if out is not None else res


class _ZeroGradBackward(Node):
    """Gradient of a piecewise-constant function: zero everywhere."""

    def __init__(self, name):
        self._name = name

    def name(self):
        return self._name

    def backward(self, grad):
        return (grad * 0,)


def logical_not(input, *, out=None):
    """Elementwise NOT, as bool."""
    res = _make(xp.logical_not(input._data))
    return write_out(out, res) if out is not None else res


def bitwise_not(input, *, out=None):
    """Elementwise bitwise NOT of an integer or bool tensor."""
    if input.dtype.is_floating_point:
        raise NotImplementedError(f'"bitwise_not_cpu" not implemented for \'{_dtype_name(input.dtype)}\'')
    res = _make(xp.invert(input._data))
    return write_out(out, res) if out is not None else res


def _rdiv(input, other):
    """``other / input`` for the reflected operator: a number divided by a tensor is
    ``reciprocal(tensor) * number`` in PyTorch (the same rounding, and MulBackward0 over ReciprocalBackward0)."""
    if type(other) in (int, float, bool):
        return mul(reciprocal(input), other)
    return div(other, input)


def _invert(input):
    """``~tensor``: PyTorch's operator refuses floating tensors with a TypeError."""
    if input.dtype._category > 1:
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type tensors")
    return bitwise_not(input)


# ---------------------------------------------------------------------------- binary arithmetic
def _broadcast_op(fn, a, b):
    da, db = binary_arrays(a, b)
    try:
        return fn(da, db)
    except ValueError:
        raise broadcast_error(xp.shape(da), xp.shape(db)) from None


def _operand_meta(x):
    """What add/sub's backward needs of an operand: (shape, dtype) if it requires grad, else None."""
    if isinstance(x, Tensor) and x._requires_grad:
        return (x._data.shape, x._data.dtype)
    return None


def _reduce_to(grad, meta):
    """``grad`` summed to an operand's shape and cast to its dtype (None for operands without grad)."""
    if meta is None:
        return None
    shape, np_dtype = meta
    if grad._data.shape != shape:
        grad = unbroadcast(grad, shape)
    if grad._data.dtype != np_dtype:
        grad = grad.to(_dtype.from_numpy_dtype(np_dtype))
    return grad


class AddBackward0(Node):
    def backward(self, grad):
        return _reduce_to(grad, self.a), _reduce_to(grad, self.b)


class SubBackward0(Node):
    def backward(self, grad):
        gb = _reduce_to(grad, self.b)
        return _reduce_to(grad, self.a), (-gb if gb is not None else None)


class RsubBackward1(Node):
    """Backward of ``number - tensor``: one edge, to the tensor."""

    def backward(self, grad):
        gb = _reduce_to(grad, self.b)
        return (-gb if gb is not None else None,)


class MulBackward0(Node):
    def backward(self, grad):
        # _saved is () when an operand was a number (nothing saved), None once freed by backward
        a, b = self.saved_tensors if self._saved != () else self.inputs
        ga = grad_for(grad * b, a) if isinstance(a, Tensor) and a._requires_grad else None
        gb = grad_for(grad * a, b) if isinstance(b, Tensor) and b._requires_grad else None
        return ga, gb


class DivBackward0(Node):
    def backward(self, grad):
        if self._saved == ():
            a, b = self.inputs
        else:
            saved = self.saved_tensors
            a, b = saved if len(saved) == 2 else (self.inputs[0], saved[0])   # number / tensor
        ga = grad_for(grad / b, a) if isinstance(a, Tensor) and a._requires_grad else None
        gb = grad_for(-grad * a / (b * b), b) if isinstance(b, Tensor) and b._requires_grad else None
        return ga, gb


def add(input, other, *, alpha=1, out=None):
    """``input + alpha * other`` with broadcasting and type promotion."""
    if alpha != 1:
        other = other * alpha if isinstance(other, Tensor) else scalar_value(other) * alpha
        return add(input, other, out=out)
    if not isinstance(input, Tensor):
        input, other = other, input
    res = _make(_broadcast_op(xp.add, input, other))
    if GradMode.enabled and (input._requires_grad or isinstance(other, Tensor) and other._requires_grad):
        node = AddBackward0()
        node.a, node.b = _operand_meta(input), _operand_meta(other)
        attach(res, node, input, other if isinstance(other, Tensor) else None)
    return write_out(out, res) if out is not None else res


def sub(input, other, *, alpha=1, out=None):
    """``input - alpha * other`` with broadcasting and type promotion."""
    if alpha != 1:
        other = other * alpha if isinstance(other, Tensor) else scalar_value(other) * alpha
    if isinstance(input, Tensor):
        da, db = binary_arrays(input, other)
    else:
        db, da = binary_arrays(other, input)
    a_bool = isinstance(input, Tensor) and input._data.dtype.kind == "b" or type(input) is bool
    b_bool = isinstance(other, Tensor) and other._data.dtype.kind == "b" or type(other) is bool
    if a_bool and b_bool:
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not supported. "
                           "Use the `^` or `logical_xor()` operator instead.")
    if a_bool or b_bool:   # a Python bool counts too: PyTorch wraps it as a bool tensor
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. "
                           "If you are trying to invert a mask, use the `~` or `logical_not()` operator instead.")
    try:
        res = _make(xp.subtract(da, db))
    except ValueError:
        raise broadcast_error(xp.shape(da), xp.shape(db)) from None
    if needs_grad(input, other):
        if not isinstance(input, Tensor):   # number - tensor
            node = RsubBackward1()
            node.b = _operand_meta(other)
            attach(res, node, other)
            return write_out(out, res) if out is not None else res
        node = SubBackward0()
        node.a, node.b = _operand_meta(input), _operand_meta(other)
        attach(res, node, input, other if isinstance(other, Tensor) else None)
    return write_out(out, res) if out is not None else res


def mul(input, other, *, out=None):
    """``input * other`` with broadcasting and type promotion."""
    if not isinstance(input, Tensor):
        input, other = other, input
    res = _make(_broadcast_op(xp.multiply, input, other))
    if GradMode.enabled and (input._requires_grad or isinstance(other, Tensor) and other._requires_grad):
        node = MulBackward0()
        if isinstance(other, Tensor):
            node.save(input, other)
        else:
            node.inputs = (input, scalar_value(other))
        attach(res, node, input, other if isinstance(other, Tensor) else None)
    return write_out(out, res) if out is not None else res


multiply = mul


def div(input, other, *, rounding_mode=None, out=None):
    """``input / other``: true division (integers give floats) unless ``rounding_mode`` is 'trunc' or 'floor'."""
    a_is_t = isinstance(input, Tensor)
    if rounding_mode is not None:
        if rounding_mode not in ("trunc", "floor"):
            raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
                             f"'{rounding_mode}'")
        res = _rounded_div(input, other, rounding_mode)
        return write_out(out, res) if out is not None else res
    # true division computes in floating point: an integer number must not be wrapped to the tensor's int type
    if type(other) is int and a_is_t and input._data.dtype.kind in "biu":
        other = float(other)
    elif type(input) is int and not a_is_t and other._data.dtype.kind in "biu":
        input = float(input)
    da, db = binary_arrays(input, other) if a_is_t else binary_arrays(other, input)[::-1]
    for arr in (da, db):
        if isinstance(arr, xp.ndarray) and arr.dtype.kind in "biu":
            fd = _dtype.get_default_dtype().np
            da = da.astype(fd) if isinstance(da, xp.ndarray) and da.dtype.kind in "biu" else da
            db = db.astype(fd) if isinstance(db, xp.ndarray) and db.dtype.kind in "biu" else db
            break
    try:
        res = _make(xp.true_divide(da, db))
    except ValueError:
        raise broadcast_error(xp.shape(da), xp.shape(db)) from None
    if needs_grad(input, other):
        node = DivBackward0()
        if a_is_t and isinstance(other, Tensor):
            node.save(input, other)
        elif not a_is_t:
            node.inputs = (scalar_value(input), None)
            node.save(other)   # version-checked: the gradient needs the denominator's values
        else:
            node.inputs = (input if a_is_t else scalar_value(input),
                           other if isinstance(other, Tensor) else scalar_value(other))
        attach(res, node, input if a_is_t else None, other if isinstance(other, Tensor) else None)
    return write_out(out, res) if out is not None else res


divide = true_divide = div


def _rounded_div(a, b, mode):
    ta = a if isinstance(a, Tensor) else None
    da, db = binary_arrays(a, b) if ta is not None else binary_arrays(b, a)[::-1]
    kind = (da if isinstance(da, xp.ndarray) else xp.asarray(db)).dtype.kind
    if kind == "b":
        raise NotImplementedError(f'"div_{mode}_cpu" not implemented for \'Bool\'')
    if kind in "iub":
        if (xp.asarray(db) == 0).any() and xp.size(da) and xp.size(db):
            raise RuntimeError("ZeroDivisionError")
        q = xp.floor_divide(da, db)
        if mode == "trunc":
            q = q + ((xp.remainder(da, db) != 0) & ((xp.asarray(da) < 0) != (xp.asarray(db) < 0)))
    else:
        q = xp.true_divide(da, db)
        q = xp.trunc(q) if mode == "trunc" else xp.floor(q)
    res = _make(xp.asarray(q, dtype=xp.result_type(da, db)))
    if needs_grad(a, b):
        node = DivBackward2()
        node.a, node.b = _operand_meta(a), _operand_meta(b)
        attach(res, node, a if isinstance(a, Tensor) else None, b if isinstance(b, Tensor) else None)
    return res


class DivBackward2(Node):
    """Gradient of division with rounding: zero, shaped like each operand."""

    def backward(self, grad):
        z = grad * 0
        return _reduce_to(z, self.a), _reduce_to(z, self.b)


def floor_divide(input, other, *, out=None):
    """``input // other`` rounding toward negative infinity."""
    return div(input, other, rounding_mode="floor", out=out)


class PowBackward0(Node):
    def backward(self, grad):
        base, exponent = self.inputs
        x = self.saved_tensors[0]
        if exponent == 0:
            return (grad * 0,)
        return (grad * exponent * x.pow(exponent - 1),)


class PowBackward1(Node):
    def backward(self, grad):
        a, b = self.saved_tensors
        r = self.result()
        ga = grad_for(grad * b * a.pow(b - 1), a) if a._requires_grad else None
        gb = None
        if b._requires_grad:
            la = a.log().masked_fill((a == 0) & (b >= 0), 0)
            gb = grad_for(grad * r * la, b)
        return ga, gb


class PowBackward2(Node):
    def backward(self, grad):
        base, _ = self.inputs
        r = self.result()
        import math
        lb = math.log(base) if base > 0 else (float("nan") if base < 0 else float("-inf"))
        g = grad * r * lb
        if base == 0:
            g = g.masked_fill(self.saved_tensors[0] >= 0, 0)
        return (g,)


_C_INT = {"uint8": "uint8_t", "int8": "int8_t", "int16": "int16_t", "int32": "int", "int64": "int64_t"}


def _check_int_scalar(t, v):
    """PyTorch's overflow check for an integer number used with an integer tensor by pow and where (the
    arithmetic operators wrap it instead)."""
    if type(v) is int and t._data.dtype.kind in "iu" and not -128 <= v <= 127:
        info = xp.iinfo(t._data.dtype)
        if v > info.max or v < (info.min if info.min else -info.max - 1):
            raise RuntimeError(f"value cannot be converted to type {_C_INT[t.dtype.name]} without overflow")


def pow(input, exponent, *, out=None):
    """``input ** exponent``; either side may be a Python number."""
    if not isinstance(input, Tensor):
        base = scalar_value(input)
        db, da = binary_arrays(exponent, base)
        res = _make(xp.power(da, db))
        if needs_grad(exponent):
            node = PowBackward2()
            node.inputs = (base, None)
            node.save(exponent)
            node.save_result(res)
            attach(res, node, exponent)
        return write_out(out, res) if out is not None else res
    if isinstance(exponent, Tensor):
        if exponent.dtype._category < 2 and input.dtype._category < 2:
            da, db = binary_arrays(input, exponent)
            neg = xp.asarray(db) < 0
            if neg.any():
                # PyTorch's integer pow with a negative exponent: 1 for base 1, +-1 for base -1, else 0
                with xp.errstate(all="ignore"):
                    r = xp.where(neg, xp.where(da == 1, 1, xp.where(da == -1, 1 - 2 * (db & 1), 0)),
                                 xp.power(da, xp.where(neg, 0, db)))
                return _make(r.astype(da.dtype))
        res = _make(_broadcast_op(xp.power, input, exponent))
        if needs_grad(input, exponent):
            node = PowBackward1()
            node.save(input, exponent)
            node.save_result(res)
            attach(res, node, input, exponent)
        return write_out(out, res) if out is not None else res
    exponent = scalar_value(exponent)
    _check_int_scalar(input, exponent)
    da, e = binary_arrays(input, exponent)
    if da.dtype.kind in "iu" and type(exponent) is int and exponent < 0:
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    if e == 2:
        arr = da * da
    elif e == 0.5 and da.dtype.kind == "f":
        arr = xp.sqrt(da)
    else:
        arr = xp.power(da, e)
    res = _make(arr)
    if input._requires_grad and GradMode.enabled:
        node = PowBackward0()
        node.inputs = (None, exponent)
        node.save(input)
        attach(res, node, input)
    return write_out(out, res) if out is not None else res


class MaximumBackward0(Node):
    def backward(self, grad):
        a, b = self.saved_tensors
        pick_a = (a > b).to(grad.dtype) + (a == b).to(grad.dtype) * 0.5
        return grad_for(grad * pick_a, a), grad_for(grad * (1 - pick_a), b)


class MinimumBackward0(MaximumBackward0):
    def backward(self, grad):
        a, b = self.saved_tensors
        pick_a = (a < b).to(grad.dtype) + (a == b).to(grad.dtype) * 0.5
        return grad_for(grad * pick_a, a), grad_for(grad * (1 - pick_a), b)


def _check_tensor(x, name, op):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument '{name}' (position 2) must be Tensor, not {type(x).__name__}")


def maximum(input, other, *, out=None):
    """Elementwise maximum of two tensors (NaN propagates)."""
    _check_tensor(other, "other", "maximum")
    res = _make(_broadcast_op(xp.maximum, input, other))
    if needs_grad(input, other):
        node = MaximumBackward0()
        node.save(input, other)
        attach(res, node, input, other)
    return write_out(out, res) if out is not None else res


def minimum(input, other, *, out=None):
    """Elementwise minimum of two tensors (NaN propagates)."""
    _check_tensor(other, "other", "minimum")
    res = _make(_broadcast_op(xp.minimum, input, other))
    if needs_grad(input, other):
        node = MinimumBackward0()
        node.save(input, other)
        attach(res, node, input, other)
    return write_out(out, res) if out is not None else res


class ClampBackward1(Node):
    def backward(self, grad):
        (x,) = self.saved_tensors
        lo, hi = self.bounds
        keep = None
        if lo is not None:
            keep = x >= lo
        if hi is not None:
            keep = (x <= hi) if keep is None else keep & (x <= hi)
        return (grad * keep,)


def clamp(input, min=None, max=None, *, out=None):
    """Limit values to ``[min, max]`` (either bound may be None, a number, or a tensor)."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        if min is not None and max is not None and not (isinstance(min, Tensor) and isinstance(max, Tensor)):
            raise TypeError("clamp() received an invalid combination of arguments - got (Tensor, "
                            f"{type(min).__name__}, {type(max).__name__}), but expected min and max to be both "
                            "Tensors or both Numbers")
        from .pointwise_extra import _clamp_tensor_bounds
        res = _clamp_tensor_bounds(input, min, max)
        return write_out(out, res) if out is not None else res
    arr = input._data
    lo, hi = scalar_value(min), scalar_value(max)
    kind = arr.dtype.kind
    if kind in "iub" and (isinstance(lo, float) or isinstance(hi, float)):
        arr = arr.astype(_dtype.get_default_dtype().np)
    elif kind == "b" and (type(lo) is int or type(hi) is int):
        arr = arr.astype(xp.int64)          # bool with an integer bound promotes to int64, as in PyTorch
    elif kind in "iu":
        # PyTorch checks the bounds for overflow, then casts them to the tensor's type (uint8 takes -1 as 255)
        _check_int_scalar(input, lo)
        _check_int_scalar(input, hi)
        lo, hi = (xp.array(v, dtype=xp.int64).astype(arr.dtype)[()] if type(v) is int else v for v in (lo, hi))
    if lo is not None and hi is not None:
        r = xp.minimum(xp.maximum(arr, lo), hi)
    elif lo is not None:
        r = xp.maximum(arr, lo)
    else:
        r = xp.minimum(arr, hi)
    res = _make(r if r.dtype == arr.dtype else r.astype(arr.dtype))
    if input._requires_grad and GradMode.enabled:
        node = ClampBackward1()
        node.bounds = (lo, hi)
        node.save(input)
        attach(res, node, input)
    return write_out(out, res) if out is not None else res


clip = clamp


def clamp_min(input, min, *, out=None):
    return clamp(input, min=min, out=out)


def clamp_max(input, max, *, out=None):
    return clamp(input, max=max, out=out)


def _scalar_like(value, like):
    from .creation import tensor
    return tensor(value, dtype=_dtype.result_type(like, value))


class WhereBackward0(Node):
    def backward(self, grad):
        cond = self.cond
        zero = grad.new_zeros(())
        ga = _reduce_to(where(cond, grad, zero), self.a) if self.a is not None else None
        gb = _reduce_to(where(cond, zero, grad), self.b) if self.b is not None else None
        return ga, gb


def where(condition, input=None, other=None, *, out=None):
    """Pick ``input`` where ``condition`` holds and ``other`` elsewhere; with one argument, ``nonzero(as_tuple)``."""
    if input is None and other is None:
        from .indexing import nonzero
        return nonzero(condition, as_tuple=True)
    if condition.dtype is not _dtype.bool:
        if condition.dtype is _dtype.uint8:
            condition = condition.to(_dtype.bool)
        else:
            raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with dtype "
                               f"{_dtype_name(condition.dtype)}")
    if isinstance(input, Tensor) and isinstance(other, Tensor):
        da, db = binary_arrays(input, other)
    elif isinstance(input, Tensor):
        _check_int_scalar(input, scalar_value(other))
        da, db = binary_arrays(input, scalar_value(other))
    elif isinstance(other, Tensor):
        _check_int_scalar(other, scalar_value(input))
        db, da = binary_arrays(other, scalar_value(input))
    else:
        rd = _dtype.result_type(scalar_value(input), scalar_value(other)).np
        da, db = xp.asarray(input, dtype=rd), xp.asarray(other, dtype=rd)
    try:
        r = xp.where(condition._data, da, db)
    except ValueError:
        try:
            values_shape = xp.broadcast_shapes(xp.shape(da), xp.shape(db))
        except ValueError:
            raise broadcast_error(xp.shape(da), xp.shape(db)) from None
        raise broadcast_error(condition.shape, values_shape) from None
    res = _make(r)
    if needs_grad(input, other):
        node = WhereBackward0()
        node.cond, node.a, node.b = condition, _operand_meta(input), _operand_meta(other)
        attach(res, node, input if isinstance(input, Tensor) else None, other if isinstance(other, Tensor) else None)
    return write_out(out, res) if out is not None else res


# ---------------------------------------------------------------------------- comparison and logic
def _compare(name, fn):
    def op(input, other, *, out=None):
        if not isinstance(input, Tensor):
            input, other, f = other, input, _SWAPPED.get(name, fn)
        else:
            f = fn
        res = _make(_broadcast_op(f, input, other))
        return write_out(out, res) if out is not None else res
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise ``{name}`` comparison; returns a bool tensor."
    return op


_SWAPPED = {"lt": xp.greater, "le": xp.greater_equal, "gt": xp.less, "ge": xp.less_equal}
eq = _compare("eq", xp.equal)
ne = _compare("ne", xp.not_equal)
lt = _compare("lt", xp.less)
le = _compare("le", xp.less_equal)
gt = _compare("gt", xp.greater)
ge = _compare("ge", xp.greater_equal)
less, less_equal, greater, greater_equal, not_equal = lt, le, gt, ge, ne


def _logical(name, fn):
    def op(input, other, *, out=None):
        res = _make(_broadcast_op(fn, input, other))
        return write_out(out, res) if out is not None else res
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise ``{name}``; returns a bool tensor."
    return op


logical_and = _logical("logical_and", xp.logical_and)
logical_or = _logical("logical_or", xp.logical_or)
logical_xor = _logical("logical_xor", xp.logical_xor)


def _bitwise(name, fn):
    def op(input, other, *, out=None):
        for x in (input, other):
            if isinstance(x, Tensor) and x.dtype._category > 1 or isinstance(x, float):
                raise NotImplementedError(f'"{name}_cpu" not implemented for \'{_dtype_name(x.dtype) if isinstance(x, Tensor) else "Float"}\'')
        if not isinstance(input, Tensor):
            input, other = other, input
        res = _make(_broadcast_op(fn, input, other))
        return write_out(out, res) if out is not None else res
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise ``{name}`` of integer or bool tensors."
    return op


bitwise_and = _bitwise("bitwise_and", xp.bitwise_and)
bitwise_or = _bitwise("bitwise_or", xp.bitwise_or)
bitwise_xor = _bitwise("bitwise_xor", xp.bitwise_xor)


def _shift(left):
    def fn(a, b):
        a = xp.asarray(a)
        bits = a.dtype.itemsize * 8
        b = xp.asarray(b)
        out_of_range = (b < 0) | (b >= bits)
        r = (xp.left_shift if left else xp.right_shift)(a, xp.where(out_of_range, 0, b).astype(a.dtype))
        if out_of_range.any():
            fill = 0 if left else xp.where(a < 0, -1, 0).astype(a.dtype)
            r = xp.where(out_of_range, fill, r)
        return r.astype(xp.result_type(a, b) if b.dtype.kind == a.dtype.kind else a.dtype, copy=False)
    return fn


def _shift_op(name, left):
    kernel, fn = ("lshift_cpu" if left else "rshift_cpu"), _shift(left)

    def op(input, other, *, out=None):
        dt = _dtype.result_type(input, other)
        if dt._category != 1:
            raise NotImplementedError(f'"{kernel}" not implemented for \'{_dtype_name(dt)}\'')
        res = _make(_broadcast_op(fn, input, other) if isinstance(input, Tensor) else
                    fn(*binary_arrays(other, input)[::-1]))
        return write_out(out, res) if out is not None else res
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise ``{name}`` of integer tensors (counts outside [0, bits) shift everything out)."
    return op


bitwise_left_shift = _shift_op("bitwise_left_shift", True)
bitwise_right_shift = _shift_op("bitwise_right_shift", False)


def isnan(input):
    """True where ``input`` is NaN."""
    return _make(xp.isnan(input._data))


def isinf(input):
    """True where ``input`` is +/-infinity."""
    return _make(xp.isinf(input._data))


def isfinite(input):
    """True where ``input`` is neither infinite nor NaN."""
    return _make(xp.isfinite(input._data))


# ---------------------------------------------------------------------------- in-place forms
def _check_inplace_leaf(t):
    if t._requires_grad and t._grad_fn is None and GradMode.enabled:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")


def inplace(op):
    """The in-place form of an out-of-place op: ``op_(self, *args)`` writes the result into ``self``.

    Under grad mode the op is recorded out-of-place and ``self`` takes over
    the result's history, so backward sees the new value.
    """
    def op_(self, *args, **kwargs):
        _check_inplace_leaf(self)
        if self._base is not None:
            from ._views import prepare
            prepare(self)
        if GradMode.enabled and (self._requires_grad or any(isinstance(a, Tensor) and a._requires_grad
                                                                for a in args)):
            old = _make(self._data.copy())
            old._version = [self._version[0]]
            old._requires_grad = self._requires_grad
            old._grad_fn = self._grad_fn
            old.__dict__["_output_nr"] = self._output_nr
            res = op(old, *args, **kwargs)
            _assign_result(self, res)
            self._grad_fn = res._grad_fn
            self._requires_grad = res._requires_grad
            self.__dict__.pop("_output_nr", None)
            if self._base is not None:
                from ._views import rebase
                rebase(self)
            return self
        res = op(self, *args, **kwargs)
        _assign_result(self, res)
        return self
    op_.__name__ = op_.__qualname__ = op.__name__ + "_"
    op_.__doc__ = f"In-place form of ``{op.__name__}``; returns self."
    return op_


def _assign_result(self, res):
    if res.dtype is not self.dtype and not _dtype.can_cast(res.dtype, self.dtype):
        raise RuntimeError(f"result type {_dtype_name(res.dtype)} can't be cast to the desired output type "
                           f"{_dtype_name(self.dtype)}")
    if res._data.shape != self._data.shape:
        raise RuntimeError(f"output with shape {list(self.shape)} doesn't match the broadcast shape "
                           f"{list(res.shape)}")
    try:
        self._data[...] = res._data
    except ValueError:  # a read-only (expanded) array: several elements share one memory location
        raise RuntimeError("unsupported operation: more than one element of the written-to tensor refers to a "
                           "single memory location. Please clone() the tensor before performing the operation.") \
            from None
    self._version[0] += 1


def _fast_inplace(ufunc, op):
    """In-place arithmetic straight into ``self``'s memory when no graph is recorded."""
    slow = inplace(op)

    def op_(self, other, **kwargs):
        if kwargs or GradMode.enabled and (self._requires_grad or isinstance(other, Tensor) and other._requires_grad
                                           or self._base is not None and self._base._requires_grad):
            return slow(self, other, **kwargs)
        da = self._data
        if isinstance(other, Tensor):
            db = other._data
            if db.dtype != da.dtype:
                rd = _dtype.result_type(self, other)
                if not _dtype.can_cast(rd, self.dtype):
                    raise RuntimeError(f"result type {_dtype_name(rd)} can't be cast to the desired output type "
                                       f"{_dtype_name(self.dtype)}")
                db = db.astype(rd.np) if rd.np != db.dtype else db
        else:
            db = scalar_value(other)
            if isinstance(db, float) and da.dtype.kind in "iub":
                raise RuntimeError(f"result type Float can't be cast to the desired output type "
                                   f"{_dtype_name(self.dtype)}")
        try:
            ufunc(da, db, out=da, casting="unsafe")
        except ValueError:
            raise RuntimeError(f"output with shape {list(self.shape)} doesn't match the broadcast shape "
                               f"{list(xp.broadcast_shapes(da.shape, xp.shape(db)))}") from None
        self._version[0] += 1
        return self
    op_.__name__ = op_.__qualname__ = op.__name__ + "_"
    op_.__doc__ = f"In-place ``{op.__name__}``; returns self."
    return op_


add_ = _fast_inplace(xp.add, add)
sub_ = _fast_inplace(xp.subtract, sub)
mul_ = _fast_inplace(xp.multiply, mul)
div_ = inplace(div)


def remainder(input, other, *, out=None):
    """Python-style modulus: the result has the sign of ``other``."""
    da, db = binary_arrays(input, other) if isinstance(input, Tensor) else binary_arrays(other, input)[::-1]
    kind = (da if isinstance(da, xp.ndarray) else db).dtype.kind
    if kind == "b":
        raise NotImplementedError('"remainder_cpu" not implemented for \'Bool\'')
    if kind in "iu" and (xp.asarray(db) == 0).any() and xp.size(da) and xp.size(db):
        raise RuntimeError("ZeroDivisionError")
    with xp.errstate(all="ignore"):
        try:
            res = _make(xp.remainder(da, db))
        except ValueError:
            raise broadcast_error(xp.shape(da), xp.shape(db)) from None
    if needs_grad(input, other):
        node = RemainderBackward0()
        node.a, node.b = _operand_meta(input), _operand_meta(other)
        if node.b is not None:
            if isinstance(input, Tensor):
                node.save(input, other)
            else:  # number % tensor: PyTorch has no derivative for this form
                node.save(other)
        attach(res, node, input if isinstance(input, Tensor) else None, other if isinstance(other, Tensor) else None)
    return write_out(out, res) if out is not None else res


class RemainderBackward0(Node):
    def backward(self, grad):
        ga = _reduce_to(grad, self.a)
        gb = None
        if self.b is not None:
            saved = self.saved_tensors
            if len(saved) == 1:
                raise RuntimeError("derivative for aten::remainder is not implemented")
            a, b = saved
            gb = _reduce_to(-grad * floor_divide(a, b), self.b)
        return ga, gb

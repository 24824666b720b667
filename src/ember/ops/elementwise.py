"""Elementwise ops: arithmetic, math functions, comparisons, logic; each with its gradient.

Functions of one tensor are table rows (``unary_op``): the array-module
function, and the derivative written with ember ops (so double backward works).
Binary ops promote their operands with PyTorch's rules (``binary_arrays``) and
compute with the array operators, so they run on whatever array module the
operands belong to.
"""
import math
import operator

from .. import _dtype
from ._common import (array_module, Tensor, Node, record, op, method, function, _make, binary_arrays,
                      broadcast_error, grad_for, scalar_value, unbroadcast, write_out, inplace, dtype_name,
                      GradMode, ignore_fp_errors, backend_of, backend_for, _scalar_array, one_of)
from ._unary import unary_op
from ..kernels import pointwise as _kp
from ..kernels import activations as _ka
from ._unsigned import refuse_wide_unsigned
from ._record import may_record
from ._device_check import same_device
from ._ieee import ignore_array_fp_errors, retry_quietly


# ---------------------------------------------------------------------------- IEEE results without warnings
def _quiet(forward):
    """A ``unary_op`` forward ``forward(xp, a)`` run with no floating-point warning (inf/nan come quietly)."""
    def quiet(xp, a):
        with ignore_array_fp_errors(a):
            return forward(xp, a)
    return quiet


# ---------------------------------------------------------------------------- dtype conversion
class ToCopyBackward0(Node):
    """Gradient of a copy to another dtype and/or device: the gradient goes back to the source's."""

    def backward(self, grad):
        return (grad.to(self.src_device, self.src_dtype),)


def to_dtype(t, dtype):
    """``t`` cast to ``dtype`` (a copy), differentiable between floating types (``Tensor.to``'s cast)."""
    try:
        r = _make(t._data.astype(dtype.np))
    except RuntimeWarning:   # NaN/inf into an integer type, or beyond a narrower float: PyTorch casts quietly
        r = _make(retry_quietly(t._data, t._data.astype, dtype.np))
    if dtype._category >= 2:
        node = record(r, ToCopyBackward0, (t,))
        if node is not None:
            node.src_dtype, node.src_device = t.dtype, t.device
    return r


def to_device(t, device):
    """``t`` copied to ``device`` (a device object), through host memory; differentiable."""
    host = backend_of(t._data).to_host(t._data)
    r = _make(backend_for(device).from_host(host, device.index))
    node = record(r, ToCopyBackward0, (t,))
    if node is not None:
        node.src_dtype, node.src_device = t.dtype, t.device
    return r


# ---------------------------------------------------------------------------- unary math table
_LN2, _LN10 = 0.6931471805599453, 2.302585092994046
exp = unary_op("exp", "exp", lambda g, r: g * r, saves="output", inplace=True, inplace_function=True, on_arrays=True)
exp2 = unary_op("exp2", "exp2", lambda g, r: g * r * _LN2, saves="output", inplace=True, inplace_function=True,
                on_arrays=True)
expm1 = unary_op("expm1", "expm1", lambda g, r: g * (r + 1), saves="output", inplace=True, inplace_function=True,
                 on_arrays=True)
log = unary_op("log", "log", lambda g, x: g / x, inplace=True, inplace_function=True, on_arrays=True)
log2 = unary_op("log2", "log2", lambda g, x: g / (x * _LN2), inplace=True, inplace_function=True, on_arrays=True)
log10 = unary_op("log10", "log10", lambda g, x: g / (x * _LN10), inplace=True, inplace_function=True, on_arrays=True)
log1p = unary_op("log1p", "log1p", lambda g, x: g / (x + 1), inplace=True, inplace_function=True, on_arrays=True)
sqrt = unary_op("sqrt", "sqrt", lambda g, r: g / (r * 2), saves="output", inplace=True, inplace_function=True,
                on_arrays=True)
rsqrt = unary_op("rsqrt", _quiet(lambda xp, a: 1 / xp.sqrt(a)), lambda g, r: g * r.pow(3) * -0.5, saves="output",
                 inplace=True, inplace_function=True)
sin = unary_op("sin", "sin", lambda g, x: g * x.cos(), inplace=True, inplace_function=True)
cos = unary_op("cos", "cos", lambda g, x: g * -x.sin(), inplace=True, inplace_function=True)
tan = unary_op("tan", "tan", lambda g, r: g * (r * r + 1), saves="output", inplace=True, inplace_function=True,
               on_arrays=True)
asin = unary_op("asin", "arcsin", lambda g, x: g * (1 - x * x).rsqrt(), inplace=True, inplace_function=True,
                aliases=("arcsin",))
acos = unary_op("acos", "arccos", lambda g, x: g * -(1 - x * x).rsqrt(), inplace=True, inplace_function=True,
                aliases=("arccos",))
atan = unary_op("atan", "arctan", lambda g, x: g / (x * x + 1), inplace=True, inplace_function=True,
                aliases=("arctan",), on_arrays=True)
sinh = unary_op("sinh", "sinh", lambda g, x: g * x.cosh(), inplace=True, inplace_function=True)
cosh = unary_op("cosh", "cosh", lambda g, x: g * x.sinh(), inplace=True, inplace_function=True)
def _sigmoid_array(xp, a):
    """sigmoid of a small array (the kernel below ``_ka.SMALL`` elements): PyTorch's ``1 / (1 + exp(-a))`` for
    float32/float64, 0 where exp(-a) overflows as there (the op layer's warning filter keeps the overflow quiet);
    ``logistic`` for the half types."""
    if a.dtype.char not in "fd":
        return _ka.logistic(a)
    e = xp.exp(xp.negative(a))
    e += one_of(e)
    return xp.reciprocal(e, out=e)


def _sigmoid_forward(xp, a):
    return _ka.sigmoid_forward(a) if a.size >= _ka.SMALL else _sigmoid_array(xp, a)


# tanh's first-order gradient and sigmoid, forward and gradient, are kernels on arrays of _ka.SMALL elements and more
# (kernels/activations.py: one pass each, threads); tanh's forward is NumPy's (PyTorch's bits)
tanh = unary_op("tanh", "tanh", lambda g, r: g * (1 - r * r), saves="output",
                inplace=True, inplace_function=True, on_arrays=_ka.for_size(_ka.tanh_backward))
asinh = unary_op("asinh", "arcsinh", lambda g, x: g * (x * x + 1).rsqrt(), inplace=True, inplace_function=True,
                 aliases=("arcsinh",))
acosh = unary_op("acosh", "arccosh", lambda g, x: g * (x * x - 1).rsqrt(), inplace=True, inplace_function=True,
                 aliases=("arccosh",))
atanh = unary_op("atanh", "arctanh", lambda g, x: g / (1 - x * x), inplace=True, inplace_function=True,
                 aliases=("arctanh",), on_arrays=True)
sigmoid = unary_op("sigmoid", _sigmoid_forward, lambda g, r: g * r * (1 - r), saves="output",
                   inplace=True, inplace_function=True, on_arrays=_ka.for_size(_ka.sigmoid_backward))
reciprocal = unary_op("reciprocal", _quiet(lambda xp, a: 1 / a), lambda g, r: g * -(r * r), saves="output",
                      inplace=True, inplace_function=True, on_arrays=True)
def _square(xp, a):
    refuse_wide_unsigned("pow", a.dtype)
    return xp.square(a)


square = unary_op("square", _square, lambda g, x: g * x * 2, promote=False, node_name="PowBackward0",
                  inplace=True, inplace_function=True, on_arrays=True)


def _negative(xp, a):
    if a.dtype.kind == "b":
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If you are trying to "
                           "invert a mask, use the `~` or `logical_not()` operator instead.")
    refuse_wide_unsigned("neg_cpu", a.dtype)
    return xp.negative(a)


neg = unary_op("neg", _negative, lambda g: -g, saves=None, promote=False, inplace=True, inplace_function=True,
               aliases=("negative",), operators=("__neg__",))


# ReLU and its first-order gradient are kernels (kernels/pointwise.py: one pass, threads, PyTorch's -0.0 and NaN)
relu = unary_op("relu", lambda xp, a: _kp.relu_forward(a), lambda g, r: g * (r > 0), saves="output",
                promote=False, node_name="ReluBackward0", inplace=True, inplace_function=True,
                on_arrays=_kp.relu_backward)
def _absolute(xp, a):
    refuse_wide_unsigned("abs_cpu", a.dtype)
    return xp.abs(a)


abs = unary_op("abs", _absolute, lambda g, x: g * x.sign(), promote=False, inplace=True, inplace_function=("abs",),
               aliases=("absolute",), operators=("__abs__",))


def sign_array(xp, a):
    """``sign`` of an array as PyTorch computes it (bool stays bool, sign(NaN) is 0)."""
    if a.dtype == bool:
        return a.copy()
    refuse_wide_unsigned("sign_cpu", a.dtype)
    r = xp.asarray(xp.sign(a))
    if r.dtype.kind not in "iu":
        xp.copyto(r, 0, where=r != r)
    return r


sign = unary_op("sign", sign_array, lambda g: g * 0, saves=None, promote=False, inplace=True)
floor = unary_op("floor", "floor", lambda g: g * 0, saves=None, promote=False, inplace=True, inplace_function=True)
ceil = unary_op("ceil", "ceil", lambda g: g * 0, saves=None, promote=False, inplace=True, inplace_function=True)
trunc = unary_op("trunc", "trunc", lambda g: g * 0, saves=None, promote=False, inplace=True, inplace_function=True,
                 aliases=("fix",))
frac = unary_op("frac", _quiet(lambda xp, a: a - xp.trunc(a)), lambda g: g, saves=None, promote=False, inplace=True,
                inplace_function=True)


class ZeroGradBackward(Node):
    """Gradient of a piecewise-constant function: zero everywhere.  ``node_name`` is what ``name()`` reports."""

    node_name = "ZeroGradBackward"

    def name(self):
        return self.node_name

    def backward(self, grad):
        return (grad * 0,)


@op(inplace=True, inplace_function=True)
def round(input, *, decimals=0, out=None):
    """Round half to even, to ``decimals`` decimal places."""
    if decimals and input._data.dtype.kind in "biu":
        raise NotImplementedError(f'"round_cpu" not implemented for \'{dtype_name(input.dtype)}\'')
    if input._data.dtype == bool:
        raise NotImplementedError('"round_vml_cpu" not implemented for \'Bool\'')
    res = _make(array_module(input).round(input._data, decimals))
    record(res, ZeroGradBackward, (input,), node_name="RoundBackward1" if decimals else "RoundBackward0")
    return write_out(out, res) if out is not None else res


@op(inplace=True)
def logical_not(input, *, out=None):
    """Elementwise NOT, as bool."""
    refuse_wide_unsigned("logical_not_cpu", input._data.dtype)
    res = _make(array_module(input).logical_not(input._data))
    return write_out(out, res) if out is not None else res


@op(inplace=True)
def bitwise_not(input, *, out=None):
    """Elementwise bitwise NOT of an integer or bool tensor."""
    if input.dtype.is_floating_point:
        raise NotImplementedError(f'"bitwise_not_cpu" not implemented for \'{dtype_name(input.dtype)}\'')
    refuse_wide_unsigned("bitwise_not_cpu", input._data.dtype)
    res = _make(array_module(input).invert(input._data))
    return write_out(out, res) if out is not None else res


@method(name="__rtruediv__")
def reflected_div(input, other):
    """``other / input`` for the reflected operator: a number divided by a tensor is
    ``reciprocal(tensor) * number`` in PyTorch (the same rounding, and MulBackward0 over ReciprocalBackward0)."""
    if type(other) in (int, float, bool):
        return mul(reciprocal(input), other)
    return div(other, input)


@op(operators=("__pos__",))
def positive(input):
    """``+tensor``: the tensor itself."""
    return input


@method(name="__invert__")
def invert(input):
    """``~tensor``: PyTorch's operator refuses floating tensors with a TypeError."""
    if input.dtype._category > 1:
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type tensors")
    return bitwise_not(input)


# ---------------------------------------------------------------------------- binary arithmetic
def _module_of(a, b):
    """The array module of whichever of ``a``, ``b`` is a tensor."""
    return array_module(a if isinstance(a, Tensor) else b)


# PyTorch's kernels behind _broadcast_op's functions that have no uint16/uint32/uint64 version
_NO_WIDE_UNSIGNED = {"less": "lt_cpu", "less_equal": "le_cpu", "greater": "gt_cpu", "greater_equal": "ge_cpu",
                     "maximum": "maximum_cpu", "minimum": "minimum_cpu", "power": "pow",
                     "logical_and": "logical_and_cpu", "logical_or": "logical_or_cpu",
                     "logical_xor": "logical_xor_cpu"}


def _broadcast_op(fn_name, a, b):
    """``xp.<fn_name>`` of the promoted operands (at least one a tensor), with PyTorch's broadcast error."""
    da, db = binary_arrays(a, b)
    kernel = _NO_WIDE_UNSIGNED.get(fn_name)
    if kernel is not None:
        refuse_wide_unsigned(kernel, (da if isinstance(a, Tensor) else db).dtype)
    xp = _module_of(a, b)
    try:
        return getattr(xp, fn_name)(da, db)
    except ValueError:
        raise broadcast_error(xp.shape(da), xp.shape(db)) from None
    except RuntimeWarning:
        return retry_quietly(da if isinstance(a, Tensor) else db, getattr(xp, fn_name), da, db)


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
        a, b = self.a, self.b
        d = grad._data
        if b is None and a is not None and d.shape == a[0] and d.dtype is a[1]:
            return grad, None   # tensor + number: the gradient passes through (_reduce_to's test inlined)
        return (None if a is None else _reduce_to(grad, a)), (None if b is None else _reduce_to(grad, b))


class SubBackward0(Node):
    def backward(self, grad):
        a, b = self.a, self.b
        d = grad._data
        if b is None and a is not None and d.shape == a[0] and d.dtype is a[1]:
            return grad, None   # tensor - number: the gradient passes through (_reduce_to's test inlined)
        return (None if a is None else _reduce_to(grad, a)), (None if b is None else -_reduce_to(grad, b))


class RsubBackward1(Node):
    """Backward of ``number - tensor``: one edge, to the tensor."""

    def backward(self, grad):
        b = self.b
        return (None if b is None else -_reduce_to(grad, b),)


class MulBackward0(Node):
    """Saves each operand only when the other one needs a gradient (as PyTorch), so editing an operand
    in place that the gradient does not use is no error."""

    _saved_names = ("self", "other")

    def backward(self, grad):
        saved = self._saved
        if self.b is None and saved is not None and self._packed is None:
            b = saved[1][0]   # tensor * number (kept unchecked: no version), or a tensor read below
            if (type(b) is float or type(b) is int) and not GradMode.enabled:
                g = grad._data   # first order: one array product when no cast or reduction follows
                meta = self.a
                if g.dtype is meta[1] and g.shape == meta[0] and g.dtype.kind in "fc":
                    try:
                        return _make(g * _scalar_array(g, b)), None
                    except RuntimeWarning:
                        return _make(retry_quietly(g, operator.mul, g, b)), None
        a, b = self.saved_tensors    # either may be a number, or None when not needed
        return (_reduce_to(grad * b, self.a) if self.a is not None else None,
                _reduce_to(grad * a, self.b) if self.b is not None else None)


class DivBackward0(Node):
    _saved_names = ("self", "other")

    def backward(self, grad):
        a, b = self.saved_tensors    # either may be a number; a is None when b needs no gradient
        ga = _reduce_to(grad / b, self.a) if self.a is not None else None
        gb = _reduce_to(-grad * a / (b * b), self.b) if self.b is not None else None
        return ga, gb


def _scaled_other(input, other, alpha):
    """``alpha * other`` for add/sub, computed in the dtype of the result as PyTorch does: a lower-precision
    ``other`` (bfloat16 added to float64) is promoted before it is scaled, not rounded after."""
    if not isinstance(other, Tensor):
        return scalar_value(other) * alpha
    if isinstance(input, Tensor) and input.dtype is not other.dtype:
        other = other.to(_dtype.result_type(input, other))
    return other * alpha


@op(operators=("__add__", "__radd__"))
def add(input, other, *, alpha=1, out=None):
    """``input + alpha * other`` with broadcasting and type promotion."""
    if alpha != 1:
        return add(input, _scaled_other(input, other, alpha), out=out)
    if not isinstance(input, Tensor):
        input, other = other, input
    da, db = binary_arrays(input, other)
    if da.dtype.kind == "u":   # inline test first: add is the hottest op
        refuse_wide_unsigned("add_stub", da.dtype)
    try:
        res = _make(da + db)
    except ValueError:
        raise broadcast_error(da.shape, getattr(db, "shape", ())) from None
    except RuntimeWarning:
        res = _make(retry_quietly(da, operator.add, da, db))
    if not (input._requires_grad or isinstance(other, Tensor) and other._requires_grad):   # may_record inlined
        return write_out(out, res) if out is not None else res
    node = record(res, AddBackward0, (input, other))
    if node is not None:
        if isinstance(other, Tensor):
            node.a, node.b = _operand_meta(input), _operand_meta(other)
        else:   # tensor + number: input requires grad (record recorded)
            node.a, node.b = (input._data.shape, input._data.dtype), None
    return write_out(out, res) if out is not None else res


def _reject_bool_sub(input, other):
    a_bool = isinstance(input, Tensor) and input._data.dtype.kind == "b" or type(input) is bool
    b_bool = isinstance(other, Tensor) and other._data.dtype.kind == "b" or type(other) is bool
    if a_bool and b_bool:
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not supported. "
                           "Use the `^` or `logical_xor()` operator instead.")
    if a_bool or b_bool:   # a Python bool counts too: PyTorch wraps it as a bool tensor
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. "
                           "If you are trying to invert a mask, use the `~` or `logical_not()` operator instead.")


@op(operators=("__sub__",), aliases=("subtract",))
def sub(input, other, *, alpha=1, out=None):
    """``input - alpha * other`` with broadcasting and type promotion."""
    if alpha != 1:
        other = _scaled_other(input, other, alpha)
    a_is_t = isinstance(input, Tensor)
    if a_is_t:
        da, db = binary_arrays(input, other)
    else:
        db, da = binary_arrays(other, input)
    if type(other) is not float or not a_is_t or input._data.dtype.kind == "b":   # else no bool operand: no call
        _reject_bool_sub(input, other)
    dt = (da if a_is_t else db).dtype
    if dt.kind == "u":
        refuse_wide_unsigned("add_stub", dt)
    try:
        res = _make(da - db)
    except ValueError:
        raise broadcast_error(getattr(da, "shape", ()), getattr(db, "shape", ())) from None
    except RuntimeWarning:
        res = _make(retry_quietly(da if a_is_t else db, operator.sub, da, db))
    if not a_is_t:   # number - tensor
        node = record(res, RsubBackward1, (other,))
        if node is not None:
            node.b = _operand_meta(other)
    elif input._requires_grad or isinstance(other, Tensor) and other._requires_grad:   # may_record inlined
        node = record(res, SubBackward0, (input, other))
        if node is not None:
            if isinstance(other, Tensor):
                node.a, node.b = _operand_meta(input), _operand_meta(other)
            else:   # tensor - number: input requires grad (record recorded)
                node.a, node.b = (input._data.shape, input._data.dtype), None
    return write_out(out, res) if out is not None else res


@function
def rsub(input, other, *, alpha=1):
    """``other - alpha * input`` (the reflected subtraction)."""
    return sub(other, input, alpha=alpha)


@method(name="__rsub__")
def reflected_sub(input, other):
    """``other - input`` for the reflected operator."""
    return sub(other, input)


@op(operators=("__mul__", "__rmul__"), aliases=("multiply",))
def mul(input, other, *, out=None):
    """``input * other`` with broadcasting and type promotion."""
    if not isinstance(input, Tensor):
        input, other = other, input
    da, db = binary_arrays(input, other)
    try:
        res = _make(da * db)
    except ValueError:
        raise broadcast_error(da.shape, getattr(db, "shape", ())) from None
    except RuntimeWarning:
        res = _make(retry_quietly(da, operator.mul, da, db))
    if not (input._requires_grad or isinstance(other, Tensor) and other._requires_grad):   # may_record inlined
        return write_out(out, res) if out is not None else res
    node = record(res, MulBackward0, (input, other))
    if node is not None:
        if isinstance(other, Tensor):
            node.a, node.b = _operand_meta(input), _operand_meta(other)
            node.save(input if node.b is not None else None, other if node.a is not None else None)
        else:   # tensor * number: input requires grad (record recorded), the number needs no version check
            node.a, node.b = (input._data.shape, input._data.dtype), None
            number = other if type(other) is float else scalar_value(other)
            node._saved = ((None, None, None), (number, None, None))   # node.save(None, number)
    return write_out(out, res) if out is not None else res


@op(operators=("__truediv__",), aliases=("divide", "true_divide"))
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
    xp = _module_of(input, other)
    for arr in (da, db):
        if isinstance(arr, xp.ndarray) and arr.dtype.kind in "biu":
            fd = _dtype.get_default_dtype().np
            da = da.astype(fd) if isinstance(da, xp.ndarray) and da.dtype.kind in "biu" else da
            db = db.astype(fd) if isinstance(db, xp.ndarray) and db.dtype.kind in "biu" else db
            break
    try:
        res = _make(da / db)
    except ValueError:
        raise broadcast_error(getattr(da, "shape", ()), getattr(db, "shape", ())) from None
    except RuntimeWarning:
        res = _make(retry_quietly(da if a_is_t else db, operator.truediv, da, db))
    if not may_record(input, other):
        return write_out(out, res) if out is not None else res
    node = record(res, DivBackward0, (input, other))
    if node is not None:
        node.a, node.b = _operand_meta(input), _operand_meta(other)
        node.save(scalar_value(input) if node.b is not None else None, scalar_value(other))
    return write_out(out, res) if out is not None else res


def _rounded_div(a, b, mode):
    ta = a if isinstance(a, Tensor) else None
    xp = _module_of(a, b)
    da, db = binary_arrays(a, b) if ta is not None else binary_arrays(b, a)[::-1]
    kind = (da if isinstance(da, xp.ndarray) else xp.asarray(db)).dtype.kind
    if kind == "b":
        raise NotImplementedError(f'"div_{mode}_cpu" not implemented for \'Bool\'')
    refuse_wide_unsigned(f"div_{mode}_cpu", (da if isinstance(da, xp.ndarray) else xp.asarray(db)).dtype)
    if kind in "iub":
        if (xp.asarray(db) == 0).any() and xp.size(da) and xp.size(db):
            raise RuntimeError("ZeroDivisionError")
        q = xp.floor_divide(da, db)
        if mode == "trunc":
            q = q + ((xp.remainder(da, db) != 0) & ((xp.asarray(da) < 0) != (xp.asarray(db) < 0)))
    else:
        with ignore_fp_errors(a if ta is not None else b):
            q = xp.true_divide(da, db)
        q = xp.trunc(q) if mode == "trunc" else xp.floor(q)
    res = _make(xp.asarray(q, dtype=xp.result_type(da, db)))
    node = record(res, DivBackward2, (a, b))
    if node is not None:
        node.a, node.b = _operand_meta(a), _operand_meta(b)
    return res


class DivBackward2(Node):
    """Gradient of division with rounding: zero, shaped like each operand."""

    def backward(self, grad):
        z = grad * 0
        return _reduce_to(z, self.a), _reduce_to(z, self.b)


@op(inplace=True, operators=("__floordiv__",), inplace_operators=("__ifloordiv__",))
def floor_divide(input, other, *, out=None):
    """``input // other`` rounding toward negative infinity."""
    return div(input, other, rounding_mode="floor", out=out)


@method(name="__rfloordiv__")
def reflected_floor_divide(input, other):
    """``other // input`` for the reflected operator."""
    return floor_divide(other, input)


class PowBackward0(Node):
    def backward(self, grad):
        x, exponent = self.saved_tensors
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
        base, exponent = self.saved_tensors
        r = self.result()
        lb = math.log(base) if base > 0 else (float("nan") if base < 0 else float("-inf"))
        g = grad * r * lb
        if base == 0:
            g = g.masked_fill(exponent >= 0, 0)
        return (g,)


def _power(xp, da, e):
    """``da ** e`` for a number ``e``, with IEEE results (0 ** -1 is inf, (-2) ** 0.5 nan) and no warning."""
    try:
        return da * da if e == 2 else xp.sqrt(da) if e == 0.5 and da.dtype.kind == "f" else xp.power(da, e)
    except RuntimeWarning:
        return retry_quietly(da, _power, xp, da, e)


def check_int_scalar(t, v):
    """PyTorch's overflow check for an integer number used with an integer tensor by pow, clamp and where
    (the arithmetic operators wrap it instead)."""
    if type(v) is int and t._data.dtype.kind in "iu" and not -128 <= v <= 127:
        info = array_module(t).iinfo(t._data.dtype)
        if v > info.max or v < (info.min if info.min else -info.max - 1):
            raise RuntimeError(f"value cannot be converted to type {_dtype.cpp_name(t.dtype, 'fixed')} without overflow")


@op(inplace=True, operators=("__pow__",), inplace_operators=("__ipow__",))
def pow(input, exponent, *, out=None):
    """``input ** exponent``; either side may be a Python number."""
    if not isinstance(input, Tensor):
        base = scalar_value(input)
        db, da = binary_arrays(exponent, base)
        refuse_wide_unsigned("pow", db.dtype)
        res = _make(array_module(exponent).power(da, db))
        record(res, PowBackward2, (exponent,), (base, exponent), output=True)
        return write_out(out, res) if out is not None else res
    xp = array_module(input)
    if isinstance(exponent, Tensor):
        if exponent.dtype._category < 2 and input.dtype._category < 2:
            da, db = binary_arrays(input, exponent)
            refuse_wide_unsigned("pow", da.dtype)
            neg = xp.asarray(db) < 0
            if neg.any():
                # PyTorch's integer pow with a negative exponent: 1 for base 1, +-1 for base -1, else 0
                with ignore_fp_errors(input):
                    r = xp.where(neg, xp.where(da == 1, 1, xp.where(da == -1, 1 - 2 * (db & 1), 0)),
                                 xp.power(da, xp.where(neg, 0, db)))
                return _make(r.astype(da.dtype))
        res = _make(_broadcast_op("power", input, exponent))
        record(res, PowBackward1, (input, exponent), (input, exponent), output=True)
        return write_out(out, res) if out is not None else res
    exponent = scalar_value(exponent)
    check_int_scalar(input, exponent)
    da, e = binary_arrays(input, exponent)
    refuse_wide_unsigned("pow", da.dtype)
    if da.dtype.kind in "iu" and type(exponent) is int and exponent < 0:
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    res = _make(_power(xp, da, e))
    record(res, PowBackward0, (input,), (input, exponent))
    return write_out(out, res) if out is not None else res


@method(name="__rpow__")
def reflected_pow(input, other):
    """``other ** input`` for the reflected operator."""
    return pow(other, input)


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


@op
def maximum(input, other, *, out=None):
    """Elementwise maximum of two tensors (NaN propagates)."""
    _check_tensor(other, "other", "maximum")
    res = _make(_broadcast_op("maximum", input, other))
    record(res, MaximumBackward0, (input, other), (input, other))
    return write_out(out, res) if out is not None else res


@op
def minimum(input, other, *, out=None):
    """Elementwise minimum of two tensors (NaN propagates)."""
    _check_tensor(other, "other", "minimum")
    res = _make(_broadcast_op("minimum", input, other))
    record(res, MinimumBackward0, (input, other), (input, other))
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


@op(inplace=True, inplace_function=True, aliases=("clip",))
def clamp(input, min=None, max=None, *, out=None):
    """Limit values to ``[min, max]`` (either bound may be None, a number, or a tensor)."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        if min is not None and max is not None and not (isinstance(min, Tensor) and isinstance(max, Tensor)):
            raise TypeError("clamp() received an invalid combination of arguments - got (Tensor, "
                            f"{type(min).__name__}, {type(max).__name__}), but expected min and max to be both "
                            "Tensors or both Numbers")
        from .pointwise import clamp_tensor_bounds
        res = clamp_tensor_bounds(input, min, max)
        return write_out(out, res) if out is not None else res
    xp = array_module(input)
    arr = input._data
    refuse_wide_unsigned("clamp_scalar_cpu" if min is not None and max is not None else
                         "clamp_min_scalar_cpu" if min is not None else "clamp_max_scalar_cpu", arr.dtype)
    lo, hi = scalar_value(min), scalar_value(max)
    kind = arr.dtype.kind
    if kind in "iub" and (isinstance(lo, float) or isinstance(hi, float)):
        arr = arr.astype(_dtype.get_default_dtype().np)
    elif kind == "b" and (type(lo) is int or type(hi) is int):
        arr = arr.astype(xp.int64)          # bool with an integer bound promotes to int64, as in PyTorch
    elif kind in "iu":
        # PyTorch checks the bounds for overflow, then casts them to the tensor's type (uint8 takes -1 as 255)
        check_int_scalar(input, lo)
        check_int_scalar(input, hi)
        lo, hi = (xp.array(v, dtype=xp.int64).astype(arr.dtype)[()] if type(v) is int else v for v in (lo, hi))
    if lo is not None and hi is not None:
        r = xp.minimum(xp.maximum(arr, lo), hi)
    elif lo is not None:
        r = xp.maximum(arr, lo)
    else:
        r = xp.minimum(arr, hi)
    res = _make(r if r.dtype == arr.dtype else r.astype(arr.dtype))
    record(res, ClampBackward1, (input,), (input,), bounds=(lo, hi))
    return write_out(out, res) if out is not None else res


@op(inplace=True, inplace_function=True)
def clamp_min(input, min, *, out=None):
    """``clamp(input, min=min)``."""
    return clamp(input, min=min, out=out)


@op(inplace=True, inplace_function=True)
def clamp_max(input, max, *, out=None):
    """``clamp(input, max=max)``."""
    return clamp(input, max=max, out=out)


class WhereBackward0(Node):
    def backward(self, grad):
        cond = self.cond
        zero = grad.new_zeros(())
        ga = _reduce_to(where(cond, grad, zero), self.a) if self.a is not None else None
        gb = _reduce_to(where(cond, zero, grad), self.b) if self.b is not None else None
        return ga, gb


@function
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
                               f"{dtype_name(condition.dtype)}")
    # PyTorch takes 0-d CPU values beside tensors of another device as scalars
    same_device(condition, *(t for t in (input, other) if isinstance(t, Tensor) and t._data.ndim))
    xp = array_module(condition)
    if isinstance(input, Tensor) and isinstance(other, Tensor):
        da, db = binary_arrays(input, other)
    elif isinstance(input, Tensor):
        check_int_scalar(input, scalar_value(other))
        da, db = binary_arrays(input, scalar_value(other))
    elif isinstance(other, Tensor):
        check_int_scalar(other, scalar_value(input))
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
    node = record(res, WhereBackward0, (input, other), cond=condition)
    if node is not None:
        node.a, node.b = _operand_meta(input), _operand_meta(other)
    return write_out(out, res) if out is not None else res


@method(name="where")
def where_method(input, condition, other):
    """``Tensor.where(condition, other)``: ``where(condition, self, other)``."""
    return where(condition, input, other)


# ---------------------------------------------------------------------------- comparison and logic
_REFLECTED = {"less": "greater", "less_equal": "greater_equal", "greater": "less", "greater_equal": "less_equal"}


def _comparison(name, fn_name, aliases, operator):
    reflected = _REFLECTED.get(fn_name, fn_name)

    def compare(input, other, *, out=None):
        if not isinstance(input, Tensor):   # number OP tensor: the tensor's side, with the reflected test
            res = _make(_broadcast_op(reflected, other, input))
        else:
            res = _make(_broadcast_op(fn_name, input, other))
        return write_out(out, res) if out is not None else res
    compare.__name__ = compare.__qualname__ = name
    compare.__doc__ = f"Elementwise ``{name}`` comparison; returns a bool tensor."
    return op(compare, inplace=True, aliases=aliases, operators=(operator,) if operator else ())


eq = _comparison("eq", "equal", (), None)           # == and != are equal_operator / not_equal_operator below
ne = _comparison("ne", "not_equal", ("not_equal",), None)
lt = _comparison("lt", "less", ("less",), "__lt__")
le = _comparison("le", "less_equal", ("less_equal",), "__le__")
gt = _comparison("gt", "greater", ("greater",), "__gt__")
ge = _comparison("ge", "greater_equal", ("greater_equal",), "__ge__")


@method(name="__eq__")
def equal_operator(input, other):
    """``tensor == other`` (False against None, as PyTorch)."""
    return False if other is None else eq(input, other)


@method(name="__ne__")
def not_equal_operator(input, other):
    """``tensor != other`` (True against None, as PyTorch)."""
    return True if other is None else ne(input, other)


def _binary_logic(name, fn_name, check_integral, operators=(), inplace_operators=()):
    """``logical_*`` (any dtypes, bool result) and ``bitwise_*`` (integer and bool tensors only) ops."""
    def logic(input, other, *, out=None):
        if check_integral:
            for x in (input, other):
                if isinstance(x, Tensor) and x.dtype._category > 1 or isinstance(x, float):
                    which = dtype_name(x.dtype) if isinstance(x, Tensor) else "Float"
                    raise NotImplementedError(f'"{name}_cpu" not implemented for \'{which}\'')
            if not isinstance(input, Tensor):
                input, other = other, input
        res = _make(_broadcast_op(fn_name, input, other))
        return write_out(out, res) if out is not None else res
    logic.__name__ = logic.__qualname__ = name
    logic.__doc__ = (f"Elementwise ``{name}`` of integer or bool tensors." if check_integral else
                     f"Elementwise ``{name}``; returns a bool tensor.")
    return op(logic, inplace=True, operators=operators, inplace_operators=inplace_operators)


logical_and = _binary_logic("logical_and", "logical_and", False)
logical_or = _binary_logic("logical_or", "logical_or", False)
logical_xor = _binary_logic("logical_xor", "logical_xor", False)
bitwise_and = _binary_logic("bitwise_and", "bitwise_and", True, ("__and__", "__rand__"), ("__iand__",))
bitwise_or = _binary_logic("bitwise_or", "bitwise_or", True, ("__or__", "__ror__"), ("__ior__",))
bitwise_xor = _binary_logic("bitwise_xor", "bitwise_xor", True, ("__xor__", "__rxor__"), ("__ixor__",))



def _shift(left):
    def fn(xp, a, b):
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


def _shift_op(name, left, operator):
    kernel, fn = ("lshift_cpu" if left else "rshift_cpu"), _shift(left)

    def shift(input, other, *, out=None):
        dt = _dtype.result_type(input, other)
        if dt._category != 1:
            raise NotImplementedError(f'"{kernel}" not implemented for \'{dtype_name(dt)}\'')
        refuse_wide_unsigned(kernel, dt.np)
        xp = _module_of(input, other)
        da, db = binary_arrays(input, other) if isinstance(input, Tensor) else binary_arrays(other, input)[::-1]
        try:
            res = _make(fn(xp, da, db))
        except ValueError:
            raise broadcast_error(xp.shape(da), xp.shape(db)) from None
        return write_out(out, res) if out is not None else res
    shift.__name__ = shift.__qualname__ = name
    shift.__doc__ = f"Elementwise ``{name}`` of integer tensors (counts outside [0, bits) shift everything out)."
    return op(shift, operators=(operator,))


bitwise_left_shift = _shift_op("bitwise_left_shift", True, "__lshift__")
bitwise_right_shift = _shift_op("bitwise_right_shift", False, "__rshift__")


@op
def isnan(input):
    """True where ``input`` is NaN."""
    return _make(array_module(input).isnan(input._data))


@op
def isinf(input):
    """True where ``input`` is +/-infinity."""
    return _make(array_module(input).isinf(input._data))


@op
def isfinite(input):
    """True where ``input`` is neither infinite nor NaN."""
    return _make(array_module(input).isfinite(input._data))


# ---------------------------------------------------------------------------- in-place arithmetic
def _fast_inplace(ufunc_name, op):
    """In-place arithmetic straight into ``self``'s memory when no graph is recorded."""
    slow = inplace(op)

    def op_(self, other, **kwargs):
        if kwargs or GradMode.enabled and (self._requires_grad or isinstance(other, Tensor) and other._requires_grad
                                           or self._base is not None and self._base._requires_grad):
            return slow(self, other, **kwargs)
        da = self._data
        xp = array_module(self)
        if isinstance(other, Tensor):
            db = other._data
            if db.dtype != da.dtype:
                rd = _dtype.result_type(self, other)
                if not _dtype.can_cast(rd, self.dtype):
                    raise RuntimeError(f"result type {dtype_name(rd)} can't be cast to the desired output type "
                                       f"{dtype_name(self.dtype)}")
                db = db.astype(rd.np) if rd.np != db.dtype else db
        else:
            db = scalar_value(other)
            if isinstance(db, float) and da.dtype.kind in "iub":
                raise RuntimeError(f"result type Float can't be cast to the desired output type "
                                   f"{dtype_name(self.dtype)}")
            if type(db) is int and da.dtype.kind in "iu":
                db = binary_arrays(self, db)[1]   # wrapped to the tensor's int type, as PyTorch does
        try:
            getattr(xp, ufunc_name)(da, db, out=da, casting="unsafe")
        except RuntimeWarning:
            pass   # a warning filter made an error of NumPy's inf/nan warning: the result is already in place
        except ValueError:
            raise RuntimeError(f"output with shape {list(self.shape)} doesn't match the broadcast shape "
                               f"{list(xp.broadcast_shapes(da.shape, xp.shape(db)))}") from None
        self._version[0] += 1
        return self
    op_.__name__ = op_.__qualname__ = op.__name__ + "_"
    op_.__doc__ = f"In-place ``{op.__name__}``; returns self."
    return op_


add_ = method(_fast_inplace("add", add), name="add_", operators=("__iadd__",))
sub_ = method(_fast_inplace("subtract", sub), name="sub_", aliases=("subtract_",), operators=("__isub__",))
mul_ = method(_fast_inplace("multiply", mul), name="mul_", aliases=("multiply_",), operators=("__imul__",))
div_ = method(inplace(div), name="div_", aliases=("divide_", "true_divide_"), operators=("__itruediv__",))


class RemainderBackward0(Node):
    def backward(self, grad):
        ga = _reduce_to(grad, self.a)
        gb = None
        if self.b is not None:
            a, b = self.saved_tensors
            if not isinstance(a, Tensor):
                raise RuntimeError("derivative for aten::remainder is not implemented")
            gb = _reduce_to(-grad * floor_divide(a, b), self.b)
        return ga, gb


@op(inplace=True, operators=("__mod__",))
def remainder(input, other, *, out=None):
    """Python-style modulus: the result has the sign of ``other``."""
    xp = _module_of(input, other)
    da, db = binary_arrays(input, other) if isinstance(input, Tensor) else binary_arrays(other, input)[::-1]
    kind = (da if isinstance(da, xp.ndarray) else db).dtype.kind
    if kind == "b":
        raise NotImplementedError('"remainder_cpu" not implemented for \'Bool\'')
    refuse_wide_unsigned("remainder_cpu", (da if isinstance(da, xp.ndarray) else db).dtype)
    if kind in "iu" and (xp.asarray(db) == 0).any() and xp.size(da) and xp.size(db):
        raise RuntimeError("ZeroDivisionError")
    with ignore_fp_errors(input if isinstance(input, Tensor) else other):
        try:
            res = _make(xp.remainder(da, db))
        except ValueError:
            raise broadcast_error(xp.shape(da), xp.shape(db)) from None
    node = record(res, RemainderBackward0, (input, other))
    if node is not None:
        node.a, node.b = _operand_meta(input), _operand_meta(other)
        if node.b is not None:
            node.save(input, other)   # number % tensor has no derivative (PyTorch): backward says so
    return write_out(out, res) if out is not None else res


@method(name="__rmod__")
def reflected_remainder(input, other):
    """``other % input`` for the reflected operator."""
    return remainder(other, input)

"""Elementwise math of two tensors that the arithmetic core leaves out: atan2, copysign, heaviside, nextafter,
ldexp, frexp, gcd/lcm, and the degree/radian conversions; each with PyTorch's dtype rules and gradient."""
import math

from .. import _dtype
from .. import return_types
from ._common import (array_module, Tensor, Node, record, op, _make, binary_arrays, broadcast_error, grad_for,
                      write_out, dtype_name, ignore_fp_errors, require_tensor)
from ._unary import unary_op


def _out(out, res):
    return write_out(out, res) if out is not None else res


def _broadcast_call(xp, fn, da, db):
    """``fn(da, db)`` with PyTorch's error for shapes that do not broadcast."""
    try:
        return fn(da, db)
    except ValueError:
        raise broadcast_error(xp.shape(da), xp.shape(db)) from None


def _float_operands(input, other):
    """Both operands' arrays promoted together, then to the default float dtype when integral."""
    da, db = binary_arrays(input, other)
    kind = getattr(da, "dtype", None)
    if kind is not None and da.dtype.kind in "biu":
        ft = _dtype.get_default_dtype().np
        da = da.astype(ft)
        db = db.astype(ft) if hasattr(db, "astype") else db
    return da, db


def _saved_in(grad, *ts):
    """Saved operands in the gradient's dtype (an integral operand has no gradient but enters the formula)."""
    return tuple(t if t.dtype is grad.dtype else t.to(grad.dtype) for t in ts)


# ---------------------------------------------------------------------------- atan2
class Atan2Backward0(Node):
    def backward(self, grad):
        a0, b0 = self.saved_tensors
        a, b = _saved_in(grad, a0, b0)
        denom = a * a + b * b
        return grad_for(grad * b / denom, a0), grad_for(grad * -a / denom, b0)


@op(inplace=True, aliases=("arctan2",))
def atan2(input, other, *, out=None):
    """The angle of the point ``(other, input)``: ``atan(input / other)`` in the right quadrant, in (-pi, pi]."""
    require_tensor(other, "atan2")
    xp = array_module(input)
    da, db = _float_operands(input, other)
    res = _make(_broadcast_call(xp, xp.arctan2, da, db))
    record(res, Atan2Backward0, (input, other), (input, other))
    return _out(out, res)


# ---------------------------------------------------------------------------- copysign
class CopysignBackward0(Node):
    def backward(self, grad):
        (a0,) = self.saved_tensors
        (a,) = _saved_in(grad, a0)
        # d|a|*sign(b)/da: sign(a) * sign(result), 0 at a == 0; the sign operand gets a zero gradient
        ga = grad_for(grad * a.sign() * self.result().sign(), a0)
        gb = grad_for(grad * 0, self.other) if isinstance(self.other, Tensor) else None
        return ga, gb


class CopysignBackward1(CopysignBackward0):
    """Gradient of copysign with a number as the sign."""


@op(inplace=True)
def copysign(input, other, *, out=None):
    """``|input|`` with the sign of ``other`` (a tensor or a number; -0.0 counts as negative)."""
    xp = array_module(input)
    da, db = _float_operands(input, other)
    res = _make(_broadcast_call(xp, xp.copysign, da, db))
    node = record(res, CopysignBackward0 if isinstance(other, Tensor) else CopysignBackward1, (input, other),
                  (input,), output=True)
    if node is not None:
        node.other = other
    return _out(out, res)


# ---------------------------------------------------------------------------- heaviside
class NotImplemented(Node):
    """The node of an op PyTorch gives no derivative: backward raises, naming the op."""

    def name(self):
        return "torch::autograd::NotImplemented"

    def backward(self, grad):
        raise RuntimeError(f"derivative for aten::{self.op_name} is not implemented")


@op(inplace=True)
def heaviside(input, values, *, out=None):
    """The step function: 0 where ``input < 0``, 1 where ``input > 0``, ``values`` where ``input == 0``."""
    require_tensor(values, "heaviside", "values")
    if input.dtype is not values.dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different dtypes.")
    if input.dtype.is_complex:
        raise RuntimeError("heaviside is not yet implemented for complex tensors.")
    xp = array_module(input)
    a = input._data
    res = _make(_broadcast_call(xp, lambda x, v: xp.where(x == 0, v, (x > 0).astype(x.dtype)), a, values._data))
    record(res, NotImplemented, (input, values), op_name="heaviside")
    return _out(out, res)


# ---------------------------------------------------------------------------- nextafter
class NextafterBackward0(Node):
    def backward(self, grad):
        # PyTorch passes the gradient through where the value moved and gives 0 where input == other
        a, b = self.saved_tensors
        return grad_for(grad * (a != b).to(grad.dtype), a), grad_for(grad * 0, b)


@op(inplace=True)
def nextafter(input, other, *, out=None):
    """The next floating-point value after ``input`` towards ``other``."""
    require_tensor(other, "nextafter")
    xp = array_module(input)
    da, db = binary_arrays(input, other)
    if da.dtype.kind not in "f":
        raise NotImplementedError(f'"nextafter_cpu" not implemented for \'{dtype_name(_dtype.from_numpy_dtype(da.dtype))}\'')
    res = _make(_broadcast_call(xp, xp.nextafter, da, db))
    record(res, NextafterBackward0, (input, other), (input, other))
    return _out(out, res)


# ---------------------------------------------------------------------------- ldexp / frexp
class LdexpBackward0(Node):
    def backward(self, grad):
        a0, e0 = self.saved_tensors
        a, e = _saved_in(grad, a0, e0)
        scale = e.exp2()
        if not e0.dtype.is_floating_point:   # PyTorch scales by the integer power 2 ** e: 0 for e < 0
            scale = scale * (e0 >= 0).to(grad.dtype)
        return grad_for(grad * scale, a0), grad_for(grad * a * scale * math.log(2.0), e0)


@op(inplace=True, inplace_function=True)
def ldexp(input, other, *, out=None):
    """``input * 2 ** other``, floating."""
    require_tensor(other, "ldexp")
    xp = array_module(input)
    da, db = _float_operands(input, other)
    with ignore_fp_errors(input):
        res = _make(_broadcast_call(xp, lambda m, e: m * xp.exp2(e), da, db))
    record(res, LdexpBackward0, (input, other), (input, other))
    return _out(out, res)


class FrexpBackward0(Node):
    def backward(self, grad, grad_exponent=None):
        return (grad / self.exponent.to(grad.dtype).exp2(),)


@op
def frexp(input, *, out=None):
    """Mantissa in [0.5, 1) (signed) and int32 exponent with ``input == mantissa * 2 ** exponent``."""
    if not input.dtype.is_floating_point:
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")
    xp = array_module(input)
    m, e = xp.frexp(input._data)
    mantissa, exponent = _make(m), _make(e.astype("int32"))
    node = record((mantissa, exponent), FrexpBackward0, (input,))
    if node is not None:
        node.exponent = exponent
    if out is not None:
        write_out(out[0], mantissa)
        write_out(out[1], exponent)
        mantissa, exponent = out
    return return_types.frexp(mantissa, exponent)


# ---------------------------------------------------------------------------- gcd / lcm
def _integral_pair(name, input, other):
    require_tensor(other, name)
    da, db = binary_arrays(input, other)
    if da.dtype.kind not in "iu":
        raise NotImplementedError(f'"{name}_cpu" not implemented for \'{dtype_name(_dtype.from_numpy_dtype(da.dtype))}\'')
    return da, db


@op(inplace=True, inplace_function=True)
def gcd(input, other, *, out=None):
    """Greatest common divisor of integer tensors (non-negative; ``gcd(0, 0) == 0``)."""
    xp = array_module(input)
    da, db = _integral_pair("gcd", input, other)
    return _out(out, _make(_broadcast_call(xp, xp.gcd, da, db)))


@op(inplace=True, inplace_function=True)
def lcm(input, other, *, out=None):
    """Least common multiple of integer tensors (non-negative; 0 when either is 0)."""
    xp = array_module(input)
    da, db = _integral_pair("lcm", input, other)
    return _out(out, _make(_broadcast_call(xp, xp.lcm, da, db)))


# ---------------------------------------------------------------------------- angle units
_DEG = math.pi / 180.0
deg2rad = unary_op("deg2rad", lambda xp, a: a * a.dtype.type(_DEG), lambda g: g * _DEG, saves=None,
                   node_name="Deg2RadBackward0", inplace=True, inplace_function=True)
rad2deg = unary_op("rad2deg", lambda xp, a: a * a.dtype.type(1 / _DEG), lambda g: g * (1 / _DEG), saves=None,
                   node_name="Rad2DegBackward0", inplace=True, inplace_function=True)

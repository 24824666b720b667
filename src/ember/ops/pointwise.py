"""Pointwise ops beyond elementwise.py's arithmetic core: sgn, logit, sinc, nan_to_num, isposinf/isneginf/signbit,
float_power, fmod, lerp, addcmul/addcdiv, fmax/fmin, hypot, logaddexp, xlogy/xlog1py, entr, equal/allclose/isclose,
and clamp with tensor bounds.

Each op computes with one or two array-module calls and records a node whose
backward is written with ember ops (so double backward works).
"""
import math

from .. import _dtype
from .._dtype import cpp_name
from ._common import (array_module, module_of_array, Tensor, Node, record, op, method, _make, float_array,
                      binary_arrays, broadcast_error, grad_for, scalar_value, write_out, dtype_name, inplace,
                      ignore_fp_errors, GradMode, require_tensor)
from ._unary import unary_op
from .elementwise import ZeroGradBackward, sign_array, where, bitwise_left_shift, bitwise_right_shift
from ._device_check import device_arrays
from ._ieee import ignore_array_fp_errors


def _out(out, res):
    return write_out(out, res) if out is not None else res


def _not_implemented(kernel, dt):
    return NotImplementedError(f'"{kernel}" not implemented for \'{dtype_name(dt)}\'')


def _pair(input, other):
    """Arrays of a binary op's operands cast to the promoted dtype (either may be a Python number)."""
    if isinstance(input, Tensor):
        return binary_arrays(input, other)
    db, da = binary_arrays(other, input)
    return da, db


def _apply(xp, fn_name, da, db):
    """``xp.<fn_name>(da, db)`` with PyTorch's error for shapes that do not broadcast."""
    try:
        with ignore_array_fp_errors(da):   # overflow and invalid values give inf/nan quietly, as in PyTorch
            return getattr(xp, fn_name)(da, db)
    except ValueError:
        raise broadcast_error(xp.shape(da), xp.shape(db)) from None


class _Operand:
    """Shape, dtype and requires_grad of an operand (what ``grad_for`` needs) without holding its data."""
    __slots__ = ("_data", "_requires_grad", "dtype")

    def __init__(self, t):
        self._data = _Shape(t._data.shape)
        self._requires_grad = t._requires_grad
        self.dtype = t.dtype


class _Shape:
    __slots__ = ("shape",)

    def __init__(self, shape):
        self.shape = shape


def _meta(x):
    return _Operand(x) if isinstance(x, Tensor) else None


def _tensor_or_none(x):
    return x if isinstance(x, Tensor) else None


# ---------------------------------------------------------------------------- unary
@op(inplace=True)
def sgn(input, *, out=None):
    """``input / |input|`` for complex tensors (0 at 0); ``sign`` for real ones."""
    a = input._data
    xp = array_module(input)
    if a.dtype.kind == "c":
        mag = xp.abs(a)
        with ignore_fp_errors(input):
            res = _make(xp.where(mag == 0, 0, a / xp.where(mag == 0, 1, mag)).astype(a.dtype))
        record(res, SgnBackward0, (input,), (input,), output=True)
    else:
        res = _make(sign_array(xp, a))
        record(res, ZeroGradBackward, (input,), node_name="SgnBackward0")
    return _out(out, res)


class SgnBackward0(Node):
    def backward(self, grad):
        (x,) = self.saved_tensors
        r = self.result()
        mag = x.abs()
        safe = where(mag == 0, 1.0, mag).to(mag.dtype)
        g = (grad - r * (grad * r.conj()).real) / safe
        return (where(mag == 0, 0.0, g).to(grad.dtype),)


class LogitBackward0(Node):
    def backward(self, grad):
        (x,) = self.saved_tensors
        with ignore_fp_errors(x):   # inf at 0 and 1, as in PyTorch
            g = grad / (x * (1 - x))
        if self.eps is None:
            return (where((x < 0) | (x > 1), math.nan, g).to(g.dtype),)
        return (where((x < self.eps) | (x > 1 - self.eps), 0.0, g).to(g.dtype),)


@op(inplace=True, inplace_function=True)
def logit(input, eps=None, *, out=None):
    """``log(p / (1 - p))``; with ``eps`` the input is first clamped to [eps, 1 - eps]."""
    a = float_array(input)
    xp = array_module(input)
    if eps is not None:
        a = xp.clip(a, eps, 1 - eps)
    with ignore_fp_errors(input):
        r = xp.log(a / (1 - a))
    res = _make(r.astype(a.dtype, copy=False))
    record(res, LogitBackward0, (input,), (input,), eps=eps)
    return _out(out, res)


def _sinc_array(xp, a):
    with ignore_array_fp_errors(a):
        pa = a * math.pi
        r = xp.where(a == 0, xp.ones((), a.dtype), xp.sin(pa) / pa)
    return r.astype(a.dtype, copy=False)


def _sinc_grad(g, x):
    # at 0 the derivative is 0 and its own derivative -pi^2/3: the stand-in x * (-pi^2/3) has both
    # (PyTorch's second derivative there is NaN)
    zero = x == 0
    xs = where(zero, 1.0, x).to(x.dtype)
    d = ((xs * math.pi).cos() * (xs * math.pi) - (xs * math.pi).sin()) / (xs * xs * math.pi)
    return g * where(zero, x * (-math.pi ** 2 / 3), d)


sinc = unary_op("sinc", _sinc_array, _sinc_grad, saves="input", inplace=True, inplace_function=True)


class NanToNumBackward0(Node):
    def backward(self, grad):
        (x,) = self.saved_tensors
        return (grad * x.isfinite(),)


def _float32_view(a):
    """``a`` as float32 when it is bfloat16 (NumPy's float predicates do not know ml_dtypes' type)."""
    return a.astype(module_of_array(a).float32) if a.dtype.name == "bfloat16" else a


@op(inplace=True, inplace_function=True)
def nan_to_num(input, nan=0.0, posinf=None, neginf=None, *, out=None):
    """Replace NaN with ``nan``, +inf with ``posinf`` and -inf with ``neginf`` (defaults: 0, the dtype's max, min)."""
    a = input._data
    xp = array_module(input)
    if a.dtype.kind not in "fc" and a.dtype.name != "bfloat16":
        return _out(out, _make(a.copy()))
    if a.dtype.name == "bfloat16":
        fi = _dtype.finfo(input.dtype)
        r = xp.nan_to_num(a.astype(xp.float32), nan=nan, posinf=fi.max if posinf is None else posinf,
                          neginf=fi.min if neginf is None else neginf).astype(a.dtype)
    else:
        r = xp.nan_to_num(a, nan=nan, posinf=posinf, neginf=neginf)
    res = _make(r)
    record(res, NanToNumBackward0, (input,), (input,))
    return _out(out, res)


@op
def isposinf(input, *, out=None):
    """True where ``input`` is +infinity."""
    a = _float32_view(input._data)
    xp = array_module(input)
    return _out(out, _make(xp.isposinf(a) if a.dtype.kind == "f" else xp.zeros(a.shape, dtype=bool)))


@op
def isneginf(input, *, out=None):
    """True where ``input`` is -infinity."""
    a = _float32_view(input._data)
    xp = array_module(input)
    return _out(out, _make(xp.isneginf(a) if a.dtype.kind == "f" else xp.zeros(a.shape, dtype=bool)))


@op
def signbit(input, *, out=None):
    """True where the sign bit is set (including -0.0)."""
    a = input._data
    xp = array_module(input)
    if a.dtype.kind == "f" or a.dtype.name == "bfloat16":
        r = xp.signbit(a)
    elif a.dtype == xp.bool_:
        r = xp.zeros(a.shape, dtype=bool)
    else:
        r = a < 0
    return _out(out, _make(r))


# ---------------------------------------------------------------------------- float_power, fmod
def _float_power_(self, exponent):
    """In-place ``float_power``: only for a float64 (or complex128) ``self``, as in PyTorch."""
    dt = _dtype.complex128 if self.dtype.is_complex or isinstance(exponent, complex) or (
        isinstance(exponent, Tensor) and exponent.dtype.is_complex) else _dtype.float64
    if self.dtype is not dt:
        raise RuntimeError(f"the base given to float_power_ has dtype {dtype_name(self.dtype)} but the "
                           f"operation's result requires dtype {dtype_name(dt)}")
    return inplace(float_power)(self, exponent)


@op(inplace=_float_power_)
def float_power(input, exponent, *, out=None):
    """``input ** exponent`` computed in double precision (complex128 for complex operands)."""
    cplx = any(isinstance(v, Tensor) and v.dtype.is_complex or isinstance(v, complex) for v in (input, exponent))
    dt = _dtype.complex128 if cplx else _dtype.float64
    from .elementwise import pow as _pow
    a = input.to(dt) if isinstance(input, Tensor) else scalar_value(input)
    e = exponent.to(dt) if isinstance(exponent, Tensor) else scalar_value(exponent)
    if not isinstance(a, Tensor) and not isinstance(e, Tensor):
        raise TypeError("float_power(): argument 'input' must be Tensor")
    if not isinstance(a, Tensor):
        res = _pow(complex(a) if cplx else float(a), e)
    else:
        res = _pow(a, e if isinstance(e, Tensor) else (complex(e) if cplx else float(e)))
    return _out(out, res)


class FmodBackward0(Node):
    def backward(self, grad):
        a, b = self.operands
        ga = grad_for(grad, a)
        gb = None
        if getattr(b, "_requires_grad", False):
            x, y = self.saved_tensors
            gb = grad_for(-grad * x.div(y, rounding_mode="trunc"), b)
        return ga, gb


def _check_int_divisor(xp, da, db, kind, name):
    if kind == "b":
        raise _not_implemented(f"{name}_cpu", _dtype.bool)
    if kind in "iu" and (xp.asarray(db) == 0).any() and xp.size(da) and xp.size(db):
        raise RuntimeError("ZeroDivisionError")


@op(inplace=True)
def fmod(input, other, *, out=None):
    """C-style remainder: the result has the sign of ``input``."""
    da, db = binary_arrays(input, other)
    xp = array_module(input)
    kind = da.dtype.kind
    _check_int_divisor(xp, da, db, kind, "fmod")
    with ignore_fp_errors(input):
        res = _make(_apply(xp, "fmod", da, db))
    node = record(res, FmodBackward0, (input, _tensor_or_none(other)))
    if node is not None:
        node.operands = (_meta(input), _meta(other) if isinstance(other, Tensor) else other)
        if isinstance(other, Tensor) and other._requires_grad:
            node.save(input, other)
    return _out(out, res)


# ---------------------------------------------------------------------------- lerp, addcmul, addcdiv
class LerpBackward0(Node):
    def backward(self, grad):
        saved = self.saved_tensors
        start, end = saved[0], saved[1]
        w = saved[2] if len(saved) > 2 else self.weight
        ms, me, mw = self.meta
        gs = grad_for(grad * (1 - w), ms) if ms._requires_grad else None
        ge = grad_for(grad * w, me) if me._requires_grad else None
        gw = grad_for(grad * (end - start), mw) if mw is not None and mw._requires_grad else None
        return gs, ge, gw


def _lerp_arrays(a, b, w):
    xp = module_of_array(a)
    diff = b - a
    if not isinstance(w, xp.ndarray):  # a number: one formula for the whole tensor
        return a + w * diff if abs(w) < 0.5 else b - diff * (1 - w)
    small = xp.abs(w) < 0.5
    return xp.where(small, a + w * diff, b - diff * (1 - w)).astype(xp.result_type(a, b), copy=False)


@op(inplace=True)
def lerp(input, end, weight, *, out=None):
    """``input + weight * (end - input)`` (weight a number or a tensor)."""
    require_tensor(end, "lerp", "end")
    if input.dtype is not end.dtype:
        raise RuntimeError(f"expected dtype {cpp_name(input.dtype, 'typeid')} for `end` but got dtype {cpp_name(end.dtype, 'typeid')}")
    if input.dtype._category < 2:
        raise _not_implemented("lerp_kernel_tensor" if isinstance(weight, Tensor) else "lerp_kernel_scalar",
                               input.dtype)
    a, b, w = device_arrays(input, end, weight)
    if isinstance(weight, Tensor):
        if weight.dtype is not input.dtype and weight._data.ndim:
            raise RuntimeError(f"expected dtype {cpp_name(input.dtype, 'typeid')} for `weight` but got dtype "
                               f"{cpp_name(weight.dtype, 'typeid')}")
        w = w.astype(a.dtype, copy=False)
    else:
        w = scalar_value(weight)
    if not _bc(a, b):
        raise broadcast_error(a.shape, b.shape)
    try:
        with ignore_fp_errors(input):
            r = _lerp_arrays(a, b, w)
    except ValueError:
        xp = array_module(input)
        raise broadcast_error(xp.broadcast_shapes(a.shape, b.shape), xp.shape(w)) from None
    res = _make(r)
    wt = weight if isinstance(weight, Tensor) else None
    node = record(res, LerpBackward0, (input, end, wt))
    if node is not None:
        node.meta = (_meta(input), _meta(end), _meta(wt) if wt is not None else None)
        if wt is not None:
            node.save(input, end, wt)
        else:
            node.save(input, end)
            node.weight = w
    return _out(out, res)


def _bc(a, b):
    try:
        module_of_array(a).broadcast_shapes(a.shape, b.shape)
        return True
    except ValueError:
        return False


class AddcmulBackward0(Node):
    def backward(self, grad):
        t1, t2 = self.saved_tensors
        m0, m1, m2 = self.meta
        v = self.value
        g1 = grad_for(grad * t2 * v, m1) if m1._requires_grad else None
        g2 = grad_for(grad * t1 * v, m2) if m2._requires_grad else None
        return grad_for(grad, m0), g1, g2


class AddcdivBackward0(Node):
    def backward(self, grad):
        t1, t2 = self.saved_tensors
        m0, m1, m2 = self.meta
        v = self.value
        g1 = grad_for(grad * v / t2, m1) if m1._requires_grad else None
        g2 = grad_for(-grad * v * t1 / (t2 * t2), m2) if m2._requires_grad else None
        return grad_for(grad, m0), g1, g2


def _addc_arrays(name, input, tensor1, tensor2, value):
    for pos, (argname, t) in enumerate((("tensor1", tensor1), ("tensor2", tensor2)), 2):
        require_tensor(t, name, argname, pos)
    rd = _dtype.result_type(input, tensor1, tensor2)
    if name == "addcdiv" and tensor1.dtype._category < 2 and tensor2.dtype._category < 2:
        raise RuntimeError(
            "Integer division with addcdiv is no longer supported, and in a future  release addcdiv will perform "
            "a true division of tensor1 and tensor2. The historic addcdiv behavior can be implemented as "
            "(input + value * torch.trunc(tensor1 / tensor2)).to(input.dtype) for integer inputs and as "
            "(input + value * tensor1 / tensor2) for float inputs. The future addcdiv behavior is just the latter "
            "implementation: (input + value * tensor1 / tensor2), for all dtypes.")
    if rd is _dtype.bool:
        raise _not_implemented(f"{name}_cpu_out", rd)
    npd = rd.np
    value = scalar_value(value)
    if rd._category < 2:
        v = int(value)  # PyTorch casts the scalar to the integer result type
    else:
        v = value
    a, b, c = device_arrays(input, tensor1, tensor2)
    return a.astype(npd, copy=False), b.astype(npd, copy=False), c.astype(npd, copy=False), v


def _addc(name, fn_name, node_cls, input, tensor1, tensor2, value, out):
    a, b, c, v = _addc_arrays(name, input, tensor1, tensor2, value)
    xp = array_module(input)
    with ignore_fp_errors(input):
        try:
            r = getattr(xp, fn_name)(b, c)
            if v != 1:
                r = r * v if fn_name == "divide" else (b * v) * c
            r = a + r
        except ValueError:
            raise broadcast_error(a.shape, xp.broadcast_shapes(b.shape, c.shape) if _bc(b, c) else c.shape) from None
    res = _make(r.astype(a.dtype, copy=False))
    node = record(res, node_cls, (input, tensor1, tensor2), (tensor1, tensor2), value=v)
    if node is not None:
        node.meta = (_meta(input), _meta(tensor1), _meta(tensor2))
    return _out(out, res)


def addcmul(input, tensor1, tensor2, *, value=1, out=None):
    """``input + value * tensor1 * tensor2``."""
    return _addc("addcmul", "multiply", AddcmulBackward0, input, tensor1, tensor2, value, out)


def addcdiv(input, tensor1, tensor2, *, value=1, out=None):
    """``input + value * tensor1 / tensor2``."""
    return _addc("addcdiv", "divide", AddcdivBackward0, input, tensor1, tensor2, value, out)


def _fast_addc(name, ufunc_name, slow):
    """In-place addcmul_/addcdiv_: straight into ``self``'s memory when no graph is recorded (optimizer steps)."""
    slow_ = inplace(slow)

    def op_(self, tensor1, tensor2, *, value=1):
        if GradMode.enabled and (self._requires_grad or tensor1._requires_grad or tensor2._requires_grad):
            return slow_(self, tensor1, tensor2, value=value)
        ufunc = getattr(array_module(self), ufunc_name)
        a, b, c = self._data, tensor1._data, tensor2._data
        if a.dtype == b.dtype == c.dtype and a.shape == b.shape == c.shape and a.dtype.kind == "f" and \
                self._base is None:  # the optimizer-step case: one pass, no checks needed
            tmp = ufunc(b, c)
            if value != 1:
                tmp *= value
            a += tmp
            self._version[0] += 1
            return self
        a, b, c, v = _addc_arrays(name, self, tensor1, tensor2, value)
        if a.dtype != self._data.dtype or module_of_array(a).broadcast_shapes(a.shape, b.shape, c.shape) != a.shape:
            return slow_(self, tensor1, tensor2, value=value)
        tmp = ufunc(b, c)
        if v != 1:
            tmp *= v
        self._data += tmp
        self._version[0] += 1
        return self
    op_.__name__ = op_.__qualname__ = name + "_"
    op_.__doc__ = f"In-place ``{name}``; returns self."
    return op_


op(addcmul, inplace=_fast_addc("addcmul", "multiply", addcmul))
op(addcdiv, inplace=_fast_addc("addcdiv", "divide", addcdiv))


# ---------------------------------------------------------------------------- binary float ops
class FmaxBackward0(Node):
    def backward(self, grad):
        a, b = self.saved_tensors
        pick_a = (a >= b) | b.isnan() if self.is_max else (a <= b) | b.isnan()
        zero = grad.new_zeros(())
        return grad_for(where(pick_a, grad, zero), a), grad_for(where(pick_a, zero, grad), b)


class FminBackward0(FmaxBackward0):
    """Gradient of fmin: to whichever operand was picked."""


def _fmaxmin(name, is_max, input, other, out):
    require_tensor(other, name)
    res = _make(_apply(array_module(input), name, *binary_arrays(input, other)))
    record(res, FmaxBackward0 if is_max else FminBackward0, (input, other), (input, other), is_max=is_max)
    return _out(out, res)


@op
def fmax(input, other, *, out=None):
    """Elementwise maximum that ignores NaN (NaN only where both are NaN)."""
    return _fmaxmin("fmax", True, input, other, out)


@op
def fmin(input, other, *, out=None):
    """Elementwise minimum that ignores NaN (NaN only where both are NaN)."""
    return _fmaxmin("fmin", False, input, other, out)


def _float_binary(name, input, other):
    require_tensor(other, name)
    da, db = binary_arrays(input, other)
    if da.dtype.kind in "biu":
        raise _not_implemented(f"{name}_cpu", _dtype.from_numpy_dtype(da.dtype))
    return da, db


def _as_grad_dtype(grad, *ts):
    """Saved operands in the gradient's dtype (an operand may be an int or bool tensor without a gradient)."""
    return tuple(t if t.dtype is grad.dtype else t.to(grad.dtype) for t in ts)


class HypotBackward0(Node):
    def backward(self, grad):
        a0, b0 = self.saved_tensors
        a, b = _as_grad_dtype(grad, a0, b0)
        r = self.result()
        return grad_for(grad * a / r, a0), grad_for(grad * b / r, b0)


@op(inplace=True)
def hypot(input, other, *, out=None):
    """``sqrt(input**2 + other**2)`` without overflow."""
    res = _make(_apply(array_module(input), "hypot", *_float_binary("hypot", input, other)))
    record(res, HypotBackward0, (input, other), (input, other), output=True)
    return _out(out, res)


class LogaddexpBackward0(Node):
    def backward(self, grad):
        a0, b0 = self.saved_tensors
        a, b = _as_grad_dtype(grad, a0, b0)
        if self.base2:
            return grad_for(grad / (1 + (b - a).exp2()), a0), grad_for(grad / (1 + (a - b).exp2()), b0)
        return grad_for(grad / (1 + (b - a).exp()), a0), grad_for(grad / (1 + (a - b).exp()), b0)


class Logaddexp2Backward0(LogaddexpBackward0):
    """Gradient of logaddexp2."""


def _logaddexp(name, base2, input, other, out):
    with ignore_fp_errors(input):
        res = _make(_apply(array_module(input), name, *_float_binary(name, input, other)))
    record(res, Logaddexp2Backward0 if base2 else LogaddexpBackward0, (input, other), (input, other), base2=base2)
    return _out(out, res)


@op
def logaddexp(input, other, *, out=None):
    """``log(exp(input) + exp(other))``, computed stably."""
    return _logaddexp("logaddexp", False, input, other, out)


@op
def logaddexp2(input, other, *, out=None):
    """``log2(2**input + 2**other)``, computed stably."""
    return _logaddexp("logaddexp2", True, input, other, out)


class XlogyBackward0(Node):
    def backward(self, grad):
        x, y = self.saved_tensors
        mx, my = self.meta
        gx = gy = None
        if getattr(mx, "_requires_grad", False):
            ly = y.log1p() if self.log1p else y.log()
            bad = (x == 0) & ((y <= -1) if self.log1p else (y <= 0))
            gx = grad_for(where(bad, 0.0, grad * ly).to(grad.dtype), mx)
        if getattr(my, "_requires_grad", False):
            gy = grad_for(grad * x / ((y + 1) if self.log1p else y), my)
        return gx, gy


def _xlogy(name, log_name, input, other, out):
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    some = input if isinstance(input, Tensor) else other
    xp = array_module(some)
    rd = _dtype.result_type(input, other)
    if rd._category < 2:
        rd = _dtype.get_default_dtype()
    x, y = (v._data.astype(rd.np, copy=False) if isinstance(v, Tensor) else xp.asarray(scalar_value(v), rd.np)
            for v in (input, other))
    with ignore_fp_errors(some):
        ly = getattr(xp, log_name)(y)
        try:
            r = xp.multiply(x, ly)
        except ValueError:
            raise broadcast_error(xp.shape(x), xp.shape(y)) from None
        r = xp.where((xp.asarray(x) == 0) & ~xp.isnan(y), xp.zeros((), r.dtype), r)
    res = _make(xp.asarray(r))
    log1p = log_name == "log1p"
    node = record(res, SpecialXlog1PyBackward0 if log1p else XlogyBackward0,
                  (_tensor_or_none(input), _tensor_or_none(other)), log1p=log1p)
    if node is not None:
        tx = input if isinstance(input, Tensor) else _make(xp.asarray(x, dtype=res._data.dtype))
        ty = other if isinstance(other, Tensor) else _make(xp.asarray(y, dtype=res._data.dtype))
        node.meta = (_meta(input), _meta(other))
        node.save(tx, ty)
    return _out(out, res)


class SpecialXlog1PyBackward0(XlogyBackward0):
    """Gradient of special.xlog1py."""


@op(inplace=True, inplace_function=True)
def xlogy(input, other, *, out=None):
    """``input * log(other)``, with 0 where ``input`` is 0 (unless ``other`` is NaN)."""
    return _xlogy("xlogy", "log", input, other, out)


def xlog1py(input, other, *, out=None):
    """``input * log1p(other)``, with 0 where ``input`` is 0 (unless ``other`` is NaN); ``special.xlog1py``."""
    return _xlogy("xlog1py", "log1p", input, other, out)


def _entr_array(xp, a):
    with ignore_array_fp_errors(a):
        r = -a * xp.log(a)
    r = xp.where(a > 0, r, xp.where(a == 0, xp.zeros((), a.dtype), xp.asarray(-math.inf, a.dtype)))
    return xp.where(xp.isnan(a), a, r)


entr = unary_op("entr", _entr_array, lambda g, x: g * -(x.log() + 1), saves="input",
                node_name="SpecialEntrBackward0", declare=False)
entr.__doc__ = "``-x log(x)`` elementwise (0 at 0, -inf below 0); ``special.entr``."


# ---------------------------------------------------------------------------- comparisons
@op
def equal(input, other):
    """True when both tensors have the same shape and elements."""
    require_tensor(other, "equal")
    if input._data.shape != other._data.shape:
        return False
    da, db = binary_arrays(input, other)
    return bool(array_module(input).array_equal(da, db))


def _close_arrays(input, other, rtol, atol, equal_nan, name):
    require_tensor(other, name)
    if input.dtype is not other.dtype:
        raise RuntimeError(f"{dtype_name(input.dtype)} did not match {dtype_name(other.dtype)}")
    if rtol < 0:
        raise RuntimeError(f"rtol must be greater than or equal to zero, but got {rtol}")
    if atol < 0:
        raise RuntimeError(f"atol must be greater than or equal to zero, but got {atol}")
    a, b = input._data, other._data
    xp = array_module(input)
    try:
        close = a == b
    except ValueError:
        raise broadcast_error(a.shape, b.shape) from None
    if not isinstance(close, xp.ndarray):
        raise broadcast_error(a.shape, b.shape)
    if a.dtype == xp.bool_:
        return close
    if a.dtype.kind in "iu":
        fd = _dtype.get_default_dtype().np
        a, b = a.astype(fd), b.astype(fd)
    if equal_nan and a.dtype.kind in "fc":
        close = close | (xp.isnan(a) & xp.isnan(b))
    if rtol == 0 and atol == 0:
        return close
    with ignore_fp_errors(input):
        err = xp.abs(a - b)
        allowed = atol + xp.abs(rtol * b)
        return close | (xp.isfinite(err) & (err <= allowed))


@op
def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Elementwise ``|input - other| <= atol + rtol * |other|`` (infinities equal to themselves)."""
    return _make(_close_arrays(input, other, rtol, atol, equal_nan, "isclose"))


@op
def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """True when every pair of elements is close (see ``isclose``)."""
    return bool(_close_arrays(input, other, rtol, atol, equal_nan, "allclose").all())


# ---------------------------------------------------------------------------- clamp with tensor bounds
class ClampBackward0(Node):
    def backward(self, grad):
        saved = self.saved_tensors
        x, lo, hi = saved
        mx, mlo, mhi = self.meta
        zero = grad.new_zeros(())
        gx = glo = ghi = None
        if mx._requires_grad:
            keep = None
            if lo is not None:
                keep = x >= lo
            if hi is not None:
                keep = (x <= hi) if keep is None else keep & (x <= hi)
            gx = grad_for(where(keep, grad, zero), mx)
        if lo is not None and getattr(mlo, "_requires_grad", False):
            pick = x < lo
            if hi is not None:
                pick = pick & (lo < hi)
            glo = grad_for(where(pick, grad, zero), mlo)
        if hi is not None and getattr(mhi, "_requires_grad", False):
            pick = x > hi
            if lo is not None:
                pick = pick | (hi < lo)
            ghi = grad_for(where(pick, grad, zero), mhi)
        return gx, glo, ghi


def clamp_tensor_bounds(input, min, max):
    """clamp(input, min, max) where a bound is a tensor: promotes over all three, broadcasts, and routes
    the gradient to whichever of input / min / max gave each element (as PyTorch)."""
    xp = array_module(input)
    rd = _dtype.result_type(*(v for v in (input, min, max) if v is not None)).np
    a, lo, hi = device_arrays(input, min, max)
    a = a.astype(rd, copy=False)
    lo = None if lo is None else (lo if isinstance(min, Tensor) else xp.asarray(scalar_value(lo))).astype(
        rd, copy=False)
    hi = None if hi is None else (hi if isinstance(max, Tensor) else xp.asarray(scalar_value(hi))).astype(
        rd, copy=False)
    try:
        r = a
        if lo is not None:
            r = xp.maximum(r, lo)
        if hi is not None:
            r = xp.minimum(r, hi)
    except ValueError:
        other = lo if lo is not None and not _bc(a, lo) else hi
        raise broadcast_error(a.shape, other.shape) from None
    res = _make(r)
    node = record(res, ClampBackward0, (input, _tensor_or_none(min), _tensor_or_none(max)))
    if node is not None:
        ts = [v if isinstance(v, Tensor) else (None if v is None else _make(xp.asarray(scalar_value(v), rd)))
              for v in (input, min, max)]
        node.meta = tuple(_meta(v) if isinstance(v, Tensor) else None for v in (input, min, max))
        node.save(*ts)
    return res


# ---------------------------------------------------------------------------- in-place shifts
# elementwise's shifts get their in-place methods here
bitwise_left_shift_ = method(inplace(bitwise_left_shift), name="bitwise_left_shift_")
bitwise_right_shift_ = method(inplace(bitwise_right_shift), name="bitwise_right_shift_")

"""More pointwise ops: sgn, logit, sinc, float_power, fmod, lerp, addcmul/addcdiv, fmax/fmin, hypot,
logaddexp, xlogy, nan_to_num, isposinf/isneginf/signbit, equal/allclose/isclose, clamp with tensor bounds.

Each op computes with one or two NumPy calls and records a node whose backward
is written with ember ops (so double backward works).
"""
from .. import _dtype
from ._common import (xp, Tensor, Node, attach, GradMode, _make, needs_grad, float_array, binary_arrays,
                      broadcast_error, grad_for, scalar_value)
from .elementwise import write_out, _dtype_name, _ZeroGradBackward, _define_unary, where, inplace

_NAN = float("nan")


def _out(out, res):
    return write_out(out, res) if out is not None else res


def _not_implemented(kernel, dt):
    return NotImplementedError(f'"{kernel}" not implemented for \'{_dtype_name(dt)}\'')


def _require_tensor(x, op, name="other", pos=2):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument '{name}' (position {pos}) must be Tensor, not {type(x).__name__}")


def _pair(input, other):
    """Arrays of a binary op's operands cast to the promoted dtype (either may be a Python number)."""
    if isinstance(input, Tensor):
        return binary_arrays(input, other)
    db, da = binary_arrays(other, input)
    return da, db


def _apply(fn, da, db):
    try:
        return fn(da, db)
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
def _sgn_array(a):
    if a.dtype.kind == "c":
        mag = xp.abs(a)
        with xp.errstate(all="ignore"):
            return xp.where(mag == 0, 0, a / xp.where(mag == 0, 1, mag)).astype(a.dtype)
    from .elementwise import _sign_array
    return _sign_array(a)


def sgn(input, *, out=None):
    """``input / |input|`` for complex tensors (0 at 0); ``sign`` for real ones."""
    res = _make(_sgn_array(input._data))
    if needs_grad(input):
        if input.dtype.is_complex:
            node = SgnBackward0()
            node.save(input)
            node.save_result(res)
            attach(res, node, input)
        else:
            attach(res, _SgnZeroBackward("SgnBackward0"), input)
    return _out(out, res)


_SgnZeroBackward = type("SgnBackward0", (_ZeroGradBackward,), {})


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
        with xp.errstate(divide="ignore", invalid="ignore"):   # inf at 0 and 1, as in PyTorch
            g = grad / (x * (1 - x))
        if self.eps is None:
            return (where((x < 0) | (x > 1), _NAN, g).to(g.dtype),)
        return (where((x < self.eps) | (x > 1 - self.eps), 0.0, g).to(g.dtype),)


def logit(input, eps=None, *, out=None):
    """``log(p / (1 - p))``; with ``eps`` the input is first clamped to [eps, 1 - eps]."""
    a = float_array(input)
    if eps is not None:
        a = xp.clip(a, eps, 1 - eps)
    with xp.errstate(all="ignore"):
        r = xp.log(a / (1 - a))
    res = _make(r.astype(a.dtype, copy=False))
    if input._requires_grad and GradMode.enabled:
        node = LogitBackward0()
        node.eps = eps
        node.save(input)
        attach(res, node, input)
    return _out(out, res)


def _sinc_array(a):
    with xp.errstate(all="ignore"):
        pa = a * xp.pi
        r = xp.where(a == 0, xp.ones((), a.dtype), xp.sin(pa) / pa)
    return r.astype(a.dtype, copy=False)


def _sinc_grad(g, x):
    # at 0 the derivative is 0 and its own derivative -pi^2/3: the stand-in x * (-pi^2/3) has both
    # (PyTorch's second derivative there is NaN)
    zero = x == 0
    xs = where(zero, 1.0, x).to(x.dtype)
    d = ((xs * xp.pi).cos() * (xs * xp.pi) - (xs * xp.pi).sin()) / (xs * xs * xp.pi)
    return g * where(zero, x * (-xp.pi ** 2 / 3), d)


sinc = _define_unary("sinc", _sinc_array, _sinc_grad)


class NanToNumBackward0(Node):
    def backward(self, grad):
        (x,) = self.saved_tensors
        return (grad * x.isfinite(),)


def _float32_view(a):
    """``a`` as float32 when it is bfloat16 (NumPy's float predicates do not know ml_dtypes' type)."""
    return a.astype(xp.float32) if a.dtype.name == "bfloat16" else a


def nan_to_num(input, nan=0.0, posinf=None, neginf=None, *, out=None):
    """Replace NaN with ``nan``, +inf with ``posinf`` and -inf with ``neginf`` (defaults: 0, the dtype's max, min)."""
    a = input._data
    if a.dtype.kind not in "fc" and a.dtype.name != "bfloat16":
        return _out(out, _make(a.copy()))
    if a.dtype.name == "bfloat16":
        fi = _dtype.finfo(input.dtype)
        r = xp.nan_to_num(a.astype(xp.float32), nan=nan, posinf=fi.max if posinf is None else posinf,
                          neginf=fi.min if neginf is None else neginf).astype(a.dtype)
    else:
        r = xp.nan_to_num(a, nan=nan, posinf=posinf, neginf=neginf)
    res = _make(r)
    if input._requires_grad and GradMode.enabled:
        node = NanToNumBackward0()
        node.save(input)
        attach(res, node, input)
    return _out(out, res)


def isposinf(input, *, out=None):
    """True where ``input`` is +infinity."""
    a = _float32_view(input._data)
    return _out(out, _make(xp.isposinf(a) if a.dtype.kind == "f" else xp.zeros(a.shape, dtype=bool)))


def isneginf(input, *, out=None):
    """True where ``input`` is -infinity."""
    a = _float32_view(input._data)
    return _out(out, _make(xp.isneginf(a) if a.dtype.kind == "f" else xp.zeros(a.shape, dtype=bool)))


def signbit(input, *, out=None):
    """True where the sign bit is set (including -0.0)."""
    a = input._data
    if a.dtype.kind == "f" or a.dtype.name == "bfloat16":
        r = xp.signbit(a)
    elif a.dtype == xp.bool_:
        r = xp.zeros(a.shape, dtype=bool)
    else:
        r = a < 0
    return _out(out, _make(r))


# ---------------------------------------------------------------------------- float_power, fmod
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


def _float_power_(self, exponent):
    dt = _dtype.complex128 if self.dtype.is_complex or isinstance(exponent, complex) or (
        isinstance(exponent, Tensor) and exponent.dtype.is_complex) else _dtype.float64
    if self.dtype is not dt:
        raise RuntimeError(f"the base given to float_power_ has dtype {_dtype_name(self.dtype)} but the "
                           f"operation's result requires dtype {_dtype_name(dt)}")
    return inplace(float_power)(self, exponent)


class FmodBackward0(Node):
    def backward(self, grad):
        a, b = self.inputs
        ga = grad_for(grad, a)
        gb = None
        if getattr(b, "_requires_grad", False):
            x, y = self.saved_tensors
            gb = grad_for(-grad * x.div(y, rounding_mode="trunc"), b)
        return ga, gb


def _check_int_divisor(da, db, kind, name):
    if kind == "b":
        raise _not_implemented(f"{name}_cpu", _dtype.bool)
    if kind in "iu" and (xp.asarray(db) == 0).any() and xp.size(da) and xp.size(db):
        raise RuntimeError("ZeroDivisionError")


def fmod(input, other, *, out=None):
    """C-style remainder: the result has the sign of ``input``."""
    da, db = binary_arrays(input, other)
    kind = da.dtype.kind
    _check_int_divisor(da, db, kind, "fmod")
    with xp.errstate(all="ignore"):
        res = _make(_apply(xp.fmod, da, db))
    if needs_grad(input, other):
        node = FmodBackward0()
        node.inputs = (_meta(input), _meta(other) if isinstance(other, Tensor) else other)
        if isinstance(other, Tensor) and other._requires_grad:
            node.save(input, other)
        attach(res, node, input, _tensor_or_none(other))
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
    diff = b - a
    with xp.errstate(all="ignore"):
        if not isinstance(w, xp.ndarray):  # a number: one formula for the whole tensor
            return a + w * diff if abs(w) < 0.5 else b - diff * (1 - w)
        small = xp.abs(w) < 0.5
        return xp.where(small, a + w * diff, b - diff * (1 - w)).astype(xp.result_type(a, b), copy=False)


def lerp(input, end, weight, *, out=None):
    """``input + weight * (end - input)`` (weight a number or a tensor)."""
    _require_tensor(end, "lerp", "end")
    if input.dtype is not end.dtype:
        raise RuntimeError(f"expected dtype {_short(input.dtype)} for `end` but got dtype {_short(end.dtype)}")
    if input.dtype._category < 2:
        raise _not_implemented("lerp_kernel_tensor" if isinstance(weight, Tensor) else "lerp_kernel_scalar",
                               input.dtype)
    a, b = input._data, end._data
    if isinstance(weight, Tensor):
        if weight.dtype is not input.dtype and weight._data.ndim:
            raise RuntimeError(f"expected dtype {_short(input.dtype)} for `weight` but got dtype "
                               f"{_short(weight.dtype)}")
        w = weight._data.astype(a.dtype, copy=False)
    else:
        w = scalar_value(weight)
    if not _bc(a, b):
        raise broadcast_error(a.shape, b.shape)
    try:
        r = _lerp_arrays(a, b, w)
    except ValueError:
        raise broadcast_error(xp.broadcast_shapes(a.shape, b.shape), xp.shape(w)) from None
    res = _make(r)
    if needs_grad(input, end, weight):
        node = LerpBackward0()
        wt = weight if isinstance(weight, Tensor) else None
        node.meta = (_meta(input), _meta(end), _meta(wt) if wt is not None else None)
        if wt is not None:
            node.save(input, end, wt)
        else:
            node.save(input, end)
            node.weight = w
        attach(res, node, input, end, wt)
    return _out(out, res)


def _bc(a, b):
    try:
        xp.broadcast_shapes(a.shape, b.shape)
        return True
    except ValueError:
        return False


def _short(dt):
    return {"float32": "float", "float64": "double", "float16": "c10::Half", "bfloat16": "c10::BFloat16",
            "int64": "long int", "int32": "int"}.get(dt.name, dt.name)


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
        _require_tensor(t, name, argname, pos)
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
    return (input._data.astype(npd, copy=False), tensor1._data.astype(npd, copy=False),
            tensor2._data.astype(npd, copy=False), v)


def _addc(name, fn, node_cls, input, tensor1, tensor2, value, out):
    a, b, c, v = _addc_arrays(name, input, tensor1, tensor2, value)
    with xp.errstate(all="ignore"):
        try:
            r = fn(b, c)
            if v != 1:
                r = r * v if fn is xp.divide else (b * v) * c
            r = a + r
        except ValueError:
            raise broadcast_error(a.shape, xp.broadcast_shapes(b.shape, c.shape) if _bc(b, c) else c.shape) from None
    res = _make(r.astype(a.dtype, copy=False))
    if needs_grad(input, tensor1, tensor2):
        node = node_cls()
        node.meta = (_meta(input), _meta(tensor1), _meta(tensor2))
        node.value = v
        node.save(tensor1, tensor2)
        attach(res, node, input, tensor1, tensor2)
    return _out(out, res)


def addcmul(input, tensor1, tensor2, *, value=1, out=None):
    """``input + value * tensor1 * tensor2``."""
    return _addc("addcmul", xp.multiply, AddcmulBackward0, input, tensor1, tensor2, value, out)


def addcdiv(input, tensor1, tensor2, *, value=1, out=None):
    """``input + value * tensor1 / tensor2``."""
    return _addc("addcdiv", xp.divide, AddcdivBackward0, input, tensor1, tensor2, value, out)


def _fast_addc(name, ufunc, slow):
    """In-place addcmul_/addcdiv_: straight into ``self``'s memory when no graph is recorded (optimizer steps)."""
    def op_(self, tensor1, tensor2, *, value=1):
        if GradMode.enabled and (self._requires_grad or tensor1._requires_grad or tensor2._requires_grad):
            return inplace(slow)(self, tensor1, tensor2, value=value)
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
        if a.dtype != self._data.dtype or xp.broadcast_shapes(a.shape, b.shape, c.shape) != a.shape:
            return inplace(slow)(self, tensor1, tensor2, value=value)
        tmp = ufunc(b, c)
        if v != 1:
            tmp *= v
        self._data += tmp
        self._version[0] += 1
        return self
    op_.__name__ = op_.__qualname__ = name + "_"
    op_.__doc__ = f"In-place ``{name}``; returns self."
    return op_


# ---------------------------------------------------------------------------- binary float ops
class FmaxBackward0(Node):
    def backward(self, grad):
        a, b = self.saved_tensors
        pick_a = (a >= b) | b.isnan() if self.is_max else (a <= b) | b.isnan()
        zero = grad.new_zeros(())
        return grad_for(where(pick_a, grad, zero), a), grad_for(where(pick_a, zero, grad), b)


def _fmaxmin(name, fn, is_max, input, other, out):
    _require_tensor(other, name)
    res = _make(_apply(fn, *binary_arrays(input, other)))
    if needs_grad(input, other):
        node = FmaxBackward0() if is_max else _FminBackward()
        node.is_max = is_max
        node.save(input, other)
        attach(res, node, input, other)
    return _out(out, res)


_FminBackward = type("FminBackward0", (FmaxBackward0,), {})


def fmax(input, other, *, out=None):
    """Elementwise maximum that ignores NaN (NaN only where both are NaN)."""
    return _fmaxmin("fmax", xp.fmax, True, input, other, out)


def fmin(input, other, *, out=None):
    """Elementwise minimum that ignores NaN (NaN only where both are NaN)."""
    return _fmaxmin("fmin", xp.fmin, False, input, other, out)


def _float_binary(name, input, other):
    _require_tensor(other, name)
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


def hypot(input, other, *, out=None):
    """``sqrt(input**2 + other**2)`` without overflow."""
    res = _make(_apply(xp.hypot, *_float_binary("hypot", input, other)))
    if needs_grad(input, other):
        node = HypotBackward0()
        node.save(input, other)
        node.save_result(res)
        attach(res, node, input, other)
    return _out(out, res)


class LogaddexpBackward0(Node):
    def backward(self, grad):
        a0, b0 = self.saved_tensors
        a, b = _as_grad_dtype(grad, a0, b0)
        if self.base2:
            return grad_for(grad / (1 + (b - a).exp2()), a0), grad_for(grad / (1 + (a - b).exp2()), b0)
        return grad_for(grad / (1 + (b - a).exp()), a0), grad_for(grad / (1 + (a - b).exp()), b0)


def _logaddexp(name, fn, base2, input, other, out):
    with xp.errstate(all="ignore"):
        res = _make(_apply(fn, *_float_binary(name, input, other)))
    if needs_grad(input, other):
        node = LogaddexpBackward0() if not base2 else _Logaddexp2Backward()
        node.base2 = base2
        node.save(input, other)
        attach(res, node, input, other)
    return _out(out, res)


_Logaddexp2Backward = type("Logaddexp2Backward0", (LogaddexpBackward0,), {})


def logaddexp(input, other, *, out=None):
    """``log(exp(input) + exp(other))``, computed stably."""
    return _logaddexp("logaddexp", xp.logaddexp, False, input, other, out)


def logaddexp2(input, other, *, out=None):
    """``log2(2**input + 2**other)``, computed stably."""
    return _logaddexp("logaddexp2", xp.logaddexp2, True, input, other, out)


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


def _xlogy(name, log_fn, input, other, out):
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    rd = _dtype.result_type(input, other)
    if rd._category < 2:
        rd = _dtype.get_default_dtype()
    x, y = (v._data.astype(rd.np, copy=False) if isinstance(v, Tensor) else xp.asarray(scalar_value(v), rd.np)
            for v in (input, other))
    with xp.errstate(all="ignore"):
        ly = log_fn(y)
        try:
            r = xp.multiply(x, ly)
        except ValueError:
            raise broadcast_error(xp.shape(x), xp.shape(y)) from None
        r = xp.where((xp.asarray(x) == 0) & ~xp.isnan(y), xp.zeros((), r.dtype), r)
    res = _make(xp.asarray(r))
    if needs_grad(input, other):
        node = XlogyBackward0() if log_fn is xp.log else _Xlog1pyBackward()
        node.log1p = log_fn is not xp.log
        tx = input if isinstance(input, Tensor) else _make(xp.asarray(x, dtype=res._data.dtype))
        ty = other if isinstance(other, Tensor) else _make(xp.asarray(y, dtype=res._data.dtype))
        node.meta = (_meta(input), _meta(other))
        node.save(tx, ty)
        attach(res, node, _tensor_or_none(input), _tensor_or_none(other))
    return _out(out, res)


_Xlog1pyBackward = type("SpecialXlog1PyBackward0", (XlogyBackward0,), {})


def xlogy(input, other, *, out=None):
    """``input * log(other)``, with 0 where ``input`` is 0 (unless ``other`` is NaN)."""
    return _xlogy("xlogy", xp.log, input, other, out)


def _special_xlog1py(input, other, *, out=None):
    """``input * log1p(other)``, with 0 where ``input`` is 0 (unless ``other`` is NaN)."""
    return _xlogy("xlog1py", xp.log1p, input, other, out)


def _entr_array(a):
    with xp.errstate(all="ignore"):
        r = -a * xp.log(a)
    r = xp.where(a > 0, r, xp.where(a == 0, xp.zeros((), a.dtype), xp.asarray(-xp.inf, a.dtype)))
    return xp.where(xp.isnan(a), a, r)


_special_entr = _define_unary("special_entr", _entr_array, lambda g, x: g * -(x.log() + 1))


# ---------------------------------------------------------------------------- comparisons
def equal(input, other):
    """True when both tensors have the same shape and elements."""
    _require_tensor(other, "equal")
    if input._data.shape != other._data.shape:
        return False
    da, db = binary_arrays(input, other)
    return bool(xp.array_equal(da, db))


def _close_arrays(input, other, rtol, atol, equal_nan, name):
    _require_tensor(other, name)
    if input.dtype is not other.dtype:
        raise RuntimeError(f"{_dtype_name(input.dtype)} did not match {_dtype_name(other.dtype)}")
    if rtol < 0:
        raise RuntimeError(f"rtol must be greater than or equal to zero, but got {rtol}")
    if atol < 0:
        raise RuntimeError(f"atol must be greater than or equal to zero, but got {atol}")
    a, b = input._data, other._data
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
    with xp.errstate(all="ignore"):
        err = xp.abs(a - b)
        allowed = atol + xp.abs(rtol * b)
        return close | (xp.isfinite(err) & (err <= allowed))


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Elementwise ``|input - other| <= atol + rtol * |other|`` (infinities equal to themselves)."""
    return _make(_close_arrays(input, other, rtol, atol, equal_nan, "isclose"))


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


def _clamp_tensor_bounds(input, min, max):
    """clamp(input, min, max) where a bound is a tensor: promotes over all three, broadcasts, and routes
    the gradient to whichever of input / min / max gave each element (as PyTorch)."""
    rd = _dtype.result_type(*(v for v in (input, min, max) if v is not None)).np
    a = input._data.astype(rd, copy=False)
    lo = None if min is None else (min._data if isinstance(min, Tensor) else xp.asarray(scalar_value(min))).astype(
        rd, copy=False)
    hi = None if max is None else (max._data if isinstance(max, Tensor) else xp.asarray(scalar_value(max))).astype(
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
    if needs_grad(input, min, max):
        node = ClampBackward0()
        ts = [v if isinstance(v, Tensor) else (None if v is None else _make(xp.asarray(scalar_value(v), rd)))
              for v in (input, min, max)]
        node.meta = tuple(_meta(v) if isinstance(v, Tensor) else None for v in (input, min, max))
        node.save(*ts)
        attach(res, node, input, _tensor_or_none(min), _tensor_or_none(max))
    return res


# ---------------------------------------------------------------------------- Tensor methods and in-place forms
def _bind():
    from .special_math import erf, erfc, erfinv, lgamma, digamma, i0, mvlgamma
    for name, fn in (("sgn", sgn), ("logit", logit), ("sinc", sinc), ("nan_to_num", nan_to_num), ("fmod", fmod),
                     ("lerp", lerp), ("addcmul", addcmul), ("addcdiv", addcdiv), ("hypot", hypot), ("xlogy", xlogy),
                     ("erf", erf), ("erfc", erfc), ("erfinv", erfinv), ("lgamma", lgamma), ("digamma", digamma),
                     ("i0", i0), ("mvlgamma", mvlgamma)):
        setattr(Tensor, name + "_", inplace(fn))
    from .elementwise import bitwise_left_shift, bitwise_right_shift, remainder
    for name, fn in (("bitwise_left_shift", bitwise_left_shift), ("bitwise_right_shift", bitwise_right_shift),
                     ("remainder", remainder)):
        if not hasattr(Tensor, name + "_"):
            setattr(Tensor, name + "_", inplace(fn))
    Tensor.addcmul_ = _fast_addc("addcmul", xp.multiply, addcmul)
    Tensor.addcdiv_ = _fast_addc("addcdiv", xp.divide, addcdiv)
    Tensor.float_power_ = _float_power_


_bind()


# in-place forms PyTorch also has at the top level (torch.erf_(t) ...): the same functions as the methods
def _top_level_inplace():
    from .special_math import erf, erfc, i0
    return (inplace(erf), inplace(erfc), inplace(logit), inplace(i0), inplace(xlogy), inplace(nan_to_num),
            inplace(sinc))


erf_, erfc_, logit_, i0_, xlogy_, nan_to_num_, sinc_ = _top_level_inplace()
for _f in (erf_, erfc_, logit_, i0_, xlogy_, nan_to_num_, sinc_):
    setattr(Tensor, _f.__name__, _f)

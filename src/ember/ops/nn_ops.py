"""Fused kernels for ember.nn: linear, softmax family, activations, normalisation, losses, embedding.

Each op computes its forward in one pass over NumPy arrays and writes its
backward with ember ops (so double backward works).  Public names here are
the ones PyTorch also has at the top level (``torch.softmax``,
``torch.layer_norm``, ``torch.dropout`` ...); helpers used only by
``ember.nn.functional`` start with ``_``.
"""
import math

from .. import _dtype
from ._common import xp, Tensor, Node, attach, GradMode, _make, float_array, wrap_dim, Autocast, autocast_args
from .elementwise import _dtype_name

# public here = ``ember.<name>`` as in torch; only softmax, log_softmax and hardshrink are also Tensor methods
_NOT_METHODS = {"selu", "celu", "threshold", "rrelu", "dropout", "feature_dropout", "alpha_dropout",
                "feature_alpha_dropout", "batch_norm", "layer_norm", "group_norm", "instance_norm", "embedding",
                "embedding_renorm_"}


def _is_float(t):
    return t._data.dtype.kind in "fc" or t._data.dtype.name == "bfloat16"


# ---------------------------------------------------------------------------- linear
class AddmmBackward0(Node):
    """Gradient of ``input @ weight.T + bias`` (the node F.linear leaves)."""

    def backward(self, grad):
        x, w, b = self.saved_tensors
        out_f = w.shape[0]
        in_f = w.shape[-1]
        g2 = grad.reshape(-1, out_f)
        gx = gw = gb = None
        if x._requires_grad:
            gx = g2.mm(w).reshape(x.shape)
        if w._requires_grad:
            gw = g2.t().mm(x.reshape(-1, in_f))
        if b is not None and b._requires_grad:
            gb = g2.sum(0) if b.ndim == 1 else g2.sum()
            if gb.shape != b.shape:
                gb = gb.reshape(b.shape)
        return gx, gw, gb


class MmBackward0(AddmmBackward0):
    def backward(self, grad):
        return AddmmBackward0.backward(self, grad)[:2]


def _rows_of(x, k):
    return x.size // k if k else 0


def _linear(input, weight, bias=None):
    """``input @ weight.T + bias`` for input (*, in_features), weight (out_features, in_features)."""
    if Autocast.cpu_dtype is not None:
        input, weight, bias = autocast_args(input, weight, bias)
    x, w = input._data, weight._data
    if w.ndim != 2:
        if w.ndim == 1 and x.ndim >= 1 and x.shape[-1] == w.shape[0]:
            from .linalg import matmul
            r = matmul(input, weight)
            return r + bias if bias is not None else r
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {w.ndim}D")
    if x.ndim == 0:
        raise RuntimeError("both arguments to linear need to be at least 1D, but they are 0D and 2D")
    k = x.shape[-1]
    if k != w.shape[1]:
        rows = x.size // k if k else 0
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{k} and {w.shape[1]}x{w.shape[0]})")
    if x.dtype != w.dtype:
        raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got {_dtype_name(input.dtype)} and "
                           f"{_dtype_name(weight.dtype)}")
    lead = x.shape[:-1]
    x2 = x.reshape(-1, k) if x.ndim != 2 else x
    r = x2 @ w.T
    if r.dtype != x.dtype:  # NumPy multiplies bfloat16 in float32; PyTorch rounds the product back
        r = r.astype(x.dtype)
    if bias is not None:
        b = bias._data
        if b.dtype != x.dtype:
            raise RuntimeError(f"self and mat2 must have the same dtype, but got {_dtype_name(bias.dtype)} and "
                               f"{_dtype_name(weight.dtype)}")
        if b.shape and b.shape[-1] not in (1, w.shape[0]) or b.ndim > 1:
            raise RuntimeError(f"The expanded size of the tensor ({w.shape[0]}) must match the existing size "
                               f"({b.shape[-1]}) at non-singleton dimension 1.  Target sizes: "
                               f"[{_rows_of(x, k)}, {w.shape[0]}].  Tensor sizes: {list(b.shape)}")
        r += b
    if x.ndim != 2:
        r = r.reshape(lead + (w.shape[0],))
    res = _make(r)
    if GradMode.enabled and (input._requires_grad or weight._requires_grad
                             or (bias is not None and bias._requires_grad)):
        if bias is not None:
            node = AddmmBackward0()
            node.save(input, weight, bias)
            attach(res, node, input, weight, bias)
        else:
            node = MmBackward0()
            node.save(input, weight, None)
            attach(res, node, input, weight)
    return res


# ---------------------------------------------------------------------------- init helpers (no grad)
def _orthogonal_factor(flat):
    """Q of the QR factorisation of ``flat`` (or of its transpose when wide), signs fixed by diag(R)."""
    a = flat._data
    wide = a.shape[0] < a.shape[1]
    if wide:
        a = a.T
    q, r = xp.linalg.qr(a.astype(xp.float64) if a.dtype.itemsize < 4 else a)
    d = xp.diag(r)
    q = q * xp.sign(d)
    if wide:
        q = q.T
    return _make(xp.ascontiguousarray(q.astype(flat._data.dtype)))


# ---------------------------------------------------------------------------- softmax family
def _check_float(input, what):
    if not _is_float(input):
        raise NotImplementedError(f"\"{what}\" not implemented for '{_dtype_name(input.dtype)}'")


def _softmax_array(a, dim):
    if a.ndim == 0:
        return xp.ones_like(a)
    e = xp.exp(a - a.max(axis=dim, keepdims=True))
    e /= e.sum(axis=dim, keepdims=True)
    return e


def _log_softmax_array(a, dim):
    if a.ndim == 0:
        return xp.zeros_like(a)
    s = a - a.max(axis=dim, keepdims=True)
    s -= xp.log(xp.exp(s).sum(axis=dim, keepdims=True))
    return s


class SoftmaxBackward0(Node):
    def backward(self, grad):
        r = self.result()
        if self.dim is None:
            return (grad * 0,)
        return (r * (grad - (grad * r).sum(self.dim, keepdim=True)),)


class LogSoftmaxBackward0(Node):
    def backward(self, grad):
        r = self.result()
        if self.dim is None:
            return (grad * 0,)
        return (grad - r.exp() * grad.sum(self.dim, keepdim=True),)


def _softmax_impl(input, dim, dtype, array_fn, node_cls, kernel_name):
    if dtype is not None:
        input = input.to(dtype)
    _check_float(input, kernel_name)
    nd = input._data.ndim
    d = wrap_dim(dim, nd)
    res = _make(array_fn(input._data, d))
    if input._requires_grad and GradMode.enabled:
        node = node_cls()
        node.dim = d if nd else None
        node.save_result(res)
        attach(res, node, input)
    return res


def softmax(input, dim, dtype=None):
    """``exp(x) / exp(x).sum(dim)``, computed stably; ``dtype`` casts the input first."""
    return _softmax_impl(input, dim, dtype, _softmax_array, SoftmaxBackward0, "softmax_lastdim_kernel_impl")


def log_softmax(input, dim, dtype=None):
    """``log(softmax(x, dim))``, computed stably; ``dtype`` casts the input first."""
    return _softmax_impl(input, dim, dtype, _log_softmax_array, LogSoftmaxBackward0,
                         "log_softmax_lastdim_kernel_impl")


# ---------------------------------------------------------------------------- activations
def _act_node(name, deriv):
    """A node class whose backward is ``deriv(self, grad)``; it saves ``x`` (input) and/or ``r`` (result)."""
    return type(name, (Node,), {"backward": lambda self, grad: (deriv(self, grad),)})


def _record(res, input, node_cls, save_x=True, save_r=False, **attrs):
    if input._requires_grad and GradMode.enabled:
        node = node_cls()
        node.__dict__.update(attrs)
        if save_x:
            node.save(input)
        if save_r:
            node.save_result(res)
        attach(res, node, input)
    return res


def _x(node):
    return node.saved_tensors[0]


def _mask_of(cond_arr, like):
    """A constant float tensor from a boolean array, in ``like``'s dtype."""
    return _make(cond_arr.astype(like._data.dtype))


LeakyReluBackward0 = _act_node(
    "LeakyReluBackward0",
    lambda n, g: g * _make(xp.where(_x(n)._data > 0, 1, n.slope).astype(g._data.dtype)))


def _leaky_relu(input, negative_slope=0.01):
    """``x`` where positive, ``negative_slope * x`` elsewhere."""
    _check_float(input, "leaky_relu_cpu")
    a = input._data
    res = _make(xp.where(a > 0, a, a * a.dtype.type(negative_slope)))
    return _record(res, input, LeakyReluBackward0, slope=negative_slope)


def _elu_deriv(n, g):
    x = _x(n)
    pos = x._data > 0
    if GradMode.enabled:   # double backward: d/dx of alpha*scale*exp(x*input_scale)
        neg = (x * n.input_scale).exp() * (n.alpha * n.scale * n.input_scale)
        return g * _elu_where(pos, n.scale, neg)
    xa = x._data
    d = xp.where(pos, n.scale, n.alpha * n.scale * n.input_scale * xp.exp(xa * n.input_scale))
    return g * _make(d.astype(xa.dtype))


def _elu_where(pos, scale, neg):
    from .elementwise import where
    return where(_make(pos), scale, neg)


EluBackward0 = _act_node("EluBackward0", _elu_deriv)


def _elu_impl(input, alpha, scale, input_scale):
    _check_float(input, "elu")
    a = input._data
    t = a.dtype.type
    neg = xp.expm1(xp.minimum(a, 0) * t(input_scale)) * t(alpha * scale)
    res = _make(xp.where(a > 0, a * t(scale), neg))
    return _record(res, input, EluBackward0, alpha=alpha, scale=scale, input_scale=input_scale)


def _elu(input, alpha=1.0):
    """``x`` where positive, ``alpha * (exp(x) - 1)`` elsewhere."""
    return _elu_impl(input, alpha, 1.0, 1.0)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input):
    """``scale * _elu(x, alpha)`` with the self-normalising constants."""
    return _elu_impl(input, _SELU_ALPHA, _SELU_SCALE, 1.0)


def celu(input, alpha=1.0):
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``."""
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError")
    res = _elu_impl(input, alpha, 1.0, 1.0 / alpha)
    if res._grad_fn is not None:   # PyTorch's backward uses 1 / float32(alpha) as the input scale
        res._grad_fn.input_scale = 1.0 / float(xp.float32(alpha))
    return res


_SQRT_2 = math.sqrt(2.0)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _erf_array(a):
    from .special_math import erf_kernel
    if a.dtype == xp.float64:
        return erf_kernel(a)
    return erf_kernel(a.astype(xp.float64)).astype(a.dtype)


# erfc(z) ~ t exp(-z^2 + P(t)), t = 1 / (1 + z / 2), z >= 0: Numerical Recipes' Chebyshev fit, relative
# error < 1.2e-7 everywhere, so Phi's left tail keeps its relative accuracy
_ERFC_FIT = (-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398, 1.48851587,
             -0.82215223, 0.17087277)


def _normal_cdf_lowp(a):
    """Phi(a) for float32 (and narrower, through float32) arrays, in float32: ~4x faster than the float64
    erf kernel, max abs error 4e-7 (torch's own float32 GELU is off by up to 1.2e-6).  GELU in float32
    models spends most of its time here."""
    x = a if a.dtype == xp.float32 else a.astype(xp.float32)
    f = xp.float32
    z = x * f(-1 / _SQRT_2)                  # Phi(x) = erfc(z) / 2
    az = xp.abs(z)
    t = az * f(0.5)
    t += f(1)
    xp.reciprocal(t, out=t)
    p = xp.full_like(x, _ERFC_FIT[-1])
    for c in _ERFC_FIT[-2::-1]:
        p *= t
        p += f(c)
    p -= az * az
    xp.exp(p, out=p)
    p *= t
    p *= f(0.5)                              # erfc(|z|) / 2
    r = xp.where(z >= 0, p, f(1) - p)
    return r if r.dtype == a.dtype else r.astype(a.dtype)


_ERFC_NR = (-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398, 1.48851587,
            -0.82215223, 0.17087277)


def _normal_cdf(a):
    """Phi(a), the standard normal CDF.  float64: the exact erf kernel; lower precisions: ``erfc`` by the
    Numerical Recipes Chebyshev fit (relative error < 1.2e-7 everywhere, also deep in the left tail)."""
    t_ = a.dtype.type
    if a.dtype == xp.float64:
        return (_erf_array(a * (1 / _SQRT_2)) + 1) * 0.5
    z = a * t_(-1 / _SQRT_2)
    az = xp.abs(z)
    t = 1 / (az * t_(0.5) + 1)
    poly = xp.full_like(t, _ERFC_NR[-1])
    for c in _ERFC_NR[-2::-1]:
        poly *= t
        poly += t_(c)
    poly -= az * az
    e = t * xp.exp(poly)
    return xp.where(z >= 0, e, 2 - e) * t_(0.5)


def _gelu_deriv(n, g):
    x = _x(n)
    if n.approximate == "tanh":
        inner = (x + x * x * x * 0.044715) * _SQRT_2_OVER_PI
        t = inner.tanh()
        dinner = (x * x * (3 * 0.044715) + 1) * _SQRT_2_OVER_PI
        return g * ((t + 1) * 0.5 + x * 0.5 * (1 - t * t) * dinner)
    if GradMode.enabled:
        from .special_math import erf
        cdf = (erf(x * (1 / _SQRT_2)) + 1) * 0.5
        pdf = (x * x * -0.5).exp() * _INV_SQRT_2PI
        return g * (cdf + x * pdf)
    a = x._data
    t_ = a.dtype.type
    d = xp.exp(a * a * t_(-0.5))
    d *= t_(_INV_SQRT_2PI)
    d *= a
    d += n.cdf if n.cdf is not None else _normal_cdf(a)
    return g * _make(d)


GeluBackward0 = _act_node("GeluBackward0", _gelu_deriv)


def _gelu(input, approximate="none"):
    """``x * Phi(x)`` (Phi the standard normal CDF), or its tanh approximation with ``approximate='tanh'``."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    _check_float(input, "GeluKernelImpl")
    a = input._data
    t = a.dtype.type
    cdf = None
    if approximate == "tanh":
        r = t(0.5) * a * (1 + xp.tanh(t(_SQRT_2_OVER_PI) * (a + t(0.044715) * a * a * a)))
    else:
        cdf = _normal_cdf(a)
        r = a * cdf
    return _record(_make(r), input, GeluBackward0, approximate=approximate, cdf=cdf)


def _sigmoid(a):
    e = xp.exp(-xp.abs(a))
    s = 1 / (1 + e)
    return xp.where(a >= 0, s, e * s)


def _silu_deriv(n, g):
    x = _x(n)
    if GradMode.enabled:
        s = x.sigmoid()
        return g * (s * (1 + x * (1 - s)))
    a = x._data
    s = _sigmoid(a)
    return g * _make(s * (1 + a * (1 - s)))


SiluBackward0 = _act_node("SiluBackward0", _silu_deriv)


def _silu(input):
    """``x * sigmoid(x)``."""
    _check_float(input, "silu")
    a = input._data
    return _record(_make(a * _sigmoid(a)), input, SiluBackward0)


def _softplus_array(a, beta, threshold):
    t = a.dtype.type
    z = a * t(beta)
    sp = (xp.maximum(z, 0) + xp.log1p(xp.exp(-xp.abs(z)))) / t(beta)
    return xp.where(z > threshold, a, sp)


def _mish_deriv(n, g):
    x = _x(n)
    if GradMode.enabled:
        tsp = _softplus(x).tanh()
        return g * (tsp + x * x.sigmoid() * (1 - tsp * tsp))
    a = x._data
    tsp = xp.tanh(_softplus_array(a, 1.0, 20.0))
    return g * _make(tsp + a * _sigmoid(a) * (1 - tsp * tsp))


MishBackward0 = _act_node("MishBackward0", _mish_deriv)


def _mish(input):
    """``x * tanh(_softplus(x))``."""
    _check_float(input, "mish")
    a = input._data
    return _record(_make(a * xp.tanh(_softplus_array(a, 1.0, 20.0))), input, MishBackward0)


def _softplus_deriv(n, g):
    x = _x(n)
    if GradMode.enabled:
        z = x * n.beta
        from .elementwise import where
        return g * where(z > n.threshold, 1.0, z.sigmoid())
    z = x._data * x._data.dtype.type(n.beta)
    return g * _make(xp.where(z > n.threshold, 1, _sigmoid(z)).astype(z.dtype))


SoftplusBackward0 = _act_node("SoftplusBackward0", _softplus_deriv)


def _softplus(input, beta=1.0, threshold=20.0):
    """``log(1 + exp(beta * x)) / beta``, linear where ``beta * x > threshold``."""
    _check_float(input, "softplus")
    return _record(_make(_softplus_array(input._data, beta, threshold)), input, SoftplusBackward0, beta=beta,
                   threshold=threshold)


HardtanhBackward0 = _act_node(
    "HardtanhBackward0",
    lambda n, g: g * _mask_of((_x(n)._data > n.lo) & (_x(n)._data < n.hi), g))


def _hardtanh(input, min_val=-1.0, max_val=1.0):
    """``x`` clipped to ``[min_val, max_val]``."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    a = input._data
    if a.dtype.kind == "b":
        raise RuntimeError("\"hardtanh_cpu\" not implemented for 'Bool'")
    res = _make(xp.clip(a, min_val, max_val).astype(a.dtype, copy=False))
    return _record(res, input, HardtanhBackward0, lo=min_val, hi=max_val)


def _hardswish_deriv(n, g):
    a = _x(n)._data
    t = a.dtype.type
    d = xp.where(a < -3, t(0), xp.where(a <= 3, a / t(3) + t(0.5), t(1)))
    return g * _make(d.astype(a.dtype, copy=False))


HardswishBackward0 = _act_node("HardswishBackward0", _hardswish_deriv)


def _hardswish(input):
    """``x * relu6(x + 3) / 6``."""
    _check_float(input, "hardswish_cpu")
    a = input._data
    t = a.dtype.type
    return _record(_make(a * xp.clip(a + t(3), 0, 6) / t(6)), input, HardswishBackward0)


HardsigmoidBackward0 = _act_node(
    "HardsigmoidBackward0",
    lambda n, g: g * _mask_of((_x(n)._data > -3) & (_x(n)._data < 3), g) * 0.1666666716337204)  # torch: float(1/6f)


def _hardsigmoid(input):
    """``relu6(x + 3) / 6``."""
    _check_float(input, "hardsigmoid_cpu")
    a = input._data
    t = a.dtype.type
    return _record(_make(xp.clip(a + t(3), 0, 6) / t(6)), input, HardsigmoidBackward0)


ThresholdBackward0 = _act_node("ThresholdBackward0",
                               lambda n, g: g * _mask_of(_x(n)._data > n.threshold, g))


def threshold(input, threshold, value):
    """``x`` where ``x > threshold``, ``value`` elsewhere."""
    a = input._data
    res = _make(xp.where(a > threshold, a, xp.asarray(value, dtype=a.dtype)))
    return _record(res, input, ThresholdBackward0, threshold=threshold)


def _logsigmoid_deriv(n, g):
    x = _x(n)
    if GradMode.enabled:
        return g * (-x).sigmoid()
    return g * _make(_sigmoid(-x._data))


LogSigmoidBackward0 = _act_node("LogSigmoidBackward0", _logsigmoid_deriv)


def _logsigmoid(input):
    _check_float(input, "log_sigmoid_forward")
    a = input._data
    r = xp.minimum(a, 0) - xp.log1p(xp.exp(-xp.abs(a)))
    return _record(_make(r), input, LogSigmoidBackward0)


SoftshrinkBackward0 = _act_node("SoftshrinkBackward0",
                                lambda n, g: g * _mask_of(xp.abs(_x(n)._data) > n.lambd, g))
HardshrinkBackward0 = _act_node("HardshrinkBackward0",
                                lambda n, g: g * _mask_of(xp.abs(_x(n)._data) > n.lambd, g))


def _softshrink(input, lambd=0.5):
    """``x - lambd`` above ``lambd``, ``x + lambd`` below ``-lambd``, 0 between."""
    if lambd < 0:
        raise RuntimeError(f"lambda must be greater or equal to 0, but found to be {lambd}.")
    a = input._data
    t = a.dtype.type
    r = xp.where(a > lambd, a - t(lambd), xp.where(a < -lambd, a + t(lambd), t(0)))
    return _record(_make(r.astype(a.dtype, copy=False)), input, SoftshrinkBackward0, lambd=lambd)


def hardshrink(input, lambd=0.5):
    """``x`` where ``|x| > lambd``, 0 elsewhere."""
    a = input._data
    r = xp.where(xp.abs(a) > lambd, a, a.dtype.type(0))
    return _record(_make(r), input, HardshrinkBackward0, lambd=lambd)


class RreluWithNoiseBackward0(Node):
    def backward(self, grad):
        return (grad * self.noise,)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, generator=None):
    """Randomized leaky ReLU: slope drawn from U(lower, upper) per element in training, ``(lower+upper)/2`` in eval."""
    if not training:
        return _leaky_relu(input, (lower + upper) / 2)
    from ..random import np_generator
    a = input._data
    slopes = np_generator(generator).uniform(lower, upper, size=a.shape).astype(a.dtype)
    noise = xp.where(a >= 0, a.dtype.type(1), slopes)
    res = _make(a * noise)
    if input._requires_grad and GradMode.enabled:
        node = RreluWithNoiseBackward0()
        node.noise = _make(noise)
        attach(res, node, input)
    return res


# ---------------------------------------------------------------------------- dropout
class MulBackward0(Node):
    def backward(self, grad):
        return (grad * self.mask,)


def _dropout_mask(shape, p, dtype, generator=None):
    from ..random import np_generator
    gen = np_generator(generator)
    work = dtype if dtype in (xp.float32, xp.float64) else xp.float32
    keep = gen.random(shape, dtype=work) >= p
    if p >= 1:
        return xp.zeros(shape, dtype=dtype)
    return (keep * dtype.type(1.0 / (1.0 - p))).astype(dtype, copy=False)


def _apply_mask(input, mask_arr):
    res = _make(input._data * mask_arr)
    if input._requires_grad and GradMode.enabled:
        node = MulBackward0()
        node.mask = _make(mask_arr)
        attach(res, node, input)
    return res


def dropout(input, p, train):
    """Zero each element with probability ``p`` and scale the rest by ``1/(1-p)`` (when ``train``)."""
    if not train or p == 0:
        return input
    _check_float(input, "bernoulli_tensor_cpu_p_")
    return _apply_mask(input, _dropout_mask(input._data.shape, p, input._data.dtype))


def feature_dropout(input, p, train):
    """Dropout of whole channels: one draw per (batch, channel), broadcast over the trailing dims."""
    if not train or p == 0:
        return input
    a = input._data
    shape = a.shape[:2] + (1,) * (a.ndim - 2)
    return _apply_mask(input, _dropout_mask(shape, p, a.dtype))


def _alpha_dropout_impl(input, p, train, feature):
    if not train or p == 0:
        return input
    if p == 1:
        return input * 0
    a = input._data
    from ..random import np_generator
    shape = a.shape[:2] + (1,) * (a.ndim - 2) if feature else a.shape
    alpha = 1.7580993408473766
    keep = (np_generator(None).random(shape) >= p).astype(a.dtype)
    a_ = ((1 - p) * (1 + p * alpha ** 2)) ** -0.5
    b = (1 - keep) * (-alpha * a_) + alpha * a_ * p
    mult = keep * a_
    res = _make(a * mult + b.astype(a.dtype))
    if input._requires_grad and GradMode.enabled:
        node = MulBackward0()
        node.mask = _make(xp.broadcast_to(mult, a.shape).astype(a.dtype))
        attach(res, node, input)
    return res


def alpha_dropout(input, p, train):
    """Dropout that keeps the self-normalising mean and variance (for SELU networks)."""
    return _alpha_dropout_impl(input, p, train, False)


def feature_alpha_dropout(input, p, train):
    """Alpha dropout of whole channels."""
    return _alpha_dropout_impl(input, p, train, True)


# ---------------------------------------------------------------------------- normalisation
class _NormBackward(Node):
    """Gradient of ``y = (x - mean) * invstd * w + b`` with the statistics over ``axes`` of ``x.reshape(vshape)``.

    ``use_stats``: the statistics are the batch's own (so they depend on x); otherwise constants
    (BatchNorm in eval mode).  First-order backward runs on arrays; under ``create_graph`` the
    statistics are recomputed from ``x`` with ember ops so the result is differentiable again.
    """

    def backward(self, grad):
        x, w, b = self.saved_tensors
        need_x = x._requires_grad
        need_w = w is not None and w._requires_grad
        need_b = b is not None and b._requires_grad
        if GradMode.enabled:
            return self._backward_graph(grad, x, w, b, need_x, need_w, need_b)
        g = grad._data
        xa = x._data
        xhat = xa.reshape(self.vshape) - self.mean
        xhat *= self.invstd
        xhat_full = xhat.reshape(xa.shape)
        gx = gw = gb = None
        if need_w:
            gw = _make((g * xhat_full).sum(axis=self.waxes).reshape(w.shape).astype(xa.dtype, copy=False))
        if need_b:
            gb = _make(g.sum(axis=self.waxes).reshape(b.shape).astype(xa.dtype, copy=False))
        if need_x:
            dxhat = g * w._data.reshape(self.wshape) if w is not None else g
            dv = dxhat.reshape(self.vshape)
            if self.use_stats:
                proj = (dv * xhat).mean(axis=self.axes, keepdims=True)
                gxv = dv - dv.mean(axis=self.axes, keepdims=True)
                xhat *= proj
                gxv -= xhat
                gxv *= self.invstd
            else:
                gxv = dv * self.invstd
            gx = _make(gxv.reshape(xa.shape).astype(xa.dtype, copy=False))
        return gx, gw, gb

    def _backward_graph(self, grad, x, w, b, need_x, need_w, need_b):
        xv = x.reshape(self.vshape)
        if self.use_stats:
            mean = xv.mean(self.axes, keepdim=True)
            xc = xv - mean
            invstd = ((xc * xc).mean(self.axes, keepdim=True) + self.eps).rsqrt()
            xhat = xc * invstd
        else:
            invstd = _make(self.invstd)
            xhat = (xv - _make(self.mean)) * invstd
        gx = gw = gb = None
        if need_w:
            gw = (grad * xhat.reshape(x.shape)).sum(self.waxes).reshape(w.shape)
        if need_b:
            gb = grad.sum(self.waxes).reshape(b.shape)
        if need_x:
            dxhat = grad * w.reshape(self.wshape) if w is not None else grad
            dv = dxhat.reshape(self.vshape)
            if self.use_stats:
                gxv = (dv - dv.mean(self.axes, keepdim=True)
                       - xhat * (dv * xhat).mean(self.axes, keepdim=True)) * invstd
            else:
                gxv = dv * invstd
            gx = gxv.reshape(x.shape)
        return gx, gw, gb


NativeBatchNormBackward0 = type("NativeBatchNormBackward0", (_NormBackward,), {})
NativeLayerNormBackward0 = type("NativeLayerNormBackward0", (_NormBackward,), {})
NativeGroupNormBackward0 = type("NativeGroupNormBackward0", (_NormBackward,), {})


def _stats(xv, axes, eps):
    """Mean, biased variance and 1/sqrt(var + eps) over ``axes`` (broadcastable), and the centred input."""
    work = xv if xv.dtype.itemsize >= 4 else xv.astype(xp.float32)
    mean = work.mean(axis=axes, keepdims=True)
    xc = work - mean
    sq = xc * xc
    var = sq.mean(axis=axes, keepdims=True)
    return mean, var, 1.0 / xp.sqrt(var + eps), xc


def _normalize(input, weight, bias, vshape, axes, wshape, waxes, mean, invstd, use_stats, eps, node_cls,
               centred=None):
    """``(x - mean) * invstd * weight + bias``; ``centred`` (a scratch ``x - mean``) is reused in place."""
    xa = input._data
    if centred is None:
        y = xa.reshape(vshape) - mean
    else:
        y = centred
    y *= invstd
    y = y.reshape(xa.shape)
    if weight is not None:
        y *= weight._data.reshape(wshape)
    if bias is not None:
        y += bias._data.reshape(wshape)
    res = _make(y.astype(xa.dtype, copy=False))
    if GradMode.enabled and (input._requires_grad or (weight is not None and weight._requires_grad)
                             or (bias is not None and bias._requires_grad)):
        node = node_cls()
        node.vshape, node.axes, node.wshape, node.waxes = vshape, axes, wshape, waxes
        node.mean, node.invstd, node.use_stats, node.eps = mean, invstd, use_stats, eps
        node.save(input, weight, bias)
        attach(res, node, input, weight, bias)
    return res


def batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps, cudnn_enabled=True):
    """Normalise over every dim but the channel dim (1); update running statistics in training."""
    xa = input._data
    nd = xa.ndim
    if nd < 2:
        raise ValueError(f"expected 2D or 3D input (got {nd}D input)")
    C = xa.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight), ("bias", bias)):
        if t is not None and t.numel() != C:
            raise RuntimeError(f"{name} should contain {C} elements not {t.numel()}")
    axes = (0,) + tuple(range(2, nd))
    wshape = (1, C) + (1,) * (nd - 2)
    if training:
        mean, var, invstd, centred = _stats(xa, axes, eps)
        if running_mean is not None or running_var is not None:
            n = xa.size // C if C else 0
            if running_mean is not None:
                rm = running_mean._data
                rm *= (1 - momentum)
                rm += (momentum * mean.reshape(-1)).astype(rm.dtype)
                running_mean._version[0] += 1
            if running_var is not None:
                rv = running_var._data
                unbiased = var.reshape(-1) * (n / (n - 1) if n > 1 else float("inf"))
                rv *= (1 - momentum)
                rv += (momentum * unbiased).astype(rv.dtype)
                running_var._version[0] += 1
        use_stats = True
    else:
        if running_mean is None:
            raise RuntimeError("running_mean must be defined in evaluation mode")
        if running_var is None:
            raise RuntimeError("running_var must be defined in evaluation mode")
        mean = running_mean._data.reshape(wshape)
        invstd = 1.0 / xp.sqrt(running_var._data.reshape(wshape) + eps)
        use_stats = False
        centred = None
    return _normalize(input, weight, bias, xa.shape, axes, wshape, axes, mean, invstd, use_stats, eps,
                      NativeBatchNormBackward0, centred)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5, cudnn_enable=True):
    """Normalise over the trailing ``normalized_shape`` dims, then scale by ``weight`` and shift by ``bias``."""
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    normalized_shape = tuple(normalized_shape)
    xa = input._data
    k = len(normalized_shape)
    if k == 0:
        raise RuntimeError("Expected normalized_shape to be at least 1-dimensional, i.e., containing at least one "
                           "element, but got normalized_shape = []")
    if xa.shape[xa.ndim - k:] != normalized_shape or xa.ndim < k:
        raise RuntimeError(f"Given normalized_shape={list(normalized_shape)}, expected input with shape "
                           f"[*, {', '.join(str(s) for s in normalized_shape)}], but got input of size"
                           f"{list(input.shape)}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != normalized_shape:
            raise RuntimeError(f"Expected {name} to be of same shape as normalized_shape, but got {name} of shape "
                               f"{list(t.shape)} and normalized_shape = {list(normalized_shape)}")
    _check_float(input, "LayerNormKernelImpl")
    axes = tuple(range(xa.ndim - k, xa.ndim))
    mean, _, invstd, centred = _stats(xa, axes, eps)
    return _normalize(input, weight, bias, xa.shape, axes, normalized_shape, tuple(range(xa.ndim - k)), mean, invstd,
                      True, eps, NativeLayerNormBackward0, centred)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5, cudnn_enabled=True):
    """Normalise each group of ``C // num_groups`` channels of each sample, then a per-channel affine map."""
    xa = input._data
    if xa.ndim < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received {xa.ndim}")
    N, C = xa.shape[:2]
    if C % num_groups != 0:
        raise RuntimeError(f"Expected number of channels in input to be divisible by num_groups, but got input of "
                           f"shape {list(input.shape)} and num_groups={num_groups}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and (t.dim() != 1 or t.numel() != C):
            raise RuntimeError(f"Expected {name} to be a vector of size equal to the number of channels in input, "
                               f"but got {name} of shape {list(t.shape)} and input of shape {list(input.shape)}")
    _check_float(input, "GroupNormKernelImpl")
    vshape = (N, num_groups, (xa.size // (N * num_groups)) if N * num_groups else 0)
    mean, _, invstd, centred = _stats(xa.reshape(vshape), (2,), eps)
    wshape = (1, C) + (1,) * (xa.ndim - 2)
    waxes = (0,) + tuple(range(2, xa.ndim))
    return _normalize(input, weight, bias, vshape, (2,), wshape, waxes, mean, invstd, True, eps,
                      NativeGroupNormBackward0, centred)


def instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum, eps,
                  cudnn_enabled=True):
    """Normalise each channel of each sample over its spatial dims (optionally tracking running statistics)."""
    xa = input._data
    N, C = xa.shape[:2]
    if not use_input_stats:
        return batch_norm(input, weight, bias, running_mean, running_var, False, momentum, eps)
    axes = tuple(range(2, xa.ndim))
    mean, var, invstd, centred = _stats(xa, axes, eps)
    if running_mean is not None or running_var is not None:
        n = xa.size // (N * C) if N * C else 0
        if running_mean is not None:
            rm = running_mean._data
            rm *= (1 - momentum)
            rm += (momentum * mean.reshape(N, C).mean(0)).astype(rm.dtype)
            running_mean._version[0] += 1
        if running_var is not None:
            rv = running_var._data
            unbiased = var.reshape(N, C) * (n / (n - 1) if n > 1 else float("inf"))
            rv *= (1 - momentum)
            rv += (momentum * unbiased.mean(0)).astype(rv.dtype)
            running_var._version[0] += 1
    wshape = (1, C) + (1,) * (xa.ndim - 2)
    waxes = (0,) + axes
    return _normalize(input, weight, bias, xa.shape, axes, wshape, waxes, mean, invstd, True, eps,
                      NativeBatchNormBackward0, centred)


# ---------------------------------------------------------------------------- embedding
class EmbeddingBackward0(Node):
    def backward(self, grad):
        from .creation import zeros
        idx = self.indices
        flat = idx.reshape(-1)
        D = self.weight_shape[1]
        g2 = grad.reshape(-1, D)
        coef = None
        if self.padding_idx is not None:
            coef = (flat != self.padding_idx)
        if self.scale_grad_by_freq:
            counts = xp.bincount(flat, minlength=self.weight_shape[0])[flat]
            c = 1.0 / counts
            coef = c if coef is None else coef * c
        if coef is not None:
            g2 = g2 * _make(coef.astype(g2._data.dtype).reshape(-1, 1))
        gw = zeros(self.weight_shape, dtype=grad.dtype)
        return (gw.index_add(0, _make(flat), g2),)


def embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    """Rows of ``weight`` picked by the integer tensor ``indices`` (shape ``indices.shape + (dim,)``)."""
    ia = indices._data
    if ia.dtype.kind not in "iu" or ia.dtype.itemsize < 4 or ia.dtype == xp.uint32:
        raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the following scalar types: "
                           f"Long, Int; but got {indices.type()} instead (while checking arguments for embedding)")
    wa = weight._data
    if wa.ndim != 2:
        raise RuntimeError("'weight' must be 2-D")
    if ia.size and (ia.min() < 0 or ia.max() >= wa.shape[0]):
        raise IndexError("index out of range in self")
    res = _make(wa[ia])
    if weight._requires_grad and GradMode.enabled:
        node = EmbeddingBackward0()
        node.indices = ia.astype(xp.int64, copy=False)
        node.weight_shape = wa.shape
        node.padding_idx = padding_idx if padding_idx is not None and padding_idx >= 0 else None
        node.scale_grad_by_freq = scale_grad_by_freq
        attach(res, node, weight)
    return res


def embedding_renorm_(weight, indices, max_norm, norm_type):
    """Rescale in place the rows of ``weight`` named in ``indices`` whose ``norm_type``-norm exceeds ``max_norm``."""
    wa = weight._data
    rows = xp.unique(indices._data.reshape(-1))
    sub = wa[rows]
    if norm_type == float("inf"):
        norms = xp.abs(sub).max(axis=1)
    else:
        norms = (xp.abs(sub) ** norm_type).sum(axis=1) ** (1.0 / norm_type)
    scale = xp.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
    wa[rows] = (sub * scale[:, None]).astype(wa.dtype)
    weight._version[0] += 1
    return weight


# ---------------------------------------------------------------------------- losses
def _check_target(target):
    if target._data.dtype != xp.int64 and target._data.dtype != xp.uint8:
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {_dtype_name(target.dtype)}")


def _flatten_classes(input, target):
    """(M, C) view of ``input`` (class dim last) and the (M,) target, after PyTorch's shape checks."""
    a = input._data
    t = target._data
    _check_target(target)
    if a.ndim == 0:
        raise ValueError("Expected 1 or more dimensions (got 0)")
    if a.ndim == 1:
        if t.ndim != 0:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        return a.reshape(1, -1), t.reshape(1), ()
    if t.ndim >= 1 and t.shape[0] != a.shape[0]:
        raise ValueError(f"Expected input batch_size ({a.shape[0]}) to match target batch_size ({t.shape[0]}).")
    if a.ndim == 2:
        if t.ndim != 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        return a, t, (a.shape[0],)
    expected = (a.shape[0],) + a.shape[2:]
    if t.shape != expected:
        raise RuntimeError(f"Expected target size {list(expected)}, got {list(t.shape)}")
    C = a.shape[1]
    return xp.moveaxis(a, 1, -1).reshape(-1, C), t.reshape(-1), expected


def _nll_weights(tflat, C, weight, ignore_index, dtype):
    valid = tflat != ignore_index
    tsafe = xp.where(valid, tflat, 0)
    bad = valid & ((tflat < 0) | (tflat >= C))
    if bad.any():
        raise IndexError(f"Target {int(tflat[bad][0])} is out of bounds.")
    if weight is not None:
        w = weight._data.astype(dtype, copy=False)[tsafe] * valid
    else:
        w = valid.astype(dtype)
    return tsafe, w


class NllLossBackward0(Node):
    """Gradient of nll_loss (``fused_softmax``: of cross_entropy = nll_loss(log_softmax(x)))."""

    def backward(self, grad):
        x, = self.saved_tensors
        M, C = self.mc
        coef = self.coef                       # (M,) weight of each row, already divided by the total for 'mean'
        if not GradMode.enabled:
            return (self._backward_arrays(grad, x),)
        if self.reduction == "none":
            gcoef = grad.reshape(-1, 1) * _make(coef.reshape(-1, 1))
        else:
            gcoef = grad * _make(coef.reshape(-1, 1))
        onehot = xp.zeros((M, C), dtype=coef.dtype)
        onehot[xp.arange(M), self.tsafe] = 1
        if self.fused_softmax:
            if GradMode.enabled:
                p = softmax(self._flat(x), 1)
            else:
                p = _make(_softmax_array(self._flat_array(x._data), 1))
            g2 = gcoef * (p - _make(onehot))
        else:
            g2 = gcoef * _make(-onehot)
        return (self._unflat(g2, x),)

    def _backward_arrays(self, grad, x):
        """First-order gradient on arrays: (softmax - onehot) * w / total, scaled by the incoming gradient."""
        M, C = self.mc
        g = grad._data
        scale = self.coef * (g.reshape(-1) if self.reduction == "none" else g)
        rows = xp.arange(M)
        if self.fused_softmax:
            out = xp.exp(self.lsm)                 # softmax, from the saved log-softmax
            out[rows, self.tsafe] -= 1
        else:
            out = xp.zeros((M, C), dtype=self.coef.dtype)
            out[rows, self.tsafe] = -1
        out *= scale.astype(out.dtype, copy=False)[:, None]
        xa = x._data
        if xa.ndim > 2:
            moved = (xa.shape[0],) + xa.shape[2:] + (xa.shape[1],)
            out = xp.moveaxis(out.reshape(moved), -1, 1)
        return _make(out.reshape(xa.shape).astype(xa.dtype, copy=False))

    def _flat_array(self, a):
        if a.ndim <= 2:
            return a.reshape(self.mc)
        return xp.moveaxis(a, 1, -1).reshape(self.mc)

    def _flat(self, x):
        if x.ndim <= 2:
            return x.reshape(self.mc)
        return x.movedim(1, -1).reshape(self.mc)

    def _unflat(self, g2, x):
        if x.ndim <= 2:
            return g2.reshape(x.shape)
        moved = (x.shape[0],) + tuple(x.shape[2:]) + (x.shape[1],)
        return g2.reshape(moved).movedim(-1, 1)


def _nll_impl(input, target, weight, reduction, ignore_index, fused_softmax):
    a2, t2, out_shape = _flatten_classes(input, target)
    M, C = a2.shape
    if weight is not None and weight.numel() != C:
        raise RuntimeError(f"weight tensor should be defined either for all {C} classes or no classes but got weight "
                           f"tensor of shape: {list(weight.shape)}")
    if fused_softmax:
        _check_float(input, "log_softmax_lastdim_kernel_impl")
        a2 = _log_softmax_array(a2, 1)
    tsafe, w = _nll_weights(t2, C, weight, ignore_index, a2.dtype)
    picked = a2[xp.arange(M), tsafe] if M else xp.zeros(0, dtype=a2.dtype)
    losses = -picked * w
    acc = xp.float32 if a2.dtype.itemsize == 2 else None  # half/bfloat16 sums accumulate in float32, as PyTorch
    if reduction == "none":
        out = losses.reshape(out_shape)
        coef = w
    elif reduction == "sum":
        out = losses.sum(dtype=acc)
        coef = w
    else:
        total = w.sum(dtype=acc)
        with xp.errstate(invalid="ignore", divide="ignore"):
            out = losses.sum(dtype=acc) / total
            coef = w / total
    res = _make(xp.asarray(out, dtype=a2.dtype))
    if input._requires_grad and GradMode.enabled:
        node = NllLossBackward0()
        node.mc, node.coef, node.tsafe, node.reduction, node.fused_softmax = (M, C), coef, tsafe, reduction, \
            fused_softmax
        node.lsm = a2 if fused_softmax else None
        node.save(input)
        attach(res, node, input)
    return res


def _nll_loss(input, target, weight=None, reduction="mean", ignore_index=-100):
    return _nll_impl(input, target, weight, reduction, ignore_index, False)


def _cross_entropy_indices(input, target, weight=None, reduction="mean", ignore_index=-100):
    """cross_entropy with class-index targets and no label smoothing, as one fused kernel."""
    return _nll_impl(input, target, weight, reduction, ignore_index, True)


class MseLossBackward0(Node):
    def backward(self, grad):
        x, t = self.saved_tensors
        d = x - t
        g = grad * (2.0 / self.n) if self.reduction == "mean" else grad * 2.0
        gd = g * d
        from ._common import grad_for
        return grad_for(gd, x), grad_for(-gd, t)


def _mse_loss(input, target, reduction="mean"):
    a, b = input._data, target._data
    if a.dtype != b.dtype:
        dt = _dtype.promote_types(input.dtype, target.dtype)
        input, target = input.to(dt), target.to(dt)
        a, b = input._data, target._data
    try:
        d = a - b
    except ValueError:
        raise RuntimeError(f"The size of tensor a ({a.shape[-1]}) must match the size of tensor b ({b.shape[-1]}) "
                           "at non-singleton dimension") from None
    sq = d * d
    n = sq.size
    if reduction == "none":
        out = sq
    elif reduction == "sum":
        out = sq.sum()
    else:
        out = sq.mean() if n else xp.asarray(xp.nan, dtype=sq.dtype)
    res = _make(xp.asarray(out, dtype=sq.dtype))
    if GradMode.enabled and (input._requires_grad or target._requires_grad):
        node = MseLossBackward0()
        node.n, node.reduction = n, reduction
        node.save(input, target)
        attach(res, node, input, target)
    return res


class BinaryCrossEntropyWithLogitsBackward0(Node):
    def backward(self, grad):
        x, t, w, pw = self.saved_tensors
        g = grad * (1.0 / self.n) if self.reduction == "mean" else grad
        from ._common import grad_for
        gx = gt = None
        if x._requires_grad:
            s = x.sigmoid()
            if pw is not None:
                d = s * (pw * t + 1 - t) - pw * t
            else:
                d = s - t
            if w is not None:
                d = d * w
            gx = grad_for(g * d, x)
        if t._requires_grad:
            if pw is not None:
                sp = (-x).clamp_min(0) + (-(x.abs())).exp().log1p()
                d = -x + (pw - 1) * sp
            else:
                d = -x
            if w is not None:
                d = d * w
            gt = grad_for(g * d, t)
        return gx, gt, None, None


def _bce_with_logits(input, target, weight=None, pos_weight=None, reduction="mean"):
    x, t = input._data, target._data
    if t.dtype != x.dtype:
        target = target.to(input.dtype)
        t = target._data
    lse = xp.maximum(-x, 0) + xp.log1p(xp.exp(-xp.abs(x)))      # log(1 + exp(-x))
    if pos_weight is not None:
        lw = 1 + (pos_weight._data - 1) * t
        loss = (1 - t) * x + lw * lse
    else:
        loss = (1 - t) * x + lse
    if weight is not None:
        loss = loss * weight._data
    loss = loss.astype(x.dtype, copy=False)
    n = loss.size
    if reduction == "none":
        out = loss
    elif reduction == "sum":
        out = loss.sum()
    else:
        out = loss.mean() if n else xp.asarray(xp.nan, dtype=x.dtype)
    res = _make(xp.asarray(out, dtype=x.dtype))
    if GradMode.enabled and (input._requires_grad or target._requires_grad):
        node = BinaryCrossEntropyWithLogitsBackward0()
        node.n, node.reduction = n, reduction
        node.save(input, target, weight, pos_weight)
        attach(res, node, input, target, None, None)
    return res


class BinaryCrossEntropyBackward0(Node):
    def backward(self, grad):
        x, t, w = self.saved_tensors
        g = grad * (1.0 / self.n) if self.reduction == "mean" else grad
        from ._common import grad_for
        gx = gt = None
        if x._requires_grad:
            d = (x - t) / (x * (1 - x)).clamp_min(1e-12)
            if w is not None:
                d = d * w
            gx = grad_for(g * d, x)
        if t._requires_grad:
            d = (1 - x).log().clamp_min(-100) - x.log().clamp_min(-100)
            if w is not None:
                d = d * w
            gt = grad_for(g * d, t)
        return gx, gt


def _binary_cross_entropy(input, target, weight=None, reduction="mean"):
    x, t = input._data, target._data
    if x.size and ((x < 0).any() or (x > 1).any()):
        raise RuntimeError("all elements of input should be between 0 and 1")
    with xp.errstate(divide="ignore"):
        lx = xp.maximum(xp.log(x), -100)
        l1x = xp.maximum(xp.log1p(-x), -100)
    loss = -(t * lx + (1 - t) * l1x)
    if weight is not None:
        loss = loss * weight._data
    loss = loss.astype(x.dtype, copy=False)
    n = loss.size
    if reduction == "none":
        out = loss
    elif reduction == "sum":
        out = loss.sum()
    else:
        out = loss.mean() if n else xp.asarray(xp.nan, dtype=x.dtype)
    res = _make(xp.asarray(out, dtype=x.dtype))
    if GradMode.enabled and (input._requires_grad or target._requires_grad):
        node = BinaryCrossEntropyBackward0()
        node.n, node.reduction = n, reduction
        node.save(input, target, weight)
        attach(res, node, input, target)
    return res


# ---------------------------------------------------------------------------- norms for distances
class LinalgVectorNormBackward0(Node):
    def backward(self, grad):
        x, = self.saved_tensors
        r = self.result() if GradMode.enabled else _make(self._r)
        p, dims, keepdim = self.p, self.dims, self.keepdim
        if not keepdim and dims is not None:
            for d in sorted(dims):
                grad = grad.unsqueeze(d)
                r = r.unsqueeze(d)
        from .elementwise import where
        if p == 0:
            return (x * 0,)
        if p == 1:
            return (grad * x.sign(),)
        if p == float("inf") or p == -float("inf"):
            mask = (x.abs() == r)
            cnt = mask.sum(dims if dims is not None else None, keepdim=True) if dims is not None else mask.sum()
            return (grad * x.sign() * mask / cnt,)
        if p == 2:
            safe = where(r == 0, 1.0, r)
            return (where(r == 0, 0.0, grad * x / safe),)
        safe = where(r == 0, 1.0, r)
        g = grad * x * x.abs().pow(p - 2) / safe.pow(p - 1)
        return (where(r == 0, 0.0, g),)


def _vector_norm(input, p=2.0, dim=None, keepdim=False):
    """The ``p``-norm over ``dim`` (all dims when None), with PyTorch's zero-safe gradient."""
    a = input._data
    dims = None if dim is None else tuple(wrap_dim(d, a.ndim) for d in ((dim,) if isinstance(dim, int) else dim))
    ab = xp.abs(a)
    if p == 2:
        r = xp.sqrt((ab * ab).sum(axis=dims, keepdims=keepdim))
    elif p == 1:
        r = ab.sum(axis=dims, keepdims=keepdim)
    elif p == float("inf"):
        r = ab.max(axis=dims, keepdims=keepdim)
    elif p == -float("inf"):
        r = ab.min(axis=dims, keepdims=keepdim)
    elif p == 0:
        r = (ab != 0).sum(axis=dims, keepdims=keepdim).astype(a.dtype)
    else:
        r = (ab ** p).sum(axis=dims, keepdims=keepdim) ** (1.0 / p)
    r = xp.asarray(r, dtype=a.dtype)
    res = _make(r)
    if input._requires_grad and GradMode.enabled:
        node = LinalgVectorNormBackward0()
        node.p, node.dims, node.keepdim, node._r = p, dims, keepdim, r
        node.save(input)
        node.save_result(res)
        attach(res, node, input)
    return res


def _embedding_bag(weight, indices, offsets, mode, per_sample_weights, include_last_offset, padding_idx,
                   scale_grad_by_freq=False):
    """Bags of embedding rows reduced by ``mode`` ('sum', 'mean', 'max'), composed from differentiable ops."""
    from .creation import zeros
    idx = indices._data.astype(xp.int64, copy=False)
    off = offsets._data.astype(xp.int64, copy=False)
    n = idx.size
    if include_last_offset:
        starts, ends = off[:-1], off[1:]
    else:
        starts = off
        ends = xp.append(off[1:], n)
    B = starts.size
    lengths = xp.maximum(ends - starts, 0)
    bag_id = xp.repeat(xp.arange(B), lengths)
    positions = xp.concatenate([xp.arange(s, e) for s, e in zip(starts, ends)]) if B else xp.zeros(0, xp.int64)
    keep = xp.ones(positions.size, dtype=bool)
    if padding_idx is not None:
        keep = idx[positions] != padding_idx
    positions, bag_id = positions[keep], bag_id[keep]
    D = weight.shape[1]
    rows = embedding(weight, _make(idx[positions]), -1 if padding_idx is None else padding_idx, scale_grad_by_freq)
    if per_sample_weights is not None:
        rows = rows * per_sample_weights[_make(positions)].unsqueeze(1)
    counts = xp.bincount(bag_id, minlength=B)
    if mode == "max":
        if positions.size == 0:
            return zeros((B, D), dtype=weight.dtype)
        ra = rows._data
        best = xp.full((B, D), -xp.inf, dtype=ra.dtype)
        xp.maximum.at(best, bag_id, ra)
        # the first row of each bag that attains the max, per column
        hit = ra == best[bag_id]
        order = xp.where(hit, xp.arange(positions.size)[:, None], positions.size)
        first = xp.full((B, D), positions.size, dtype=xp.int64)
        xp.minimum.at(first, bag_id, order)
        empty = counts == 0
        first[empty] = 0
        picked = rows.gather(0, _make(first))
        if empty.any():
            picked = picked * _make((~empty).astype(ra.dtype)[:, None])
        return picked
    out = zeros((B, D), dtype=weight.dtype).index_add(0, _make(bag_id), rows)
    if mode == "mean":
        scale = xp.where(counts > 0, 1.0 / xp.maximum(counts, 1), 0.0).astype(out._data.dtype)
        out = out * _make(scale[:, None])
    return out


# ---------------------------------------------------------------------------- CTC
def _logsumexp_arrays(*arrs):
    m = arrs[0]
    for a in arrs[1:]:
        m = xp.maximum(m, a)
    safe = xp.where(xp.isfinite(m), m, 0)
    s = sum(xp.exp(a - safe) for a in arrs)
    with xp.errstate(divide="ignore"):
        return xp.where(xp.isfinite(m), xp.log(s) + safe, m)


class CtcLossBackward0(Node):
    def backward(self, grad):
        coef = _make(self.coef)
        if coef.ndim == 3 and self.reduction == "none":
            return (grad.reshape(1, -1, 1) * coef,)
        return (grad * coef,)


def _ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean", zero_infinity=False):
    """Connectionist Temporal Classification loss (forward-backward over the blank-extended label sequence)."""
    lp_t = log_probs
    lp = lp_t._data
    unbatched = lp.ndim == 2
    if unbatched:
        lp = lp[:, None, :]
    if lp.ndim != 3:
        raise RuntimeError(f"ctc_loss: expected log_probs to be 2-D or 3-D, got {lp.ndim}-D")
    T, N, C = lp.shape

    def as_array(v):
        if isinstance(v, Tensor):
            return v._data.astype(xp.int64).reshape(-1)
        return xp.asarray(v, dtype=xp.int64).reshape(-1)

    il, tl = as_array(input_lengths), as_array(target_lengths)
    tg = targets._data.astype(xp.int64)
    if unbatched:
        tg = tg.reshape(1, -1)
    if il.size != N:
        raise RuntimeError(f"input_lengths must be of size batch_size")
    if tl.size != N:
        raise RuntimeError(f"target_lengths must be of size batch_size")
    if (il > T).any():
        b = int(xp.argmax(il > T))
        raise RuntimeError(f"Expected input_lengths to have value at most {T}, but got value {il[b]} (while checking "
                           "arguments for ctc_loss_cpu)")
    Lmax = int(tl.max()) if N else 0
    labels = xp.zeros((N, Lmax), dtype=xp.int64)
    if tg.ndim == 1:
        offs = xp.concatenate([[0], xp.cumsum(tl)[:-1]]) if N else xp.zeros(0, xp.int64)
        for b in range(N):
            labels[b, :tl[b]] = tg[offs[b]:offs[b] + tl[b]]
    else:
        if tg.shape[1] < Lmax:
            raise RuntimeError(f"Expected tensor to have size at least {Lmax} at dimension 1, but got size "
                               f"{tg.shape[1]} for argument #2 'targets' (while checking arguments for ctc_loss_cpu)")
        labels[:, :] = tg[:, :Lmax]
    S = 2 * Lmax + 1
    ext = xp.full((N, S), blank, dtype=xp.int64)
    ext[:, 1::2] = labels
    s_idx = xp.arange(S)
    valid_s = s_idx[None, :] < (2 * tl[:, None] + 1)
    skip = xp.zeros((N, S), dtype=bool)
    skip[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
    neg_inf = -xp.inf
    work = lp.astype(xp.float64)
    bidx = xp.arange(N)[:, None]
    emit = work[:, bidx, ext]                            # (T, N, S): log-prob of each extended label
    alpha = xp.full((T, N, S), neg_inf)
    if T:
        alpha[0, :, 0] = emit[0, :, 0]
        if S > 1:
            alpha[0, :, 1] = xp.where(tl > 0, emit[0, :, 1], neg_inf)
        alpha[0] = xp.where(valid_s, alpha[0], neg_inf)
    for t in range(1, T):
        prev = alpha[t - 1]
        a1 = xp.full_like(prev, neg_inf)
        a1[:, 1:] = prev[:, :-1]
        a2 = xp.full_like(prev, neg_inf)
        a2[:, 2:] = prev[:, :-2]
        a2 = xp.where(skip, a2, neg_inf)
        cur = _logsumexp_arrays(prev, a1, a2) + emit[t]
        alpha[t] = xp.where(valid_s & (t < il[:, None]), cur, neg_inf)
    last_t = xp.maximum(il - 1, 0)
    end = 2 * tl
    a_last = alpha[last_t, xp.arange(N)]
    ll_end = a_last[xp.arange(N), end]
    ll_prev = xp.where(end >= 1, a_last[xp.arange(N), xp.maximum(end - 1, 0)], neg_inf)
    ll = _logsumexp_arrays(ll_end, ll_prev)
    nll = -ll
    nll = xp.where(il == 0, xp.where(tl == 0, 0.0, xp.inf), nll)
    inf_mask = ~xp.isfinite(nll)
    if zero_infinity:
        nll = xp.where(inf_mask, 0.0, nll)
    if reduction == "none":
        out = nll
    elif reduction == "sum":
        out = nll.sum()
    else:
        out = (nll / xp.maximum(tl, 1)).mean() if N else xp.nan
    dt = lp.dtype
    out = xp.asarray(out, dtype=dt)
    if unbatched and reduction == "none":
        out = out.reshape(())
    res = _make(out)
    if lp_t._requires_grad and GradMode.enabled:
        beta = xp.full((T, N, S), neg_inf)
        for t in range(T - 1, -1, -1):
            init = xp.full((N, S), neg_inf)
            init[xp.arange(N), end] = emit[t, xp.arange(N), end]
            has_prev = end >= 1
            idx_prev = xp.maximum(end - 1, 0)
            init[xp.arange(N)[has_prev], idx_prev[has_prev]] = emit[t, xp.arange(N)[has_prev], idx_prev[has_prev]]
            if t + 1 < T:
                nxt = beta[t + 1]
                b1 = xp.full_like(nxt, neg_inf)
                b1[:, :-1] = nxt[:, 1:]
                b2 = xp.full_like(nxt, neg_inf)
                b2[:, :-2] = xp.where(skip[:, 2:], nxt[:, 2:], neg_inf)
                rec = _logsumexp_arrays(nxt, b1, b2) + emit[t]
            else:
                rec = xp.full((N, S), neg_inf)
            is_last = (t == il - 1)[:, None]
            cur = xp.where(is_last, init, xp.where((t < il - 1)[:, None], rec, neg_inf))
            beta[t] = xp.where(valid_s, cur, neg_inf)
        ab = alpha + beta                                  # (T, N, S)
        # log sum over the s with ext[b, s] == c of exp(ab), for every class c
        lcab = xp.full((T, N, C), neg_inf)
        for s in range(S):
            cls = ext[:, s]
            cur = lcab[:, xp.arange(N), cls]
            lcab[:, xp.arange(N), cls] = _logsumexp_arrays(cur, ab[:, :, s])
        with xp.errstate(over="ignore", invalid="ignore"):
            g = xp.exp(work) - xp.exp(lcab + nll[None, :, None] - work)
        tmask = xp.arange(T)[:, None] < il[None, :]
        g = xp.where(tmask[:, :, None], g, 0.0)
        if zero_infinity:
            g = xp.where(inf_mask[None, :, None], 0.0, g)
        if reduction == "mean":
            g = g / (xp.maximum(tl, 1) * max(N, 1))[None, :, None]
        coef = g.astype(dt)
        if unbatched:
            coef = coef[:, 0, :]
        node = CtcLossBackward0()
        node.coef, node.reduction = coef, reduction
        attach(res, node, lp_t)
    return res


def _multilabel_target_counts(target, C):
    """For multilabel_margin_loss: per row, how often each class is listed before the first -1, and a 0/1 mask
    of the listed classes (both float, no grad)."""
    t = target._data.astype(xp.int64)
    N = t.shape[0]
    valid = xp.cumprod(t >= 0, axis=1).astype(bool)
    counts = xp.zeros((N, C), dtype=xp.float64)
    rows = xp.repeat(xp.arange(N), t.shape[1]).reshape(N, -1)
    xp.add.at(counts, (rows[valid], t[valid]), 1.0)
    return _make(counts), _make((counts > 0).astype(xp.float64))

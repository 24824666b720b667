"""Activation kernels: GELU (exact and tanh-approximated) forward and backward, and the standard normal
CDF behind it; sigmoid, tanh, SiLU, leaky_relu, hardswish, hardsigmoid, ELU (elu, selu, celu), softplus and mish
forward and backward (compiled: one pass each, split over threads, in the input's precision, for contiguous float32
and float64 arrays; the NumPy formulas otherwise).

Precision: float64 uses erf's float64 Chebyshev series (``ERF_SMALL`` for |z| < 1, ``ERFCX_LARGE`` for
erfc = exp(-z^2) erfcx(z) beyond); float32 and the half types use erfc(z) / 2 = exp(-z^2) t Q(u), t = 2 / (2 + z),
u affine in t (``HALF_ERFCX_FIT32``: relative error < 4.2e-8 in exact arithmetic for 0 <= z <= 9.35, beyond which
float32's exp(-z^2) is below the smallest normal; GELU evaluated in float32 is within 1.5e-6 relative for x >= -4,
5e-6 for x >= -8 and 1.5e-5 at -12, float32's rounding of z and of ``z * z`` inside the exponential amplified by
Phi's steepness), so Phi's left tail keeps its relative accuracy; the gradient's normal density reuses the same
exponential.
"""
import math

from .._device import module_of_array, backend_of
from ._dispatch import Kernel, contiguous_floats

# erf(x)/x = sum c_k T_k(2 x^2 - 1) on |x| < 1 (Chebyshev, first coefficient pre-halved)
ERF_SMALL = (
    0.9754769393826541, -0.14226120510371365, 0.010035582187599796, -0.0005768764699767485,
    2.741993125219606e-05, -1.1043175507344507e-06, 3.8488755420345036e-08, -1.1808582533875466e-09,
    3.2334215826050907e-11, -7.991015947004549e-13, 1.7990725113961456e-14, -3.718635487818693e-16,
    7.103599003714253e-18,
)
# (x + 1) erfcx(x) = sum c_k T_k((x - 5) / (x + 3)) on x >= 1
ERFCX_LARGE = (
    0.6873405916446703, -0.14404530986804623, 0.022760366247929462, -0.0016214327422514046,
    -0.0003874953450771965, 0.0001742485572837601, -3.5102721776376816e-05, 3.775702338035266e-06,
    1.074513009777613e-09, -6.67181866749297e-08, 7.234282026463991e-09, 6.894400734116689e-10,
    -2.0992385690934044e-10, -2.3631548898980035e-12, 5.197789889481594e-12, -1.4986187739614738e-13,
    -1.336951771309948e-13, 6.7931695322301255e-15, 3.787612737725999e-15, -2.08350035799426e-16,
    -1.1895715865508372e-16, 4.847031480341101e-18, 4.045189326659792e-18,
)
# erfcx(z) / (2t) = Q(u), t = 2 / (2 + z), u = t * FIT32_U[0] + FIT32_U[1] (t in [2 / (2 + 9.35), 1], z in [0, 9.35],
# mapped to [-1, 1]); Q's coefficients from degree 0 up (a relative-error minimax fit of degree 8 by reweighted least
# squares on Chebyshev nodes; over all of z >= 0, u = 2t - 1, degree 10 was needed)
HALF_ERFCX_FIT32 = (0.287880920747207, 0.16239929193330357, 0.04995057882360579, 0.0027450031002505455,
                    -0.0029535883376380035, -0.0002784862763880372, 0.0002739725583971549, 6.654140523161524e-06,
                    -2.4367657440538986e-05)
_T0 = 2 / (2 + 9.35)
FIT32_U = (2 / (1 - _T0), -(1 + _T0) / (1 - _T0))

SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
TANH_CUBIC = 0.044715   # the tanh approximation's inner x + 0.044715 x^3


def normal_cdf_reference(a):
    """Phi(a), the standard normal CDF of a float array, in its dtype."""
    xp = module_of_array(a)
    with backend_of(a).errstate(all="ignore"):
        if a.dtype.itemsize == 8:
            from ..ops.special_math import erf_kernel   # the float64 NumPy erf (lazy: ops import kernels)
            return (erf_kernel(a * (1 / math.sqrt(2.0))) + 1) * 0.5
        t_ = a.dtype.type
        z = a * t_(-1 / math.sqrt(2.0))
        az = xp.abs(z)
        t = 2 / (az + 2)
        u = t * t_(FIT32_U[0]) + t_(FIT32_U[1])
        q = xp.full_like(t, HALF_ERFCX_FIT32[-1])
        for c in HALF_ERFCX_FIT32[-2::-1]:
            q *= u
            q += t_(c)
        h = t * q * xp.exp(-(az * az))   # erfc(|z|) / 2
        return xp.where(z >= 0, h, 1 - h)


def _tanh_parts(a):
    """``tanh(u)`` and ``du/da`` of the tanh approximation's ``u = sqrt(2/pi) (a + 0.044715 a^3)``."""
    xp = module_of_array(a)
    t_ = a.dtype.type
    a2 = a * a
    th = xp.tanh(t_(SQRT_2_OVER_PI) * (a + t_(TANH_CUBIC) * a2 * a))
    return th, t_(SQRT_2_OVER_PI) * (a2 * t_(3 * TANH_CUBIC) + 1)


def _work(a):
    """``a`` in the precision GELU is computed in: float32 for half types (as PyTorch), its own otherwise."""
    return a if a.dtype.itemsize >= 4 else a.astype(module_of_array(a).float32)


def gelu_forward_reference(a, approximate):
    """``a * Phi(a)`` (``approximate='none'``) or ``a/2 (1 + tanh(u))`` (``'tanh'``) of a float array."""
    w = _work(a)
    with backend_of(a).errstate(all="ignore"):   # gelu(-inf) is nan as in PyTorch (-inf * 0)
        if approximate == "tanh":
            th, _ = _tanh_parts(w)
            y = w * w.dtype.type(0.5) * (th + 1)
        else:
            y = w * normal_cdf_reference(w)
    return y.astype(a.dtype, copy=False)


def gelu_backward_reference(g, a, approximate):
    """``g * gelu'(a)``: ``Phi(a) + a phi(a)`` exact, the tanh form's derivative otherwise."""
    xp = module_of_array(a)
    w = _work(a)
    t_ = w.dtype.type
    with backend_of(a).errstate(all="ignore"):
        if approximate == "tanh":
            th, du = _tanh_parts(w)
            d = (th + 1) * t_(0.5) + w * t_(0.5) * (1 - th * th) * du
        else:
            d = xp.exp(w * w * t_(-0.5))
            d *= t_(INV_SQRT_2PI)
            d *= w
            d += normal_cdf_reference(w)
        return (_work(g) * d).astype(a.dtype, copy=False)


_N = "ember.kernels._numba_activations:"
_C = "ember.kernels._cupy_activations:"
gelu_forward = Kernel("gelu_forward", gelu_forward_reference, numba=_N + "gelu_forward", cupy=_C + "gelu_forward")
gelu_backward = Kernel("gelu_backward", gelu_backward_reference, numba=_N + "gelu_backward", cupy=_C + "gelu_backward",
                       accepts=lambda g, a, approximate: a.dtype.char in "fd" and a.size > 0)


def logistic(a):
    """``1 / (1 + exp(-a))`` of a float array in its dtype, through ``exp(-|a|)``, which never overflows (the
    NumPy form of SiLU, softplus's and mish's gradients, logsigmoid's)."""
    xp = module_of_array(a)
    e = xp.exp(-xp.abs(a))
    s = 1 / (1 + e)
    return xp.where(a >= 0, s, e * s)


def sigmoid_forward_reference(a):
    """The logistic sigmoid of a float array, in its dtype: PyTorch's ``1 / (1 + exp(-a))`` for float32/float64
    (0 where ``exp(-a)`` overflows, as there), ``logistic`` for the half types."""
    xp = module_of_array(a)
    if a.dtype.char not in "fd":
        return logistic(a)
    with backend_of(a).errstate(all="ignore"):
        e = xp.exp(xp.negative(a))
    e += 1
    return xp.reciprocal(e, out=e)


def sigmoid_backward_reference(g, y):
    """``g * y * (1 - y)``: the gradient of sigmoid from its output ``y`` (``g``'s shape and dtype)."""
    return g * y * (y.dtype.type(1) - y)


def tanh_forward_reference(a):
    """tanh of a float array, in its dtype.  The op runs NumPy's tanh itself, with no compiled kernel: it gives
    PyTorch's values to the bit where the compiled ``ftanh`` was 2 ulp (float32) to 12 (float64) away, which a chain
    of Tanh layers' gradients amplified past float32 parity, and it is as fast on one thread (0.43 ms on 32x128x256
    float32)."""
    return module_of_array(a).tanh(a)


def tanh_backward_reference(g, y):
    """``g * (1 - y^2)``: the gradient of tanh from its output ``y`` (``g``'s shape and dtype)."""
    return g * (y.dtype.type(1) - y * y)


def silu_forward_reference(a):
    """``a * sigmoid(a)`` of a float array, in its dtype."""
    return a * logistic(a)


def silu_backward_reference(g, a):
    """``g * s (1 + a (1 - s))``, ``s = sigmoid(a)``: the gradient of SiLU from its input ``a``."""
    s = logistic(a)
    return g * (s * (1 + a * (1 - s)))


# Elements below which the ops call a kernel's NumPy reference directly: on a 16-element array the dispatch and
# the compiled call (about 1 us) cost more than NumPy's passes (sigmoid 2.05 against 1.42 us, a sigmoid-tanh chain's
# forward and backward 17.9 against 14.5 us; the bench's 50 tiny ops)
SMALL = 1 << 10


def for_size(kernel):
    """``kernel`` for arrays of ``SMALL`` elements and more, its NumPy reference for smaller ones."""
    reference = kernel.reference

    def run(a, *rest):
        return kernel(a, *rest) if a.size >= SMALL else reference(a, *rest)
    run.__name__, run.__doc__ = kernel.name, kernel.reference.__doc__
    return run


sigmoid_forward = Kernel("sigmoid_forward", sigmoid_forward_reference, numba=_N + "sigmoid_forward",
                         accepts=contiguous_floats)
sigmoid_backward = Kernel("sigmoid_backward", sigmoid_backward_reference, numba=_N + "sigmoid_backward",
                          accepts=contiguous_floats)
tanh_backward = Kernel("tanh_backward", tanh_backward_reference, numba=_N + "tanh_backward",
                       accepts=contiguous_floats)
silu_forward = Kernel("silu_forward", silu_forward_reference, numba=_N + "silu_forward", accepts=contiguous_floats)
silu_backward = Kernel("silu_backward", silu_backward_reference, numba=_N + "silu_backward",
                       accepts=contiguous_floats)


def leaky_relu_forward_reference(a, negative_slope):
    """``a`` where positive, ``a * negative_slope`` (the slope in ``a``'s dtype) elsewhere."""
    return module_of_array(a).where(a > 0, a, a * a.dtype.type(negative_slope))


def leaky_relu_backward_reference(g, a, negative_slope):
    """The gradient of leaky_relu at its input ``a``: ``g`` where ``a`` is positive, ``g * negative_slope``
    elsewhere."""
    return g * module_of_array(a).where(a > 0, 1, negative_slope).astype(g.dtype)


def hardswish_forward_reference(a):
    """``a * relu6(a + 3) / 6`` of a float array, in its dtype (bfloat16's clip computes in float32: rounded once,
    as PyTorch does)."""
    t = a.dtype.type
    return (a * module_of_array(a).clip(a + t(3), 0, 6) / t(6)).astype(a.dtype, copy=False)


def hardswish_derivative(a):
    """hardswish's derivative at ``a`` as PyTorch's CPU kernel takes it: 0 up to -3, ``a / 3 + 1/2`` below 3, 1
    from 3 (and at NaN)."""
    xp = module_of_array(a)
    t = a.dtype.type
    return xp.where(a <= -3, t(0), xp.where(a < 3, a / t(3) + t(0.5), t(1))).astype(a.dtype, copy=False)


def hardswish_backward_reference(g, a):
    """The gradient of hardswish at its input ``a``: ``g * hardswish_derivative(a)``."""
    return g * hardswish_derivative(a)


def hardsigmoid_forward_reference(a):
    """``relu6(a + 3) / 6`` of a float array, in its dtype (as ``hardswish_forward_reference``)."""
    t = a.dtype.type
    return (module_of_array(a).clip(a + t(3), 0, 6) / t(6)).astype(a.dtype, copy=False)


def hardsigmoid_backward_reference(g, a):
    """The gradient of hardsigmoid at its input ``a``: ``g / 6`` (PyTorch's float32 1/6) strictly inside (-3, 3),
    else 0."""
    return g * ((a > -3) & (a < 3)).astype(g.dtype) * 0.1666666716337204


leaky_relu_forward = Kernel("leaky_relu_forward", leaky_relu_forward_reference, numba=_N + "leaky_relu_forward",
                            accepts=lambda a, slope: contiguous_floats(a))
leaky_relu_backward = Kernel("leaky_relu_backward", leaky_relu_backward_reference, numba=_N + "leaky_relu_backward",
                             accepts=lambda g, a, slope: contiguous_floats(g, a))
hardswish_forward = Kernel("hardswish_forward", hardswish_forward_reference, numba=_N + "hardswish_forward",
                           accepts=contiguous_floats)
hardswish_backward = Kernel("hardswish_backward", hardswish_backward_reference, numba=_N + "hardswish_backward",
                            accepts=contiguous_floats)
hardsigmoid_forward = Kernel("hardsigmoid_forward", hardsigmoid_forward_reference, numba=_N + "hardsigmoid_forward",
                             accepts=contiguous_floats)
hardsigmoid_backward = Kernel("hardsigmoid_backward", hardsigmoid_backward_reference,
                              numba=_N + "hardsigmoid_backward", accepts=contiguous_floats)


def elu_forward_reference(a, alpha, scale, input_scale):
    """``scale * a`` where positive, ``alpha * scale * expm1(a * input_scale)`` elsewhere (elu, selu, celu)."""
    xp = module_of_array(a)
    t = a.dtype.type
    neg = xp.expm1(xp.minimum(a, 0) * t(input_scale)) * t(alpha * scale)
    return xp.where(a > 0, a * t(scale), neg)


def elu_backward_reference(g, a, alpha, scale, input_scale):
    """The gradient of the ELU family at its input ``a``: ``g * alpha * scale * input_scale * exp(a * input_scale)``
    up to 0, ``g * scale`` elsewhere (NaN included, as PyTorch)."""
    xp = module_of_array(a)
    with backend_of(a).errstate(all="ignore"):   # exp's overflow where a > 0, not taken
        d = xp.where(a <= 0, alpha * scale * input_scale * xp.exp(a * input_scale), scale)
    return g * d.astype(a.dtype)


elu_forward = Kernel("elu_forward", elu_forward_reference, numba=_N + "elu_forward",
                     accepts=lambda a, *params: contiguous_floats(a))
elu_backward = Kernel("elu_backward", elu_backward_reference, numba=_N + "elu_backward",
                      accepts=lambda g, a, *params: contiguous_floats(g, a))


def softplus_forward_reference(a, beta, threshold):
    """``log(1 + exp(beta a)) / beta``, ``a`` itself where ``beta a > threshold``, of a float array in its dtype."""
    xp = module_of_array(a)
    t = a.dtype.type
    z = a * t(beta)
    sp = (xp.maximum(z, 0) + xp.log1p(xp.exp(-xp.abs(z)))) / t(beta)
    return xp.where(z > threshold, a, sp)


def softplus_backward_reference(g, a, beta, threshold):
    """The gradient of softplus at its input ``a``: ``g * sigmoid(beta a)``, ``g`` where ``beta a > threshold``."""
    z = a * a.dtype.type(beta)
    return g * module_of_array(a).where(z > threshold, 1, logistic(z)).astype(z.dtype)


def mish_forward_reference(a):
    """``a * tanh(softplus(a))`` of a float array, in its dtype."""
    return a * module_of_array(a).tanh(softplus_forward_reference(a, 1.0, 20.0))


def mish_backward_reference(g, a):
    """The gradient of mish at its input ``a``: ``g (tsp + a sigmoid(a) (1 - tsp^2))``, ``tsp = tanh(softplus(a))``."""
    tsp = module_of_array(a).tanh(softplus_forward_reference(a, 1.0, 20.0))
    return g * (tsp + a * logistic(a) * (1 - tsp * tsp))


softplus_forward = Kernel("softplus_forward", softplus_forward_reference, numba=_N + "softplus_forward",
                          accepts=lambda a, *params: contiguous_floats(a))
softplus_backward = Kernel("softplus_backward", softplus_backward_reference, numba=_N + "softplus_backward",
                           accepts=lambda g, a, *params: contiguous_floats(g, a))
mish_forward = Kernel("mish_forward", mish_forward_reference, numba=_N + "mish_forward", accepts=contiguous_floats)
mish_backward = Kernel("mish_backward", mish_backward_reference, numba=_N + "mish_backward",
                       accepts=contiguous_floats)

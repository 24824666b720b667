"""Activation kernels: GELU (exact and tanh-approximated) forward and backward, and the standard normal
CDF behind it.

Precision: float64 uses erf's float64 Chebyshev series (``ERF_SMALL`` for |z| < 1, ``ERFCX_LARGE`` for
erfc = exp(-z^2) erfcx(z) beyond); float32 and the half types use ``ERFC_FIT``, Numerical Recipes'
Chebyshev fit of erfc (relative error < 1.2e-7 everywhere, so Phi's left tail keeps its relative
accuracy), in the working precision.
"""
import math

from .._device import module_of_array, backend_of
from ._dispatch import Kernel

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
# erfc(z) ~ t exp(-z^2 + P(t)), t = 1 / (1 + z / 2), z >= 0; P's coefficients from degree 0 up
ERFC_FIT = (-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398, 1.48851587,
            -0.82215223, 0.17087277)

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
        t = 1 / (az * t_(0.5) + 1)
        poly = xp.full_like(t, ERFC_FIT[-1])
        for c in ERFC_FIT[-2::-1]:
            poly *= t
            poly += t_(c)
        poly -= az * az
        e = t * xp.exp(poly)
        return xp.where(z >= 0, e, 2 - e) * t_(0.5)


def _tanh_parts(a):
    """``tanh(u)`` and ``du/da`` of the tanh approximation's ``u = sqrt(2/pi) (a + 0.044715 a^3)``."""
    xp = module_of_array(a)
    t_ = a.dtype.type
    a2 = a * a
    th = xp.tanh(t_(SQRT_2_OVER_PI) * (a + t_(TANH_CUBIC) * a2 * a))
    return th, t_(SQRT_2_OVER_PI) * (a2 * t_(3 * TANH_CUBIC) + 1)


def gelu_forward_reference(a, approximate):
    """``a * Phi(a)`` (``approximate='none'``) or ``a/2 (1 + tanh(u))`` (``'tanh'``) of a float array."""
    with backend_of(a).errstate(all="ignore"):   # gelu(-inf) is nan as in PyTorch (-inf * 0)
        if approximate == "tanh":
            th, _ = _tanh_parts(a)
            return (a * a.dtype.type(0.5) * (th + 1)).astype(a.dtype, copy=False)
        return a * normal_cdf_reference(a)


def gelu_backward_reference(g, a, approximate):
    """``g * gelu'(a)``: ``Phi(a) + a phi(a)`` exact, the tanh form's derivative otherwise."""
    xp = module_of_array(a)
    t_ = a.dtype.type
    with backend_of(a).errstate(all="ignore"):
        if approximate == "tanh":
            th, du = _tanh_parts(a)
            d = (th + 1) * t_(0.5) + a * t_(0.5) * (1 - th * th) * du
        else:
            d = xp.exp(a * a * t_(-0.5))
            d *= t_(INV_SQRT_2PI)
            d *= a
            d += normal_cdf_reference(a)
        return (g * d).astype(a.dtype, copy=False)


_N = "ember.kernels._numba_activations:"
_C = "ember.kernels._cupy_activations:"
gelu_forward = Kernel("gelu_forward", gelu_forward_reference, numba=_N + "gelu_forward", cupy=_C + "gelu_forward")
gelu_backward = Kernel("gelu_backward", gelu_backward_reference, numba=_N + "gelu_backward", cupy=_C + "gelu_backward",
                       accepts=lambda g, a, approximate: a.dtype.char in "fd" and a.size > 0)

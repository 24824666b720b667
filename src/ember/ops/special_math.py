"""Special functions: erf, erfc, erfinv, lgamma, digamma, polygamma, mvlgamma, i0 (and torch.special's extras:
i1, i0e, i1e, erfcx, ndtri, log_ndtr, zeta).

NumPy has no error or gamma functions, so the kernels here compute them in
float64 from scratch, to about 1e-15 relative accuracy:

* erf / erfc: for |x| < 1 a Chebyshev series of erf(x)/x in x^2; beyond, erfc = exp(-x^2) erfcx(x)
  with erfcx from a Chebyshev series in u = (x - 5)/(x + 3) and exp(-x^2) computed from an exact
  split of x^2 (so erfc keeps full relative accuracy far into its tail).
* erfinv: a closed-form first guess refined by Halley's method on erf (centre) or erfc (tails).
* lgamma: (x-1)(x-2) g(x) with a Chebyshev g on [1.5, 2.5], the recurrence elsewhere below 10,
  Stirling's series above, and the reflection formula for negative arguments.
* digamma: the recurrence up to x >= 10 and the asymptotic series (PyTorch's scheme); polygamma and
  zeta: Hurwitz zeta by direct summation plus the Euler-Maclaurin tail.
* i0 / i1 (and the exponentially scaled i0e / i1e): power series for |x| <= 8, Chebyshev series of
  sqrt(x) exp(-x) I(x) in u = (x - 16)/x beyond.

The coefficient tables come from ``tools/gen_special_coeffs.py`` (mpmath).  Lower-precision inputs are
computed in float64 and rounded once.  Gradients are written with ember ops.
"""
import math

from .. import _dtype
from ._common import (array_module, module_of_array, Tensor, Node, record, op, function, _make,
                      float_array, binary_arrays, broadcast_error, grad_for, write_out, dtype_name)
from ._unary import unary_op
from ._ieee import ignore_array_fp_errors
from .elementwise import where
from ..kernels.activations import ERF_SMALL as _ERF_SMALL, ERFCX_LARGE as _ERFCX_LARGE

# ---------------------------------------------------------------------------- coefficient tables
_LGAMMA_CORE = (
    0.42702679007974553, -0.05136266063271509, 0.004283865121771959, -0.00040868943087787814,
    4.189889214014742e-05, -4.4884162278409e-06, 4.950359592304836e-07, -5.572882261152328e-08,
    6.369038926367588e-09, -7.363280290999341e-10, 8.590324630704468e-11, -1.0095630921452502e-11,
    1.1936859013748236e-12, -1.4186121794476558e-13, 1.693301639270074e-14, -2.0288519799922935e-15,
    2.43899034401661e-16, -2.940688354710887e-17, 3.554929051822112e-18,
)
_I0E_LARGE = (
    0.4022452055070544, -0.0033691164782556943, 6.889758346916825e-05, -2.8913705208347567e-06,
    2.0489185894690638e-07, -2.266668990498178e-08, 3.3962320257083865e-09, -4.94060238822497e-10,
    1.1889147107846439e-11, 3.1499165279632416e-11, -1.3215811840447713e-11, 1.7941785315068062e-12,
    7.180124451383666e-13, -3.8527783827421426e-13, 1.54008621752141e-14, 4.150569347287222e-14,
    -9.554846698828307e-15, -3.8116806693526224e-15, 1.7725601330565263e-15, 3.425485619677219e-16,
    -2.8276239805165836e-16, -3.461222867697461e-17, 4.46562142029676e-17, 4.830504485944182e-18,
    -7.233180487874754e-18, -9.921475412173699e-19, 1.193650890845982e-18,
)
_I1E_LARGE = (
    0.38928811750914005, 0.009761097491361469, -0.00011058893876262371, 3.882564808877691e-06,
    -2.512236237870209e-07, 2.6314688468895196e-08, -3.835380385964237e-09, 5.589743462196584e-10,
    -1.8974958123505413e-11, -3.2526035830154884e-11, 1.4125807436613782e-11, -2.0356285441470896e-12,
    -7.198551776245908e-13, 4.0835511110921974e-13, -2.1015418427726643e-14, -4.272440016711951e-14,
    1.0420276984128802e-14, 3.8144030724370075e-15, -1.8803547755107825e-15, -3.3082023109209285e-16,
    2.96262899764595e-16, 3.209525921993424e-17, -4.6503053684893586e-17, -4.414348323071708e-18,
    7.517296310842105e-18, 9.314178867326884e-19, -1.242193275194891e-18,
)

# Bernoulli numbers B2, B4, ..., B24 (exact rationals, as floats)
_B2K = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510, 43867 / 798,
        -174611 / 330, 854513 / 138, -236364091 / 2730)
# Stirling: lgamma(x) ~ (x - 1/2) log x - x + log(2 pi)/2 + sum B2k / (2k (2k-1) x^(2k-1))
_STIRLING = tuple(b / ((2 * k + 2) * (2 * k + 1)) for k, b in enumerate(_B2K[:8]))
# digamma(x) ~ log x - 1/(2x) - sum B2k / (2k x^(2k))
_PSI_ASYM = tuple(b / (2 * k + 2) for k, b in enumerate(_B2K[:7]))
# Euler-Maclaurin tail of Hurwitz zeta: B2j / (2j)!
_EM = tuple(b / math.factorial(2 * k + 2) for k, b in enumerate(_B2K))

_TWO_OVER_SQRT_PI = 1.1283791670955126
_SQRT_PI_OVER_2 = 0.886226925452758
_HALF_LOG_2PI = 0.9189385332046728
_LOG_PI = 1.1447298858494002
_SQRT2 = 1.4142135623730951
_INV_SQRT2 = 0.7071067811865476


# ---------------------------------------------------------------------------- array kernels (float64 in, float64 out)
def _cheb(coeffs, u):
    """Clenshaw's sum of a Chebyshev series (first coefficient pre-halved) at ``u`` in [-1, 1]."""
    xp = module_of_array(u)
    u2 = u + u
    b1 = xp.full_like(u, coeffs[-1])
    b2 = xp.zeros_like(u)
    tmp = xp.empty_like(u)
    for c in coeffs[-2:0:-1]:          # three rotating buffers: no allocation per term
        xp.multiply(u2, b1, out=tmp)
        tmp -= b2
        tmp += c
        b2, b1, tmp = b1, tmp, b2
    r = u * b1
    r -= b2
    r += coeffs[0]
    return r


def _truncated(coeffs, tol):
    """The leading terms of a Chebyshev series whose dropped tail sums below ``tol`` (for float32 inputs)."""
    tail, n = 0.0, len(coeffs)
    while n > 2 and tail + abs(coeffs[n - 1]) < tol:
        tail += abs(coeffs[n - 1])
        n -= 1
    return coeffs[:n]


# the float32 forms: series cut where the dropped tail is below 1e-9 (float32 resolves 6e-8)
_ERF_SMALL_1 = _truncated(_ERF_SMALL, 1e-9)
_ERFCX_LARGE_1 = _truncated(_ERFCX_LARGE, 1e-9)


def _poly(coeffs, z):
    """``coeffs[0] + coeffs[1] z + ...`` by Horner's rule."""
    xp = module_of_array(z)
    r = xp.full_like(z, coeffs[-1])
    for c in coeffs[-2::-1]:
        r *= z
        r += c
    return r


def _exp_neg_sq(a):
    """exp(-a*a) with a*a split exactly (a float32-rounded head whose square is exact in float64)."""
    xp = module_of_array(a)
    hi = a.astype(xp.float32).astype(xp.float64)
    lo = (a - hi) * (a + hi)
    return xp.exp(-hi * hi) * xp.exp(-lo)


def _erfcx_ge1(a, single=False):
    """exp(a^2) erfc(a) for a >= 1 (a may be inf or nan)."""
    xp = module_of_array(a)
    ac = xp.minimum(a, 1e300)
    return _cheb(_ERFCX_LARGE_1 if single else _ERFCX_LARGE, (ac - 5) / (ac + 3)) / (ac + 1)


def _erfc_ge1(a, single=False):
    """erfc(a) for a >= 1: exp(-a^2) erfcx(a), underflowing to 0 past a ~ 27.3."""
    xp = module_of_array(a)
    ac = xp.minimum(a, 28.0)
    e = xp.exp(-(ac * ac)) if single else _exp_neg_sq(ac)   # the exact split matters only in float64
    return e * _erfcx_ge1(ac, single)


def _erf_small(x, single=False):
    return x * _cheb(_ERF_SMALL_1 if single else _ERF_SMALL, 2 * x * x - 1)


def _split(x, a, small_cut):
    small = a < small_cut
    if small.all():
        return None
    if not small.any():
        return False
    return small


def _erf_kernel(x, single=False):
    """erf; ``single`` drops the series terms a float32 result cannot see."""
    xp = module_of_array(x)
    with ignore_array_fp_errors(x):
        a = xp.abs(x)
        small = _split(x, a, 1.0)
        if small is None:
            return _erf_small(x, single)
        if small is False:
            return xp.copysign(1 - _erfc_ge1(a, single), x)
        out = xp.empty_like(x)
        out[small] = _erf_small(x[small], single)
        big = ~small
        out[big] = xp.copysign(1 - _erfc_ge1(a[big], single), x[big])
        return out


def _erfc_big(x, a, single=False):
    xp = module_of_array(x)
    e = _erfc_ge1(a, single)
    return xp.where(x < 0, 2 - e, e)


def _erfc_kernel(x, single=False):
    xp = module_of_array(x)
    with ignore_array_fp_errors(x):
        a = xp.abs(x)
        small = _split(x, a, 1.0)
        if small is None:
            return 1 - _erf_small(x, single)
        if small is False:
            return _erfc_big(x, a, single)
        out = xp.empty_like(x)
        out[small] = 1 - _erf_small(x[small], single)
        big = ~small
        out[big] = _erfc_big(x[big], a[big], single)
        return out


def _erfcx_kernel(x):
    xp = module_of_array(x)
    with ignore_array_fp_errors(x):
        a = xp.abs(x)
        out = xp.empty_like(x)
        small = a < 1
        xs = x[small]
        out[small] = xp.exp(xs * xs) * (1 - _erf_small(xs))
        pos = x >= 1
        out[pos] = _erfcx_ge1(x[pos])
        neg = x <= -1
        xn = x[neg]
        out[neg] = 2 * xp.exp(xn * xn) - _erfcx_ge1(-xn)
        out[xp.isnan(x)] = math.nan
        return out


def _erfinv_centre(y):
    """erfinv for |y| <= 0.5: a series first guess, then Halley steps on erf."""
    z = y * _SQRT_PI_OVER_2
    z2 = z * z
    x = z * (1 + z2 * (1 / 3 + z2 * (7 / 30 + z2 * (127 / 630))))
    for _ in range(2):
        d = (_erf_kernel(x) - y) / (_TWO_OVER_SQRT_PI * _exp_neg_sq(x))
        x = x - d / (1 + x * d)
    return x


def _erfcinv_tail(q):
    """The x > 0 with erfc(x) = q, for 0 < q <= 0.5 (Halley steps on erfc from Winitzki's guess)."""
    xp = module_of_array(q)
    w = xp.log(q) + xp.log(2 - q)            # log(1 - y^2)
    t = 4.330746750799873 + w / 2            # 2 / (pi a) + w / 2, a = 0.147
    x = xp.sqrt(xp.sqrt(t * t - w / 0.147) - t)
    for _ in range(3):
        d = (_erfc_ge1_any(x) - q) / (-_TWO_OVER_SQRT_PI * _exp_neg_sq(x))
        x = x - d / (1 + x * d)
    return x


def _erfc_ge1_any(x):
    """erfc(x) for x >= 0 (either branch)."""
    xp = module_of_array(x)
    small = x < 1
    out = xp.empty_like(x)
    out[small] = 1 - _erf_small(x[small])
    big = ~small
    out[big] = _erfc_ge1(x[big])
    return out


def _erfinv_kernel(y):
    xp = module_of_array(y)
    with ignore_array_fp_errors(y):
        a = xp.abs(y)
        out = xp.full_like(y, math.nan)
        centre = a <= 0.5
        out[centre] = _erfinv_centre(y[centre])
        tail = (a > 0.5) & (a < 1)
        out[tail] = xp.copysign(_erfcinv_tail(1 - a[tail]), y[tail])
        one = a == 1
        out[one] = xp.copysign(math.inf, y[one])
        return out


def _ndtri_kernel(p):
    """The inverse of the standard normal CDF: -sqrt(2) erfcinv(2p), accurate in both tails."""
    xp = module_of_array(p)
    with ignore_array_fp_errors(p):
        out = xp.full_like(p, math.nan)
        q = 2 * p                                   # erfc(-x / sqrt 2) = 2p
        lo = (q > 0) & (q <= 0.5)
        out[lo] = -_SQRT2 * _erfcinv_tail(q[lo])
        hi = (q >= 1.5) & (q < 2)
        out[hi] = _SQRT2 * _erfcinv_tail(2 - q[hi])
        mid = (q > 0.5) & (q < 1.5)
        out[mid] = -_SQRT2 * _erfinv_centre(1 - q[mid])
        out[p == 0] = -math.inf
        out[p == 1] = math.inf
        return out


def _lgamma_small(x):
    """lgamma for 0 < x < 10, through the core on [1.5, 2.5) in one pass over the whole array.

    y = x + s with s = 2, 1, 0 or -k (whole steps); lgamma(y) = (y-1)(y-2) g(y) with both factors formed
    from x itself (so the zeros at 1 and 2 keep full relative accuracy), then the recurrence
    lgamma(x) = lgamma(y) - log(x) [- log(x+1)] going up, or + log((x-1)...(x-k)) going down."""
    xp = module_of_array(x)
    s = xp.where(x < 0.5, 2.0, xp.where(x < 1.5, 1.0, -xp.floor(x - 1.5)))
    out = (x + (s - 1)) * (x + (s - 2)) * _cheb(_LGAMMA_CORE, 2 * (x + (s - 2)))
    up = s > 0
    if up.any():
        out -= xp.where(up, xp.log(xp.where(up, x, 1.0)), 0.0)
        out -= xp.where(s == 2, xp.log1p(x), 0.0)
    kmax = -xp.fmin.reduce(s, axis=None) if s.size else 0.0   # (NaN inputs have a NaN step)
    kmax = int(kmax) if kmax == kmax else 0
    if kmax > 0:
        prod = xp.ones_like(x)
        for j in range(1, kmax + 1):
            prod *= xp.where(j <= -s, x - j, 1.0)
        out += xp.log(prod)
    return out


def _stirling(x):
    xp = module_of_array(x)
    z = 1 / (x * x)
    r = (x - 0.5) * xp.log(x) - x + _HALF_LOG_2PI + _poly(_STIRLING, z) / x
    r[xp.isinf(x)] = math.inf
    return r


def _lgamma_pos(x):
    """lgamma for x > 0 (finite or inf)."""
    xp = module_of_array(x)
    big = x >= 10
    if not big.any():
        return _lgamma_small(x)
    if big.all():
        return _stirling(x)
    out = xp.empty_like(x)
    out[big] = _stirling(x[big])
    small = ~big
    out[small] = _lgamma_small(x[small])
    return out


def _lgamma_kernel(x):
    xp = module_of_array(x)
    with ignore_array_fp_errors(x):
        pos = x > 0
        if pos.all():
            return _lgamma_pos(x)
        out = xp.empty_like(x)
        out[pos] = _lgamma_pos(x[pos])
        neg = ~pos
        xn = x[neg]
        r = xn - xp.round(xn)                      # sin(pi x) = +-sin(pi r), exactly reduced
        s = xp.abs(xp.sin(math.pi * r))
        v = _LOG_PI - xp.log(s) - _lgamma_pos(1 - xn)
        v[(r == 0) | xp.isinf(xn)] = math.inf          # poles at 0, -1, -2, ... and lgamma(-inf) = inf
        v[xp.isnan(xn)] = math.nan
        out[neg] = v
        return out


def _digamma_pos(x):
    """digamma for x > 0: the recurrence up to 10, then the asymptotic series."""
    xp = module_of_array(x)
    acc = xp.zeros_like(x)
    lo = xp.fmin.reduce(x, axis=None) if x.size else 10.0
    steps = 0 if not lo < 10 else min(10, int(xp.ceil(10 - lo)))
    if steps:
        x = x.copy()
    for _ in range(steps):
        low = x < 10
        acc -= xp.where(low, 1 / x, 0.0)
        x += low
    z = 1 / (x * x)
    return acc + xp.log(x) - 0.5 / x - z * _poly(_PSI_ASYM, z)


def _digamma_kernel(x):
    xp = module_of_array(x)
    with ignore_array_fp_errors(x):
        pos = x > 0
        if pos.all():
            return _digamma_pos(x)
        out = xp.empty_like(x)
        out[pos] = _digamma_pos(x[pos])
        neg = x < 0
        xn = x[neg]
        frac = xn - xp.trunc(xn)
        v = _digamma_pos(1 - xn) - math.pi / xp.tan(math.pi * frac)
        v[frac == 0] = math.nan                     # negative integers (and -inf)
        out[neg] = v
        zero = x == 0
        out[zero] = xp.copysign(math.inf, -x[zero])
        out[xp.isnan(x)] = math.nan
        return out


def _zeta_kernel(xp, s, q):
    """Hurwitz zeta(s, q) = sum_k (q + k)^-s (broadcasting float64 arrays), as PyTorch defines it."""
    with ignore_array_fp_errors(xp.asarray(q)):
        s, q = xp.broadcast_arrays(xp.asarray(s, dtype=xp.float64), xp.asarray(q, dtype=xp.float64))
        s, q = s.ravel(), q.ravel()
        total = q ** -s
        a = q.copy()
        k = 0
        # q <= 0 integers (poles) and q < -1e5 (too many terms to sum) are set below, not summed
        active = ~((q <= 0) & (q == xp.floor(q)) | (q < -1e5))
        while True:
            k += 1
            if k > 9:
                active &= a <= 9
                if not active.any():
                    break
            a[active] += 1
            total[active] += a[active] ** -s[active]
        # Euler-Maclaurin tail beyond the last term a^-s (already summed)
        b = a ** -s
        total += b * a / (s - 1) - 0.5 * b
        fact = xp.ones_like(s)
        powr = b
        for j, c in enumerate(_EM):
            fact = fact * (s + 2 * j) if j == 0 else fact * (s + 2 * j - 1) * (s + 2 * j)
            powr = powr / a if j == 0 else powr / (a * a)
            total += c * fact * powr
        total[q < -1e5] = math.nan
        total[s == 1] = math.inf
        total[s < 1] = math.nan
        bad_q = (q <= 0) & (q == xp.floor(q))
        total[bad_q] = math.inf
        total[(q <= 0) & ~bad_q & (s != xp.floor(s))] = math.nan
        total[xp.isnan(s) | xp.isnan(q)] = math.nan
        return total


def _polygamma_kernel(n, x):
    if n == 0:
        return _digamma_kernel(x)
    z = _zeta_kernel(module_of_array(x), float(n + 1), x).reshape(x.shape)
    if n == 1:  # PyTorch's trigamma: 0 at +inf, NaN at -inf
        z[x == math.inf] = 0.0
        z[x == -math.inf] = math.nan
    return (-1.0 if n % 2 == 0 else 1.0) * math.factorial(n) * z


_I0_SERIES = tuple(1 / math.factorial(k) ** 2 for k in range(27))
_I1_SERIES = tuple(0.5 / (math.factorial(k) * math.factorial(k + 1)) for k in range(27))


def _bessel(x, series, large, scaled, odd):
    """I0 / I1 (``odd``) or their exp(-|x|)-scaled forms."""
    xp = module_of_array(x)
    with ignore_array_fp_errors(x):
        a = xp.abs(x)
        out = xp.empty_like(x)
        small = a <= 8
        xs, as_ = x[small], a[small]
        v = _poly(series, as_ * as_ / 4)
        if odd:
            v *= xs
        if scaled:
            v *= xp.exp(-as_)
        out[small] = v
        big = ~small
        ab = a[big]
        v = _cheb(large, (ab - 16) / ab) / xp.sqrt(ab)
        if scaled:
            v[xp.isinf(ab)] = 0.0
        else:
            v *= xp.exp(ab)
        if odd:
            v = xp.copysign(v, x[big])
        out[big] = v
        return out


def _i0_kernel(x):
    return _bessel(x, _I0_SERIES, _I0E_LARGE, False, False)


def _i0e_kernel(x):
    return _bessel(x, _I0_SERIES, _I0E_LARGE, True, False)


def _i1_kernel(x):
    return _bessel(x, _I1_SERIES, _I1E_LARGE, False, True)


def _i1e_kernel(x):
    return _bessel(x, _I1_SERIES, _I1E_LARGE, True, True)


def _log_ndtr_kernel(x):
    """log of the standard normal CDF; through erfcx below -1 so that the far left tail keeps its digits."""
    xp = module_of_array(x)
    with ignore_array_fp_errors(x):
        t = x * _INV_SQRT2
        left = x < -1
        out = xp.empty_like(x)
        tl = t[left]
        out[left] = xp.log(_erfcx_ge1(-tl) / 2) - tl * tl
        right = ~left
        out[right] = xp.log1p(-_erfc_kernel(t[right]) / 2)
        return out


erf_kernel = _erf_kernel  # the float64 array kernel, for fused ops elsewhere (nn's GELU)


def _in64(kernel, name, single=False):
    """A ``forward(xp, a)`` running the float64 ``kernel`` on any floating array, rounding back to its dtype.

    With ``single`` the kernel takes a flag saying the result is float32 or narrower (shorter series)."""
    def forward(xp, a):
        if a.dtype == xp.float64:
            return kernel(a)
        if a.dtype.kind == "c":
            raise NotImplementedError(f'"{name}_vml_cpu" not implemented for '
                                      f"'{dtype_name(_dtype.from_numpy_dtype(a.dtype))}'")
        a64 = a.astype(xp.float64)
        return (kernel(a64, True) if single else kernel(a64)).astype(a.dtype)
    return forward


# ---------------------------------------------------------------------------- ops
erf = unary_op("erf", _in64(_erf_kernel, "erf", single=True), lambda g, x: g * (-(x * x)).exp() * _TWO_OVER_SQRT_PI,
               saves="input", inplace=True, inplace_function=True)
erfc = unary_op("erfc", _in64(_erfc_kernel, "erfc", single=True),
                lambda g, x: g * (-(x * x)).exp() * -_TWO_OVER_SQRT_PI, saves="input", inplace=True,
                inplace_function=True)
erfinv = unary_op("erfinv", _in64(_erfinv_kernel, "erfinv"), lambda g, r: g * (r * r).exp() * _SQRT_PI_OVER_2,
                  saves="output", inplace=True)
lgamma = unary_op("lgamma", _in64(_lgamma_kernel, "lgamma"), lambda g, x: g * digamma(x), saves="input",
                  inplace=True)
digamma = unary_op("digamma", _in64(_digamma_kernel, "digamma"), lambda g, x: g * polygamma(1, x), saves="input",
                   inplace=True)
i0 = unary_op("i0", _in64(_i0_kernel, "i0"), lambda g, x: g * i1(x), saves="input", inplace=True, inplace_function=True)

# torch.special's functions that are not torch.<name>: public here, undeclared (ember.special exports them)
i1 = unary_op("i1", _in64(_i1_kernel, "i1"), lambda g, x, r: g * _at_zero(x, 0.5, lambda xs: i0(xs) - r / xs),
              saves="both", node_name="SpecialI1Backward0", declare=False)
i0e = unary_op("i0e", _in64(_i0e_kernel, "i0e"), lambda g, x, r: g * (i1e(x) - x.sgn() * r), saves="both",
               node_name="SpecialI0EBackward0", declare=False)
i1e = unary_op("i1e", _in64(_i1e_kernel, "i1e"),
               lambda g, x, r: g * _at_zero(x, 0.5, lambda xs: i0e(xs) - r * (xs.sgn() + 1 / xs)), saves="both",
               node_name="SpecialI1EBackward0", declare=False)
erfcx = unary_op("erfcx", _in64(_erfcx_kernel, "erfcx"), lambda g, x, r: g * (x * r * 2 - _TWO_OVER_SQRT_PI),
                 saves="both", node_name="SpecialErfcxBackward0", declare=False)
ndtri = unary_op("ndtri", _in64(_ndtri_kernel, "ndtri"), lambda g, r: g * (r * r / 2).exp() * 2.5066282746310002,
                 saves="output", node_name="SpecialNdtriBackward0", declare=False)
log_ndtr = unary_op("log_ndtr", _in64(_log_ndtr_kernel, "log_ndtr"),
                    lambda g, x, r: g * (-(r + x * x / 2)).exp() * 0.3989422804014327, saves="both",
                    node_name="SpecialLogNdtrBackward0", declare=False)

def _at_zero(x, value, fn):
    """``fn(x)`` where x != 0 and ``value`` at 0, evaluating fn on a safe stand-in so no NaN leaks into grads."""
    zero = x == 0
    xs = where(zero, 1.0, x).to(x.dtype)
    return where(zero, value, fn(xs)).to(x.dtype)


class PolygammaBackward0(Node):
    def backward(self, grad):
        (x,) = self.saved_tensors
        return (grad * polygamma(self.n + 1, x),)


@function
def polygamma(n, input, *, out=None):
    """The ``n``-th derivative of digamma: ``(-1)^(n+1) n! zeta(n + 1, input)`` for n >= 1."""
    if not isinstance(n, int) or isinstance(n, bool):
        raise TypeError(f"polygamma(): argument 'n' (position 1) must be int, not {type(n).__name__}")
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    res = _make(_in64(lambda a: _polygamma_kernel(n, a), "polygamma")(array_module(input), float_array(input)))
    record(res, PolygammaBackward0, (input,), (input,), n=n)
    return write_out(out, res) if out is not None else res


@op(name="polygamma", function=False, inplace=True)
def polygamma_method(self, n):
    """``Tensor.polygamma(n)``: ``polygamma(n, self)``."""
    return polygamma(n, self)


@op(inplace=True)
def mvlgamma(input, p):
    """Multivariate log-gamma of dimension ``p``: sum_i lgamma(x - i/2) + p(p-1)/4 log(pi).

    As in PyTorch 2.13 the domain x > (p-1)/2 is not checked (lgamma is defined off it too)."""
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    from .reduction import sum
    if input.dtype._category < 2:
        input = input.to(_dtype.get_default_dtype())
    steps = _make(-array_module(input).arange(p, dtype=input._data.dtype) / 2)
    return sum(lgamma(input.unsqueeze(-1) + steps), -1) + p * (p - 1) / 4 * _LOG_PI


class SpecialZetaBackward0(Node):
    """Gradient of zeta: in ``other`` only (PyTorch does not differentiate in ``input``)."""

    def backward(self, grad):
        s, q = self.saved_tensors
        if isinstance(s, Tensor) and s._requires_grad:
            raise NotImplementedError("the derivative for 'zeta' is not implemented.")
        return None, grad_for(grad * -s * zeta(s + 1.0, q), q)


def zeta(input, other, *, out=None):
    """Hurwitz zeta ``zeta(input, other)``; differentiable in ``other`` only (as in PyTorch); ``special.zeta``."""
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        from .creation import tensor
        input = tensor(float(input))
    xp = array_module(input if isinstance(input, Tensor) else other)
    a, b = (binary_arrays(input, other) if isinstance(input, Tensor) else binary_arrays(other, input)[::-1])
    dt = xp.result_type(a, b)
    if dt.kind in "biu":
        dt = _dtype.get_default_dtype().np
    try:
        shape = xp.broadcast_shapes(xp.shape(a), xp.shape(b))
    except ValueError:
        raise broadcast_error(xp.shape(a), xp.shape(b)) from None
    res = _make(_zeta_kernel(xp, a, b).reshape(shape).astype(dt))
    record(res, SpecialZetaBackward0, (input if isinstance(input, Tensor) else None,
                                       other if isinstance(other, Tensor) else None), (input, other))
    return write_out(out, res) if out is not None else res

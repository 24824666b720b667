"""Bessel-family and Airy functions of ``torch.special``, none of which PyTorch differentiates (their results
never require grad): ``bessel_j0/j1``, ``bessel_y0/y1``, ``modified_bessel_k0/k1`` and their exp-scaled forms,
``airy_ai``, ``spherical_bessel_j0`` and ``modified_bessel_i0/i1``.

Each is computed in float64 and rounded to the input's floating dtype (integers and bools become the default
dtype; half precision and complex raise PyTorch's NotImplementedError).  The J/Y/K/Ai kernels sum Chebyshev
series of their smooth parts (``tools/gen_bessel_coeffs.py`` makes the tables below): below a crossover, the
entire part left after taking out the logarithmic and pole terms; above it, the slowly varying amplitudes of
the Hankel-type expansions, so that large arguments keep their digits.
"""
import math

from .. import _dtype
from ..autograd.grad_mode import no_grad
from ._common import Tensor, array_module, module_of_array, _make, float_array, ignore_fp_errors, write_out, dtype_name
from .special_math import i0, i1, _cheb, _i0_kernel, _i1_kernel

# ---------------------------------------------------------------- tables (tools/gen_bessel_coeffs.py)
_J0_SMALL = (
    0.15772797147489012, -0.008723442352852221, 0.2651786132033368, -0.37009499387264977,
    0.15806710233209725, -0.034893769411408884, 0.004819180069467605, -0.00046062616620627504,
    3.246032882100508e-05, -1.7619469077621507e-06, 7.608163592418782e-08, -2.679253530557673e-09,
    7.848696314479465e-11, -1.9438346867370164e-12, 4.125320595634374e-14, -7.588508125447546e-16,
    1.2218515873961411e-17,
)
_J1_SMALL = (
    0.08104484632565812, -0.1489751450676521, 0.1609992623572097, -0.08268049176681791,
    0.022213639654966037, -0.003646940600769276, 0.0004050337728354822, -3.255554866857259e-05,
    1.9858774049915165e-06, -9.521984756750436e-08, 3.687133759097148e-09, -1.178026622695885e-10,
    3.160154580348003e-12, -7.221755239651773e-14, 1.4232144003513942e-15, -2.4441972916190464e-17,
    3.6912682997929334e-19,
)
_Y0_SMALL = (
    -0.03314611320328494, -0.2744743055297453, 0.17903431407718265, 0.26156734625504663,
    -0.17730201278114358, 0.04719668959576339, -0.007287962479552079, 0.0007531135932577742,
    -5.632079141056987e-05, 3.206532537654801e-06, -1.44072332740187e-07, 5.248794787330516e-09,
    -1.5837552541812015e-10, 4.02633081830612e-12, -8.747341203310769e-14, 1.6434898714919468e-15,
    -2.6977881152566837e-17,
)
_Y1_SMALL = (
    0.0025380132357417816, -0.01608717304766875, -0.09591204536083074, 0.08445197259652346,
    -0.028328123944594365, 0.005289897544167113, -0.0006414551451326356, 5.505982873338744e-05,
    -3.53808001868935e-06, 1.7707804556154404e-07, -7.11055004989928e-09, 2.344337905911516e-10,
    -6.4651518414115946e-12, 1.51429151205002e-13, -3.0511859694473254e-15, 5.34668038572867e-17,
    -8.224911372021585e-19,
)
_P0_LARGE = (
    0.9994603493475187, -0.0005365220468132117, 3.0751847875194745e-06, -5.1705945376060975e-08,
    1.6306464635151382e-09, -7.86409137723707e-11, 5.168262387349193e-12, -4.3045788699253914e-13,
    4.3265957431549404e-14, -5.069034095935236e-15, 6.748072215733873e-16, -1.0011513723467786e-16,
    1.6305919233744186e-17, -2.880866169482871e-18,
)
_Q0_LARGE = (
    -0.015555854605337009, 6.838519942611649e-05, -7.414498411060647e-07, 1.7972457247968992e-08,
    -7.27191593686632e-10, 4.2201219046687385e-11, -3.206747420996635e-12, 3.006145125351706e-13,
    -3.336328185322427e-14, 4.255225040245461e-15, -6.09993013164005e-16, 9.662128970303257e-17,
    -1.6686065214378146e-17, 3.1082440486738143e-18, -6.191115787358145e-19, 1.3091448717220122e-19,
)
_P1_LARGE = (
    1.0009030408600137, 0.0008989898330859408, -3.987284300488908e-06, 6.177633960644299e-08,
    -1.8718907491063067e-09, 8.816898659582339e-11, -5.704863640395645e-12, 4.699195515230542e-13,
    -4.6842237839904895e-14, 5.452674896044717e-15, -7.221180842274018e-16, 1.0667689114335412e-16,
    -1.7312313216116335e-17, 3.0492991197665872e-18,
)
_Q1_LARGE = (
    0.04677778706953532, -9.62772354915708e-05, 9.138615257955454e-07, -2.0959781384083424e-08,
    8.229193327650554e-10, -4.686363688176945e-11, 3.5152187949686082e-12, -3.2643156743279e-13,
    3.5967765829165294e-14, -4.5612523950772974e-15, 6.508282957783384e-16, -1.0269147531823243e-16,
    1.767635548776479e-17, -3.2834519872981614e-18, 6.524081149589261e-19, -1.3765771484849487e-19,
)
_K0_SMALL = (
    0.8433977275772223, 0.787078990859296, 0.06152577860244072, 0.0019458946141853283,
    3.3247998700597626e-05, 3.5563825166277007e-07, 2.6056207418988497e-09, 1.3895141631982779e-11,
    5.635214661841847e-14, 1.7966278703136082e-16,
)
_K1_SMALL = (
    -0.5089237845320825, -0.2114356597763456, -0.010725575310322739, -0.0002513233586483403,
    -3.4112002554142968e-06, -3.026704146655771e-08, -1.89459722399161e-10, -8.819221396228751e-13,
    -3.1733487638923218e-15, -9.092150880033067e-18,
)
_K0E_LARGE = (
    1.2201515410329777, -0.0314481013119645, 0.0015698838857300533, -0.00012849549581627802,
    1.39498137188765e-05, -1.8317555227191195e-06, 2.766813639445015e-07, -4.660489897687948e-08,
    8.574034017414225e-09, -1.6975345093890614e-09, 3.5773972814003283e-10, -7.957489244477396e-11,
    1.8559491149549264e-11, -4.514597883374519e-12, 1.1403405882073441e-12, -2.9800969231481784e-13,
    8.032890775068375e-14, -2.2275133267462965e-14, 6.340076476276646e-15, -1.848593377920907e-15,
    5.5120559994043335e-16, -1.6782311257549006e-16, 5.2103917776435543e-17, -1.6475805939842632e-17,
    5.3004337711773354e-18,
)
_K1E_LARGE = (
    1.3603130952422213, 0.10392373657681724, -0.002857816859622779, 0.00019521551847135162,
    -1.936197974166083e-05, 2.406484947837217e-06, -3.5019606030878126e-07, 5.7410841254500495e-08,
    -1.0345762465678097e-08, 2.0150497551970347e-09, -4.1903547593419254e-10, 9.218315187605315e-11,
    -2.129967838427791e-11, 5.139639673482343e-12, -1.2891739609498229e-12, 3.348419666052243e-13,
    -8.976705182010146e-14, 2.4771544242195988e-14, -7.0198370892147685e-15, 2.038703166239861e-15,
    -6.057047270643018e-16, 1.8380935752430455e-16, -5.689462849193648e-17, 1.7940510478863572e-17,
    -5.7567444820733025e-18,
)
_AI_SMALL = (
    0.26381798191440015, -0.19176745775077353, -0.11544587863809751, 0.10129229869705277,
    -0.020634225363441998, -0.005263460235879724, 0.003521327342050992, -0.0005522127136308693,
    -8.722346961097546e-05, 4.9972155304858785e-05, -6.58209616965938e-06, -7.465940980665808e-07,
    3.8371005050115145e-07, -4.427726202518875e-08, -3.901520676114033e-09, 1.8443828865292734e-09,
    -1.9121426939191717e-10, -1.3741370931826864e-11, 6.069496004903079e-12, -5.749799143489761e-13,
    -3.483089713417748e-14, 1.452966097730621e-14, -1.2731201711598244e-15, -6.658181469864444e-17,
    2.6436799630296418e-17, -2.162377737234879e-18,
)
_AI_DECAY = (
    0.9844053049171552, -0.014792784850104199, 0.0007327177465426715, -6.12595423417825e-05,
    6.83476697557269e-06, -9.237229735403982e-07, 1.436225340438052e-07, -2.489319422322096e-08,
    4.709793440054328e-09, -9.583863708112733e-10, 2.0745855483677591e-10, -4.737267332192277e-11,
    1.1336099808224236e-11, -2.827706782319351e-12, 7.320712095125598e-13, -1.9599793911089723e-13,
    5.4101162570683925e-14, -1.5356466802223836e-14, 4.472340393300025e-15, -1.3338094674756683e-15,
    4.066582046456231e-16, -1.265583225645289e-16, 4.015126334015871e-17, -1.2969972135960937e-17,
    4.2613499074124e-18,
)
_AI_OSC_A = (
    0.9967891298446905, -0.004130128828703613, -0.0008239390724262582, 9.509829158181971e-05,
    -2.33653044311871e-06, -1.6116779859977746e-06, 4.4871807267181985e-07, -6.185570986179107e-08,
    -1.5012061118205146e-09, 3.875169006522936e-09, -1.3699662181035864e-09, 2.892451570668314e-10,
    -2.1339590327825322e-11, -1.4017215305078637e-11, 8.591549662340324e-12, -2.9687360440169015e-12,
    6.812795307398657e-13, -5.2722008366857896e-14, -4.633120472933449e-14, 3.2610956148832043e-14,
    -1.3546464150143053e-14, 4.054293518787307e-15, -7.314298253380015e-16, -8.655096500438612e-17,
    1.575891539600782e-16, -9.084968957824239e-17, 3.734251366734175e-17, -1.1561423122439975e-17,
    2.1636502502596958e-18,
)
_AI_OSC_B = (
    0.0353257918705878, -0.0018807527699202754, -0.00030556177235277693, 6.851670251129937e-05,
    -5.540619118108889e-06, -9.4731314532628e-07, 4.93531477649229e-07, -1.086911066162315e-07,
    9.502086219515367e-09, 3.507902214256194e-09, -2.1388737962167055e-09, 6.57381916656192e-10,
    -1.192169313402161e-10, -3.1558377517315644e-12, 1.3400681024500651e-11, -6.732842894226816e-12,
    2.19585237733768e-12, -4.58034980074374e-13, 2.5450787075373333e-16, 5.748350357636968e-14,
    -3.513420423752644e-14, 1.4177285837083908e-14, -4.140240881866766e-15, 6.536495290699754e-16,
    1.8019860465851634e-16, -2.2131779051447693e-16, 1.2383141956386072e-16, -5.094613121165117e-17,
    1.5779842751674715e-17, -2.797085765604862e-18, -6.640852342202252e-19, 9.781239676819704e-19,
    -6.120438295868219e-19, 2.850068662856317e-19, -1.0479335757529784e-19,
)

_TWO_OVER_PI = 2 / math.pi
_INV_SQRT_PI = 1 / math.sqrt(math.pi)
_ZETA2 = 2 / 3 * 2 ** 1.5       # Airy's zeta = 2/3 |x|^1.5 at |x| = 2
_AI_UNDERFLOW = 103.892         # past this Ai(x) is subnormal in float64; PyTorch returns 0 there


# ---------------------------------------------------------------- float64 kernels
def _hankel(order, a):
    """``(J, Y)`` of order 0 or 1 at ``a >= 8`` from the amplitudes P, Q and the phase ``a - (2 order + 1) pi/4``,
    whose sine and cosine come from sin(a), cos(a) (no rounding of a shifted argument)."""
    xp = module_of_array(a)
    u = 128 / (a * a) - 1
    p = _cheb(_P1_LARGE if order else _P0_LARGE, u)
    q = _cheb(_Q1_LARGE if order else _Q0_LARGE, u) * (8 / a)
    sa, ca = xp.sin(a), xp.cos(a)
    # sqrt(2) cos(chi), sqrt(2) sin(chi)
    c, s = (sa - ca, -(sa + ca)) if order else (ca + sa, sa - ca)
    scale = _INV_SQRT_PI / xp.sqrt(a)
    return scale * (p * c - q * s), scale * (p * s + q * c)


def _split(x, small):
    """A fresh result array and the masks of the small and the large (or NaN) arguments."""
    return module_of_array(x).empty_like(x), small, ~small


def _j0_kernel(x):
    a = abs(x)
    out, small, big = _split(x, a <= 8)
    s = a[small]
    out[small] = _cheb(_J0_SMALL, s * s / 32 - 1)
    out[big] = _hankel(0, a[big])[0]
    return out


def _j1_kernel(x):
    xp = module_of_array(x)
    a = abs(x)
    out, small, big = _split(x, a <= 8)
    s = x[small]
    out[small] = s * _cheb(_J1_SMALL, s * s / 32 - 1)
    j = _hankel(1, a[big])[0]
    out[big] = xp.where(x[big] < 0, -j, j)
    return out


def _y_kernel(order, x):
    xp = module_of_array(x)
    out, small, big = _split(x, (x > 0) & (x <= 8))
    big &= ~(x <= 0)
    s = x[small]
    u = s * s / 32 - 1
    if order:
        out[small] = _TWO_OVER_PI * (_j1_kernel(s) * xp.log(s) - 1 / s) + s * _cheb(_Y1_SMALL, u)
    else:
        out[small] = _TWO_OVER_PI * xp.log(s) * _j0_kernel(s) + _cheb(_Y0_SMALL, u)
    out[big] = _hankel(order, x[big])[1]
    out[x < 0] = math.nan
    out[x == 0] = -math.inf
    return out


def _k_kernel(order, x, scaled):
    """K0/K1 (``order``) or their ``exp(x)``-scaled forms."""
    xp = module_of_array(x)
    out, small, big = _split(x, (x > 0) & (x <= 2))
    big &= ~(x <= 0)
    s = x[small]
    u = s * s / 2 - 1
    if order:
        v = xp.log(s) * _i1_kernel(s) + 1 / s + s * _cheb(_K1_SMALL, u)
    else:
        v = _cheb(_K0_SMALL, u) - xp.log(s) * _i0_kernel(s)
    out[small] = v * xp.exp(s) if scaled else v
    b = x[big]
    v = _cheb(_K1E_LARGE if order else _K0E_LARGE, 4 / b - 1) / xp.sqrt(b)
    out[big] = v if scaled else v * xp.exp(-b)
    out[x < 0] = math.nan
    out[x == 0] = math.inf
    return out


def _airy_ai_kernel(x):
    xp = module_of_array(x)
    out = xp.zeros_like(x)          # zero past the underflow point, as PyTorch
    mid = abs(x) <= 2
    out[mid] = _cheb(_AI_SMALL, x[mid] / 2)
    pos = (x > 2) & (x <= _AI_UNDERFLOW)
    t = x[pos]
    zeta = 2 / 3 * t * xp.sqrt(t)
    out[pos] = xp.exp(-zeta) * _cheb(_AI_DECAY, 2 * (_ZETA2 / zeta) - 1) * (0.5 * _INV_SQRT_PI) / xp.sqrt(xp.sqrt(t))
    neg = ~(x >= -2)                # NaN and -inf end here, as NaN
    t = -x[neg]
    zeta = 2 / 3 * t * xp.sqrt(t)
    r = _ZETA2 / zeta
    amp_a, amp_b = _cheb(_AI_OSC_A, 2 * r - 1), _cheb(_AI_OSC_B, 2 * r - 1) * r
    sz, cz = xp.sin(zeta), xp.cos(zeta)
    # sqrt(2) sin(zeta + pi/4) = sin + cos, sqrt(2) cos(zeta + pi/4) = cos - sin
    out[neg] = (amp_a * (sz + cz) - amp_b * (cz - sz)) * (_INV_SQRT_PI / math.sqrt(2)) / xp.sqrt(xp.sqrt(t))
    out[x == math.inf] = math.nan
    return out


def _spherical_j0_kernel(x):
    xp = module_of_array(x)
    # near 0 the Taylor series 1 - x^2/3! + x^4/5! - ... avoids the cancellation in sin(x)/x
    small = abs(x) < 0.5
    s = x * x
    series = 1 - s / 6 * (1 - s / 20 * (1 - s / 42 * (1 - s / 72 * (1 - s / 110 * (1 - s / 156)))))
    res = xp.where(small, series, xp.sin(x) / xp.where(small, 1, x))
    res[xp.isinf(x)] = 0.0          # the limit, as PyTorch (sin(inf) is NaN)
    return res


# ---------------------------------------------------------------- the functions
def _evaluate(name, kernel, input, out, arg="input"):
    """``kernel`` (float64 array -> float64 array) applied to ``input`` as PyTorch's special functions do:
    integers promote to the default dtype, the result has the input's floating dtype and no graph.
    ``arg`` is the argument's name in PyTorch's messages."""
    if not isinstance(input, Tensor):
        raise TypeError(f"special_{name}(): argument '{arg}' (position 1) must be Tensor, not {type(input).__name__}")
    a = float_array(input)
    if a.dtype.kind == "c" or a.dtype.itemsize < 4:
        raise NotImplementedError(f'"{name}_{input.device.type}" not implemented for '
                                  f"'{dtype_name(_dtype.from_numpy_dtype(a.dtype))}'")
    xp = array_module(input)
    with ignore_fp_errors(input):
        res = _make(xp.asarray(kernel(a.astype(xp.float64)), dtype=a.dtype))
    return write_out(out, res) if out is not None else res


def bessel_j0(input, *, out=None):
    """The Bessel function of the first kind of order 0, ``J0(input)``."""
    return _evaluate("bessel_j0", _j0_kernel, input, out)


def bessel_j1(input, *, out=None):
    """The Bessel function of the first kind of order 1, ``J1(input)`` (odd)."""
    return _evaluate("bessel_j1", _j1_kernel, input, out)


def bessel_y0(input, *, out=None):
    """The Bessel function of the second kind of order 0, ``Y0(input)``: -inf at 0, NaN for negative input."""
    return _evaluate("bessel_y0", lambda a: _y_kernel(0, a), input, out)


def bessel_y1(input, *, out=None):
    """The Bessel function of the second kind of order 1, ``Y1(input)``: -inf at 0, NaN for negative input."""
    return _evaluate("bessel_y1", lambda a: _y_kernel(1, a), input, out)


def modified_bessel_k0(input, *, out=None):
    """The modified Bessel function of the second kind of order 0, ``K0(input)``: inf at 0, NaN below."""
    return _evaluate("modified_bessel_k0", lambda a: _k_kernel(0, a, False), input, out)


def modified_bessel_k1(input, *, out=None):
    """The modified Bessel function of the second kind of order 1, ``K1(input)``: inf at 0, NaN below."""
    return _evaluate("modified_bessel_k1", lambda a: _k_kernel(1, a, False), input, out)


def scaled_modified_bessel_k0(x, *, out=None):
    """``exp(input) * K0(input)``, which stays representable where K0 underflows."""
    return _evaluate("scaled_modified_bessel_k0", lambda a: _k_kernel(0, a, True), x, out, "x")


def scaled_modified_bessel_k1(x, *, out=None):
    """``exp(input) * K1(input)``, which stays representable where K1 underflows."""
    return _evaluate("scaled_modified_bessel_k1", lambda a: _k_kernel(1, a, True), x, out, "x")


def airy_ai(x, *, out=None):
    """The Airy function ``Ai(input)``, the solution of ``y'' = x y`` that decays as x -> +inf
    (0 past x = 103.892, where it underflows; NaN at +-inf, as PyTorch)."""
    return _evaluate("airy_ai", _airy_ai_kernel, x, out, "x")


def spherical_bessel_j0(x, *, out=None):
    """``sin(x) / x`` (1 at 0), the spherical Bessel function of the first kind of order 0."""
    return _evaluate("spherical_bessel_j0", _spherical_j0_kernel, x, out, "x")


def modified_bessel_i0(input, *, out=None):
    """The modified Bessel function of the first kind of order 0 (no gradient, as in PyTorch)."""
    with no_grad():
        res = i0(input)
    return write_out(out, res) if out is not None else res


def modified_bessel_i1(input, *, out=None):
    """The modified Bessel function of the first kind of order 1 (no gradient, as in PyTorch)."""
    with no_grad():
        res = i1(input if input.dtype.is_floating_point else input.to(_dtype.get_default_dtype()))
    return write_out(out, res) if out is not None else res

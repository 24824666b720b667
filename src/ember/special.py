"""ember.special: PyTorch's ``torch.special`` namespace (error, gamma and Bessel functions and friends).

Every function here is an ember op (defined in ``ember.ops``) and differentiable where PyTorch's is.
"""
from .ops import special_math as _sm, pointwise as _pw, elementwise as _ew, reduction as _red
from .ops._common import write_out as _write_out
from .ops import softmax_ops as _softmax
from .ops import incomplete_gamma as _ig, polynomial as _poly, bessel as _bessel

__all__ = ["digamma", "entr", "erf", "erfc", "erfcx", "erfinv", "exp2", "expit", "expm1", "gammaln", "i0", "i0e",
           "i1", "i1e", "log1p", "log_ndtr", "log_softmax", "logit", "logsumexp", "multigammaln", "ndtr", "ndtri",
           "polygamma", "psi", "round", "sinc", "softmax", "xlog1py", "xlogy", "zeta", "gammainc", "gammaincc",
           "chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v", "chebyshev_polynomial_w",
           "shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
           "shifted_chebyshev_polynomial_w", "hermite_polynomial_h", "hermite_polynomial_he", "laguerre_polynomial_l",
           "legendre_polynomial_p", "spherical_bessel_j0", "modified_bessel_i0", "modified_bessel_i1",
           "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "modified_bessel_k0", "modified_bessel_k1",
           "scaled_modified_bessel_k0", "scaled_modified_bessel_k1", "airy_ai"]

erf = _sm.erf
erfc = _sm.erfc
erfinv = _sm.erfinv
erfcx = _sm.erfcx
gammaln = _sm.lgamma
digamma = psi = _sm.digamma
polygamma = _sm.polygamma
multigammaln = _sm.mvlgamma
i0 = _sm.i0
i0e = _sm.i0e
i1 = _sm.i1
i1e = _sm.i1e
ndtri = _sm.ndtri
zeta = _sm.zeta
expit = _ew.sigmoid
exp2 = _ew.exp2
expm1 = _ew.expm1
log1p = _ew.log1p
round = _ew.round
logit = _pw.logit
sinc = _pw.sinc
xlogy = _pw.xlogy
xlog1py = _pw.xlog1py
entr = _pw.entr
logsumexp = _red.logsumexp


def ndtr(input, *, out=None):
    """The standard normal CDF: ``(1 + erf(x / sqrt 2)) / 2``."""
    res = (_sm.erfc(input * -0.7071067811865476)) * 0.5
    return _write_out(out, res) if out is not None else res


log_ndtr = _sm.log_ndtr


def softmax(input, dim, dtype=None):
    """``exp(x) / exp(x).sum(dim)``; ``dtype`` casts the input first."""
    return _softmax.softmax(input, dim, dtype)


def log_softmax(input, dim, dtype=None):
    """``log(softmax(x, dim))``; ``dtype`` casts the input first."""
    return _softmax.log_softmax(input, dim, dtype)


def gammainc(input, other, *, out=None):
    """The regularized lower incomplete gamma function P(input, other) (``torch.igamma``)."""
    return _ig.igamma(input, other, out=out)


def gammaincc(input, other, *, out=None):
    """The regularized upper incomplete gamma function Q(input, other) (``torch.igammac``)."""
    return _ig.igammac(input, other, out=out)


chebyshev_polynomial_t = _poly.chebyshev_polynomial_t
chebyshev_polynomial_u = _poly.chebyshev_polynomial_u
chebyshev_polynomial_v = _poly.chebyshev_polynomial_v
chebyshev_polynomial_w = _poly.chebyshev_polynomial_w
shifted_chebyshev_polynomial_t = _poly.shifted_chebyshev_polynomial_t
shifted_chebyshev_polynomial_u = _poly.shifted_chebyshev_polynomial_u
shifted_chebyshev_polynomial_v = _poly.shifted_chebyshev_polynomial_v
shifted_chebyshev_polynomial_w = _poly.shifted_chebyshev_polynomial_w
hermite_polynomial_h = _poly.hermite_polynomial_h
hermite_polynomial_he = _poly.hermite_polynomial_he
laguerre_polynomial_l = _poly.laguerre_polynomial_l
legendre_polynomial_p = _poly.legendre_polynomial_p
spherical_bessel_j0 = _bessel.spherical_bessel_j0
modified_bessel_i0 = _bessel.modified_bessel_i0
modified_bessel_i1 = _bessel.modified_bessel_i1
bessel_j0 = _bessel.bessel_j0
bessel_j1 = _bessel.bessel_j1
bessel_y0 = _bessel.bessel_y0
bessel_y1 = _bessel.bessel_y1
modified_bessel_k0 = _bessel.modified_bessel_k0
modified_bessel_k1 = _bessel.modified_bessel_k1
scaled_modified_bessel_k0 = _bessel.scaled_modified_bessel_k0
scaled_modified_bessel_k1 = _bessel.scaled_modified_bessel_k1
airy_ai = _bessel.airy_ai

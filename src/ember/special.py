"""ember.special: PyTorch's ``torch.special`` namespace (error, gamma and Bessel functions and friends).

Every function here is an ember op (defined in ``ember.ops``) and differentiable where PyTorch's is.
"""
from .ops import special_math as _sm, pointwise_extra as _pe, elementwise as _ew, reduction as _red
from .ops import nn_ops as _nn

__all__ = ["digamma", "entr", "erf", "erfc", "erfcx", "erfinv", "exp2", "expit", "expm1", "gammaln", "i0", "i0e",
           "i1", "i1e", "log1p", "log_ndtr", "log_softmax", "logit", "logsumexp", "multigammaln", "ndtr", "ndtri",
           "polygamma", "psi", "round", "sinc", "softmax", "xlog1py", "xlogy", "zeta"]

erf = _sm.erf
erfc = _sm.erfc
erfinv = _sm.erfinv
erfcx = _sm._special_erfcx
gammaln = _sm.lgamma
digamma = psi = _sm.digamma
polygamma = _sm.polygamma
multigammaln = _sm.mvlgamma
i0 = _sm.i0
i0e = _sm._special_i0e
i1 = _sm._special_i1
i1e = _sm._special_i1e
ndtri = _sm._special_ndtri
zeta = _sm._special_zeta
expit = _ew.sigmoid
exp2 = _ew.exp2
expm1 = _ew.expm1
log1p = _ew.log1p
round = _ew.round
logit = _pe.logit
sinc = _pe.sinc
xlogy = _pe.xlogy
xlog1py = _pe._special_xlog1py
entr = _pe._special_entr
logsumexp = _red.logsumexp


def ndtr(input, *, out=None):
    """The standard normal CDF: ``(1 + erf(x / sqrt 2)) / 2``."""
    res = (_sm.erfc(input * -0.7071067811865476)) * 0.5
    return _ew.write_out(out, res) if out is not None else res


def log_ndtr(input, *, out=None):
    """``log(ndtr(x))``, accurate for very negative x (through erfcx)."""
    return _sm._special_log_ndtr(input, out=out)


def softmax(input, dim, dtype=None):
    """``exp(x) / exp(x).sum(dim)``; ``dtype`` casts the input first."""
    return _nn.softmax(input, dim, dtype)


def log_softmax(input, dim, dtype=None):
    """``log(softmax(x, dim))``; ``dtype`` casts the input first."""
    return _nn.log_softmax(input, dim, dtype)

"""Bessel-family functions of ``torch.special`` that PyTorch does not differentiate: ``spherical_bessel_j0``
and ``modified_bessel_i0``/``modified_bessel_i1`` (the values of ``i0``/``i1``, without a graph)."""
from .. import _dtype
from ..autograd.grad_mode import no_grad
from ._common import array_module, _make, float_array, ignore_fp_errors
from .special_math import i0, i1


def spherical_bessel_j0(input, *, out=None):
    """``sin(x) / x`` (1 at 0), the spherical Bessel function of the first kind of order 0."""
    xp = array_module(input)
    a = float_array(input)
    with ignore_fp_errors(input):
        # near 0 the Taylor series 1 - x^2/3! + x^4/5! - ... avoids the cancellation in sin(x)/x
        small = xp.abs(a) < 0.5
        s = a * a
        series = 1 - s / 6 * (1 - s / 20 * (1 - s / 42 * (1 - s / 72 * (1 - s / 110 * (1 - s / 156)))))
        res = xp.where(small, series, xp.sin(a) / xp.where(small, 1, a))
    return _make(xp.asarray(res, dtype=a.dtype))


def modified_bessel_i0(input, *, out=None):
    """The modified Bessel function of the first kind of order 0 (no gradient, as in PyTorch)."""
    with no_grad():
        return i0(input)


def modified_bessel_i1(input, *, out=None):
    """The modified Bessel function of the first kind of order 1 (no gradient, as in PyTorch)."""
    with no_grad():
        return i1(input if input.dtype.is_floating_point else input.to(_dtype.get_default_dtype()))

"""``ember.fft``: discrete Fourier transforms as ``torch.fft`` — fft / ifft, rfft / irfft, hfft / ihfft,
their 2-D and n-D forms, fftfreq / rfftfreq and fftshift / ifftshift.  Every transform is differentiable
(see ``ops/spectral.py``).  ``norm`` is "backward" (default), "ortho" or "forward"; ``n`` / ``s`` trim or
zero-pad the input along the transformed dims first.
"""
from . import _dtype
from .ops import spectral as _s
from .ops._common import write_out
from .ops.creation import arange

__all__ = ["fft", "ifft", "fft2", "ifft2", "fftn", "ifftn", "rfft", "irfft", "rfft2", "irfft2", "rfftn", "irfftn",
           "hfft", "ihfft", "hfft2", "ihfft2", "hfftn", "ihfftn", "fftfreq", "rfftfreq", "fftshift", "ifftshift"]


def _out(res, out):
    return res if out is None else write_out(out, res)


def fft(input, n=None, dim=-1, norm=None, *, out=None):
    """The 1-D discrete Fourier transform along ``dim`` (complex result)."""
    return _out(_s.fft_1d(input, n, dim, norm, True), out)


def ifft(input, n=None, dim=-1, norm=None, *, out=None):
    """The 1-D inverse discrete Fourier transform along ``dim``."""
    return _out(_s.fft_1d(input, n, dim, norm, False), out)


def fft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    """The 2-D discrete Fourier transform over ``dim``."""
    return _out(_s.fftn(input, s, dim, norm, True), out)


def ifft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    """The 2-D inverse discrete Fourier transform over ``dim``."""
    return _out(_s.fftn(input, s, dim, norm, False), out)


def fftn(input, s=None, dim=None, norm=None, *, out=None):
    """The N-D discrete Fourier transform over ``dim`` (all dims, or the last len(s))."""
    return _out(_s.fftn(input, s, dim, norm, True), out)


def ifftn(input, s=None, dim=None, norm=None, *, out=None):
    """The N-D inverse discrete Fourier transform."""
    return _out(_s.fftn(input, s, dim, norm, False), out)


def rfft(input, n=None, dim=-1, norm=None, *, out=None):
    """The one-sided transform of a real signal: the n//2 + 1 non-negative frequencies."""
    return _out(_s.rfft_1d(input, n, dim, norm), out)


def irfft(input, n=None, dim=-1, norm=None, *, out=None):
    """The real signal of length ``n`` (default 2 * (m - 1)) with one-sided spectrum ``input``."""
    return _out(_s.irfft_1d(input, n, dim, norm), out)


def rfft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    """The 2-D transform of a real input, one-sided in the last dim."""
    return _out(_s.rfftn(input, s, dim, norm), out)


def irfft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    """The inverse of ``rfft2``."""
    return _out(_s.irfftn(input, s, dim, norm), out)


def rfftn(input, s=None, dim=None, norm=None, *, out=None):
    """The N-D transform of a real input, one-sided in the last transformed dim."""
    return _out(_s.rfftn(input, s, dim, norm), out)


def irfftn(input, s=None, dim=None, norm=None, *, out=None):
    """The inverse of ``rfftn``."""
    return _out(_s.irfftn(input, s, dim, norm), out)


def hfft(input, n=None, dim=-1, norm=None, *, out=None):
    """The transform of a Hermitian-symmetric signal given by its one-sided half (a real result)."""
    return _out(_s.irfft_1d(input, n, dim, norm, True), out)


def ihfft(input, n=None, dim=-1, norm=None, *, out=None):
    """The inverse of ``hfft``: the one-sided inverse transform of a real signal."""
    return _out(_s.rfft_1d(input, n, dim, norm, False), out)


def hfftn(input, s=None, dim=None, norm=None, *, out=None):
    """The N-D transform of a Hermitian-symmetric signal given by its half (one-sided in the last dim)."""
    return _out(_s.irfftn(input.conj(), s, dim, _s.DUAL_NORM[_s.norm_mode(norm)]), out)


def ihfftn(input, s=None, dim=None, norm=None, *, out=None):
    """The inverse of ``hfftn``."""
    return _out(_s.rfftn(input, s, dim, _s.DUAL_NORM[_s.norm_mode(norm)]).conj(), out)


def hfft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    """``hfftn`` over two dims."""
    return hfftn(input, s, dim, norm, out=out)


def ihfft2(input, s=None, dim=(-2, -1), norm=None, *, out=None):
    """``ihfftn`` over two dims."""
    return ihfftn(input, s, dim, norm, out=out)


def fftfreq(n, d=1.0, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """The sample frequencies ``[0, 1, ..., n/2 - 1, -n/2, ..., -1] / (d * n)``."""
    dt = dtype or _dtype.get_default_dtype()
    k = arange(n, dtype=_dtype.int64, device=device)
    k = k - (k >= (n + 1) // 2).to(_dtype.int64) * n
    res = k.to(dt) / (n * d)
    if requires_grad:
        res = res.detach().requires_grad_()
    return _out(res, out)


def rfftfreq(n, d=1.0, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """The non-negative sample frequencies ``[0, 1, ..., n // 2] / (d * n)`` (for ``rfft``)."""
    dt = dtype or _dtype.get_default_dtype()
    res = arange(n // 2 + 1, dtype=_dtype.int64, device=device).to(dt) / (n * d)
    if requires_grad:
        res = res.detach().requires_grad_()
    return _out(res, out)


def _shift(input, dim, sign):
    nd = input.ndim
    dims = list(range(nd)) if dim is None else ([dim] if isinstance(dim, int) else list(dim))
    shape = input.shape
    shifts = [sign * (shape[d] // 2) for d in dims]
    if not dims:
        return input.clone()
    return input.roll(shifts, dims)


def fftshift(input, dim=None):
    """Move the zero frequency to the centre (a roll by n // 2 along ``dim``, all dims by default)."""
    return _shift(input, dim, 1)


def ifftshift(input, dim=None):
    """The inverse of ``fftshift``."""
    return _shift(input, dim, -1)

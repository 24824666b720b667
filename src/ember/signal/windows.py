"""``torch.signal.windows``: SciPy-style window functions (symmetric by default, ``sym=False`` for the periodic
form used with DFTs), float32 or float64, built from ember's window ops and tensor functions."""
import math
from collections.abc import Iterable

import ember

__all__ = ["bartlett", "blackman", "cosine", "exponential", "gaussian", "general_cosine", "general_hamming",
           "hamming", "hann", "kaiser", "nuttall"]


def _check(name, M, dtype, layout):
    """PyTorch's argument errors; returns the dtype to use."""
    dtype = dtype or ember.get_default_dtype()
    if M < 0:
        raise ValueError(f"{name} requires non-negative window length, got M={M}")
    if layout is not None and layout is not ember.strided:
        raise ValueError(f"{name} is implemented for strided tensors only, got: {layout}")
    if dtype not in (ember.float32, ember.float64):
        raise ValueError(f"{name} expects float32 or float64 dtypes, got: {dtype}")
    return dtype


def _span(M, sym):
    """The denominator length: M - 1 for a symmetric window, M for a periodic one (M > 1)."""
    return M if not sym and M > 1 else M - 1


def _ramp(start, step, M, dtype, device, requires_grad):
    return ember.linspace(start, start + (M - 1) * step, M, dtype=dtype, device=device, requires_grad=requires_grad)


def general_cosine(M, *, a, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    """``sum_i (-1)^i a_i cos(2 pi i n / span)`` for coefficients ``a``."""
    dtype = _check("general_cosine", M, dtype, layout)
    if M <= 1:
        return ember.ones(M, dtype=dtype, device=device, requires_grad=requires_grad)
    if not isinstance(a, Iterable):
        raise TypeError("Coefficients must be a list/tuple")
    if not a:
        raise ValueError("Coefficients cannot be empty")
    k = _ramp(0.0, 2 * math.pi / _span(M, sym), M, dtype, device, requires_grad)
    w = ember.zeros(M, dtype=dtype, device=device)
    for i, c in enumerate(a):
        w = w + (-1) ** i * c * ember.cos(k * i)
    return w


def general_hamming(M, *, alpha=0.54, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    """``alpha - (1 - alpha) cos(2 pi n / span)``."""
    return general_cosine(M, a=[alpha, 1.0 - alpha], sym=sym, dtype=dtype, layout=layout, device=device,
                          requires_grad=requires_grad)


def hamming(M, *, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    """The Hamming window (``general_hamming`` with alpha 0.54)."""
    return general_hamming(M, alpha=0.54, sym=sym, dtype=dtype, layout=layout, device=device,
                           requires_grad=requires_grad)


def hann(M, *, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    """The Hann window (``general_hamming`` with alpha 0.5)."""
    return general_hamming(M, alpha=0.5, sym=sym, dtype=dtype, layout=layout, device=device,
                           requires_grad=requires_grad)


def blackman(M, *, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    """The Blackman window (cosine coefficients 0.42, 0.5, 0.08)."""
    return general_cosine(M, a=[0.42, 0.5, 0.08], sym=sym, dtype=dtype, layout=layout, device=device,
                          requires_grad=requires_grad)


def nuttall(M, *, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    """The minimum 4-term Blackman-Harris window of Nuttall."""
    return general_cosine(M, a=[0.3635819, 0.4891775, 0.1365995, 0.0106411], sym=sym, dtype=dtype,
                          layout=layout, device=device, requires_grad=requires_grad)


def bartlett(M, *, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    """The triangular window ``1 - |2 n / span - 1|``."""
    dtype = _check("bartlett", M, dtype, layout)
    if M <= 1:
        return ember.ones(M, dtype=dtype, device=device, requires_grad=requires_grad)
    k = _ramp(-1.0, 2.0 / _span(M, sym), M, dtype, device, requires_grad)
    return 1 - k.abs()


def cosine(M, *, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    """The sine window ``sin(pi (n + 0.5) / (span + 1))``."""
    dtype = _check("cosine", M, dtype, layout)
    if M == 0:
        return ember.empty(0, dtype=dtype, device=device, requires_grad=requires_grad)
    step = math.pi / (M + 1 if not sym and M > 1 else M)
    return ember.sin(_ramp(0.5 * step, step, M, dtype, device, requires_grad))


def exponential(M, *, center=None, tau=1.0, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    """``exp(-|n - center| / tau)`` (center defaults to the middle; it must be None for a symmetric window)."""
    dtype = _check("exponential", M, dtype, layout)
    if tau <= 0:
        raise ValueError(f"Tau must be positive, got: {tau} instead.")
    if sym and center is not None:
        raise ValueError("Center must be None for symmetric windows")
    if M == 0:
        return ember.empty(0, dtype=dtype, device=device, requires_grad=requires_grad)
    if center is None:
        center = _span(M, sym) / 2.0
    return ember.exp(-_ramp(-center / tau, 1 / tau, M, dtype, device, requires_grad).abs())


def gaussian(M, *, std=1.0, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    """``exp(-((n - center) / std)^2 / 2)``."""
    dtype = _check("gaussian", M, dtype, layout)
    if std <= 0:
        raise ValueError(f"Standard deviation must be positive, got: {std} instead.")
    if M == 0:
        return ember.empty(0, dtype=dtype, device=device, requires_grad=requires_grad)
    c = 1 / (std * math.sqrt(2))
    return ember.exp(-_ramp(-_span(M, sym) / 2.0 * c, c, M, dtype, device, requires_grad) ** 2)


def kaiser(M, *, beta=12.0, sym=True, dtype=None, layout=None, device=None, requires_grad=False):
    """The Kaiser window ``I0(beta sqrt(1 - (2 n / span - 1)^2)) / I0(beta)``."""
    dtype = _check("kaiser", M, dtype, layout)
    if beta < 0:
        raise ValueError(f"beta must be non-negative, got: {beta} instead.")
    return ember.kaiser_window(M, periodic=not sym, beta=beta, dtype=dtype, device=device,
                               requires_grad=requires_grad)

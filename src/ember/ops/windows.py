"""Window functions for spectral analysis (``stft``): Hann, Hamming, Blackman, Bartlett, Kaiser.

A periodic window of length N is the symmetric window of length N + 1 without its last point (what DFT-based
analysis wants); ``periodic=False`` gives the symmetric one.  Windows are computed in the requested floating
dtype on the requested device.
"""
import math

from .. import _dtype
from ._common import function, backend_for, _make
from .creation import wrap_leaf


def _positions(name, window_length, periodic, dtype, device):
    """(xp, n, N, dt): positions ``0 .. L-1`` in the window's dtype and the symmetric length ``N`` they span;
    None for n when the window is trivial (length 0 or 1)."""
    dt = dtype or _dtype.get_default_dtype()
    if not dt.is_floating_point:
        raise RuntimeError(f"{name} expects floating point dtypes, got: TensorOptions(dtype="
                           f"{_dtype.cpp_name(dt, 'typeid')}, device=cpu, layout=Strided (default), "
                           f"requires_grad=false (default), pinned_memory=false, memory_format=(nullopt))")
    if window_length < 0:
        raise RuntimeError(f"{name} requires non-negative window_length, got window_length={window_length}")
    xp = backend_for(device).xp
    if window_length <= 1:
        return xp, None, window_length, dt
    n = xp.arange(window_length, dtype=dt.np)
    return xp, n, window_length + 1 if periodic else window_length, dt


def _trivial(xp, length, dt, requires_grad):
    return wrap_leaf(xp.ones(length, dtype=dt.np), requires_grad)


def _cosine_sum(name, coeffs, window_length, periodic, dtype, device, requires_grad):
    """``sum_k (-1)^k c_k cos(2 pi k n / (N - 1))``: the generalized cosine windows."""
    xp, n, N, dt = _positions(name, window_length, periodic, dtype, device)
    if n is None:
        return _trivial(xp, N, dt, requires_grad)
    step = 2 * math.pi / (N - 1)
    w = xp.full(n.shape, coeffs[0], dtype=dt.np)
    for k, c in enumerate(coeffs[1:], start=1):
        w = w + (-1) ** k * c * xp.cos(n * dt.np.type(step * k))
    return wrap_leaf(w.astype(dt.np, copy=False), requires_grad)


@function
def hann_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, pin_memory=False,
                requires_grad=False):
    """``0.5 - 0.5 cos(2 pi n / (N - 1))``."""
    return _cosine_sum("hann_window", (0.5, 0.5), window_length, periodic, dtype, device, requires_grad)


@function
def hamming_window(window_length, periodic=True, alpha=0.54, beta=0.46, *, dtype=None, layout=None, device=None,
                   pin_memory=False, requires_grad=False):
    """``alpha - beta cos(2 pi n / (N - 1))``."""
    return _cosine_sum("hamming_window", (alpha, beta), window_length, periodic, dtype, device, requires_grad)


@function
def blackman_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, pin_memory=False,
                    requires_grad=False):
    """``0.42 - 0.5 cos(2 pi n / (N - 1)) + 0.08 cos(4 pi n / (N - 1))``."""
    return _cosine_sum("blackman_window", (0.42, 0.5, 0.08), window_length, periodic, dtype, device,
                       requires_grad)


@function
def bartlett_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, pin_memory=False,
                    requires_grad=False):
    """The triangular window ``1 - |2 n / (N - 1) - 1|``."""
    xp, n, N, dt = _positions("bartlett_window", window_length, periodic, dtype, device)
    if n is None:
        return _trivial(xp, N, dt, requires_grad)
    w = 1 - xp.abs(n * dt.np.type(2 / (N - 1)) - 1)
    return wrap_leaf(w.astype(dt.np, copy=False), requires_grad)


@function
def kaiser_window(window_length, periodic=True, beta=12.0, *, dtype=None, layout=None, device=None,
                  pin_memory=False, requires_grad=False):
    """``I0(beta sqrt(1 - (2 n / (N - 1) - 1)^2)) / I0(beta)`` (I0: the modified Bessel function)."""
    from .special_math import i0
    xp, n, N, dt = _positions("kaiser_window", window_length, periodic, dtype, device)
    if n is None:
        return _trivial(xp, N, dt, requires_grad)
    r = n * dt.np.type(2 / (N - 1)) - 1
    arg = dt.np.type(beta) * xp.sqrt(xp.maximum(1 - r * r, 0))
    w = i0(_make(arg))._data / i0(_make(xp.asarray(beta, dtype=dt.np)))._data
    return wrap_leaf(w.astype(dt.np, copy=False), requires_grad)

"""Discrete Fourier transforms behind ``ember.fft``: three differentiable 1-D primitives (complex-to-complex,
real-to-complex, complex-to-real) over one dim; every multi-dim transform is a composition of them.

Gradients follow PyTorch's conventions for complex tensors: a transform scaled by ``c`` (1, 1/sqrt(n) or
1/n by ``norm``) has the adjoint ``c * F^H``, which is the opposite-direction transform with the dual
``norm``; r2c and c2r add the one-sided bookkeeping (zero-fill, doubling of mirrored bins).  The
backward passes call these same ops, so second derivatives work.
(No op is declared here: ``ember.fft`` is the public surface.)
"""
from .. import _dtype
from ._common import array_module, Node, record, _make, wrap_dim, dtype_name
from .creation import zeros

DUAL_NORM = {"backward": "forward", "forward": "backward", "ortho": "ortho"}   # the adjoint's ``norm``


def norm_mode(norm):
    """``norm`` checked and defaulted ("backward" for None), as the transforms take it."""
    if norm is None:
        return "backward"
    if norm not in DUAL_NORM:
        raise RuntimeError(f'Invalid normalization mode: "{norm}"')
    return norm


def _complex_dtype(t):
    """The complex dtype a transform of ``t`` computes in (PyTorch's promotion)."""
    dt = t.dtype
    if dt is _dtype.float16 or dt is _dtype.bfloat16:
        raise RuntimeError(f"Unsupported dtype {'Half' if dt is _dtype.float16 else 'BFloat16'}")
    if dt is _dtype.complex64 or dt is _dtype.complex128:
        return dt
    if dt is _dtype.float64:
        return _dtype.complex128
    if dt is _dtype.float32:
        return _dtype.complex64
    return _dtype.default_complex()


def _real_of(cdt):
    return _dtype.float64 if cdt is _dtype.complex128 else _dtype.float32


def _check_n(n):
    if n is not None and n < 1:
        raise RuntimeError(f"Invalid number of data points ({n}) specified")


def _dim(t, dim):
    if t._data.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    return wrap_dim(dim, t._data.ndim)


def _resize(t, d, n):
    """``t`` trimmed or zero-padded to length ``n`` along dim ``d`` (differentiable)."""
    size = t._data.shape[d]
    if n == size:
        return t
    if n < size:
        return t.narrow(d, 0, n)
    shape = list(t._data.shape)
    shape[d] = n - size
    from .joining import cat
    return cat([t, zeros(shape, dtype=t.dtype, device=t.device)], d)


def _as(t, dt):
    return t if t.dtype is dt else t.to(dt)


# ---------------------------------------------------------------------------- complex to complex
class FftC2CBackward0(Node):
    def backward(self, grad):
        g = _c2c(grad, self.dim, DUAL_NORM[self.norm], not self.forward)
        return (g.real if self.real_input else g,)


def _c2c(x, d, norm, forward):
    """The (inverse) DFT of complex ``x`` along dim ``d``; a real ``x`` is promoted first."""
    cdt = _complex_dtype(x)
    a = x._data
    xp = array_module(x)
    fn = xp.fft.fft if forward else xp.fft.ifft
    r = fn(a, axis=d, norm=norm) if a.shape[d] else a.astype(cdt.np)
    res = _make(xp.ascontiguousarray(r, dtype=cdt.np))
    record(res, FftC2CBackward0, (x,), dim=d, norm=norm, forward=forward, real_input=a.dtype.kind != "c")
    return res


# ---------------------------------------------------------------------------- real to complex (one-sided)
class FftR2CBackward0(Node):
    def backward(self, grad):
        # zero-fill the missing half, then the adjoint of the full transform; keep the real part
        d, n = self.dim, self.n
        full = _resize(grad, d, n)
        g = _c2c(full, d, DUAL_NORM[self.norm], not self.forward)
        return (g.real,)


def _r2c(x, d, norm, forward=True):
    if x._data.dtype.kind == "c":
        raise RuntimeError(f"rfft expects a real input tensor, but got {dtype_name(x.dtype)}")
    cdt = _complex_dtype(x)
    a = x._data
    xp = array_module(x)
    if forward:
        r = xp.fft.rfft(a, axis=d, norm=norm)
    else:  # the one-sided inverse transform of a real signal (ihfft's kernel)
        r = xp.conj(xp.fft.rfft(a, axis=d, norm=DUAL_NORM[norm]))
    res = _make(xp.ascontiguousarray(r, dtype=cdt.np))
    record(res, FftR2CBackward0, (x,), dim=d, norm=norm, n=a.shape[d], forward=forward)
    return res


# ---------------------------------------------------------------------------- complex (one-sided) to real
class FftC2RBackward0(Node):
    def backward(self, grad):
        d, m = self.dim, self.m
        g = _r2c(grad, d, DUAL_NORM[self.norm], not self.forward)
        # bins whose mirror image lies outside the one-sided range were used twice
        double = self.n - m
        if double > 0:
            w = array_module(g).ones(m, dtype=_real_of(g.dtype).np)
            w[1:1 + double] = 2
            shape = [1] * g._data.ndim
            shape[d] = m
            g = g * _make(w.reshape(shape))
        return (g,)


def _c2r(x, d, n, norm, forward=False):
    """The real signal of length ``n`` whose one-sided spectrum is ``x`` (irfft; hfft when ``forward``)."""
    cdt = _complex_dtype(x)
    x = _as(x, cdt)
    m = n // 2 + 1
    x = _resize(x, d, m)
    a = x._data
    xp = array_module(x)
    if forward:
        r = xp.fft.irfft(xp.conj(a), n=n, axis=d, norm=DUAL_NORM[norm])
    else:
        r = xp.fft.irfft(a, n=n, axis=d, norm=norm)
    res = _make(xp.ascontiguousarray(r, dtype=_real_of(cdt).np))
    record(res, FftC2RBackward0, (x,), dim=d, norm=norm, n=n, m=m, forward=forward)
    return res


# ---------------------------------------------------------------------------- the public transforms
def fft_1d(input, n, dim, norm, forward):
    _check_n(n)
    norm = norm_mode(norm)
    d = _dim(input, dim)
    x = _as(input, _complex_dtype(input)) if input._data.dtype.kind not in "fc" else input
    if n is not None:
        x = _resize(x, d, n)
    if x._data.shape[d] == 0:
        raise RuntimeError("Invalid number of data points (0) specified")
    return _c2c(x, d, norm, forward)


def rfft_1d(input, n, dim, norm, forward=True):
    _check_n(n)
    norm = norm_mode(norm)
    d = _dim(input, dim)
    x = input
    if x._data.dtype.kind not in "fc":
        x = _as(x, _real_of(_complex_dtype(x)))
    if n is not None and x._data.dtype.kind != "c":
        x = _resize(x, d, n)
    if x._data.shape[d] == 0:
        raise RuntimeError("Invalid number of data points (0) specified")
    return _r2c(x, d, norm, forward)


def irfft_1d(input, n, dim, norm, forward=False):
    _check_n(n)
    norm = norm_mode(norm)
    d = _dim(input, dim)
    m = input._data.shape[d]
    n = 2 * (m - 1) if n is None else n
    if n < 1:
        raise RuntimeError(f"Invalid number of data points ({n}) specified")
    return _c2r(input, d, n, norm, forward)


def _dims_and_sizes(input, s, dim, default_all, name):
    nd = input._data.ndim
    if s is not None and dim is not None and len(s) != len(dim):
        raise RuntimeError("When given, dim and shape arguments must have the same length")
    if dim is None:
        if s is not None:
            dims = list(range(nd - len(s), nd))
            if len(s) > nd:
                raise RuntimeError(f"Got shape with {len(s)} values but input tensor only has {nd} dimensions.")
        else:
            dims = list(range(nd)) if default_all else [wrap_dim(-2, nd), wrap_dim(-1, nd)]
    else:
        dims = [wrap_dim(d, nd) for d in ((dim,) if isinstance(dim, int) else dim)]
    if len(set(dims)) != len(dims):
        raise RuntimeError("FFT dims must be unique")
    sizes = list(s) if s is not None else [None] * len(dims)
    for v in sizes:
        _check_n(v if v != -1 else None)
    sizes = [None if v == -1 else v for v in sizes]
    return dims, sizes


def fftn(input, s, dim, norm, forward, default_all=True):
    dims, sizes = _dims_and_sizes(input, s, dim, default_all, "fftn")
    x = input
    if not dims:
        return _as(x, _complex_dtype(x)).clone() if x.dtype is not _complex_dtype(x) else x.clone()
    for d, n in zip(dims, sizes):
        x = fft_1d(x, n, d, norm, forward)
    return x


def rfftn(input, s, dim, norm, default_all=True):
    dims, sizes = _dims_and_sizes(input, s, dim, default_all, "rfftn")
    if not dims:
        raise RuntimeError("rfftn must transform at least one axis")
    x = rfft_1d(input, sizes[-1], dims[-1], norm)
    for d, n in zip(dims[:-1], sizes[:-1]):
        x = fft_1d(x, n, d, norm, True)
    return x


def irfftn(input, s, dim, norm, default_all=True):
    dims, sizes = _dims_and_sizes(input, s, dim, default_all, "irfftn")
    if not dims:
        raise RuntimeError("irfftn must transform at least one axis")
    x = input
    for d, n in zip(dims[:-1], sizes[:-1]):
        x = fft_1d(x, n, d, norm, False)
    return irfft_1d(x, sizes[-1], dims[-1], norm)

"""Calculus on sampled functions: integration (``trapezoid``, alias ``trapz``, and ``cumulative_trapezoid``) and
differentiation (``gradient``).

Composed from ember ops (narrow, arithmetic, sum/cumsum, cat), so gradients with respect to both the samples
and the sample points follow from theirs.
"""
from ._common import Tensor, function, wrap_dim
from .cumulative import cumsum, diff
from .joining import cat
from .shape import narrow


def _spacing(name, y, x, dx, dim):
    """The sample spacings along ``dim``: a number, or a tensor broadcasting against the trapezoid areas."""
    if x is not None and dx is not None:
        raise TypeError(f"{name}() received an invalid combination of arguments - got (Tensor, Tensor, dx=...), "
                        f"but expected one of:\n * (Tensor y, Tensor x, *, int dim = -1)\n"
                        f" * (Tensor y, *, Number dx = 1, int dim = -1)\n")
    if x is None:
        return 1 if dx is None else dx
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument 'x' must be Tensor, not {type(x).__name__}")
    if x.dim() == 1:
        if x.shape[0] != y.shape[dim]:
            raise RuntimeError(f"{name}: There must be one `x` value for each sample point")
        d = diff(x)
        return d.reshape([-1] + [1] * (y.dim() - 1 - dim))
    return diff(x, dim=dim)


def _areas(name, y, x, dx, dim):
    """The trapezoid areas between neighbouring samples along ``dim`` (floating even for integer samples)."""
    dim = wrap_dim(dim, y.dim())
    h = _spacing(name, y, x, dx, dim)
    n = y.shape[dim]
    if n == 0:  # no samples (cumulative_trapezoid)
        return None, dim
    left, right = narrow(y, dim, 0, n - 1), narrow(y, dim, 1, n - 1)
    return (left + right) * h / 2, dim


@function(aliases=("trapz",))
def trapezoid(y, x=None, *, dx=None, dim=-1):
    """The trapezoid rule integral of samples ``y`` along ``dim``, at points ``x`` (1-D, or shaped like ``y``)
    or spaced ``dx`` apart (default 1)."""
    d = wrap_dim(dim, y.dim())
    if y.shape[d] == 0:  # no samples: zeros of y's own dtype, with no graph and whatever x is, as PyTorch
        return y.detach().sum(d, dtype=y.dtype)
    areas, dim = _areas("trapezoid", y, x, dx, d)
    return areas.sum(dim)


@function
def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    """The running trapezoid-rule integral along ``dim``: one fewer element than ``y`` there."""
    areas, dim = _areas("cumulative_trapezoid", y, x, dx, dim)
    if areas is None:
        return y * 1.0
    return cumsum(areas, dim)


# ---------------------------------------------------------------------------- numerical differentiation
def _along(t, dim, start, length):
    return narrow(t, dim, start, length)


def _shape_for(coords, ndim, dim):
    """A 1-D tensor of per-position values shaped to broadcast along ``dim`` of an ``ndim``-dim tensor."""
    return coords.reshape([-1] + [1] * (ndim - 1 - dim))


def _gradient_1d(f, dim, h, edge_order):
    """The derivative estimate along ``dim``: central differences inside, one-sided (order 1 or 2) at the ends;
    ``h`` is a number (uniform spacing) or a 1-D tensor of coordinates."""
    n, nd = f.shape[dim], f.dim()
    if isinstance(h, Tensor):
        dx = diff(h)
        hl, hr = _shape_for(dx[:-1], nd, dim), _shape_for(dx[1:], nd, dim)
        fl, fc, fr = _along(f, dim, 0, n - 2), _along(f, dim, 1, n - 2), _along(f, dim, 2, n - 2)
        inner = (hl * hl * fr - hr * hr * fl + (hr * hr - hl * hl) * fc) / (hl * hr * (hl + hr))
        if edge_order == 1:
            first = (_along(f, dim, 1, 1) - _along(f, dim, 0, 1)) / dx[0]
            last = (_along(f, dim, n - 1, 1) - _along(f, dim, n - 2, 1)) / dx[-1]
        else:
            d1, d2 = dx[0], dx[1]
            first = (-(2 * d1 + d2) / (d1 * (d1 + d2)) * _along(f, dim, 0, 1) + (d1 + d2) / (d1 * d2)
                     * _along(f, dim, 1, 1) - d1 / (d2 * (d1 + d2)) * _along(f, dim, 2, 1))
            d1, d2 = dx[-2], dx[-1]
            last = (d2 / (d1 * (d1 + d2)) * _along(f, dim, n - 3, 1) - (d2 + d1) / (d1 * d2)
                    * _along(f, dim, n - 2, 1) + (2 * d2 + d1) / (d2 * (d1 + d2)) * _along(f, dim, n - 1, 1))
    else:
        inner = (_along(f, dim, 2, n - 2) - _along(f, dim, 0, n - 2)) / (2 * h)
        if edge_order == 1:
            first = (_along(f, dim, 1, 1) - _along(f, dim, 0, 1)) / h
            last = (_along(f, dim, n - 1, 1) - _along(f, dim, n - 2, 1)) / h
        else:
            first = (-3 * _along(f, dim, 0, 1) + 4 * _along(f, dim, 1, 1) - _along(f, dim, 2, 1)) / (2 * h)
            last = (3 * _along(f, dim, n - 1, 1) - 4 * _along(f, dim, n - 2, 1) + _along(f, dim, n - 3, 1)) / (2 * h)
    return cat([first, inner, last], dim)


@function
def gradient(input, *, spacing=1, dim=None, edge_order=1):
    """Estimates of the partial derivatives of the samples ``input`` along ``dim`` (every dim by default):
    second-order central differences inside and one-sided differences of order ``edge_order`` (1 or 2) at the
    ends.  ``spacing`` is one number, one number per dim, or one coordinate tensor per dim.  Returns a tuple
    with one tensor per dim."""
    if edge_order not in (1, 2):
        raise RuntimeError("torch.gradient only supports edge_order=1 and edge_order=2.")
    dims = list(range(input.dim())) if dim is None else ([dim] if isinstance(dim, int) else list(dim))
    dims = [wrap_dim(d, input.dim()) for d in dims]
    if isinstance(spacing, (list, tuple)):
        if len(spacing) != len(dims):
            raise RuntimeError(f"torch.gradient expected spacing to be unspecified, a scalar or it's spacing and "
                               f"dim arguments to have the same length, but got a spacing argument of length "
                               f"{len(spacing)} and a dim argument of length {len(dims)}.")
        steps = list(spacing)
    else:
        steps = [spacing] * len(dims)
    f = input if input.dtype.is_floating_point or input.dtype.is_complex else input * 1.0
    out = []
    for d, h in zip(dims, steps):
        if f.shape[d] < edge_order + 1:
            raise RuntimeError("torch.gradient expected each dimension size to be at least edge_order+1")
        out.append(_gradient_1d(f, d, h.item() if isinstance(h, Tensor) and h.dim() == 0 else h, edge_order))
    return tuple(out)

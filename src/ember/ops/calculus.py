"""Numerical integration of sampled functions: ``trapezoid`` (alias ``trapz``) and ``cumulative_trapezoid``.

Composed from ember ops (narrow, arithmetic, sum/cumsum), so gradients with respect to both the samples and
the sample points follow from theirs.
"""
from ._common import Tensor, function, wrap_dim
from .cumulative import cumsum, diff
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
    if n == 0:
        return None, dim
    left, right = narrow(y, dim, 0, n - 1), narrow(y, dim, 1, n - 1)
    return (left + right) * h / 2, dim


@function(aliases=("trapz",))
def trapezoid(y, x=None, *, dx=None, dim=-1):
    """The trapezoid rule integral of samples ``y`` along ``dim``, at points ``x`` (1-D, or shaped like ``y``)
    or spaced ``dx`` apart (default 1)."""
    areas, dim = _areas("trapezoid", y, x, dx, dim)
    if areas is None:   # no samples: zeros of y's own dtype, as PyTorch
        return y.sum(dim, dtype=y.dtype)
    return areas.sum(dim)


@function
def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    """The running trapezoid-rule integral along ``dim``: one fewer element than ``y`` there."""
    areas, dim = _areas("cumulative_trapezoid", y, x, dx, dim)
    if areas is None:
        return y * 1.0
    return cumsum(areas, dim)

"""Statistics of samples: covariance and correlation matrices (``cov``, ``corrcoef``, composed from ember ops so
they are differentiable) and histograms (``histogram``, ``histogramdd``; counts, no gradient)."""
import math
import warnings

from .. import _dtype, return_types
from ._common import array_module, Tensor, op, function, _make


# ---------------------------------------------------------------------------- covariance
@op
def cov(input, *, correction=1, fweights=None, aweights=None):
    """The covariance matrix of the variables in the rows of ``input`` (observations in the columns; a 1-D
    input is one variable), with integer frequency weights ``fweights``, observation weights ``aweights`` and
    ``correction`` (1: Bessel's).  Returns a (rows, rows) tensor, 0-d for one variable."""
    if input.dim() > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an input with "
                           f"{input.dim()} dimensions")
    x = input if input.dim() == 2 else input.reshape(1, -1)
    if not (x.dtype.is_floating_point or x.dtype.is_complex):
        x = x.to(_dtype.get_default_dtype())
    n = x.shape[1]
    w = None
    if fweights is not None:
        _check_weights("fweights", fweights, n, integral=True)
        w = fweights
    if aweights is not None:
        _check_weights("aweights", aweights, n, integral=False)
        w = aweights if w is None else w * aweights
    if w is None:
        w_sum = n
        avg = x.mean(1)
    else:
        w = w.to(x.dtype) if not w.dtype.is_complex else w
        w_sum = w.sum()
        avg = (x * w).sum(1) / w_sum
    if w is None:
        norm = w_sum - correction
    elif aweights is None or correction == 0:
        norm = w_sum - correction
    else:
        norm = w_sum - correction * (w * aweights).sum() / w_sum
    if (norm <= 0) if not isinstance(norm, Tensor) else bool((norm <= 0).item()):
        warnings.warn("cov(): degrees of freedom is <= 0. Correction should be strictly less than the number "
                      "of observations.", UserWarning, stacklevel=2)
        norm = norm * 0 if isinstance(norm, Tensor) else 0
    xm = x - avg.unsqueeze(1)
    xw = xm if w is None else xm * w
    c = (xw @ xm.mT.conj()) / norm
    return c.squeeze() if input.dim() < 2 else c


def _check_weights(name, w, n, integral):
    if w.dim() > 1:
        raise RuntimeError(f"cov(): expected {name} to have one or fewer dimensions but got {name} with "
                           f"{w.dim()} dimensions")
    if w.numel() != n:
        raise RuntimeError(f"cov(): expected {name} to have the same numel as there are observations in the "
                           f"input but got {w.numel()} != {n}")
    if integral and w.dtype.is_floating_point:
        raise RuntimeError(f"cov(): expected {name} to have integral dtype but got {name} with "
                           f"{_dtype.scalar_name(w.dtype)} dtype")
    if not integral and not w.dtype.is_floating_point:
        raise RuntimeError(f"cov(): expected {name} to have floating point dtype but got {name} with "
                           f"{_dtype.scalar_name(w.dtype)} dtype")
    if bool((w < 0).any().item()):
        raise RuntimeError(f"cov(): {name} cannot be negative")


@op
def corrcoef(input):
    """Pearson correlation coefficients of the variables in the rows of ``input`` (``cov`` normalised by the
    standard deviations; real results clipped to [-1, 1])."""
    if input.dim() > 2:
        raise RuntimeError(f"corrcoef(): expected input to have two or fewer dimensions but got an input with "
                           f"{input.dim()} dimensions")
    c = cov(input)
    if c.dim() == 0:
        return c / c
    d = c.diagonal()
    if c.dtype.is_complex:
        std = d.real.sqrt()
        return c / std.unsqueeze(1) / std.unsqueeze(0)
    std = d.sqrt()
    return (c / std.unsqueeze(1) / std.unsqueeze(0)).clamp(-1, 1)


# ---------------------------------------------------------------------------- histograms
def _edges(xp, values, bins, rng, dim, dt):
    """Bin edges for one dimension: the given edges, or ``bins`` equal bins over ``rng`` (else the data range)."""
    if isinstance(bins, Tensor):
        return bins._data.astype(dt.np, copy=False)
    if rng is not None:
        lo, hi = float(rng[0]), float(rng[1])
    elif values.size:
        lo, hi = float(values.min()), float(values.max())
    else:  # no data: PyTorch's bins cover [0, 1]
        lo, hi = 0.0, 1.0
    if lo > hi:
        raise RuntimeError(f"torch.histogramdd: min should not exceed max, but got min {lo:g} max {hi:g} for "
                           f"dimension {dim}")
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    return xp.linspace(lo, hi, int(bins) + 1).astype(dt.np)


def _histogramdd(samples, bins, rng, weight, density):
    """(hist array, [edge arrays]) of ``samples`` (N, D) with PyTorch's bins/range rules."""
    if not samples.dtype.is_floating_point:
        raise NotImplementedError(f'"histogramdd" not implemented for \'{_dtype.scalar_name(samples.dtype)}\'')
    xp = array_module(samples)
    dt = samples.dtype
    s = samples._data.reshape(math.prod(samples.shape[:-1]), samples.shape[-1]) if samples.dim() else \
        samples._data.reshape(1, 1)
    d = s.shape[1]
    per_dim = list(bins) if isinstance(bins, (list, tuple)) else [bins] * d
    if len(per_dim) != d:
        if any(isinstance(b, Tensor) for b in per_dim):
            raise RuntimeError(f"torch.histogramdd: expected {d} sequences of bin edges for a {d}-dimensional "
                               f"histogram but got {len(per_dim)}")
        raise RuntimeError("histogramdd: The size of bins must be equal to the innermost dimension of the input.")
    ranges = [None] * d if rng is None else [rng[2 * i:2 * i + 2] for i in range(d)]
    if d == 0:  # points without coordinates: PyTorch's histogram is a 0-d zero with no edges
        return xp.zeros((), dt.np), []
    edges = [_edges(xp, s[:, i], per_dim[i], ranges[i], i, dt) for i in range(d)]
    w = None if weight is None else weight._data.reshape(-1)
    hist, _ = xp.histogramdd(s, bins=edges, weights=w, density=density)
    return hist.astype(dt.np), edges


@op
def histogram(input, bins, *, range=None, weight=None, density=False, out=None):
    """Counts of ``input``'s values in ``bins`` (a number of equal bins over ``range`` or the data range, or a
    1-D tensor of edges); ``weight`` weighs each value, ``density`` normalises to a density.
    Returns ``(hist, bin_edges)``."""
    rng = None if range is None else tuple(range)
    hist, edges = _histogramdd(input.reshape(-1, 1), [bins], rng, weight, density)
    return return_types.histogram(_make(hist), _make(edges[0]))


@function
def histogramdd(input, bins, *, range=None, weight=None, density=False, out=None):
    """The D-dimensional histogram of the points in the rows of ``input`` (..., D): ``bins`` is a number, one
    number per dimension, or one edge tensor per dimension; ``range`` is ``[min0, max0, min1, max1, ...]``.
    Returns ``(hist, bin_edges)`` with one edge tensor per dimension."""
    hist, edges = _histogramdd(input, bins, range, weight, density)
    return return_types.histogramdd(_make(hist), tuple(_make(e) for e in edges))

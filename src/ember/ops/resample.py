"""Resampling: padding (constant / reflect / replicate / circular), interpolation (nearest, linear,
bilinear, bicubic, trilinear, area), grid_sample, affine_grid, pixel (un)shuffle and channel shuffle.

Padding and interpolation are separable linear maps: along each spatial axis the output is a weighted
sum of a few ``take``s of the input (one tap for nearest and the padding modes, two for linear, four
for cubic).  The adjoint scatters back with one sorted ``add.reduceat`` per tap, so both directions
are vectorised over everything but the axis and the taps, and every map is recorded with its adjoint
(``pool.linear_map``) for derivatives of any order.
"""
import math

from ._common import _make, array_module, module_of_array, function
from .pool import linear_map, adaptive_avg_pool, _prod


# ---------------------------------------------------------------------------------------- separable taps

def _take_sum(a, axis, taps):
    """sum over taps (idx, weight) of ``a.take(idx, axis) * weight`` (weight None = 1)."""
    xp = module_of_array(a)
    out = None
    shape = [1] * a.ndim
    shape[axis] = -1
    for idx, wt in taps:
        v = xp.take(a, idx, axis=axis)
        if wt is not None:
            v *= wt.reshape(shape)
        if out is None:
            out = v
        else:
            out += v
    return out


def _scatter_axis(g, idx, n, axis):
    """Adjoint of ``take(·, idx, axis)`` for an input of length ``n`` along ``axis``: sums repeated indices."""
    xp = module_of_array(g)
    order = xp.argsort(idx, kind="stable")
    sidx = idx[order]
    if not (order == xp.arange(len(order))).all():
        g = xp.take(g, order, axis=axis)
    if len(sidx) == 0:
        shape = list(g.shape)
        shape[axis] = n
        return xp.zeros(shape, dtype=g.dtype)
    starts = xp.flatnonzero(xp.concatenate(([True], sidx[1:] != sidx[:-1])))
    sums = xp.add.reduceat(g, starts, axis=axis)
    targets = sidx[starts]
    if len(targets) == n:  # every input position received something, in order
        return sums
    shape = list(g.shape)
    shape[axis] = n
    out = xp.zeros(shape, dtype=g.dtype)
    key = [slice(None)] * g.ndim
    key[axis] = targets
    out[tuple(key)] = sums
    return out


def _scatter_sum(g, axis, taps, n):
    out = None
    shape = [1] * g.ndim
    shape[axis] = -1
    for idx, wt in taps:
        v = g * wt.reshape(shape) if wt is not None else g
        s = _scatter_axis(v, idx, n, axis)
        out = s if out is None else out + s
    return out


def _separable(input, plan, name):
    """Linear map applying, per axis in ``plan`` [(axis, taps, in_len)], a tap sum; recorded with its adjoint."""
    def fwd(a):
        for axis, taps, _ in plan:
            a = _take_sum(a, axis, taps)
        return a

    def adj(g):
        for axis, taps, n in reversed(plan):
            g = _scatter_sum(g, axis, taps, n)
        return g

    return linear_map(input, fwd, adj, name)


# ---------------------------------------------------------------------------------------- padding

def _check_pad(pad, ndim):
    pad = [int(p) for p in pad]
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) // 2 > ndim:
        raise RuntimeError(f"Padding length should be less than or equal to two times the input dimension but got "
                           f"padding length {len(pad)} and input of dimension {ndim}")
    return pad


@function
def constant_pad_nd(input, pad, value=0):
    """Pad (or, with negative amounts, crop) the last ``len(pad) // 2`` dims; pad = (left, right, top, ...)."""
    xp = array_module(input)
    x = input._data
    pad = _check_pad(pad, x.ndim)
    m = len(pad) // 2
    shape = list(x.shape)
    src, dst = [slice(None)] * x.ndim, [slice(None)] * x.ndim
    for i in range(m):
        d = x.ndim - 1 - i
        lo, hi = pad[2 * i], pad[2 * i + 1]
        n = x.shape[d] + lo + hi
        if n < 0:
            raise RuntimeError(f"The input size {x.shape[d]}, plus negative padding {lo} and {hi} resulted in a "
                               f"negative output size, which is invalid. Check dimension {d} of your input.")
        shape[d] = n
        src[d] = slice(max(-lo, 0), x.shape[d] - max(-hi, 0))
        dst[d] = slice(max(lo, 0), n - max(hi, 0))
    src, dst, shape = tuple(src), tuple(dst), tuple(shape)

    def lin(a, fill=0):
        out = xp.full(shape, fill, dtype=a.dtype) if fill or any(p > 0 for p in pad) else xp.empty(shape, a.dtype)
        out[dst] = a[src]
        return out

    def adj(g):
        out = xp.zeros(x.shape, dtype=g.dtype)
        out[src] = g[dst]
        return out

    if x.dtype.kind == "b":
        value = bool(value)
    elif x.dtype.kind in "iu":
        if isinstance(value, float) and not value.is_integer():
            value = int(value)
    return linear_map(input, lin, adj, "ConstantPadNdBackward0", out=lin(x, value))


_PAD_HELP = ("Supported combinations for non-constant padding:\n"
             "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
             "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
             "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")


def _pad_index(xp, n, lo, hi, mode):
    """Source index along one axis for every output position of a reflect/replicate/circular pad."""
    j = xp.arange(-lo, n + hi)
    if mode == "reflect":
        if n == 1:
            return xp.zeros(len(j), dtype=xp.int64)
        period = 2 * (n - 1)
        j = xp.abs(j) % period
        return xp.where(j >= n, period - j, j)
    if mode == "replicate":
        return xp.clip(j, 0, n - 1)
    return j % n  # circular


def _pad_mode(input, pad, mode):
    """Non-constant padding of the last ``len(pad) // 2`` (1 to 3) dims."""
    xp = array_module(input)
    x = input._data
    pad = [int(p) for p in pad]
    m = len(pad) // 2
    if len(pad) % 2 or m not in (1, 2, 3) or x.ndim not in (m + 1, m + 2):
        raise NotImplementedError(f"Padding size {len(pad)} is not supported for {x.ndim}D input tensor.\n"
                                  + _PAD_HELP)
    if mode != "circular" and 0 in x.shape[int(x.ndim == m + 2):]:  # only a batch dim may be empty
        raise RuntimeError(f"Expected {m + 1}D or {m + 2}D (batch mode) tensor with possibly 0 batch size and other "
                           f"non-zero dimensions for input, but got: {list(x.shape)}")
    plan = []
    for i in range(m):
        d = x.ndim - 1 - i
        lo, hi = pad[2 * i], pad[2 * i + 1]
        n = x.shape[d]
        if mode == "reflect":
            if lo >= n or hi >= n:
                raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding input dimension, "
                                   f"but got: padding ({lo}, {hi}) at dimension {d} of input {list(x.shape)}")
        elif mode == "circular":
            if lo > n or hi > n:
                raise RuntimeError("Padding value causes wrapping around more than once.")
        if lo == 0 and hi == 0:
            continue
        if mode == "circular" and (lo < 0 or hi < 0):
            idx = xp.arange(-lo, n + hi) % n if lo >= 0 else xp.arange(-lo, n + hi)
        else:
            idx = _pad_index(xp, n, lo, hi, mode)
        plan.append((d, [(idx, None)], n))
    word = {"reflect": "Reflection", "replicate": "Replication", "circular": "Circular"}[mode]
    return _separable(input, plan, f"{word}Pad{max(m, 1)}DBackward0")


def pad(input, pad, mode="constant", value=None):
    """``nn.functional.pad``."""
    if mode == "constant":
        return constant_pad_nd(input, pad, 0 if value is None else value)
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    return _pad_mode(input, pad, mode)


# ---------------------------------------------------------------------------------------- interpolation

_MODES = ("nearest", "linear", "bilinear", "bicubic", "trilinear", "lanczos", "area", "nearest-exact")
_LINEAR_MODES = {"linear": 1, "bilinear": 2, "trilinear": 3, "bicubic": 2}


def _opmath(xp, dtype):
    return xp.float64 if dtype == xp.float64 else xp.float32


def _area_scale(n_in, n_out, align_corners, scale, ft):
    if align_corners:
        return ft((n_in - 1) / (n_out - 1)) if n_out > 1 else ft(0)
    if scale is not None and scale > 0:
        return ft(1.0 / scale)
    return ft(n_in) / ft(n_out)


def _nearest_taps(xp, n_in, n_out, scale, exact):
    if n_out == n_in and not exact:
        return [(xp.arange(n_out), None)]
    if n_out == 2 * n_in and not exact:
        return [(xp.arange(n_out) >> 1, None)]
    s = xp.float32(1.0 / scale) if scale is not None and scale > 0 else xp.float32(n_in) / xp.float32(n_out)
    j = xp.arange(n_out, dtype=xp.float32)
    if exact:
        j = j + xp.float32(0.5)
    idx = xp.minimum(xp.floor(j * s).astype(xp.int64), n_in - 1)
    return [(idx, None)]


def _linear_taps(xp, n_in, n_out, align_corners, scale, dtype):
    ft = _opmath(xp, dtype)
    s = _area_scale(n_in, n_out, align_corners, scale, ft)
    j = xp.arange(n_out, dtype=ft)
    if align_corners:
        src = s * j
    else:
        src = xp.maximum(s * (j + ft(0.5)) - ft(0.5), ft(0))
    i0 = src.astype(xp.int64)
    i1 = i0 + (i0 < n_in - 1)
    l1 = (src - i0.astype(ft)).astype(dtype)
    l0 = (ft(1) - l1).astype(dtype)
    return [(i0, l0), (i1, l1)]


def _cubic_taps(xp, n_in, n_out, align_corners, scale, dtype):
    ft = _opmath(xp, dtype)
    s = _area_scale(n_in, n_out, align_corners, scale, ft)
    j = xp.arange(n_out, dtype=ft)
    src = s * j if align_corners else s * (j + ft(0.5)) - ft(0.5)
    fl = xp.floor(src)
    t = src - fl
    i = fl.astype(xp.int64)
    A = ft(-0.75)

    def c1(x):
        return ((A + 2) * x - (A + 3)) * x * x + 1

    def c2(x):
        return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A

    ws = (c2(t + 1), c1(t), c1(1 - t), c2(2 - t))
    return [(xp.clip(i - 1 + k, 0, n_in - 1), ws[k].astype(dtype)) for k in range(4)]


def _sinc(x):
    xp = module_of_array(x)
    x = x.astype(xp.float64)
    return xp.where(x == 0, 1.0, xp.sin(math.pi * x) / (math.pi * xp.where(x == 0, 1.0, x)))


def _aa_taps(xp, n_in, n_out, align_corners, scale, dtype, mode):
    """Antialiased taps (PyTorch's separable AA kernels, as PIL): a triangle (bilinear), Keys a=-0.5 cubic or
    Lanczos-3 filter stretched by the downscale factor, normalised per output; unused trailing taps weigh 0."""
    ft = _opmath(xp, dtype)
    s = _area_scale(n_in, n_out, align_corners, scale, ft)
    half = ft({"bilinear": 1.0, "bicubic": 2.0, "lanczos": 3.0}[mode])
    support = half * s if s >= 1 else half
    invscale = ft(1) / s if s >= 1 else ft(1)
    ntaps = int(math.ceil(support)) * 2 + 1
    center = s * (xp.arange(n_out, dtype=ft) + ft(0.5))
    xmin = xp.maximum((center - support + ft(0.5)).astype(xp.int64), 0)
    xsize = xp.minimum((center + support + ft(0.5)).astype(xp.int64), n_in) - xmin
    k = xp.arange(ntaps)
    x = xp.abs(((k[None, :] + xmin[:, None]).astype(ft) - center[:, None] + ft(0.5)) * invscale)
    if mode == "lanczos":
        w = xp.where(x < 3, _sinc(x) * _sinc(x / 3), 0)
    elif mode == "bicubic":
        a = ft(-0.5)
        w = xp.where(x < 1, ((a + 2) * x - (a + 3)) * x * x + 1, xp.where(x < 2, (((x - 5) * x + 8) * x - 4) * a, 0))
    else:
        w = xp.where(x < 1, 1 - x, 0)
    w = xp.where(k[None, :] < xsize[:, None], w, 0).astype(ft)
    total = w[:, 0].copy()
    for j in range(1, ntaps):
        total += w[:, j]
    w = (w / xp.where(total == 0, ft(1), total)[:, None]).astype(dtype)
    idx = xp.minimum(xmin[:, None] + k[None, :], n_in - 1)
    return [(idx[:, j], w[:, j]) for j in range(ntaps)]


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                 recompute_scale_factor=None, antialias=False):
    """``nn.functional.interpolate``."""
    xp = array_module(input)
    x = input._data
    dim = x.ndim - 2
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating modes: "
                             "linear | bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        if isinstance(size, (list, tuple)):
            if len(size) != dim:
                raise ValueError("Input and output must have the same number of spatial dimensions, but got input "
                                 f"with spatial dimensions of {list(x.shape[2:])} and output size of {list(size)}. "
                                 "Please provide input tensor in (N, C, d1, d2, ...,dK) format and output size in "
                                 "(o1, o2, ...,oK) format.")
            out_size = [int(s) for s in size]
        else:
            out_size = [int(size)] * dim
        scales = [None] * dim
    elif scale_factor is not None:
        if isinstance(scale_factor, (list, tuple)):
            if len(scale_factor) != dim:
                raise ValueError("Input and scale_factor must have the same number of spatial dimensions, but got "
                                 f"input with spatial dimensions of {list(x.shape[2:])} and scale_factor of shape "
                                 f"{list(scale_factor)}. Please provide input tensor in (N, C, d1, d2, ...,dK) format "
                                 "and scale_factor in (s1, s2, ...,sK) format.")
            scales = [float(s) for s in scale_factor]
        else:
            scales = [float(scale_factor)] * dim
        out_size = [int(math.floor(float(n) * s)) for n, s in zip(x.shape[2:], scales)]
    else:
        raise ValueError("either size or scale_factor should be defined")
    if recompute_scale_factor is not None and recompute_scale_factor and size is not None:
        raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    if mode == "area" or recompute_scale_factor:
        scales = [None] * dim
    if antialias and not (mode in ("bilinear", "bicubic", "lanczos") and x.ndim == 4):
        raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos modes and requires a 4-D "
                         "tensor as input")
    if mode == "lanczos" and x.ndim == 4:
        if align_corners:
            raise ValueError("Lanczos mode does not support align_corners=True")
        if not antialias:
            raise ValueError("Lanczos mode requires antialias=True")
    if mode not in _MODES:
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {x.ndim}D) for the "
                                  "modes: nearest | linear | bilinear | bicubic | trilinear | lanczos | area | nearest-exact "
                                  f"(got {mode})")
    if x.ndim not in (3, 4, 5):
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {x.ndim}D) for the "
                                  "modes: nearest | linear | bilinear | bicubic | trilinear | lanczos | area | nearest-exact "
                                  f"(got {mode})")
    if mode == "lanczos" and x.ndim != 4:
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {x.ndim}D) for the "
                                  "modes: nearest | linear | bilinear | bicubic | trilinear | lanczos | area | "
                                  f"nearest-exact (got {mode})")
    if mode in _LINEAR_MODES and _LINEAR_MODES[mode] != dim:
        raise NotImplementedError(f"Got {x.ndim}D input, but {mode} mode needs {_LINEAR_MODES[mode] + 2}D input")
    if any(o <= 0 for o in out_size):
        raise RuntimeError(f"Input and output sizes should be greater than 0, but got input "
                           f"({', '.join(str(s) for s in x.shape[2:])}) output "
                           f"({', '.join(str(s) for s in out_size)})")
    if mode == "area":
        return adaptive_avg_pool(input, dim, tuple(out_size))
    if antialias and x.dtype.kind not in "fc":
        from ._common import dtype_name
        raise NotImplementedError(f"\"compute_index_ranges_weights\" not implemented for '{dtype_name(input.dtype)}'")
    if mode in ("linear", "bilinear", "trilinear", "bicubic") and x.dtype.kind not in "fc":
        raise RuntimeError(f"\"upsample_{mode}{dim}d_out_frame\" not implemented for '{x.dtype.name}'")
    plan = []
    for k, (n, o, s) in enumerate(zip(x.shape[2:], out_size, scales)):
        if antialias:
            taps = _aa_taps(xp, n, o, align_corners, s, x.dtype, mode)
        elif mode in ("nearest", "nearest-exact"):
            taps = _nearest_taps(xp, n, o, s, mode == "nearest-exact")
        elif mode == "bicubic":
            taps = _cubic_taps(xp, n, o, align_corners, s, x.dtype)
        else:
            taps = _linear_taps(xp, n, o, align_corners, s, x.dtype)
        plan.append((2 + k, taps, n))
    if antialias:  # PyTorch resamples the width first, then the height
        plan.reverse()
    word = {"nearest": "Nearest", "nearest-exact": "NearestExact", "linear": "Linear", "bilinear": "Bilinear",
            "trilinear": "Trilinear", "bicubic": "Bicubic", "lanczos": "Lanczos"}[mode]
    return _separable(input, plan, f"Upsample{word}{dim}D{'Aa' if antialias else ''}Backward0")


# ---------------------------------------------------------------------------------------- shuffles

@function
def pixel_shuffle(input, upscale_factor):
    """(*, C * r^2, H, W) -> (*, C, H * r, W * r)."""
    x = input._data
    r = int(upscale_factor)
    if x.ndim < 3:
        raise RuntimeError(f"pixel_shuffle expects input to have at least 3 dimensions, but got input with "
                           f"{x.ndim} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_shuffle expects a positive upscale_factor, but got {r}")
    c, h, w = x.shape[-3:]
    if c % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of "
                           f"upscale_factor, but input.size(-3)={c} is not divisible by {r * r}")
    lead = x.shape[:-3]
    k = len(lead)
    oc = c // (r * r)

    def fwd(a):
        a = a.reshape(lead + (oc, r, r, h, w)).transpose(tuple(range(k)) + (k, k + 3, k + 1, k + 4, k + 2))
        return a.reshape(lead + (oc, h * r, w * r))

    def adj(g):
        g = g.reshape(lead + (oc, h, r, w, r)).transpose(tuple(range(k)) + (k, k + 2, k + 4, k + 1, k + 3))
        return g.reshape(x.shape)

    return linear_map(input, fwd, adj, "PixelShuffleBackward0", "PixelUnshuffleBackward0")


@function
def pixel_unshuffle(input, downscale_factor):
    """(*, C, H * r, W * r) -> (*, C * r^2, H, W)."""
    x = input._data
    r = int(downscale_factor)
    if x.ndim < 3:
        raise RuntimeError(f"pixel_unshuffle expects input to have at least 3 dimensions, but got input with "
                           f"{x.ndim} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_unshuffle expects a positive downscale_factor, but got {r}")
    c, h, w = x.shape[-3:]
    if h % r:
        raise RuntimeError(f"pixel_unshuffle expects height to be divisible by downscale_factor, but input.size(-2)="
                           f"{h} is not divisible by {r}")
    if w % r:
        raise RuntimeError(f"pixel_unshuffle expects width to be divisible by downscale_factor, but input.size(-1)="
                           f"{w} is not divisible by {r}")
    lead = x.shape[:-3]
    k = len(lead)
    oh, ow = h // r, w // r

    def fwd(a):
        a = a.reshape(lead + (c, oh, r, ow, r)).transpose(tuple(range(k)) + (k, k + 2, k + 4, k + 1, k + 3))
        return a.reshape(lead + (c * r * r, oh, ow))

    def adj(g):
        g = g.reshape(lead + (c, r, r, oh, ow)).transpose(tuple(range(k)) + (k, k + 3, k + 1, k + 4, k + 2))
        return g.reshape(x.shape)

    return linear_map(input, fwd, adj, "PixelUnshuffleBackward0", "PixelShuffleBackward0")


@function(aliases=("native_channel_shuffle",))
def channel_shuffle(input, groups):
    """Split the channels (dim 1) into ``groups`` groups and interleave them."""
    xp = array_module(input)
    x = input._data
    g = int(groups)
    if g <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value of groups:{g}")
    if x.ndim < 3:
        raise RuntimeError(f"channel_shuffle expects input to have at least 3 dimensions, but got input with "
                           f"{x.ndim} dimension(s)")
    n, c = x.shape[:2]
    if c % g:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {c} channels and {g} groups.")
    rest = x.shape[2:]

    def shuffle(a, k):
        return xp.ascontiguousarray(a.reshape((n, k, c // k) + rest).swapaxes(1, 2)).reshape(x.shape)

    return linear_map(input, lambda a: shuffle(a, g), lambda a: shuffle(a, c // g), "ChannelShuffleBackward0")




# ---------------------------------------------------------------------------------------- grids

def _base_coords(xp, n, align_corners, dtype):
    if n <= 1:
        return xp.zeros(max(n, 0), dtype=dtype)
    c = xp.linspace(-1, 1, n, dtype=dtype)
    return c if align_corners else c * ((n - 1) / n)


@function
def affine_grid_generator(theta, size, align_corners):
    """Sampling grid (N, *spatial, nd) of the affine maps ``theta`` (N, nd, nd + 1) over an output of ``size``."""
    xp = array_module(theta)
    size = [int(s) for s in size]
    th = theta._data
    nd = len(size) - 2
    if th.dtype.kind != "f":
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    if nd == 2:
        if th.ndim != 3 or th.shape[1:] != (2, 3):
            raise ValueError(f"Expected a batch of 2D affine matrices of shape Nx2x3 for size {size}. Got "
                             f"{list(th.shape)}.")
    elif nd == 3:
        if th.ndim != 3 or th.shape[1:] != (3, 4):
            raise ValueError(f"Expected a batch of 3D affine matrices of shape Nx3x4 for size {size}. Got "
                             f"{list(th.shape)}.")
    else:
        raise NotImplementedError(f"affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, "
                                  f"respectively. Got size {size}.")
    if min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    n = size[0]
    sp = size[2:]
    # base grid (*sp, nd + 1): coordinates ordered x (last dim), y, z, then 1
    axes = [_base_coords(xp, s, align_corners, th.dtype) for s in sp]
    base = xp.ones(tuple(sp) + (nd + 1,), dtype=th.dtype)
    for k in range(nd):  # coordinate k walks spatial axis nd - 1 - k
        shape = [1] * nd
        shape[nd - 1 - k] = -1
        base[..., k] = axes[nd - 1 - k].reshape(shape)
    b = _make(base.reshape(1, -1, nd + 1))
    grid = b.matmul(theta.transpose(1, 2))  # (N, P, nd)
    return grid.reshape([th.shape[0]] + sp + [nd])


def _unnormalize(c, n, align_corners):
    if align_corners:
        return (c + 1) * ((n - 1) / 2)
    return ((c + 1) * n - 1) / 2


def _reflect(c, twice_low, twice_high):
    if twice_low == twice_high:
        return c * 0
    mn = twice_low / 2
    span = (twice_high - twice_low) / 2
    c = (c - mn).abs()
    extra = c.remainder(span)
    flips = (c.detach() / span).floor()
    return extra.where(flips.remainder(2) == 0, span - extra) + mn


def _source_coords(c, n, padding_mode, align_corners):
    c = _unnormalize(c, n, align_corners)
    if padding_mode == "border":
        c = c.clamp(0, n - 1)
    elif padding_mode == "reflection":
        if align_corners:
            c = _reflect(c, 0, 2 * (n - 1))
        else:
            c = _reflect(c, -1, 2 * n - 1)
        c = c.clamp(0, n - 1)
    return c


def _tap_index(i, n, padding_mode, align_corners):
    """Integer tap coordinates (array) mapped by the padding mode (bicubic) -> (index clipped, valid mask)."""
    xp = module_of_array(i)
    if padding_mode == "border":
        i = xp.clip(i, 0, n - 1)
    elif padding_mode == "reflection":
        f = i.astype(xp.float64)
        if align_corners:
            lo, hi = 0.0, 2.0 * (n - 1)
        else:
            lo, hi = -1.0, 2.0 * n - 1
        if lo == hi:
            f = xp.zeros_like(f)
        else:
            mn, span = lo / 2, (hi - lo) / 2
            f = xp.abs(f - mn)
            extra = xp.fmod(f, span)
            flips = xp.floor(f / span)
            f = xp.where(flips % 2 == 0, extra + mn, span - extra + mn)
        i = xp.clip(f, 0, n - 1).astype(xp.int64)
    valid = (i >= 0) & (i < n)
    return xp.clip(i, 0, n - 1), valid


@function
def grid_sampler(input, grid, interpolation_mode, padding_mode, align_corners):
    """ATen's grid_sampler: modes 0 bilinear, 1 nearest, 2 bicubic; padding 0 zeros, 1 border, 2 reflection."""
    mode = ("bilinear", "nearest", "bicubic")[interpolation_mode]
    pmode = ("zeros", "border", "reflection")[padding_mode]
    return grid_sample(input, grid, mode, pmode, align_corners)


@function
def grid_sampler_2d(input, grid, interpolation_mode, padding_mode, align_corners):
    """``grid_sampler`` for 4-D input."""
    if input._data.ndim != 4:
        raise RuntimeError(f"grid_sampler(): expected 4D input and grid with same number of dimensions, but got "
                           f"input with sizes {list(input.shape)} and grid with sizes {list(grid.shape)}")
    return grid_sampler(input, grid, interpolation_mode, padding_mode, align_corners)


@function
def grid_sampler_3d(input, grid, interpolation_mode, padding_mode, align_corners):
    """``grid_sampler`` for 5-D input."""
    if input._data.ndim != 5:
        raise RuntimeError(f"grid_sampler(): expected 5D input and grid with same number of dimensions, but got "
                           f"input with sizes {list(input.shape)} and grid with sizes {list(grid.shape)}")
    return grid_sampler(input, grid, interpolation_mode, padding_mode, align_corners)


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """``nn.functional.grid_sample`` for 4-D (bilinear, nearest, bicubic) and 5-D (bilinear, nearest) input."""
    xp = array_module(input)
    x, gd = input._data, grid._data
    if x.ndim not in (4, 5) or gd.ndim != x.ndim:
        raise RuntimeError(f"grid_sampler(): expected 4D or 5D input and grid with same number of dimensions, but got "
                           f"input with sizes {list(x.shape)} and grid with sizes {list(gd.shape)}")
    if x.shape[0] != gd.shape[0]:
        raise RuntimeError(f"grid_sampler(): expected grid and input to have same batch size, but got input with sizes "
                           f"{list(x.shape)} and grid with sizes {list(gd.shape)}")
    nd = x.ndim - 2
    if gd.shape[-1] != nd:
        raise RuntimeError(f"grid_sampler(): expected grid to have size {nd} in last dimension, but got grid with "
                           f"sizes {list(gd.shape)}")
    if x.dtype != gd.dtype:
        raise RuntimeError(f"grid_sampler(): expected input and grid to have same dtype, but input has "
                           f"{input.dtype} and grid has {grid.dtype}")
    if mode == "bicubic" and nd != 2:
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
    n, c = x.shape[:2]
    sp = x.shape[2:]
    out_sp = gd.shape[1:-1]
    p = _prod(out_sp)
    flat_in = input.reshape(n, c, _prod(sp))  # named, not -1: the batch may be empty
    g2 = grid.reshape(n, p, nd)
    # coordinate k of the grid indexes spatial axis nd - 1 - k (x -> width)
    coords = [g2[..., k] for k in range(nd)]
    sizes = [sp[nd - 1 - k] for k in range(nd)]
    strides = [_prod(sp[nd - k:]) for k in range(nd)]  # flat stride of the axis coordinate k walks

    def gather(idx):  # idx (N, P) int array -> (N, C, P)
        t = _make(xp.broadcast_to(idx[:, None, :], (n, c, p)))
        return flat_in.gather(2, t)

    if mode == "bicubic":
        src = [_unnormalize(co, s, align_corners) for co, s in zip(coords, sizes)]
        fl = [s.detach().floor() for s in src]
        ts = [s - f for s, f in zip(src, fl)]
        A = -0.75

        def c1(t):
            return ((A + 2) * t - (A + 3)) * t * t + 1

        def c2(t):
            return ((A * t - 5 * A) * t + 8 * A) * t - 4 * A

        wx = [c2(ts[0] + 1), c1(ts[0]), c1(1 - ts[0]), c2(2 - ts[0])]
        wy = [c2(ts[1] + 1), c1(ts[1]), c1(1 - ts[1]), c2(2 - ts[1])]
        ix0, iy0 = fl[0]._data.astype(xp.int64), fl[1]._data.astype(xp.int64)
        out = None
        for a in range(4):
            iy, vy = _tap_index(iy0 - 1 + a, sizes[1], padding_mode, align_corners)
            for b in range(4):
                ix, vx = _tap_index(ix0 - 1 + b, sizes[0], padding_mode, align_corners)
                val = gather(iy * strides[1] + ix)
                wgt = wy[a] * wx[b]
                if padding_mode == "zeros":
                    wgt = wgt * _make((vx & vy).astype(x.dtype))
                term = val * wgt.unsqueeze(1)
                out = term if out is None else out + term
        return out.reshape((n, c) + tuple(out_sp))

    src = [_source_coords(co, s, padding_mode, align_corners) for co, s in zip(coords, sizes)]
    if mode == "nearest":
        idx = xp.zeros((n, p), dtype=xp.int64)
        valid = xp.ones((n, p), dtype=bool)
        for s, size, st in zip(src, sizes, strides):
            i = xp.round(s._data).astype(xp.int64)  # half to even, as nearbyint
            valid &= (i >= 0) & (i < size)
            idx += xp.clip(i, 0, size - 1) * st
        val = gather(idx)
        if padding_mode == "zeros":
            val = val * _make(valid[:, None, :].astype(x.dtype))
        return val.reshape((n, c) + tuple(out_sp))
    lo = [xp.floor(s._data).astype(xp.int64) for s in src]
    frac = [s - _make(l.astype(x.dtype)) for s, l in zip(src, lo)]  # differentiable in the grid
    out = None
    for corner in range(1 << nd):
        idx = xp.zeros((n, p), dtype=xp.int64)
        valid = xp.ones((n, p), dtype=bool)
        wgt = None
        for k in range(nd):
            up = (corner >> k) & 1
            i = lo[k] + up
            valid &= (i >= 0) & (i < sizes[k])
            idx += xp.clip(i, 0, sizes[k] - 1) * strides[k]
            wk = frac[k] if up else 1 - frac[k]
            wgt = wk if wgt is None else wgt * wk
        wgt = wgt * _make(valid.astype(x.dtype))  # corners outside the input contribute nothing
        term = gather(idx) * wgt.unsqueeze(1)
        out = term if out is None else out + term
    return out.reshape((n, c) + tuple(out_sp))

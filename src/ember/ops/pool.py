"""Pooling and im2col: max / average / adaptive / Lp pooling, max-unpooling, fold and unfold.

Every window op works on strided views of the (padded) input: one slice per kernel offset, each
covering all batches, channels and output positions at once, so the Python loop runs over the
kernel's offsets (4 for a 2x2 pool) and never over batch or pixels.

Gradients: given its argmax, max pooling is linear in the input, and average pooling, unfold and
fold are linear.  Each linear map is recorded with its adjoint (``linear_map``), so a backward is one
more linear op and higher derivatives come for free.
"""
import itertools

import numbers

from ._common import Tensor, Node, record, function, _make, array_module, module_of_array
from ._record import grad_needed
from ..kernels import pooling as _kp


# ---------------------------------------------------------------------------------------- linear ops

class _LinearNode(Node):
    """Backward of a linear map: applies the adjoint (itself a recorded linear op)."""

    def backward(self, grad):
        return (linear_map(grad, self.adj, self.fwd, self.adj_name, self.name()),)


_NODE_CLASSES = {}


def _node_class(name):
    cls = _NODE_CLASSES.get(name)
    if cls is None:
        cls = _NODE_CLASSES[name] = type(name, (_LinearNode,), {"__module__": __name__})
    return cls


def linear_map(x, fwd, adj, name, adj_name=None, out=None):
    """Apply the linear map ``fwd`` (array -> array) to tensor ``x``; its gradient applies ``adj``.

    ``name`` is the grad_fn class name; ``adj_name`` names the node the adjoint records (double backward).
    ``out`` may give the already computed result array.
    """
    res = _make(fwd(x._data) if out is None else out)
    record(res, _node_class(name), (x,), fwd=fwd, adj=adj,
           adj_name=adj_name or name.replace("Backward0", "BackwardBackward0"))
    return res


# ---------------------------------------------------------------------------------------- geometry

def _prod(seq):
    n = 1
    for s in seq:
        n *= s
    return n


def _ntuple(value, nd, name, fname):
    if isinstance(value, numbers.Integral):
        return (int(value),) * nd
    if isinstance(value, Tensor):
        value = value.tolist()
    value = tuple(int(v) for v in value)
    if len(value) == 1:
        return value * nd
    if len(value) != nd:
        raise RuntimeError(f"{fname}: {name} must either be a single int, or a tuple of {nd} ints")
    return value


class _Win:
    """Window geometry over the spatial dims: kernel, stride, left padding, dilation, sizes."""

    __slots__ = ("nd", "kernel", "stride", "pad", "dilation", "in_sp", "out_sp", "hi")

    def __init__(self, kernel, stride, pad, dilation, in_sp, out_sp):
        self.nd = len(kernel)
        self.kernel, self.stride, self.pad, self.dilation = kernel, stride, pad, dilation
        self.in_sp, self.out_sp = in_sp, out_sp
        # right padding the last window needs (ceil_mode may need more than ``pad``)
        self.hi = tuple(max(0, (o - 1) * s + d * (k - 1) + 1 - n - p)
                        for o, s, d, k, n, p in zip(out_sp, stride, dilation, kernel, in_sp, pad))

    @property
    def padded(self):
        return tuple(n + p + h for n, p, h in zip(self.in_sp, self.pad, self.hi))

    @property
    def is_padded(self):
        return any(self.pad) or any(self.hi)

    def offsets(self):
        return list(itertools.product(*[range(k) for k in self.kernel]))

    def slices(self, off):
        """Key selecting, for kernel offset ``off``, the input element of every window (padded coordinates)."""
        return (Ellipsis,) + tuple(slice(o * d, o * d + s * (m - 1) + 1, s)
                                   for o, d, s, m in zip(off, self.dilation, self.stride, self.out_sp))

    def inner(self):
        """Key selecting the unpadded input inside the padded buffer."""
        return (Ellipsis,) + tuple(slice(p, p + n) for p, n in zip(self.pad, self.in_sp))

    def disjoint(self):
        """True when no input element belongs to two windows (so scatters need no accumulation)."""
        return all(s >= d * (k - 1) + 1 for s, d, k in zip(self.stride, self.dilation, self.kernel))

    def pad_array(self, a, value):
        xp = module_of_array(a)
        if not self.is_padded:
            return a
        buf = xp.full(a.shape[:-self.nd] + self.padded, value, dtype=a.dtype)
        buf[self.inner()] = a
        return buf

    def crop(self, buf):
        xp = module_of_array(buf)
        return xp.ascontiguousarray(buf[self.inner()]) if self.is_padded else buf


def _pool_out_size(n, k, s, p, d, ceil_mode):
    num = n + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)
    o = num // s + 1
    if ceil_mode and (o - 1) * s >= n + p:
        o -= 1
    return o


def _sizes(shape):
    return "x".join(str(s) for s in shape)


def _pool_geometry(x, nd, kernel_size, stride, padding, dilation, ceil_mode, fname):
    if x.ndim not in (nd + 1, nd + 2) or (x.size == 0 and any(s == 0 for s in x.shape[1:])):
        raise RuntimeError(f"non-empty {nd + 1}D or {nd + 2}D (batch mode) tensor expected for input")
    kernel = _ntuple(kernel_size, nd, "kernel_size", fname)
    stride = kernel if stride is None or (not isinstance(stride, int) and len(stride) == 0) \
        else _ntuple(stride, nd, "stride", fname)
    pad = _ntuple(padding, nd, "padding", fname)
    dil = _ntuple(dilation, nd, "dilation", fname)
    if any(s == 0 for s in stride):
        raise RuntimeError("stride should not be zero")
    if any(k <= 0 for k in kernel) or any(s < 0 for s in stride):
        raise RuntimeError(f"{fname}(): kernel_size and stride must be positive, but got kernel_size={list(kernel)} "
                           f"and stride={list(stride)}")
    if any(p < 0 for p in pad):
        raise RuntimeError(f"pad must be non-negative, but got pad: {min(pad)}")
    if any(d <= 0 for d in dil):
        names = ("dilationT", "dilationH", "dilationW")[-nd:] if nd > 1 else ("dilation",)
        raise RuntimeError("dilation should be greater than zero, but got "
                           + " ".join(f"{a}: {d}" for a, d in zip(names, dil)))
    if fname == "max_pool1d" and pad[0] > kernel[0] // 2:
        raise RuntimeError(f"max_pool1d() padding should be at most half of kernel size, but got padding={pad[0]} "
                           f"and kernel_size={kernel[0]}")
    for k, p, d in zip(kernel, pad, dil):
        if p > (d * (k - 1) + 1) // 2:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got pad={p}, "
                               f"kernel_size={k} and dilation={d}")
    if fname in ("max_pool2d", "max_pool3d") and any(p > k // 2 for k, p in zip(kernel, pad)):
        if nd == 2:
            raise RuntimeError(f"pad should be smaller than or equal to half of kernel size, but got padW = {pad[1]}, "
                               f"padH = {pad[0]}, kW = {kernel[1]}, kH = {kernel[0]}")
        raise RuntimeError(f"pad should be smaller than or equal to half of kernel size, but got kT: {kernel[0]} "
                           f"kW: {kernel[2]} kH: {kernel[1]} padT: {pad[0]} padW: {pad[2]} padH: {pad[1]}")
    in_sp = tuple(x.shape[-nd:])
    out_sp = tuple(_pool_out_size(n, k, s, p, d, ceil_mode) for n, k, s, p, d in zip(in_sp, kernel, stride, pad, dil))
    if any(o < 1 for o in out_sp):
        c = x.shape[-nd - 1]
        raise RuntimeError(f"Given input size: ({c}x{_sizes(in_sp)}). Calculated output size: "
                           f"({c}x{_sizes(out_sp)}). Output size is too small")
    return _Win(kernel, stride, pad, dil, in_sp, out_sp)


# ---------------------------------------------------------------------------------------- max pooling

def _flat_indices(idx, w):
    """Kernel-offset argmax -> PyTorch's indices: flat positions in each (unpadded) input plane."""
    xp = module_of_array(idx)
    flat = xp.zeros(idx.shape, dtype=xp.int64)
    rest = idx.astype(xp.int64)
    for a in reversed(range(w.nd)):
        k = w.kernel[a]
        ka = rest % k
        rest //= k
        shape = [1] * w.nd
        shape[a] = -1
        pos = (xp.arange(w.out_sp[a]) * w.stride[a] - w.pad[a]).reshape(shape) + ka * w.dilation[a]
        flat += pos * _prod(w.in_sp[a + 1:])
    return flat


def _offset_gather(a, idx, w):
    """Pick from each window of a (..., *S) the element at kernel offset ``idx``: -> (..., *out)."""
    xp = module_of_array(a)
    buf = w.pad_array(a, 0)
    out = xp.zeros(idx.shape, dtype=a.dtype)
    for j, off in enumerate(w.offsets()):
        xp.copyto(out, buf[w.slices(off)], where=idx == j)
    return out


def max_pool(input, nd, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max pooling over the last ``nd`` dims; returns values, or (values, indices)."""
    x = input._data
    fname = f"max_pool{nd}d"
    w = _pool_geometry(x, nd, kernel_size, stride, padding, dilation, ceil_mode, fname)
    m, idx = _kp.max_windows(x, w, grad_needed((input,)) or return_indices)
    dtype = x.dtype
    # given the argmax, pooling is the linear map ``gather``; its backward applies the adjoint ``scatter``
    out = linear_map(input, lambda a: _offset_gather(a, idx, w), lambda g: _kp.offset_scatter(g, idx, w, dtype),
                  f"MaxPool{max(nd, 2)}DWithIndicesBackward0", out=m)
    if return_indices:
        return out, _make(_flat_indices(idx, w))
    return out


@function
def max_pool1d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    """1-D max pooling of (N, C, L) or (C, L)."""
    return max_pool(input, 1, kernel_size, stride, padding, dilation, ceil_mode)


@function
def max_pool2d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    """2-D max pooling of (N, C, H, W) or (C, H, W)."""
    return max_pool(input, 2, kernel_size, stride, padding, dilation, ceil_mode)


@function
def max_pool3d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    """3-D max pooling of (N, C, D, H, W) or (C, D, H, W)."""
    return max_pool(input, 3, kernel_size, stride, padding, dilation, ceil_mode)


@function
def max_pool1d_with_indices(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    """1-D max pooling returning (values, indices)."""
    return max_pool(input, 1, kernel_size, stride, padding, dilation, ceil_mode, True)


# ---------------------------------------------------------------------------------------- average pooling

def _avg_divisor(xp, w, count_include_pad, divisor_override, dtype):
    if divisor_override is not None:
        return divisor_override
    div = xp.ones((), dtype=xp.int64)
    for a in range(w.nd):
        n, k, s, p = w.in_sp[a], w.kernel[a], w.stride[a], w.pad[a]
        start = xp.arange(w.out_sp[a]) * s - p
        end = xp.minimum(start + k, n + p)
        if count_include_pad:
            size = end - start
        else:
            size = xp.minimum(end, n) - xp.maximum(start, 0)
        div = xp.multiply.outer(div, size)
    if bool((div == div.flat[0]).all()):
        return int(div.flat[0])
    return div.astype(dtype)


def _window_sum(x, w):
    buf = w.pad_array(x, 0)
    offs = w.offsets()
    if not w.is_padded and w.stride == w.kernel and all(d == 1 for d in w.dilation) \
            and all(o * k == n for o, k, n in zip(w.out_sp, w.kernel, w.in_sp)):
        # exact tiling: one reshape and one reduction
        lead = x.shape[:-w.nd]
        shape = lead + tuple(v for o, k in zip(w.out_sp, w.kernel) for v in (o, k))
        return x.reshape(shape).sum(axis=tuple(len(lead) + 2 * a + 1 for a in range(w.nd)))
    acc = buf[w.slices(offs[0])].copy()
    for off in offs[1:]:
        acc += buf[w.slices(off)]
    return acc


def _window_spread(g, w):
    """Adjoint of ``_window_sum``: every output's value added to each element of its window."""
    xp = module_of_array(g)
    buf = xp.zeros(g.shape[:-w.nd] + w.padded, dtype=g.dtype)
    disjoint = w.disjoint()
    for off in w.offsets():
        key = w.slices(off)
        if disjoint:
            buf[key] = g
        else:
            buf[key] += g
    return w.crop(buf)


def avg_pool(input, nd, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
              divisor_override=None):
    """Average pooling over the last ``nd`` dims."""
    xp = array_module(input)
    x = input._data
    if x.dtype.kind not in "fc":
        raise RuntimeError(f'"avg_pool{nd}d" not implemented for \'{_type_word(x.dtype)}\'')
    w = _pool_geometry(x, nd, kernel_size, stride, padding, 1, ceil_mode, f"avg_pool{nd}d")
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    div = _avg_divisor(xp, w, count_include_pad, divisor_override, x.dtype)
    one = isinstance(div, int)

    def fwd(a):
        s = _window_sum(a, w)
        if one:
            s /= div
            return s
        return xp.divide(s, div, out=s)

    def adj(g):
        return _window_spread(g / div, w)

    return linear_map(input, fwd, adj, f"AvgPool{max(nd, 2)}DBackward0")


def _type_word(dt):
    return {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
            "bool": "Bool"}.get(dt.name, dt.name)


@function
def avg_pool1d(input, kernel_size, stride=(), padding=0, ceil_mode=False, count_include_pad=True):
    """1-D average pooling of (N, C, L) or (C, L)."""
    return avg_pool(input, 1, kernel_size, stride, padding, ceil_mode, count_include_pad)


def lp_pool(input, nd, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling: (sum over the window of x ** p) ** (1 / p)."""
    kernel = _ntuple(kernel_size, nd, "kernel_size", f"lp_pool{nd}d")
    if stride is not None:
        out = avg_pool(input.pow(norm_type), nd, kernel, stride, 0, ceil_mode)
    else:
        out = avg_pool(input.pow(norm_type), nd, kernel, None, 0, ceil_mode)
    return (out.sign() * out.abs().relu()).mul(_prod(kernel)).pow(1.0 / norm_type)


# ---------------------------------------------------------------------------------------- adaptive pooling

def _adaptive_sizes(output_size, in_sp, nd):
    if isinstance(output_size, numbers.Integral) or output_size is None:
        output_size = (output_size,) * nd
    output_size = tuple(output_size)
    if len(output_size) == 1 and nd > 1:
        output_size = output_size * nd
    if len(output_size) != nd:
        raise RuntimeError(f"adaptive pool: output_size must be {nd}")
    return tuple(n if o is None else int(o) for o, n in zip(output_size, in_sp))


def _adaptive_bounds(xp, n, o):
    i = xp.arange(o)
    return (i * n) // o, ((i + 1) * n + o - 1) // o


def _check_adaptive(x, nd, fname, output_size):
    if x.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"{fname}(): Expected {nd + 1}D or {nd + 2}D tensor, but got {list(x.shape)}")
    for a in range(x.ndim - nd, x.ndim):
        if x.shape[a] == 0:
            raise RuntimeError(f"{fname}(): Expected input to have non-zero size for non-batch dimensions, but "
                               f"input has sizes {list(x.shape)} with dimension {a} being empty")
    sizes = _adaptive_sizes(output_size, x.shape[-nd:], nd)
    if any(s < 0 for s in sizes):
        raise RuntimeError(f"{fname}(): elements of output_size must be greater than or equal to 0 but received "
                           f"{{{', '.join(str(s) for s in sizes)}}}")
    return sizes


def adaptive_avg_pool(input, nd, output_size):
    """Adaptive average pooling to ``output_size`` over the last ``nd`` dims (separable averaging matrices)."""
    xp = array_module(input)
    x = input._data
    fname = f"adaptive_avg_pool{nd}d"
    out_sp = _check_adaptive(x, nd, fname, output_size)
    in_sp = x.shape[-nd:]
    if all(o == 1 for o in out_sp):
        return input.mean(tuple(range(-nd, 0)), keepdim=True)
    mats = []
    for n, o in zip(in_sp, out_sp):
        start, end = _adaptive_bounds(xp, n, o)
        j = xp.arange(n)
        m = ((j >= start[:, None]) & (j < end[:, None])).astype(x.dtype)
        mats.append(m / (end - start)[:, None].astype(x.dtype))

    def apply(a, transpose):
        # contract each spatial axis with its matrix; the axis order comes back after nd contractions
        for k, m in enumerate(mats):
            ax = a.ndim - nd + k
            a = xp.moveaxis(xp.tensordot(a, m if transpose else m.T, axes=([ax], [0])), -1, ax)
        return xp.ascontiguousarray(a)

    return linear_map(input, lambda a: apply(a, False), lambda g: apply(g, True),
                   f"AdaptiveAvgPool{max(nd, 2)}DBackward0")


def _scatter_flat(vals, flat, plane, accumulate=True):
    """(..., M) values placed at flat positions ``flat`` (..., M) of (..., plane) planes."""
    xp = module_of_array(vals)
    lead = vals.shape[:-1]
    rows = _prod(lead)
    gidx = (flat.reshape(rows, flat.shape[-1]) + (xp.arange(rows) * plane)[:, None]).ravel()
    if accumulate:
        out = xp.bincount(gidx, weights=vals.reshape(-1), minlength=rows * plane).astype(vals.dtype, copy=False)
    else:
        out = xp.zeros(rows * plane, dtype=vals.dtype)
        out[gidx] = vals.reshape(-1)
    return out.reshape(lead + (plane,))


def _gather_flat(a, flat):
    """a (..., plane) -> (..., M) picking the flat positions ``flat`` (..., M) of each plane."""
    xp = module_of_array(a)
    return xp.take_along_axis(a, flat, axis=-1)


def adaptive_max_pool(input, nd, output_size, return_indices=False):
    """Adaptive max pooling; windows of varying length handled by gathering the longest window shape."""
    xp = array_module(input)
    x = input._data
    fname = f"adaptive_max_pool{nd}d"
    out_sp = _check_adaptive(x, nd, fname, output_size)
    in_sp = x.shape[-nd:]
    lead = x.shape[:-nd]
    keys = []  # per axis, (o, L) window indices shaped to broadcast into an (*out, *L) grid
    for a, (n, o) in enumerate(zip(in_sp, out_sp)):
        start, end = _adaptive_bounds(xp, n, o)
        L = int((end - start).max()) if o else 1
        idx = xp.minimum(start[:, None] + xp.arange(L), end[:, None] - 1)  # repeats a short window's last element
        shape = [1] * (2 * nd)
        shape[a], shape[nd + a] = idx.shape
        keys.append(idx.reshape(shape))
    flat = xp.zeros((1,) * (2 * nd), dtype=xp.int64)
    for a in range(nd):
        flat = flat * in_sp[a] + keys[a]
    wins = x[(Ellipsis,) + tuple(keys)]  # (…, *out, *L)
    # sizes named, not -1: a 0-size batch leaves -1 undetermined
    wins = wins.reshape(lead + tuple(out_sp) + (_prod(wins.shape[x.ndim:]),))
    arg = xp.argmax(wins, axis=-1)
    vals = xp.take_along_axis(wins, arg[..., None], axis=-1)[..., 0]
    flat = xp.broadcast_to(flat, tuple(out_sp) + flat.shape[nd:]).reshape(tuple(out_sp) + (-1,))
    pos = xp.take_along_axis(xp.broadcast_to(flat, lead + flat.shape), arg[..., None], axis=-1)[..., 0]
    plane = _prod(in_sp)
    pflat = pos.reshape(lead + (_prod(out_sp),))
    out = linear_map(input, lambda a: _gather_flat(a.reshape(lead + (plane,)), pflat).reshape(lead + tuple(out_sp)),
                  lambda g: _scatter_flat(g.reshape(pflat.shape), pflat, plane).reshape(lead + tuple(in_sp)),
                  f"AdaptiveMaxPool{max(nd, 2)}DBackward0", out=vals)
    if return_indices:
        return out, _make(xp.ascontiguousarray(pos))
    return out


@function
def adaptive_avg_pool1d(input, output_size):
    """Adaptive 1-D average pooling of (N, C, L) or (C, L) to length ``output_size``."""
    return adaptive_avg_pool(input, 1, output_size)


@function
def adaptive_max_pool1d(input, output_size):
    """Adaptive 1-D max pooling; returns (values, indices)."""
    return adaptive_max_pool(input, 1, output_size, True)


# ---------------------------------------------------------------------------------------- max unpooling

def max_unpool(input, indices, nd, kernel_size, stride=None, padding=0, output_size=None):
    """Inverse of max pooling: values placed at ``indices`` in zero planes of the original size."""
    xp = array_module(input)
    x, ind = input._data, indices._data
    fname = f"max_unpool{nd}d"
    if ind.dtype != xp.int64:
        raise RuntimeError(f"elements in indices should be type int64 but got: {indices.dtype}")
    if x.shape != ind.shape:
        raise RuntimeError(f"Expected shape of indices to be same as that of the input tensor ({list(x.shape)}) but "
                           f"got indices tensor with shape: {list(ind.shape)}")
    kernel = _ntuple(kernel_size, nd, "kernel_size", fname)
    stride = kernel if stride is None else _ntuple(stride, nd, "stride", fname)
    pad = _ntuple(padding, nd, "padding", fname)
    in_sp = x.shape[-nd:]
    default = tuple((n - 1) * s - 2 * p + k for n, s, p, k in zip(in_sp, stride, pad, kernel))
    if output_size is None:
        out_sp = default
    else:
        out_sp = tuple(int(v) for v in output_size)
        if len(out_sp) == nd + 2 or len(out_sp) == nd + 1:
            out_sp = out_sp[-nd:]
        if len(out_sp) != nd:
            raise ValueError(f"output_size should be a sequence containing {nd} or {nd + 2} elements, but it has "
                             f"a length of '{len(out_sp)}'")
        for o, d, s in zip(out_sp, default, stride):
            if o < d - s or o > d + s:
                raise ValueError(f"invalid output_size \"{list(out_sp)}\" (dim {list(out_sp).index(o)} must be "
                                 f"between {d - s} and {d + s})")
    lead = x.shape[:-nd]
    plane = _prod(out_sp)
    flat = ind.reshape(lead + (_prod(ind.shape[len(lead):]),))  # named, not -1: the batch may be empty
    if flat.size and (flat.min() < 0 or flat.max() >= plane):
        bad = flat.reshape(-1)[xp.argmax((flat < 0) | (flat >= plane))]
        shown = "x".join(str(o) for o in out_sp) + ("x1" if nd == 1 else "")
        raise RuntimeError(f"Found an invalid max index: {bad} (output volumes are of size {shown})")

    def fwd(a):
        return _scatter_flat(a.reshape(flat.shape), flat, plane, accumulate=False).reshape(lead + out_sp)

    def adj(g):
        return _gather_flat(g.reshape(lead + (plane,)), flat).reshape(x.shape)

    return linear_map(input, fwd, adj, f"MaxUnpool{max(nd, 2)}DBackward0")


# ---------------------------------------------------------------------------------------- fold / unfold

def im2col(input, kernel_size, dilation=1, padding=0, stride=1):
    """im2col: (N, C, H, W) -> (N, C * kH * kW, L), each column one flattened sliding block."""
    xp = array_module(input)
    x = input._data
    if x.ndim not in (3, 4) or any(s == 0 for s in x.shape[1:]):
        raise RuntimeError("Expected 3D or 4D (batch mode) tensor with possibly 0 batch size and other non-zero "
                           f"dimensions for input, but got: {list(x.shape)}")
    if x.ndim == 3:
        return im2col(input.unsqueeze(0), kernel_size, dilation, padding, stride).squeeze(0)
    kernel = _ntuple(kernel_size, 2, "kernel_size", "im2col")
    dil = _ntuple(dilation, 2, "dilation", "im2col")
    pad = _ntuple(padding, 2, "padding", "im2col")
    st = _ntuple(stride, 2, "stride", "im2col")
    in_sp = x.shape[2:]
    out_sp = tuple((n + 2 * p - d * (k - 1) - 1) // s + 1 for n, p, d, k, s in zip(in_sp, pad, dil, kernel, st))
    if any(o < 1 for o in out_sp):
        raise RuntimeError(f"Given input with spatial size ({in_sp[0]}, {in_sp[1]}), kernel_size=({kernel[0]}, "
                           f"{kernel[1]}), dilation=({dil[0]}, {dil[1]}), padding=({pad[0]}, {pad[1]}), calculated "
                           f"shape of the array of sliding blocks as ({out_sp[0]}, {out_sp[1]}), but its components "
                           "must be at least one.")
    w = _Win(kernel, st, pad, dil, in_sp, out_sp)
    n, c = x.shape[:2]

    def fwd(a):
        buf = w.pad_array(a, 0)
        s = buf.strides
        shape = (n, c) + kernel + out_sp
        strides = s[:2] + tuple(d * t for d, t in zip(dil, s[2:])) + tuple(q * t for q, t in zip(st, s[2:]))
        return xp.lib.stride_tricks.as_strided(buf, shape, strides, writeable=False).reshape(n, c * _prod(kernel), _prod(out_sp))

    def adj(g):
        cols = g.reshape((n, c) + kernel + out_sp)
        buf = xp.zeros((n, c) + w.padded, dtype=g.dtype)
        for off in w.offsets():
            buf[w.slices(off)] += cols[(slice(None), slice(None)) + off]
        return w.crop(buf)

    return linear_map(input, fwd, adj, "Im2ColBackward0", "Col2ImBackward0")


def col2im(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """col2im: (N, C * kH * kW, L) -> (N, C, H, W), summing overlapping blocks (the adjoint of unfold)."""
    xp = array_module(input)
    x = input._data
    if x.ndim not in (2, 3) or any(s == 0 for s in x.shape[1:]):
        raise RuntimeError("Expected 2D or 3D (batch mode) tensor for input with possibly 0 batch size and non-zero "
                           f"dimensions for input, but got: {list(x.shape)}")
    if x.ndim == 2:
        return col2im(input.unsqueeze(0), output_size, kernel_size, dilation, padding, stride).squeeze(0)
    out_hw = _ntuple(output_size, 2, "output_size", "col2im")
    kernel = _ntuple(kernel_size, 2, "kernel_size", "col2im")
    dil = _ntuple(dilation, 2, "dilation", "col2im")
    pad = _ntuple(padding, 2, "padding", "col2im")
    st = _ntuple(stride, 2, "stride", "col2im")
    n, ck, L = x.shape
    kk = _prod(kernel)
    if ck % kk:
        raise RuntimeError(f"Expected size of input's dimension 1 to be divisible by the product of kernel_size, but "
                           f"got input.size(1)={ck} and kernel_size=({kernel[0]}, {kernel[1]})")
    blocks = tuple((n_ + 2 * p - d * (k - 1) - 1) // s + 1 for n_, p, d, k, s in zip(out_hw, pad, dil, kernel, st))
    if _prod(blocks) != L:
        raise RuntimeError(f"Given output_size=({out_hw[0]}, {out_hw[1]}), kernel_size=({kernel[0]}, {kernel[1]}), "
                           f"dilation=({dil[0]}, {dil[1]}), padding=({pad[0]}, {pad[1]}), stride=({st[0]}, {st[1]}), "
                           f"expected size of input's dimension 2 to match the calculated number of sliding blocks "
                           f"{blocks[0]} * {blocks[1]} = {_prod(blocks)}, but got input.size(2)={L}.")
    c = ck // kk
    w = _Win(kernel, st, pad, dil, out_hw, blocks)

    def fwd(a):
        cols = a.reshape((n, c) + kernel + blocks)
        buf = xp.zeros((n, c) + w.padded, dtype=a.dtype)
        for off in w.offsets():
            buf[w.slices(off)] += cols[(slice(None), slice(None)) + off]
        return w.crop(buf)

    def adj(g):
        buf = w.pad_array(g, 0)
        s = buf.strides
        shape = (n, c) + kernel + blocks
        strides = s[:2] + tuple(d * t for d, t in zip(dil, s[2:])) + tuple(q * t for q, t in zip(st, s[2:]))
        return xp.lib.stride_tricks.as_strided(buf, shape, strides, writeable=False).reshape(n, ck, L)

    return linear_map(input, fwd, adj, "Col2ImBackward0", "Im2ColBackward0")


# ---------------------------------------------------------------------------------------- fractional max pooling

def _fractional_starts(samples, n_in, n_out, k):
    """Window starts per plane (PyTorch's pseudo-random intervals): samples (P,) in [0, 1) -> (P, n_out)."""
    xp = module_of_array(samples)
    dt = samples.dtype.type
    starts = xp.empty(samples.shape + (n_out,), dtype=xp.int64)
    if n_out > 1:
        alpha = dt(n_in - k) / dt(n_out - 1)
        i = xp.arange(n_out - 1, dtype=samples.dtype)
        starts[..., :-1] = ((i + samples[..., None]) * alpha).astype(xp.int64) \
            - (samples * alpha).astype(xp.int64)[..., None]
    if n_out > 0:
        starts[..., -1] = n_in - k
    return starts


_FRACTIONAL_AXES = ("time", "height", "width")


def fractional_max_pool(input, nd, kernel_size, output_size, samples, return_indices):
    """Fractional max pooling (Graham): windows of ``kernel_size`` at pseudo-random starts drawn from ``samples``."""
    xp = array_module(input)
    x = input._data
    fname = f"fractional_max_pool{nd}d"
    if x.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"{fname}(): Expected {nd + 1}D or {nd + 2}D tensor, but got: {list(x.shape)}")
    kernel = _ntuple(kernel_size, nd, "kernel_size", fname)
    out_sp = _ntuple(output_size, nd, "output_size", fname)
    in_sp = x.shape[-nd:]
    names = _FRACTIONAL_AXES[-nd:]
    for name, o, k, n in zip(names, out_sp, kernel, in_sp):
        if o + k - 1 > n:
            where = f"{fname}_out()" if nd == 3 else f"{fname}()"
            raise RuntimeError(f"{where}: pool {name} {k} too large relative to input {name} {n}")
    s = samples._data
    if s.ndim != 3 or s.shape[2] != nd:
        raise RuntimeError(f"Expect _random_samples.size(2) equals to {nd}; got {s.shape[2] if s.ndim == 3 else s.ndim}.")
    lead = x.shape[:-nd]
    batched = x.ndim == nd + 2
    c = x.shape[-nd - 1]
    n = x.shape[0] if batched else 1
    if s.shape[0] != n or s.shape[1] != c:
        raise RuntimeError(f"Expect _random_samples to be of shape {[n, c, nd]}, got {list(s.shape)}")
    s = s.astype(x.dtype if x.dtype.kind == "f" else xp.float32, copy=False).reshape(n * c, nd)
    # PyTorch's sample order: the last spatial dim (width) first, then height (then time)
    order = {1: (0,), 2: (1, 0), 3: (0, 1, 2)}[nd]
    keys, flat = [], xp.zeros((n * c,) + (1,) * (2 * nd), dtype=xp.int64)
    for a in range(nd):
        st = _fractional_starts(s[:, order[a]], in_sp[a], out_sp[a], kernel[a])       # (P, o)
        idx = st[:, :, None] + xp.arange(kernel[a])                                   # (P, o, k)
        shape = [n * c] + [1] * (2 * nd)
        shape[1 + a], shape[1 + nd + a] = out_sp[a], kernel[a]
        keys.append(idx.reshape(shape))
        flat = flat * in_sp[a] + keys[-1]
    planes = x.reshape((n * c,) + tuple(in_sp))
    wins = planes[(xp.arange(n * c).reshape((n * c,) + (1,) * (2 * nd)),) + tuple(keys)]   # (P, *out, *k)
    wins = wins.reshape((n * c,) + tuple(out_sp) + (_prod(kernel),))  # named, not -1: the batch may be empty
    arg = xp.argmax(wins, axis=-1)
    vals = xp.take_along_axis(wins, arg[..., None], axis=-1)[..., 0].reshape(lead + tuple(out_sp))
    flat = xp.broadcast_to(flat, (n * c,) + tuple(out_sp) + tuple(kernel)).reshape(wins.shape)
    pos = xp.take_along_axis(flat, arg[..., None], axis=-1)[..., 0].reshape(lead + tuple(out_sp))
    plane = _prod(in_sp)
    pflat = pos.reshape(lead + (_prod(out_sp),))
    out = linear_map(input, lambda a: _gather_flat(a.reshape(lead + (plane,)), pflat).reshape(lead + tuple(out_sp)),
                  lambda g: _scatter_flat(g.reshape(pflat.shape), pflat, plane).reshape(lead + tuple(in_sp)),
                  f"FractionalMaxPool{nd}DBackward0", out=vals)
    if return_indices:
        return out, _make(xp.ascontiguousarray(pos))
    return out

"""Convolutions: conv1d/2d/3d, conv_transpose1d/2d/3d and convolution, by im2col and one GEMM.

Layout.  The input ``x`` is (N, C, *S) and the weight ``w`` is (O, C/g, *k).  im2col is a single
copy of a strided view of the (padded) input into ``cols`` of shape (g, C/g * prod(k), N * P) —
channel-and-offset rows, batch-and-position columns — so the whole convolution is one GEMM per
group, ``w (g, O/g, K) @ cols (g, K, N*P)``, whose (O, N, *out) result is transposed into the NCHW
output while the bias is added.  col2im (the adjoint) is one strided ``+=`` per kernel offset,
vectorised over batch, channels and positions.

Three bilinear primitives close the family under differentiation (``geom`` fixes every shape):

    F(x, w) -> y    the convolution (cross-correlation)
    T(y, w) -> x    its adjoint in x: the transposed convolution (gradient of F wrt its input)
    G(x, y) -> w    its adjoint in w: the weight gradient

    dF = (T(g, w), G(x, g))    dT = (F(g, w), G(g, y))    dG = (T(y, g), F(x, g))

First-order backward (grad mode off) runs fused NumPy kernels that share the transposed output
gradient and the im2col matrix cached by the forward; under ``create_graph`` the same gradients
are built from the primitives as ember ops, so derivatives of any order exist.
"""
import itertools

from .. import _dtype
from ._common import xp, Tensor, Node, attach, GradMode, _make

_as_strided = xp.lib.stride_tricks.as_strided
_COLS_CACHE_BYTES = 256 << 20  # keep the forward's im2col matrix for backward up to this size

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
           "convolution"]


class _Geom:
    """Everything that fixes the shapes of one convolution: sizes, stride, padding, dilation, groups."""

    __slots__ = ("nd", "stride", "lo", "hi", "dilation", "groups", "kernel", "in_sp", "out_sp", "C", "O")

    def __init__(self, nd, stride, lo, hi, dilation, groups, kernel, in_sp, out_sp, C, O):
        self.nd, self.stride, self.lo, self.hi, self.dilation = nd, stride, lo, hi, dilation
        self.groups, self.kernel, self.in_sp, self.out_sp, self.C, self.O = groups, kernel, in_sp, out_sp, C, O

    @property
    def padded(self):
        return tuple(s + a + b for s, a, b in zip(self.in_sp, self.lo, self.hi))

    @property
    def w_shape(self):
        return (self.O, self.C // self.groups) + self.kernel


# ---------------------------------------------------------------------------------------- array kernels

def _prod(seq):
    n = 1
    for s in seq:
        n *= s
    return n


def _pad(x, g):
    """``x`` (N, C, *S) zero-padded by (lo, hi) on every spatial dim."""
    if not any(g.lo) and not any(g.hi):
        return x
    buf = xp.zeros(x.shape[:2] + g.padded, dtype=x.dtype)
    buf[(slice(None), slice(None)) + tuple(slice(a, a + s) for a, s in zip(g.lo, g.in_sp))] = x
    return buf


def _im2col(x, g):
    """(N, C, *S) -> cols (groups, C/groups * prod(k), N * P): one copy of a strided view."""
    xp_ = _pad(x, g)
    n = x.shape[0]
    st = xp_.strides
    ssp = st[2:]
    shape = (g.C,) + g.kernel + (n,) + g.out_sp
    strides = ((st[1],) + tuple(d * s for d, s in zip(g.dilation, ssp)) + (st[0],)
               + tuple(t * s for t, s in zip(g.stride, ssp)))
    view = _as_strided(xp_, shape, strides, writeable=False)
    return view.reshape(g.groups, -1, n * _prod(g.out_sp))


def _col2im(cols, g, n, dtype):
    """The adjoint of ``_im2col``: (groups, K, N * P) -> (N, C, *S), summing overlapping windows."""
    nd = g.nd
    buf = xp.zeros((g.C, n) + g.padded, dtype=dtype)
    cols = cols.reshape((g.C,) + g.kernel + (n,) + g.out_sp)
    full = (slice(None), slice(None))
    for off in itertools.product(*[range(k) for k in g.kernel]):
        key = full + tuple(slice(o * d, o * d + t * (m - 1) + 1, t)
                           for o, d, t, m in zip(off, g.dilation, g.stride, g.out_sp))
        buf[key] += cols[(slice(None),) + off]
    if any(g.lo) or any(g.hi):
        buf = buf[full + tuple(slice(a, a + s) for a, s in zip(g.lo, g.in_sp))]
    out = xp.empty((n, g.C) + g.in_sp, dtype=dtype)
    out.transpose((1, 0) + tuple(range(2, 2 + nd)))[...] = buf
    return out


def _channels_first(y, g):
    """(N, O, *out) -> (groups, O/groups, N * P), contiguous (a transposed copy)."""
    nd = y.ndim - 2
    yt = xp.ascontiguousarray(y.transpose((1, 0) + tuple(range(2, 2 + nd))))
    return yt.reshape(g.groups, yt.shape[0] // g.groups, -1)


def _gemm(a, b):
    """Batched-over-groups matrix product; one plain GEMM when there is one group."""
    if a.shape[0] == 1:
        return (a[0] @ b[0])[None]
    return xp.matmul(a, b)


def _to_batch_first(res, g, n, c, sp, bias=None):
    """(c, N, *sp) result of a GEMM -> a contiguous (N, c, *sp) array, adding ``bias`` (c,) on the way."""
    res = res.reshape((c, n) + sp)
    out = xp.empty((n, c) + sp, dtype=res.dtype)
    view = res.transpose((1, 0) + tuple(range(2, 2 + len(sp))))
    if bias is None:
        xp.copyto(out, view)
    else:
        xp.add(view, bias.reshape((c,) + (1,) * len(sp)), out=out)
    return out


def _k_F(x, w, g, bias=None, cols=None):
    """Convolution: x (N, C, *S), w (O, C/g, *k) -> (N, O, *out), and the im2col matrix used."""
    if cols is None:
        cols = _im2col(x, g)
    wm = w.reshape(g.groups, g.O // g.groups, -1)
    return _to_batch_first(_gemm(wm, cols), g, x.shape[0], g.O, g.out_sp, bias), cols


def _k_T(y, w, g, bias=None, yt=None):
    """Transposed convolution (adjoint of F in x): y (N, O, *out), w -> (N, C, *S)."""
    if yt is None:
        yt = _channels_first(y, g)
    wm = w.reshape(g.groups, g.O // g.groups, -1)
    out = _col2im(_gemm(wm.transpose(0, 2, 1), yt), g, y.shape[0], y.dtype)
    if bias is not None:
        out += bias.reshape((-1,) + (1,) * g.nd)
    return out


def _k_G(x, y, g, cols=None, yt=None):
    """Weight gradient (adjoint of F in w): x (N, C, *S), y (N, O, *out) -> (O, C/g, *k)."""
    if cols is None:
        cols = _im2col(x, g)
    if yt is None:
        yt = _channels_first(y, g)
    return _gemm(yt, cols.transpose(0, 2, 1)).reshape(g.w_shape)


# ---------------------------------------------------------------------------------------- autograd

class ConvolutionBackwardBackward0(Node):
    """Node of a primitive F / T / G used inside a differentiable (create_graph) backward."""

    def backward(self, grad):
        a, b = self.saved_tensors
        kind, g = self.kind, self.geom
        need_a, need_b = self._edges[0] is not None, self._edges[1] is not None
        if kind == "F":      # a = x, b = w
            return (_prim("T", grad, b, g) if need_a else None), (_prim("G", a, grad, g) if need_b else None)
        if kind == "T":      # a = y, b = w
            return (_prim("F", grad, b, g) if need_a else None), (_prim("G", grad, a, g) if need_b else None)
        # kind == "G": a = x, b = y
        return (_prim("T", b, grad, g) if need_a else None), (_prim("F", a, grad, g) if need_b else None)


def _prim(kind, a, b, g):
    """Primitive ``kind`` of (a, b) as an ember op that records its own graph."""
    ad, bd = a._data, b._data
    if kind == "F":
        res = _k_F(ad, bd, g)[0]
    elif kind == "T":
        res = _k_T(ad, bd, g)
    else:
        res = _k_G(ad, bd, g)
    out = _make(res)
    if GradMode.enabled and (a._requires_grad or b._requires_grad):
        node = ConvolutionBackwardBackward0()
        node.kind, node.geom = kind, g
        node.save(a, b)
        attach(out, node, a, b)
    return out


class ConvolutionBackward0(Node):
    """Gradient of a convolution (``transposed=False``: F) or a transposed convolution (T), with bias."""

    cols = None  # the forward's im2col matrix, reused by the weight gradient (dropped after one use)

    def backward(self, grad):
        x, w = self.saved_tensors
        g = self.geom
        e = self._edges
        need_x, need_w, need_b = e[0] is not None, e[1] is not None, len(e) > 2 and e[2] is not None
        nd = g.nd
        sum_dims = (0,) + tuple(range(2, 2 + nd))
        if GradMode.enabled:  # create_graph: gradients as differentiable ember ops
            if not self.transposed:
                gx = _prim("T", grad, w, g) if need_x else None
                gw = _prim("G", x, grad, g) if need_w else None
            else:
                gx = _prim("F", grad, w, g) if need_x else None
                gw = _prim("G", grad, x, g) if need_w else None
            if len(e) == 2:
                return gx, gw
            return gx, gw, (grad.sum(sum_dims) if need_b else None)
        gd, wd = grad._data, w._data
        gx = gw = gb = None
        if not self.transposed:
            yt = _channels_first(gd, g)
            if need_x:
                gx = _make(_k_T(gd, wd, g, yt=yt))
            if need_w:
                gw = _make(_k_G(x._data, gd, g, cols=self.cols, yt=yt))
            if need_b:
                gb = _make(yt.sum(axis=(0, 2)) if g.groups == 1 else yt.sum(axis=2).reshape(-1))
        else:
            cols = _im2col(gd, g) if (need_x or need_w) else None
            if need_x:
                gx = _make(_k_F(gd, wd, g, cols=cols)[0])
            if need_w:
                gw = _make(_k_G(gd, x._data, g, cols=cols))
            if need_b:
                gb = _make(gd.sum(axis=sum_dims))
        self.cols = None
        return (gx, gw) if len(e) == 2 else (gx, gw, gb)


# ---------------------------------------------------------------------------------------- argument checks

def _tuple(value, nd, name):
    if isinstance(value, (int, xp.integer)):
        return (int(value),) * nd
    value = tuple(int(v) for v in value)
    if len(value) == 1 and nd != 1:
        return value * nd
    if len(value) != nd:
        raise RuntimeError(f"expected {name} to be a single integer value or a list of {nd} values to match the "
                           f"convolution dimensions, but got {name}={list(value)}")
    return value


def _sizes(shape):
    return " x ".join(str(s) for s in shape)


def _check_common(input, weight, bias, nd, fname, transposed, groups):
    xd, wd = input._data, weight._data
    if xd.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to {fname}, but got input "
                           f"of size: {list(xd.shape)}")
    if wd.ndim != nd + 2:
        raise RuntimeError(f"expected stride to be a single integer value or a list of {wd.ndim - 2} values to match "
                           f"the convolution dimensions, but got stride={[1] * nd}")
    if xd.dtype != wd.dtype:
        raise RuntimeError(f"Input type ({input._type_name()}) and weight type ({weight._type_name()}) should be "
                           "the same or input should be a MKLDNN tensor and weight is a dense tensor")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    if wd.shape[0] % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, but "
                           f"got weight of size [{list(wd.shape)}] instead")
    if bias is not None:
        out_ch = wd.shape[1] * groups if transposed else wd.shape[0]
        if bias._data.ndim != 1 or bias._data.shape[0] != out_ch:
            raise RuntimeError(f"Given weight of size {list(wd.shape)}, expected bias to be 1-dimensional with "
                               f"{out_ch} elements, but got bias of size {list(bias._data.shape)} instead")
        if bias._data.dtype != xd.dtype:
            raise RuntimeError(f"Input type ({_dtype_short(input)}) and bias type ({_dtype_short(bias)}) should be "
                               "the same")


def _dtype_short(t):
    """The C++ scalar type name PyTorch prints (float, double, c10::Half, ...)."""
    name = str(t.dtype).replace("torch.", "")
    return {"float32": "float", "float64": "double", "float16": "c10::Half", "bfloat16": "c10::BFloat16",
            "int64": "long", "int32": "int", "int16": "short", "int8": "signed char", "uint8": "unsigned char",
            "bool": "bool"}.get(name, name)


def _positive(values, what):
    if any(v <= 0 for v in values):
        raise RuntimeError(f"non-positive {what} is not supported")


# ---------------------------------------------------------------------------------------- the ops

def _conv(input, weight, bias, stride, padding, dilation, groups, nd):
    fname = f"conv{nd}d"
    _check_common(input, weight, bias, nd, fname, False, groups)
    if input._data.ndim == nd + 1:  # unbatched: through a batch of one
        return _conv(input.unsqueeze(0), weight, bias, stride, padding, dilation, groups, nd).squeeze(0)
    xd, wd = input._data, weight._data
    stride = _tuple(stride, nd, "stride")
    dilation = _tuple(dilation, nd, "dilation")
    _positive(stride, "stride")
    _positive(dilation, "dilation")
    kernel = tuple(wd.shape[2:])
    if isinstance(padding, str):
        if padding == "valid":
            lo = hi = (0,) * nd
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            total = tuple(d * (k - 1) for d, k in zip(dilation, kernel))
            lo = tuple(t // 2 for t in total)
            hi = tuple(t - a for t, a in zip(total, lo))
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}'")
    else:
        lo = hi = _tuple(padding, nd, "padding")
        if any(p < 0 for p in lo):
            raise RuntimeError("negative padding is not supported")
    n, c = xd.shape[:2]
    if c != wd.shape[1] * groups:
        shape = list(xd.shape)
        raise RuntimeError(f"Given groups={groups}, weight of size {list(wd.shape)}, expected input{shape} to have "
                           f"{wd.shape[1] * groups} channels, but got {c} channels instead")
    in_sp = tuple(xd.shape[2:])
    padded = tuple(s + a + b for s, a, b in zip(in_sp, lo, hi))
    eff = tuple(d * (k - 1) + 1 for d, k in zip(dilation, kernel))
    if any(p < e for p, e in zip(padded, eff)):
        raise RuntimeError(f"Calculated padded input size per channel: ({_sizes(padded)}). Kernel size: "
                           f"({_sizes(eff)}). Kernel size can't be greater than actual input size")
    out_sp = tuple((p - e) // t + 1 for p, e, t in zip(padded, eff, stride))
    g = _Geom(nd, stride, lo, hi, dilation, groups, kernel, in_sp, out_sp, c, wd.shape[0])
    need = GradMode.enabled and (input._requires_grad or weight._requires_grad
                                 or (bias is not None and bias._requires_grad))
    res, cols = _k_F(xd, wd, g, None if bias is None else bias._data)
    out = _make(res)
    if need:
        node = ConvolutionBackward0()
        node.geom, node.transposed = g, False
        if weight._requires_grad and cols.nbytes <= _COLS_CACHE_BYTES:
            node.cols = cols
        node.save(input, weight)
        if bias is not None:
            attach(out, node, input, weight, bias)
        else:
            attach(out, node, input, weight)
    return out


def _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, nd):
    fname = f"conv_transpose{nd}d"
    if isinstance(padding, str):
        raise TypeError(f"{fname}(): argument 'padding' must be tuple of ints, not str")
    _check_common(input, weight, bias, nd, fname, True, groups)
    if input._data.ndim == nd + 1:  # unbatched: through a batch of one
        return _conv_transpose(input.unsqueeze(0), weight, bias, stride, padding, output_padding, groups, dilation,
                               nd).squeeze(0)
    xd, wd = input._data, weight._data
    stride = _tuple(stride, nd, "stride")
    dilation = _tuple(dilation, nd, "dilation")
    pad = _tuple(padding, nd, "padding")
    opad = _tuple(output_padding, nd, "output_padding")
    _positive(stride, "stride")
    _positive(dilation, "dilation")
    if any(p < 0 for p in pad):
        raise RuntimeError("negative padding is not supported")
    if any(o >= s and o >= d for o, s, d in zip(opad, stride, dilation)):
        names = ("height", "width") if nd < 3 else ("depth", "height", "width")
        shown = ((0,) + opad, (1,) + stride, (1,) + dilation) if nd == 1 else (opad, stride, dilation)
        parts = [f"{what}_{n}: {v}" for what, vals in zip(("output_padding", "stride", "dilation"), shown)
                 for n, v in zip(names, vals)]
        raise RuntimeError("output padding must be smaller than either stride or dilation, but got "
                           + " ".join(parts))
    n, o = xd.shape[:2]
    if o != wd.shape[0]:
        raise RuntimeError(f"Given transposed=1, weight of size {list(wd.shape)}, expected input{list(xd.shape)} to "
                           f"have {wd.shape[0]} channels, but got {o} channels instead")
    kernel = tuple(wd.shape[2:])
    out_sp = tuple(xd.shape[2:])
    in_sp = tuple((m - 1) * t - 2 * p + d * (k - 1) + op + 1
                  for m, t, p, d, k, op in zip(out_sp, stride, pad, dilation, kernel, opad))
    if any(s <= 0 for s in in_sp):
        raise RuntimeError(f"Given input size per channel: ({_sizes(out_sp)}). Calculated output size per channel: "
                           f"({_sizes(in_sp)}). Output size is too small")
    g = _Geom(nd, stride, pad, pad, dilation, groups, kernel, in_sp, out_sp, wd.shape[1] * groups, o)
    out = _make(_k_T(xd, wd, g, None if bias is None else bias._data))
    if GradMode.enabled and (input._requires_grad or weight._requires_grad
                             or (bias is not None and bias._requires_grad)):
        node = ConvolutionBackward0()
        node.geom, node.transposed = g, True
        node.save(input, weight)
        if bias is not None:
            attach(out, node, input, weight, bias)
        else:
            attach(out, node, input, weight)
    return out


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution of (N, C, L) (or unbatched (C, L)) with weight (O, C/groups, k)."""
    return _conv(input, weight, bias, stride, padding, dilation, groups, 1)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution of (N, C, H, W) (or unbatched (C, H, W)) with weight (O, C/groups, kH, kW).

    ``padding`` is an int, a tuple, ``'valid'`` (none) or ``'same'`` (output size = input size).
    """
    return _conv(input, weight, bias, stride, padding, dilation, groups, 2)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D convolution of (N, C, D, H, W) (or unbatched) with weight (O, C/groups, kD, kH, kW)."""
    return _conv(input, weight, bias, stride, padding, dilation, groups, 3)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed 1-D convolution (the gradient of conv1d); weight is (C_in, C_out/groups, k)."""
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 1)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed 2-D convolution (the gradient of conv2d); weight is (C_in, C_out/groups, kH, kW)."""
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 2)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed 3-D convolution (the gradient of conv3d); weight is (C_in, C_out/groups, kD, kH, kW)."""
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 3)


def convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding, groups):
    """ATen's generic convolution: conv or transposed conv of any spatial rank (from the weight's rank)."""
    nd = weight._data.ndim - 2
    if transposed:
        return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, nd)
    return _conv(input, weight, bias, stride, padding, dilation, groups, nd)

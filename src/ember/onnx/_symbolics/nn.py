"""Symbolics of ``ember.nn.functional`` layers: convolutions, pooling, normalization, embedding, dropout,
padding and interpolation."""
import numpy

from .._registry import symbolic as _symbolic
from ..errors import SymbolicValueError
from ._util import arg, out, out_dtype, reduce, axes_op


def symbolic(*names):
    """Register under each ``nn.functional::`` name and its ``aten::`` twin (ember.conv2d is F.conv2d)."""
    return _symbolic(*names, *[n.replace("nn.functional::", "aten::") for n in names])


def _tuple(v, n):
    if isinstance(v, int):
        return [v] * n
    v = list(v)
    return v * n if len(v) == 1 else v


def _spatial(call):
    return int(call.name[-2]) if call.name[-1] == "d" and call.name[-2].isdigit() else None


@symbolic("nn.functional::conv1d", "nn.functional::conv2d", "nn.functional::conv3d")
def conv(g, call):
    x, w, b = g.v(arg(call, "input")), g.v(arg(call, "weight")), g.v(arg(call, "bias"))
    n = w.rank() - 2
    kernel = list(w.shape[2:])
    stride, dilation = _tuple(arg(call, "stride", default=1), n), _tuple(arg(call, "dilation", default=1), n)
    padding = arg(call, "padding", default=0)
    if padding == "valid":
        pads = [0] * 2 * n
    elif padding == "same":
        total = [d * (k - 1) for d, k in zip(dilation, kernel)]
        pads = [t // 2 for t in total] + [t - t // 2 for t in total]
    else:
        p = _tuple(padding, n)
        pads = p + p
    unbatched = x.rank() == n + 1
    if unbatched:
        x = axes_op(g, "Unsqueeze", x, [0])
    y = g.op("Conv", x, w, b, kernel_shape=kernel, strides=stride, dilations=dilation, pads=pads,
             group=int(arg(call, "groups", default=1)))
    return axes_op(g, "Squeeze", y, [0]) if unbatched else y


@symbolic("nn.functional::conv_transpose1d", "nn.functional::conv_transpose2d", "nn.functional::conv_transpose3d")
def conv_transpose(g, call):
    x, w, b = g.v(arg(call, "input")), g.v(arg(call, "weight")), g.v(arg(call, "bias"))
    n = w.rank() - 2
    p = _tuple(arg(call, "padding", default=0), n)
    y = g.op("ConvTranspose", x, w, b, kernel_shape=list(w.shape[2:]),
             strides=_tuple(arg(call, "stride", default=1), n), pads=p + p,
             output_padding=_tuple(arg(call, "output_padding", default=0), n),
             dilations=_tuple(arg(call, "dilation", default=1), n), group=int(arg(call, "groups", default=1)))
    return y


def _pool_input(g, call, n):
    x = g.v(arg(call, "input"))
    unbatched = x.rank() == n + 1
    return (axes_op(g, "Unsqueeze", x, [0]) if unbatched else x), unbatched


@symbolic("nn.functional::max_pool1d", "nn.functional::max_pool2d", "nn.functional::max_pool3d")
def max_pool(g, call):
    n = _spatial(call)
    if arg(call, "return_indices", default=False):
        raise SymbolicValueError(f"{call.name} with return_indices=True cannot be exported (in {call.scope})")
    x, unbatched = _pool_input(g, call, n)
    k = _tuple(arg(call, "kernel_size"), n)
    stride = arg(call, "stride")
    p = _tuple(arg(call, "padding", default=0), n)
    y = g.op("MaxPool", x, kernel_shape=k, strides=_tuple(stride, n) if stride else k, pads=p + p,
             dilations=_tuple(arg(call, "dilation", default=1), n), ceil_mode=int(arg(call, "ceil_mode",
                                                                                       default=False)))
    return axes_op(g, "Squeeze", y, [0]) if unbatched else y


@symbolic("nn.functional::avg_pool1d", "nn.functional::avg_pool2d", "nn.functional::avg_pool3d")
def avg_pool(g, call):
    n = _spatial(call)
    if arg(call, "divisor_override") is not None:
        raise SymbolicValueError(f"{call.name} with divisor_override cannot be exported (in {call.scope})")
    x, unbatched = _pool_input(g, call, n)
    k = _tuple(arg(call, "kernel_size"), n)
    stride = arg(call, "stride")
    p = _tuple(arg(call, "padding", default=0), n)
    y = g.op("AveragePool", x, kernel_shape=k, strides=_tuple(stride, n) if stride else k, pads=p + p,
             ceil_mode=int(arg(call, "ceil_mode", default=False)),
             count_include_pad=int(arg(call, "count_include_pad", default=True)))
    return axes_op(g, "Squeeze", y, [0]) if unbatched else y


def _adaptive(global_op, pool_op):
    def lower(g, call):
        n = _spatial(call)
        x, unbatched = _pool_input(g, call, n)
        if arg(call, "return_indices", default=False):
            raise SymbolicValueError(f"{call.name} with return_indices=True cannot be exported (in {call.scope})")
        res = out(call)
        size_in, size_out = list(x.shape[-n:]), list(res.shape[-n:])
        if all(s == 1 for s in size_out):
            y = g.op(global_op, x)
        elif all(i % o == 0 for i, o in zip(size_in, size_out)):
            k = [i // o for i, o in zip(size_in, size_out)]
            y = g.op(pool_op, x, kernel_shape=k, strides=k)
        else:
            raise SymbolicValueError(f"{call.name}: input size {size_in} is not a multiple of output size "
                                     f"{size_out}; ONNX has no adaptive pooling (in {call.scope})")
        return axes_op(g, "Squeeze", y, [0]) if unbatched else y
    return lower


for _n in (1, 2, 3):
    symbolic(f"nn.functional::adaptive_avg_pool{_n}d")(_adaptive("GlobalAveragePool", "AveragePool"))
    symbolic(f"nn.functional::adaptive_max_pool{_n}d")(_adaptive("GlobalMaxPool", "MaxPool"))


def _ones_or(g, t, channels, value, dtype):
    return g.v(t) if t is not None else g.const(numpy.full(channels, value, dtype=dtype))


@symbolic("nn.functional::batch_norm")
def batch_norm(g, call):
    x = g.v(arg(call, "input"))
    dt = out_dtype(call)
    c = x.shape[1]
    mean, var = arg(call, "running_mean"), arg(call, "running_var")
    if arg(call, "training", default=False) or mean is None:
        axes = [0] + list(range(2, x.rank()))
        mean_v = reduce(g, "ReduceMean", x, axes, False)
        centered = g.op("Sub", x, reduce(g, "ReduceMean", x, axes, True))
        var_v = reduce(g, "ReduceMean", g.op("Mul", centered, centered), axes, False)
    else:
        mean_v, var_v = g.v(mean), g.v(var)
    return g.op("BatchNormalization", x, _ones_or(g, arg(call, "weight"), c, 1, dt),
                _ones_or(g, arg(call, "bias"), c, 0, dt), mean_v, var_v, epsilon=float(arg(call, "eps")))


@symbolic("nn.functional::instance_norm")
def instance_norm(g, call):
    x = g.v(arg(call, "input"))
    dt = out_dtype(call)
    c = x.shape[1]
    return g.op("InstanceNormalization", x, _ones_or(g, arg(call, "weight"), c, 1, dt),
                _ones_or(g, arg(call, "bias"), c, 0, dt), epsilon=float(arg(call, "eps", default=1e-5)))


@symbolic("nn.functional::layer_norm")
def layer_norm(g, call):
    x = g.v(arg(call, "input"))
    shape = arg(call, "normalized_shape")
    k = 1 if isinstance(shape, int) else len(shape)
    eps = float(arg(call, "eps", default=1e-5))
    w, b = g.v(arg(call, "weight")), g.v(arg(call, "bias"))
    if g.opset >= 17:
        if w is None:
            w = g.const(numpy.ones(x.shape[-k:], dtype=out_dtype(call)))
        return g.op("LayerNormalization", x, w, b, axis=-k, epsilon=eps)
    axes = list(range(x.rank() - k, x.rank()))
    centered = g.op("Sub", x, reduce(g, "ReduceMean", x, axes, True))
    var = reduce(g, "ReduceMean", g.op("Mul", centered, centered), axes, True)
    y = g.op("Div", centered, g.op("Sqrt", g.op("Add", var, g.const(numpy.asarray(eps, dtype=x.dtype)))))
    if w is not None:
        y = g.op("Mul", y, w)
    return g.op("Add", y, b) if b is not None else y


@symbolic("nn.functional::group_norm")
def group_norm(g, call):
    x = g.v(arg(call, "input"))
    dt = out_dtype(call)
    groups = int(arg(call, "num_groups"))
    grouped = g.op("Reshape", x, g.ints([0, groups, -1]))
    normed = g.op("InstanceNormalization", grouped, g.const(numpy.ones(groups, dtype=dt)),
                  g.const(numpy.zeros(groups, dtype=dt)), epsilon=float(arg(call, "eps", default=1e-5)))
    y = g.op("Reshape", normed, g.op("Shape", x))
    per_channel = [-1] + [1] * (x.rank() - 2)
    w, b = arg(call, "weight"), arg(call, "bias")
    if w is not None:
        y = g.op("Mul", y, g.op("Reshape", g.v(w), g.ints(per_channel)))
    if b is not None:
        y = g.op("Add", y, g.op("Reshape", g.v(b), g.ints(per_channel)))
    return y


@symbolic("nn.functional::rms_norm")
def rms_norm(g, call):
    x = g.v(arg(call, "input"))
    shape = arg(call, "normalized_shape")
    k = 1 if isinstance(shape, int) else len(shape)
    eps = arg(call, "eps")
    eps = float(numpy.finfo(x.dtype).eps) if eps is None else float(eps)
    axes = list(range(x.rank() - k, x.rank()))
    ms = reduce(g, "ReduceMean", g.op("Mul", x, x), axes, True)
    y = g.op("Div", x, g.op("Sqrt", g.op("Add", ms, g.const(numpy.asarray(eps, dtype=x.dtype)))))
    w = arg(call, "weight")
    return g.op("Mul", y, g.v(w)) if w is not None else y


@symbolic("nn.functional::normalize")
def normalize(g, call):
    x = g.v(arg(call, "input"))
    p, dim, eps = arg(call, "p", default=2.0), arg(call, "dim", default=1), arg(call, "eps", default=1e-12)
    d = dim + x.rank() if dim < 0 else dim
    n = reduce(g, "ReduceL2" if p == 2 else "ReduceL1", x, [d], True)
    return g.op("Div", x, g.op("Max", n, g.const(numpy.asarray(eps, dtype=x.dtype))))


@symbolic("nn.functional::embedding")
def embedding(g, call):
    if arg(call, "max_norm") is not None:
        raise SymbolicValueError(f"embedding with max_norm renormalizes the weight in place and cannot be "
                                 f"exported (in {call.scope})")
    return g.op("Gather", g.v(arg(call, "weight")), g.cast(g.v(arg(call, "input")), numpy.int64), axis=0)


def _dropout(g, call):
    if arg(call, "training", default=True) and arg(call, "p", default=0.5):
        raise SymbolicValueError(f"{call.name} in training mode cannot be exported; export in eval mode "
                                 f"(in {call.scope})")
    return g.v(arg(call, "input"))


for _name in ("dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout"):
    symbolic("nn.functional::" + _name)(_dropout)


@symbolic("nn.functional::pad")
def pad(g, call):
    x = g.v(arg(call, "input"))
    p = list(arg(call, "pad"))
    mode = arg(call, "mode", default="constant")
    n = x.rank()
    begins, ends = [0] * n, [0] * n
    for i in range(len(p) // 2):
        begins[n - 1 - i], ends[n - 1 - i] = p[2 * i], p[2 * i + 1]
    onnx_mode = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}[mode]
    if onnx_mode == "wrap" and g.opset < 19:
        raise SymbolicValueError(f"circular padding needs opset 19 or newer (in {call.scope})")
    value = arg(call, "value")
    cval = g.const(numpy.asarray(value or 0, dtype=x.dtype)) if mode == "constant" else None
    return g.op("Pad", x, g.ints(begins + ends), cval, mode=onnx_mode)


@symbolic("nn.functional::interpolate", "nn.functional::upsample")
def interpolate(g, call):
    x = g.v(arg(call, "input"))
    res = out(call)
    mode = arg(call, "mode", default="nearest")
    align = arg(call, "align_corners")
    scale = arg(call, "scale_factor")
    n = x.rank() - 2
    if scale is not None and not arg(call, "recompute_scale_factor"):
        scales = [1.0, 1.0] + [float(s) for s in _tuple(scale, n)]
    else:
        scales = [1.0, 1.0] + [o / i for o, i in zip(res.shape[2:], x.shape[2:])]
    attrs = {}
    if mode in ("nearest", "nearest-exact"):
        attrs = dict(mode="nearest", coordinate_transformation_mode="asymmetric" if mode == "nearest"
                     else "half_pixel", nearest_mode="floor" if mode == "nearest" else "round_prefer_ceil")
    elif mode in ("linear", "bilinear", "trilinear", "bicubic"):
        attrs = dict(mode="cubic" if mode == "bicubic" else "linear",
                     coordinate_transformation_mode="align_corners" if align else "pytorch_half_pixel")
        if mode == "bicubic":
            attrs["cubic_coeff_a"] = -0.75
    else:
        raise SymbolicValueError(f"interpolate mode {mode!r} cannot be exported (in {call.scope})")
    if align and mode != "nearest":
        sizes = g.op("Concat", g.op("Slice", g.op("Shape", x), g.ints([0]), g.ints([2])),
                     g.ints(res.shape[2:]), axis=0)
        return g.op("Resize", x, None, None, sizes, **attrs)
    return g.op("Resize", x, None, g.const(numpy.asarray(scales, dtype=numpy.float32)), **attrs)


@symbolic("nn.functional::pixel_shuffle")
def pixel_shuffle(g, call):
    x = g.v(arg(call, "input"))
    r = int(arg(call, "upscale_factor"))
    return g.op("DepthToSpace", x, blocksize=r, mode="CRD")


@symbolic("nn.functional::one_hot")
def one_hot(g, call):
    x = g.cast(g.v(arg(call, "tensor", "input")), numpy.int64)
    depth = g.ints([out(call).shape[-1]])
    return g.op("OneHot", x, depth, g.const(numpy.asarray([0, 1], dtype=numpy.int64)), axis=-1)



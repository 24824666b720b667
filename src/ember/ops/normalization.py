"""Normalisation ops: ``batch_norm``, ``layer_norm``, ``group_norm``, ``instance_norm``, ``rms_norm``.

All are ``y = (x - mean) * rstd * weight + bias`` (RMS norm without the mean) with the statistics
taken over different axes; the arithmetic runs in ``kernels/norms.py`` (row statistics for layer,
group, instance and RMS norm; channel statistics for batch norm), and one backward node family
(``_NormBackward``) calls the matching backward kernel.
"""
import math

from .. import _dtype
from ..kernels import norms as _kn
from ._common import array_module, Node, record, function, _make, GradMode, ignore_fp_errors
from ._floating import require_floating


class _NormBackward(Node):
    """Gradient of a normalisation whose forward ran in ``kernels/norms.py``.

    ``kind``: ``"row"`` (statistics per row of ``x.reshape(x3)``, channel groups ``groups``, ``center``
    False for RMS norm) or ``"batch"`` (per channel of ``x.reshape(x3)``; ``use_stats`` False in eval mode,
    where the statistics are constants).  First-order backward runs the backward kernel; under
    ``create_graph`` the statistics are recomputed from ``x`` with ember ops so the result is
    differentiable again.
    """

    def backward(self, grad):
        x, w, b = self.saved_tensors
        need_w = w is not None and w._requires_grad
        need_b = b is not None and b._requires_grad
        if GradMode.enabled:
            return self._backward_graph(grad, x, w, b, x._requires_grad, need_w, need_b)
        g3 = grad._data.reshape(self.x3)
        x3 = x._data.reshape(self.x3)
        wa = None if w is None else w._data
        if self.kind == "row":
            gx, gw, gb = _kn.row_norm_backward(g3, x3, self.mean, self.rstd, self.groups, wa, self.center,
                                               need_w or need_b)
        else:
            gx, gw, gb = _kn.batch_norm_backward(g3, x3, self.mean, self.rstd, wa, self.use_stats, need_w or need_b)
        return (_make(gx.reshape(x.shape)) if x._requires_grad else None,
                _make(gw.reshape(w.shape).astype(w._data.dtype, copy=False)) if need_w else None,
                _make(gb.reshape(b.shape).astype(b._data.dtype, copy=False)) if need_b else None)

    def _backward_graph(self, grad, x, w, b, need_x, need_w, need_b):
        """The same gradient composed from ember ops: row norms over ``(R, K * S)`` (statistics along axis 1),
        batch norm over ``(N, C, S)`` (statistics along axes 0 and 2); ``wv`` is the view the affine broadcasts in."""
        if self.kind == "row":
            R, K, S = self.x3
            xv = x.reshape(R, K * S)
            axes, waxes = (1,), (0, 3)
            wv = (-1, self.groups, K, S)
        else:
            xv = x.reshape(self.x3)
            axes = waxes = (0, 2)
            wv = self.x3
        if self.use_stats:
            if self.center:
                mean = xv.mean(axes, keepdim=True)
                xc = xv - mean
            else:
                xc = xv
            rstd = ((xc * xc).mean(axes, keepdim=True) + self.eps).rsqrt()
            xhat = xc * rstd
        else:
            stat = (1, -1, 1)
            rstd = _make(self.rstd.reshape(stat))
            xhat = (xv - _make(self.mean.reshape(stat))) * rstd
        gv = grad.reshape(xv.shape)
        gx = gw = gb = None
        if need_w:
            gw = (gv * xhat).reshape(wv).sum(waxes).reshape(w.shape)
        if need_b:
            gb = gv.reshape(wv).sum(waxes).reshape(b.shape)
        if need_x:
            dv = gv if w is None else (gv.reshape(wv) * w.reshape(self.wshape)).reshape(xv.shape)
            if self.use_stats:
                gxv = dv - xhat * (dv * xhat).mean(axes, keepdim=True)
                if self.center:
                    gxv = gxv - dv.mean(axes, keepdim=True)
                gxv = gxv * rstd
            else:
                gxv = dv * rstd
            gx = gxv.reshape(x.shape)
        return gx, gw, gb


class NativeBatchNormBackward0(_NormBackward):
    """Gradient of batch_norm."""


class NativeLayerNormBackward0(_NormBackward):
    """Gradient of layer_norm."""


class NativeGroupNormBackward0(_NormBackward):
    """Gradient of group_norm."""


class MulBackward0(_NormBackward):
    """Gradient of rms_norm (PyTorch composes it; its last op, a product, names the node)."""


def _row_norm(input, weight, bias, x3, groups, eps, center, node_cls):
    """Run the row-norm kernel over ``input.reshape(x3)`` and record ``node_cls``."""
    xa = input._data
    y, mean, rstd = _kn.row_norm_forward(xa.reshape(x3), groups, None if weight is None else weight._data,
                                         None if bias is None else bias._data, eps, center)
    res = _make(y.reshape(xa.shape))
    node = record(res, node_cls, (input, weight, bias), (input, weight, bias))
    if node is not None:   # set here, not as record's keywords: building them costs on the no-grad path
        node.kind, node.x3, node.groups, node.center, node.use_stats, node.eps = "row", x3, groups, center, True, eps
        node.mean, node.rstd = mean, rstd
        node.wshape = (1, groups, x3[1], 1)
    return res, mean, rstd


def _update_running(running, batch_value, momentum):
    """``running = (1 - momentum) * running + momentum * batch_value``, in place (bumps its version)."""
    r = running._data
    r *= (1 - momentum)
    r += (momentum * batch_value).astype(r.dtype)
    running._version[0] += 1


def _unbiased(var, n):
    """The biased variance ``var`` of ``n`` samples made unbiased (inf for one sample, as PyTorch)."""
    return var * (n / (n - 1) if n > 1 else math.inf)


@function
def batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps, cudnn_enabled=True):
    """Normalise over every dim but the channel dim (1); update running statistics in training.

    ``input`` is ``(N, C, *)``; weight, bias and the running statistics are ``(C,)`` or None.
    Returns a tensor shaped like ``input``.
    """
    xa = input._data
    nd = xa.ndim
    if nd < 2:
        raise ValueError(f"expected 2D or 3D input (got {nd}D input)")
    C = xa.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight), ("bias", bias)):
        if t is not None and t.numel() != C:
            raise RuntimeError(f"{name} should contain {C} elements not {t.numel()}")
    x3 = (xa.shape[0], C, xa.size // (xa.shape[0] * C) if xa.shape[0] * C else 0)
    xp = array_module(input)
    if training:
        mean, var = _kn.batch_norm_stats(xa.reshape(x3))
        with ignore_fp_errors(input):
            rstd = 1 / xp.sqrt(var + eps)
        if running_mean is not None and xa.size:  # an empty batch leaves the statistics alone (PyTorch)
            _update_running(running_mean, mean, momentum)
        if running_var is not None and xa.size:
            _update_running(running_var, _unbiased(var, x3[0] * x3[2]), momentum)
    else:
        if running_mean is None:
            raise RuntimeError("running_mean must be defined in evaluation mode")
        if running_var is None:
            raise RuntimeError("running_var must be defined in evaluation mode")
        mean = running_mean._data.reshape(C)
        with ignore_fp_errors(input):
            rstd = 1 / xp.sqrt(running_var._data.reshape(C) + eps)
    y = _kn.batch_norm_apply(xa.reshape(x3), mean, rstd, None if weight is None else weight._data,
                             None if bias is None else bias._data)
    res = _make(y.reshape(xa.shape))
    node = record(res, NativeBatchNormBackward0, (input, weight, bias), (input, weight, bias))
    if node is not None:
        node.kind, node.x3, node.center, node.use_stats, node.eps = "batch", x3, True, bool(training), eps
        node.mean, node.rstd, node.wshape = mean, rstd, (1, C, 1)
    return res


def _check_normalized_shape(input, normalized_shape, weight, bias):
    """``normalized_shape`` as a tuple, after PyTorch's checks against the input and the affine tensors."""
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    normalized_shape = tuple(normalized_shape)
    shape = tuple(input.shape)
    k = len(normalized_shape)
    if k == 0:
        raise RuntimeError("Expected normalized_shape to be at least 1-dimensional, i.e., containing at least one "
                           "element, but got normalized_shape = []")
    if shape[len(shape) - k:] != normalized_shape or len(shape) < k:
        raise RuntimeError(f"Given normalized_shape={list(normalized_shape)}, expected input with shape "
                           f"[*, {', '.join(str(s) for s in normalized_shape)}], but got input of size"
                           f"{list(input.shape)}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != normalized_shape:
            raise RuntimeError(f"Expected {name} to be of same shape as normalized_shape, but got {name} of shape "
                               f"{list(t.shape)} and normalized_shape = {list(normalized_shape)}")
    return normalized_shape


def _trailing_rows(input, normalized_shape):
    """The ``(rows, features, 1)`` layout of ``input`` normalised over its trailing ``normalized_shape``."""
    n = math.prod(normalized_shape)
    return (input._data.size // n if n else 0, n, 1)


@function
def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5, cudnn_enable=True):
    """Normalise over the trailing ``normalized_shape`` dims, then scale by ``weight`` and shift by ``bias``
    (both shaped ``normalized_shape``).  Returns a tensor shaped like ``input``."""
    normalized_shape = _check_normalized_shape(input, normalized_shape, weight, bias)
    require_floating(input, "LayerNormKernelImpl")
    return _row_norm(input, weight, bias, _trailing_rows(input, normalized_shape), 1, eps, True,
                     NativeLayerNormBackward0)[0]


@function
def rms_norm(input, normalized_shape, weight=None, eps=None):
    """``x / sqrt(mean(x^2 over the trailing normalized_shape dims) + eps) * weight``; ``eps`` defaults to the
    dtype's machine epsilon.  Returns a tensor shaped like ``input``."""
    normalized_shape = _check_normalized_shape(input, normalized_shape, weight, None)
    if eps is None:
        eps = _dtype.finfo(input.dtype).eps
    return _row_norm(input, weight, None, _trailing_rows(input, normalized_shape), 1, eps, False, MulBackward0)[0]


@function
def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5, cudnn_enabled=True):
    """Normalise each group of ``C // num_groups`` channels of each sample of ``(N, C, *)`` input, then a
    per-channel affine map (weight, bias ``(C,)``).  Returns a tensor shaped like ``input``."""
    xa = input._data
    if xa.ndim < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received {xa.ndim}")
    N, C = xa.shape[:2]
    if C % num_groups != 0:
        raise RuntimeError(f"Expected number of channels in input to be divisible by num_groups, but got input of "
                           f"shape {list(input.shape)} and num_groups={num_groups}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and (t.dim() != 1 or t.numel() != C):
            raise RuntimeError(f"Expected {name} to be a vector of size equal to the number of channels in input, "
                               f"but got {name} of shape {list(t.shape)} and input of shape {list(input.shape)}")
    require_floating(input, "GroupNormKernelImpl")
    S = xa.size // (N * C) if N * C else 0
    return _row_norm(input, weight, bias, (N * num_groups, C // num_groups, S), num_groups, eps, True,
                     NativeGroupNormBackward0)[0]


@function
def instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum, eps,
                  cudnn_enabled=True):
    """Normalise each channel of each sample of ``(N, C, *)`` input over its spatial dims (optionally
    tracking running statistics, averaged over the batch).  Returns a tensor shaped like ``input``."""
    xa = input._data
    N, C = xa.shape[:2]
    if not use_input_stats:
        return batch_norm(input, weight, bias, running_mean, running_var, False, momentum, eps)
    S = xa.size // (N * C) if N * C else 0
    # PyTorch runs instance norm as a batch norm over (1, N * C, *): its node is a batch norm's
    res, mean, _ = _row_norm(input, weight, bias, (N * C, 1, S), C, eps, True, NativeBatchNormBackward0)
    if running_mean is not None and xa.size:  # no elements leave the statistics alone (PyTorch's batch norm)
        _update_running(running_mean, mean.reshape(N, C).mean(0), momentum)
    if running_var is not None and xa.size:
        _, var = _kn.batch_norm_stats(xa.reshape(1, N * C, S))
        _update_running(running_var, _unbiased(var.reshape(N, C), S).mean(0), momentum)
    return res

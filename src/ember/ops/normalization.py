"""Normalisation kernels: ``batch_norm``, ``layer_norm``, ``group_norm``, ``instance_norm``.

All four are ``y = (x - mean) * invstd * weight + bias`` with the statistics taken over
different axes of a reshaped input, so they share one forward (``_normalize``) and one
backward node family (``_NormBackward``).
"""
import math

from ._common import array_module, module_of_array, Node, record, function, _make, GradMode
from ._floating import require_floating
from ._ieee import ignore_array_fp_errors


class _NormBackward(Node):
    """Gradient of ``y = (x - mean) * invstd * w + b`` with the statistics over ``axes`` of ``x.reshape(vshape)``.

    ``use_stats``: the statistics are the batch's own (so they depend on x); otherwise constants
    (BatchNorm in eval mode).  First-order backward runs on arrays; under ``create_graph`` the
    statistics are recomputed from ``x`` with ember ops so the result is differentiable again.
    """

    def backward(self, grad):
        x, w, b = self.saved_tensors
        need_x = x._requires_grad
        need_w = w is not None and w._requires_grad
        need_b = b is not None and b._requires_grad
        if GradMode.enabled:
            return self._backward_graph(grad, x, w, b, need_x, need_w, need_b)
        g = grad._data
        xa = x._data
        xhat = xa.reshape(self.vshape) - self.mean
        xhat *= self.invstd
        xhat_full = xhat.reshape(xa.shape)
        gx = gw = gb = None
        if need_w:
            gw = _make((g * xhat_full).sum(axis=self.waxes).reshape(w.shape).astype(xa.dtype, copy=False))
        if need_b:
            gb = _make(g.sum(axis=self.waxes).reshape(b.shape).astype(xa.dtype, copy=False))
        if need_x:
            dxhat = g * w._data.reshape(self.wshape) if w is not None else g
            dv = dxhat.reshape(self.vshape)
            if self.use_stats:
                proj = (dv * xhat).mean(axis=self.axes, keepdims=True)
                gxv = dv - dv.mean(axis=self.axes, keepdims=True)
                xhat *= proj
                gxv -= xhat
                gxv *= self.invstd
            else:
                gxv = dv * self.invstd
            gx = _make(gxv.reshape(xa.shape).astype(xa.dtype, copy=False))
        return gx, gw, gb

    def _backward_graph(self, grad, x, w, b, need_x, need_w, need_b):
        xv = x.reshape(self.vshape)
        if self.use_stats:
            mean = xv.mean(self.axes, keepdim=True)
            xc = xv - mean
            invstd = ((xc * xc).mean(self.axes, keepdim=True) + self.eps).rsqrt()
            xhat = xc * invstd
        else:
            invstd = _make(self.invstd)
            xhat = (xv - _make(self.mean)) * invstd
        gx = gw = gb = None
        if need_w:
            gw = (grad * xhat.reshape(x.shape)).sum(self.waxes).reshape(w.shape)
        if need_b:
            gb = grad.sum(self.waxes).reshape(b.shape)
        if need_x:
            dxhat = grad * w.reshape(self.wshape) if w is not None else grad
            dv = dxhat.reshape(self.vshape)
            if self.use_stats:
                gxv = (dv - dv.mean(self.axes, keepdim=True)
                       - xhat * (dv * xhat).mean(self.axes, keepdim=True)) * invstd
            else:
                gxv = dv * invstd
            gx = gxv.reshape(x.shape)
        return gx, gw, gb


class NativeBatchNormBackward0(_NormBackward):
    """Gradient of batch_norm (and of instance_norm, which PyTorch runs as a batch norm)."""


class NativeLayerNormBackward0(_NormBackward):
    """Gradient of layer_norm."""


class NativeGroupNormBackward0(_NormBackward):
    """Gradient of group_norm."""


def _stats(xv, axes, eps):
    """Mean, biased variance and 1/sqrt(var + eps) over ``axes`` (broadcastable), and the centred input."""
    xp = module_of_array(xv)
    work = xv if xv.dtype.itemsize >= 4 else xv.astype(xp.float32)
    with ignore_array_fp_errors(xv):   # inf in the input gives nan statistics quietly, as in PyTorch
        mean = work.mean(axis=axes, keepdims=True)
        xc = work - mean
        sq = xc * xc
        var = sq.mean(axis=axes, keepdims=True)
        return mean, var, 1.0 / xp.sqrt(var + eps), xc


def _normalize(input, weight, bias, vshape, axes, wshape, waxes, mean, invstd, use_stats, eps, node_cls,
               centred=None):
    """``(x - mean) * invstd * weight + bias``; ``centred`` (a scratch ``x - mean``) is reused in place."""
    xa = input._data
    y = xa.reshape(vshape) - mean if centred is None else centred
    y *= invstd
    y = y.reshape(xa.shape)
    if weight is not None:
        y *= weight._data.reshape(wshape)
    if bias is not None:
        y += bias._data.reshape(wshape)
    res = _make(y.astype(xa.dtype, copy=False))
    node = record(res, node_cls, (input, weight, bias), (input, weight, bias))
    if node is not None:   # set here, not as record's keywords: building them costs on the no-grad path
        node.vshape, node.axes, node.wshape, node.waxes = vshape, axes, wshape, waxes
        node.mean, node.invstd, node.use_stats, node.eps = mean, invstd, use_stats, eps
    return res


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
    axes = (0,) + tuple(range(2, nd))
    wshape = (1, C) + (1,) * (nd - 2)
    if training:
        mean, var, invstd, centred = _stats(xa, axes, eps)
        n = xa.size // C if C else 0
        if running_mean is not None:
            _update_running(running_mean, mean.reshape(-1), momentum)
        if running_var is not None:
            _update_running(running_var, _unbiased(var.reshape(-1), n), momentum)
        use_stats = True
    else:
        if running_mean is None:
            raise RuntimeError("running_mean must be defined in evaluation mode")
        if running_var is None:
            raise RuntimeError("running_var must be defined in evaluation mode")
        mean = running_mean._data.reshape(wshape)
        invstd = 1.0 / array_module(input).sqrt(running_var._data.reshape(wshape) + eps)
        use_stats = False
        centred = None
    return _normalize(input, weight, bias, xa.shape, axes, wshape, axes, mean, invstd, use_stats, eps,
                      NativeBatchNormBackward0, centred)


@function
def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5, cudnn_enable=True):
    """Normalise over the trailing ``normalized_shape`` dims, then scale by ``weight`` and shift by ``bias``
    (both shaped ``normalized_shape``).  Returns a tensor shaped like ``input``."""
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    normalized_shape = tuple(normalized_shape)
    xa = input._data
    k = len(normalized_shape)
    if k == 0:
        raise RuntimeError("Expected normalized_shape to be at least 1-dimensional, i.e., containing at least one "
                           "element, but got normalized_shape = []")
    if xa.shape[xa.ndim - k:] != normalized_shape or xa.ndim < k:
        raise RuntimeError(f"Given normalized_shape={list(normalized_shape)}, expected input with shape "
                           f"[*, {', '.join(str(s) for s in normalized_shape)}], but got input of size"
                           f"{list(input.shape)}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != normalized_shape:
            raise RuntimeError(f"Expected {name} to be of same shape as normalized_shape, but got {name} of shape "
                               f"{list(t.shape)} and normalized_shape = {list(normalized_shape)}")
    require_floating(input, "LayerNormKernelImpl")
    axes = tuple(range(xa.ndim - k, xa.ndim))
    mean, _, invstd, centred = _stats(xa, axes, eps)
    return _normalize(input, weight, bias, xa.shape, axes, normalized_shape, tuple(range(xa.ndim - k)), mean, invstd,
                      True, eps, NativeLayerNormBackward0, centred)


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
    vshape = (N, num_groups, (xa.size // (N * num_groups)) if N * num_groups else 0)
    mean, _, invstd, centred = _stats(xa.reshape(vshape), (2,), eps)
    wshape = (1, C) + (1,) * (xa.ndim - 2)
    waxes = (0,) + tuple(range(2, xa.ndim))
    return _normalize(input, weight, bias, vshape, (2,), wshape, waxes, mean, invstd, True, eps,
                      NativeGroupNormBackward0, centred)


@function
def instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum, eps,
                  cudnn_enabled=True):
    """Normalise each channel of each sample of ``(N, C, *)`` input over its spatial dims (optionally
    tracking running statistics, averaged over the batch).  Returns a tensor shaped like ``input``."""
    xa = input._data
    N, C = xa.shape[:2]
    if not use_input_stats:
        return batch_norm(input, weight, bias, running_mean, running_var, False, momentum, eps)
    axes = tuple(range(2, xa.ndim))
    mean, var, invstd, centred = _stats(xa, axes, eps)
    n = xa.size // (N * C) if N * C else 0
    if running_mean is not None:
        _update_running(running_mean, mean.reshape(N, C).mean(0), momentum)
    if running_var is not None:
        _update_running(running_var, _unbiased(var.reshape(N, C), n).mean(0), momentum)
    wshape = (1, C) + (1,) * (xa.ndim - 2)
    waxes = (0,) + axes
    return _normalize(input, weight, bias, xa.shape, axes, wshape, waxes, mean, invstd, True, eps,
                      NativeBatchNormBackward0, centred)

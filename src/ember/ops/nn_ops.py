"""Fused kernels for ember.nn: linear, softmax family, activations, normalisation, losses, embedding.

Each op computes its forward in one pass over NumPy arrays and writes its
backward with ember ops (so double backward works).  Public names here are
the ones PyTorch also has at the top level (``torch.softmax``,
``torch.layer_norm``, ``torch.dropout`` ...); helpers used only by
``ember.nn.functional`` start with ``_``.
"""
import math

from .. import _dtype
from ._common import xp, Tensor, Node, attach, GradMode, _make, float_array, wrap_dim
from .elementwise import _dtype_name

_float_kinds = "fc"


def _is_float(t):
    return t._data.dtype.kind in "fc" or t._data.dtype.name == "bfloat16"


# ---------------------------------------------------------------------------- linear
class AddmmBackward0(Node):
    """Gradient of ``input @ weight.T + bias`` (the node F.linear leaves)."""

    def backward(self, grad):
        x, w, b = self.saved_tensors
        out_f = w.shape[0]
        in_f = w.shape[-1]
        g2 = grad.reshape(-1, out_f)
        gx = gw = gb = None
        if x._requires_grad:
            gx = g2.mm(w).reshape(x.shape)
        if w._requires_grad:
            gw = g2.t().mm(x.reshape(-1, in_f))
        if b is not None and b._requires_grad:
            gb = g2.sum(0) if b.ndim == 1 else g2.sum()
            if gb.shape != b.shape:
                gb = gb.reshape(b.shape)
        return gx, gw, gb


class MmBackward0(AddmmBackward0):
    def backward(self, grad):
        return AddmmBackward0.backward(self, grad)[:2]


def _rows_of(x, k):
    return x.size // k if k else 0


def _linear(input, weight, bias=None):
    """``input @ weight.T + bias`` for input (*, in_features), weight (out_features, in_features)."""
    x, w = input._data, weight._data
    if w.ndim != 2:
        if w.ndim == 1 and x.ndim >= 1 and x.shape[-1] == w.shape[0]:
            from .linalg import matmul
            r = matmul(input, weight)
            return r + bias if bias is not None else r
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {w.ndim}D")
    if x.ndim == 0:
        raise RuntimeError("both arguments to linear need to be at least 1D, but they are 0D and 2D")
    k = x.shape[-1]
    if k != w.shape[1]:
        rows = x.size // k if k else 0
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{k} and {w.shape[1]}x{w.shape[0]})")
    if x.dtype != w.dtype:
        raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got {_dtype_name(input.dtype)} and "
                           f"{_dtype_name(weight.dtype)}")
    lead = x.shape[:-1]
    x2 = x.reshape(-1, k) if x.ndim != 2 else x
    r = x2 @ w.T
    if bias is not None:
        b = bias._data
        if b.dtype != x.dtype:
            raise RuntimeError(f"self and mat2 must have the same dtype, but got {_dtype_name(bias.dtype)} and "
                               f"{_dtype_name(weight.dtype)}")
        if b.shape and b.shape[-1] not in (1, w.shape[0]) or b.ndim > 1:
            raise RuntimeError(f"The expanded size of the tensor ({w.shape[0]}) must match the existing size "
                               f"({b.shape[-1]}) at non-singleton dimension 1.  Target sizes: "
                               f"[{_rows_of(x, k)}, {w.shape[0]}].  Tensor sizes: {list(b.shape)}")
        r += b
    if x.ndim != 2:
        r = r.reshape(lead + (w.shape[0],))
    res = _make(r)
    if GradMode.enabled and (input._requires_grad or weight._requires_grad
                             or (bias is not None and bias._requires_grad)):
        if bias is not None:
            node = AddmmBackward0()
            node.save(input, weight, bias)
            attach(res, node, input, weight, bias)
        else:
            node = MmBackward0()
            node.save(input, weight, None)
            attach(res, node, input, weight)
    return res


# ---------------------------------------------------------------------------- init helpers (no grad)
def _orthogonal_factor(flat):
    """Q of the QR factorisation of ``flat`` (or of its transpose when wide), signs fixed by diag(R)."""
    a = flat._data
    wide = a.shape[0] < a.shape[1]
    if wide:
        a = a.T
    q, r = xp.linalg.qr(a.astype(xp.float64) if a.dtype.itemsize < 4 else a)
    d = xp.diag(r)
    q = q * xp.sign(d)
    if wide:
        q = q.T
    return _make(xp.ascontiguousarray(q.astype(flat._data.dtype)))

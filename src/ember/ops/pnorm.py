"""``pnorm``: the p-norm over some dims as one fused op, the kernel behind ``nn.functional``'s distances,
``normalize``, ``clip_grad_norm_`` and ``weight_norm``."""
import math

from ._common import array_module, Node, record, _make, GradMode, wrap_dim


class LinalgVectorNormBackward0(Node):
    """Gradient of pnorm (0 where the norm is 0)."""

    def backward(self, grad):
        from .elementwise import where
        x, = self.saved_tensors
        r = self.result() if GradMode.enabled else _make(self.norm)
        p, dims = self.p, self.dims
        if not self.keepdim and dims is not None:
            for d in sorted(dims):
                grad = grad.unsqueeze(d)
                r = r.unsqueeze(d)
        if p == 0:
            return (x * 0,)
        if p == 1:
            return (grad * x.sign(),)
        if p == math.inf or p == -math.inf:
            mask = (x.abs() == r)
            cnt = mask.sum(dims, keepdim=True) if dims is not None else mask.sum()
            return (grad * x.sign() * mask / cnt,)
        safe = where(r == 0, 1.0, r)
        if p == 2:
            return (where(r == 0, 0.0, grad * x / safe),)
        # sign(x) |x|^(p-1), 0 at x == 0 (as PyTorch) where |x|^(p-1) would be inf for p < 1
        scaled = where(x == 0, 0.0, x.sign() * x.abs().pow(p - 1))
        return (where(r == 0, 0.0, grad * scaled / safe.pow(p - 1)),)


def check_empty_reduction(a, p, dim, ord_text):
    """PyTorch's error for a norm without an identity (inf, -inf, a negative order) of array ``a`` over nothing:
    over an empty dim of ``dim`` (named as the caller wrote it), or over all of an empty tensor."""
    if not (p < 0 or math.isinf(p)) or a.size:
        return
    given = tuple(dim) if isinstance(dim, (tuple, list)) else (() if dim is None else (dim,))
    if not given:
        raise RuntimeError(f"linalg.vector_norm cannot compute the {ord_text} norm on an empty tensor because the "
                           f"operation does not have an identity")
    for g in given:
        if a.shape[wrap_dim(g, a.ndim)] == 0:
            raise RuntimeError(f"linalg.vector_norm cannot compute the {ord_text} norm on the dimension {g}because "
                               f"this dimension is empty and the operation does not have an identity")


def pnorm(input, p=2.0, dim=None, keepdim=False):
    """The ``p``-norm of ``input`` over ``dim`` (an int, a sequence, or None for all dims), with PyTorch's
    zero-safe gradient (0 where the norm is 0).  ``p`` may be 0, inf or -inf."""
    a = input._data
    xp = array_module(input)
    check_empty_reduction(a, p, dim, int(p) if math.isfinite(p) and float(p).is_integer() else p)
    dims = None if dim is None else tuple(wrap_dim(d, a.ndim) for d in ((dim,) if isinstance(dim, int) else dim))
    ab = xp.abs(a)
    if p == 2:
        r = xp.sqrt((ab * ab).sum(axis=dims, keepdims=keepdim))
    elif p == 1:
        r = ab.sum(axis=dims, keepdims=keepdim)
    elif p == math.inf:
        r = ab.max(axis=dims, keepdims=keepdim)
    elif p == -math.inf:
        r = ab.min(axis=dims, keepdims=keepdim)
    elif p == 0:
        r = (ab != 0).sum(axis=dims, keepdims=keepdim).astype(a.dtype)
    else:
        r = (ab ** p).sum(axis=dims, keepdims=keepdim) ** (1.0 / p)
    r = xp.asarray(r, dtype=a.dtype)
    res = _make(r)
    node = record(res, LinalgVectorNormBackward0, (input,), (input,), output=True)
    if node is not None:
        node.p, node.dims, node.keepdim, node.norm = p, dims, keepdim, r
    return res

"""Fused loss kernels of ``nn.functional``: nll_loss / cross-entropy with class indices, mse_loss,
binary_cross_entropy (with and without logits) and CTC.

Every loss computes its per-element values on arrays and ends with ``reduce_loss``
(PyTorch's ``reduction='none' | 'sum' | 'mean'``); its backward node scales the incoming
gradient the same way (``_scaled_for``).  ``binary_cross_entropy_with_logits`` and ``ctc_loss`` are
also ``torch.X``, whose ``reduction`` is PyTorch's enum (0 'none', 1 'mean', 2 'sum').
"""
import math

from .. import _dtype
from ._common import array_module, module_of_array, Tensor, Node, record, _make, GradMode, grad_for, dtype_name, \
    ignore_fp_errors, function
from ._device_check import same_device, same_device_args
from ._floating import require_floating
from ..kernels import losses as _kl
from .softmax_ops import softmax


def reduce_loss(loss, reduction, like, total=None):
    """The loss array ``loss`` reduced as ``reduction`` says, as a tensor of ``like``'s dtype.

    'none' keeps it; 'sum' adds it up; 'mean' divides the sum by ``total`` (nll_loss's summed class
    weights) or by the element count, so the mean of nothing is NaN.  Half-precision sums
    accumulate in float32, as PyTorch's do.
    """
    xp = array_module(like)   # not the sum's: a reduction may give a NumPy scalar
    if reduction != "none":
        acc = "float32" if loss.dtype.itemsize == 2 else None
        out = loss.sum(dtype=acc)
        if reduction == "mean":
            with ignore_fp_errors(like):
                loss = out / (loss.size if total is None else total)
        else:
            loss = out
    return _make(xp.asarray(loss, dtype=like._data.dtype))


def reduction_name(reduction, op_name):
    """The reduction string of PyTorch's enum ``reduction`` of ``torch.<op_name>``: 1 'mean', 2 'sum', any other
    int 'none'; TypeError for anything but an int, as ``torch.<op_name>`` raises."""
    if not isinstance(reduction, int) or isinstance(reduction, bool):
        raise TypeError(f"{op_name}(): argument 'reduction' must be int, not {type(reduction).__name__}")
    return "mean" if reduction == 1 else "sum" if reduction == 2 else "none"


def _scaled_for(grad, reduction, n, factor=1.0):
    """The incoming gradient of a reduced loss times ``factor``, divided by ``n`` elements for 'mean'."""
    if reduction == "mean":  # n == 0: an empty input, whose gradient is empty at any scale
        return grad * (factor / n if n else math.nan)
    return grad * factor if factor != 1.0 else grad


# ---------------------------------------------------------------------------- nll_loss / cross_entropy
def _check_target(target):
    dt = target._data.dtype
    if not (dt.kind == "i" and dt.itemsize == 8 or dt.kind == "u" and dt.itemsize == 1):   # Long or Byte
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {dtype_name(target.dtype)}")


def _flatten_classes(input, target):
    """(M, C) view of ``input`` (class dim last) and the (M,) target, after PyTorch's shape checks."""
    a = input._data
    t = target._data
    _check_target(target)
    if a.ndim == 0:
        raise ValueError("Expected 1 or more dimensions (got 0)")
    if a.ndim == 1:
        if t.ndim != 0:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        return a.reshape(1, -1), t.reshape(1), ()
    if t.ndim >= 1 and t.shape[0] != a.shape[0]:
        raise ValueError(f"Expected input batch_size ({a.shape[0]}) to match target batch_size ({t.shape[0]}).")
    if a.ndim == 2:
        if t.ndim != 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        return a, t, (a.shape[0],)
    expected = (a.shape[0],) + a.shape[2:]
    if t.shape != expected:
        raise RuntimeError(f"Expected target size {list(expected)}, got {list(t.shape)}")
    C = a.shape[1]
    return array_module(input).moveaxis(a, 1, -1).reshape(-1, C), t.reshape(-1), expected


def _nll_weights(tflat, C, weight, ignore_index, dtype):
    xp = module_of_array(tflat)
    valid = tflat != ignore_index
    tsafe = xp.where(valid, tflat, 0)
    bad = valid & ((tflat < 0) | (tflat >= C))
    if bad.any():
        raise IndexError(f"Target {int(tflat[bad][0])} is out of bounds.")
    if weight is not None:
        w = weight._data.astype(dtype, copy=False)[tsafe] * valid
    else:
        w = valid.astype(dtype)
    return tsafe, w


class NllLossBackward0(Node):
    """Gradient of nll_loss, and of cross_entropy (``fused``: ``nll_loss(log_softmax(x))`` with label smoothing,
    see ``kernels/losses.py``): per row ``scale * (softmax(x) * (pick + spread * sum(cw)) - pick * onehot(t)
    - spread * cw)`` for cross-entropy, ``-scale * pick * onehot(t)`` for nll; ``scale`` is the incoming gradient
    times ``rowcoef`` (1 / total for 'mean')."""

    def backward(self, grad):
        x, = self.saved_tensors
        M, C = self.mc
        if not GradMode.enabled:
            g = grad._data
            scale = (g.reshape(-1) if self.reduction == "none" else module_of_array(g).full(M, g)) * self.rowcoef
            if self.fused:
                g2 = _kl.cross_entropy_backward(self._flat_array(x), self.lse, self.tsafe, scale, self.pick,
                                                self.spread, self.cw)
            else:
                g2 = module_of_array(g).zeros((M, C), dtype=x._data.dtype)
                g2[module_of_array(g).arange(M), self.tsafe] = -(scale * self.pick)
            return (_make(self._unflat_array(g2, x)),)
        xp = module_of_array(self.pick)
        scale = (grad.reshape(-1, 1) if self.reduction == "none" else grad) * self.rowcoef
        onehot = xp.zeros((M, C), dtype=self.pick.dtype)
        onehot[xp.arange(M), self.tsafe] = self.pick
        if self.fused:
            a = self.pick if self.spread is None else self.pick + self.spread * self.cw.sum()
            inner = softmax(self._flat(x), 1) * _make(a.reshape(-1, 1)) - _make(onehot)
            if self.spread is not None:
                inner = inner - _make(self.spread.reshape(-1, 1) * self.cw.reshape(1, -1))
        else:
            inner = _make(-onehot)
        return (self._unflat(scale * inner, x),)

    def _flat_array(self, x):
        xa = x._data
        return xa.reshape(self.mc) if xa.ndim <= 2 else module_of_array(xa).moveaxis(xa, 1, -1).reshape(self.mc)

    def _unflat_array(self, g2, x):
        xa = x._data
        if xa.ndim > 2:
            moved = (xa.shape[0],) + xa.shape[2:] + (xa.shape[1],)
            g2 = module_of_array(g2).moveaxis(g2.reshape(moved), -1, 1)
        if g2.shape != xa.shape:   # a same-shape reshape is a view, which the engine copies into a leaf's .grad
            g2 = g2.reshape(xa.shape)
        return g2.astype(xa.dtype, copy=False)

    def _flat(self, x):
        if x.ndim <= 2:
            return x.reshape(self.mc)
        return x.movedim(1, -1).reshape(self.mc)

    def _unflat(self, g2, x):
        if x.ndim <= 2:
            return g2.reshape(x.shape)
        moved = (x.shape[0],) + tuple(x.shape[2:]) + (x.shape[1],)
        return g2.reshape(moved).movedim(-1, 1)


class AddBackward0(NllLossBackward0):
    """Gradient of cross_entropy with label smoothing (PyTorch composes it; its last op, a sum, names the node)."""


def _nll_family(input, target, weight, reduction, ignore_index, fused, smoothing=0.0):
    # PyTorch's nll_loss_nd: nll_loss up to 2-D input, nll_loss2d beyond
    same_device_args("nll_loss_forward" if input._data.ndim <= 2 else "nll_loss2d_forward", "self", input,
                     "target", target, "weight", weight)
    a2, t2, out_shape = _flatten_classes(input, target)
    M, C = a2.shape
    if weight is not None and weight.numel() != C:
        raise RuntimeError(f"weight tensor should be defined either for all {C} classes or no classes but got weight "
                           f"tensor of shape: {list(weight.shape)}")
    if fused:
        require_floating(input, "log_softmax_lastdim_kernel_impl")
    tsafe, w = _nll_weights(t2, C, weight, ignore_index, a2.dtype)
    xp = array_module(input)
    spread = cw = lse = None
    if fused:
        pick = w * (1 - smoothing) if smoothing else w
        if smoothing:
            spread = (t2 != ignore_index).astype(a2.dtype) * (smoothing / C)
            cw = xp.ones(C, a2.dtype) if weight is None else weight._data.astype(a2.dtype)
        losses, lse = _kl.cross_entropy_forward(a2, tsafe, pick, spread, cw) if M else (xp.zeros(0, a2.dtype),) * 2
    else:
        pick = w
        picked = a2[xp.arange(M), tsafe] if M else xp.zeros(0, dtype=a2.dtype)
        losses = -picked * w
    rowcoef = 1.0
    total = None
    if reduction == "mean":
        total = w.sum(dtype="float32" if a2.dtype.itemsize == 2 else None)
        with ignore_fp_errors(input):
            rowcoef = 1 / total
    res = reduce_loss(losses.reshape(out_shape) if reduction == "none" else losses, reduction, input, total)
    node = record(res, AddBackward0 if smoothing else NllLossBackward0, (input,), (input,))
    if node is not None:
        node.mc, node.tsafe, node.reduction, node.rowcoef, node.fused = (M, C), tsafe, reduction, rowcoef, fused
        node.pick, node.spread, node.cw, node.lse = pick, spread, cw, lse
    return res


def nll_loss(input, target, weight=None, reduction="mean", ignore_index=-100):
    """Negative log-likelihood of class-index ``target`` under log-probabilities ``input`` ``(N, C, *)`` or
    ``(C,)``; ``weight`` ``(C,)`` weighs the classes.  Returns the reduced loss."""
    return _nll_family(input, target, weight, reduction, ignore_index, False)


def cross_entropy_with_indices(input, target, weight=None, reduction="mean", ignore_index=-100, label_smoothing=0.0):
    """cross_entropy of logits ``input`` with class-index targets as one fused kernel
    (``nll_loss(log_softmax(input, 1), target)`` mixed with the uniform target by ``label_smoothing``)."""
    return _nll_family(input, target, weight, reduction, ignore_index, True, label_smoothing)


# ---------------------------------------------------------------------------- regression and binary losses
class MseLossBackward0(Node):
    """Gradient of mse_loss for input and target."""

    def backward(self, grad):
        x, t = self.saved_tensors
        gd = _scaled_for(grad, self.reduction, self.n, 2.0) * (x - t)
        return grad_for(gd, x), grad_for(-gd, t)


def mse_loss(input, target, reduction="mean"):
    """Squared error ``(input - target) ** 2`` (promoted to a common dtype), reduced."""
    same_device(input, target)
    a, b = input._data, target._data
    if a.dtype != b.dtype:
        dt = _dtype.promote_types(input.dtype, target.dtype)
        input, target = input.to(dt), target.to(dt)
        a, b = input._data, target._data
    try:
        d = a - b
    except ValueError:
        raise RuntimeError(f"The size of tensor a ({a.shape[-1]}) must match the size of tensor b ({b.shape[-1]}) "
                           "at non-singleton dimension") from None
    sq = d * d
    res = reduce_loss(sq, reduction, input)
    record(res, MseLossBackward0, (input, target), (input, target), n=sq.size, reduction=reduction)
    return res


class BinaryCrossEntropyWithLogitsBackward0(Node):
    """Gradient of binary_cross_entropy_with_logits for input and target."""

    def backward(self, grad):
        x, t, w, pw = self.saved_tensors
        g = _scaled_for(grad, self.reduction, self.n)
        gx = gt = None
        if x._requires_grad:
            s = x.sigmoid()
            if pw is not None:
                d = s * (pw * t + 1 - t) - pw * t
            else:
                d = s - t
            if w is not None:
                d = d * w
            gx = grad_for(g * d, x)
        if t._requires_grad:
            if pw is not None:
                sp = (-x).clamp_min(0) + (-(x.abs())).exp().log1p()
                d = -x + (pw - 1) * sp
            else:
                d = -x
            if w is not None:
                d = d * w
            gt = grad_for(g * d, t)
        return gx, gt, None, None


@function
def binary_cross_entropy_with_logits(input, target, weight=None, pos_weight=None, reduction=0):
    """``-(pos_weight * t * log sigmoid(x) + (1 - t) * log(1 - sigmoid(x)))``, computed stably from logits,
    times ``weight``, reduced by the enum ``reduction``."""
    reduction = reduction_name(reduction, "binary_cross_entropy_with_logits")
    for name, w in (("weight", weight), ("pos_weight", pos_weight)):
        if w is not None and w._requires_grad and GradMode.enabled:
            raise RuntimeError(f"The function 'binary_cross_entropy_with_logits' is not differentiable with respect "
                               f"to argument '{name}'. This input cannot have requires_grad True.")
    same_device(input, target, weight, pos_weight)
    x, t = input._data, target._data
    if t.dtype != x.dtype:
        target = target.to(input.dtype)
        t = target._data
    xp = array_module(input)
    lse = xp.maximum(-x, 0) + xp.log1p(xp.exp(-xp.abs(x)))      # log(1 + exp(-x))
    if pos_weight is not None:
        lw = 1 + (pos_weight._data - 1) * t
        loss = (1 - t) * x + lw * lse
    else:
        loss = (1 - t) * x + lse
    if weight is not None:
        loss = loss * weight._data
    loss = loss.astype(x.dtype, copy=False)
    res = reduce_loss(loss, reduction, input)
    record(res, BinaryCrossEntropyWithLogitsBackward0, (input, target, None, None),
           (input, target, weight, pos_weight), n=loss.size, reduction=reduction)
    return res


class BinaryCrossEntropyBackward0(Node):
    """Gradient of binary_cross_entropy for input and target."""

    def backward(self, grad):
        x, t, w = self.saved_tensors
        g = _scaled_for(grad, self.reduction, self.n)
        gx = gt = None
        if x._requires_grad:
            d = (x - t) / (x * (1 - x)).clamp_min(1e-12)
            if w is not None:
                d = d * w
            gx = grad_for(g * d, x)
        if t._requires_grad:
            d = (1 - x).log().clamp_min(-100) - x.log().clamp_min(-100)
            if w is not None:
                d = d * w
            gt = grad_for(g * d, t)
        return gx, gt


def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    """``-(t * log(x) + (1 - t) * log(1 - x))`` of probabilities ``input`` (logs clamped at -100), times
    ``weight``, reduced."""
    same_device(input, target, weight)
    x, t = input._data, target._data
    if x.size and ((x < 0).any() or (x > 1).any()):
        raise RuntimeError("all elements of input should be between 0 and 1")
    xp = array_module(input)
    with ignore_fp_errors(input):
        lx = xp.maximum(xp.log(x), -100)
        l1x = xp.maximum(xp.log1p(-x), -100)
    loss = -(t * lx + (1 - t) * l1x)
    if weight is not None:
        loss = loss * weight._data
    loss = loss.astype(x.dtype, copy=False)
    res = reduce_loss(loss, reduction, input)
    record(res, BinaryCrossEntropyBackward0, (input, target), (input, target, weight), n=loss.size,
           reduction=reduction)
    return res


def multilabel_target_counts(target, C):
    """For multilabel_margin_loss: per row of the ``(N, k)`` class-index ``target``, how often each of the ``C``
    classes is listed before the first -1, and a 0/1 mask of the listed classes (both ``(N, C)`` float64, no
    grad)."""
    xp = array_module(target)
    t = target._data.astype(xp.int64)
    N = t.shape[0]
    valid = xp.cumprod(t >= 0, axis=1).astype(bool)
    counts = xp.zeros((N, C), dtype=xp.float64)
    rows = xp.repeat(xp.arange(N), t.shape[1]).reshape(N, t.shape[1])
    xp.add.at(counts, (rows[valid], t[valid]), 1.0)
    return _make(counts), _make((counts > 0).astype(xp.float64))


# ---------------------------------------------------------------------------- CTC
def _logsumexp_arrays(*arrs):
    xp = module_of_array(arrs[0])
    m = arrs[0]
    for a in arrs[1:]:
        m = xp.maximum(m, a)
    safe = xp.where(xp.isfinite(m), m, 0)
    s = sum(xp.exp(a - safe) for a in arrs)
    return xp.where(xp.isfinite(m), xp.log(s) + safe, m)


class CtcLossBackward0(Node):
    """Gradient of ctc_loss: the coefficients the forward-backward pass computed, times the incoming gradient."""

    def backward(self, grad):
        coef = _make(self.coef)
        if coef.ndim == 3 and self.reduction == "none":
            return (grad.reshape(1, -1, 1) * coef,)
        return (grad * coef,)


@function
def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction=0, zero_infinity=False):
    """Connectionist Temporal Classification loss (forward-backward over the blank-extended label sequence).

    Args:
        log_probs: ``(T, N, C)`` or unbatched ``(T, C)`` log-probabilities.
        targets: ``(N, S)`` padded or 1-D concatenated label indices.
        input_lengths, target_lengths: ``(N,)`` tensors or sequences of ints.
        reduction: PyTorch's enum (0 'none', 1 'mean', 2 'sum').

    Returns the reduced loss ('mean' divides each sequence's loss by its target length first).
    """
    reduction = reduction_name(reduction, "ctc_loss")
    with ignore_fp_errors(log_probs):   # -inf log-probabilities are the normal case here
        return _ctc_loss(log_probs, targets, input_lengths, target_lengths, blank, reduction, zero_infinity)


def _ctc_loss(lp_t, targets, input_lengths, target_lengths, blank, reduction, zero_infinity):
    xp = array_module(lp_t)
    lp = lp_t._data
    if lp.size == 0:
        raise RuntimeError("log_probs tensor must not be empty")
    unbatched = lp.ndim == 2
    if unbatched:
        lp = lp[:, None, :]
    if lp.ndim != 3:
        raise RuntimeError(f"ctc_loss: expected log_probs to be 2-D or 3-D, got {lp.ndim}-D")
    T, N, C = lp.shape

    def as_array(v):
        if isinstance(v, Tensor):
            return v._data.astype(xp.int64).reshape(-1)
        return xp.asarray(v, dtype=xp.int64).reshape(-1)

    il, tl = as_array(input_lengths), as_array(target_lengths)
    tg = targets._data.astype(xp.int64)
    if unbatched:
        tg = tg.reshape(1, -1)
    if il.size != N:
        raise RuntimeError("input_lengths must be of size batch_size")
    if tl.size != N:
        raise RuntimeError("target_lengths must be of size batch_size")
    if (il > T).any():
        b = int(xp.argmax(il > T))
        raise RuntimeError(f"Expected input_lengths to have value at most {T}, but got value {il[b]} (while checking "
                           "arguments for ctc_loss_cpu)")
    Lmax = int(tl.max()) if N else 0
    labels = xp.zeros((N, Lmax), dtype=xp.int64)
    if tg.ndim == 1:
        offs = xp.concatenate([[0], xp.cumsum(tl)[:-1]]) if N else xp.zeros(0, xp.int64)
        for b in range(N):
            labels[b, :tl[b]] = tg[offs[b]:offs[b] + tl[b]]
    else:
        if tg.shape[1] < Lmax:
            raise RuntimeError(f"Expected tensor to have size at least {Lmax} at dimension 1, but got size "
                               f"{tg.shape[1]} for argument #2 'targets' (while checking arguments for ctc_loss_cpu)")
        labels[:, :] = tg[:, :Lmax]
    S = 2 * Lmax + 1
    ext = xp.full((N, S), blank, dtype=xp.int64)
    ext[:, 1::2] = labels
    s_idx = xp.arange(S)
    valid_s = s_idx[None, :] < (2 * tl[:, None] + 1)
    skip = xp.zeros((N, S), dtype=bool)
    skip[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
    neg_inf = -math.inf
    work = lp.astype(xp.float64)
    bidx = xp.arange(N)[:, None]
    emit = work[:, bidx, ext]                            # (T, N, S): log-prob of each extended label
    alpha = xp.full((T, N, S), neg_inf)
    if T:
        alpha[0, :, 0] = emit[0, :, 0]
        if S > 1:
            alpha[0, :, 1] = xp.where(tl > 0, emit[0, :, 1], neg_inf)
        alpha[0] = xp.where(valid_s, alpha[0], neg_inf)
    for t in range(1, T):
        prev = alpha[t - 1]
        a1 = xp.full_like(prev, neg_inf)
        a1[:, 1:] = prev[:, :-1]
        a2 = xp.full_like(prev, neg_inf)
        a2[:, 2:] = prev[:, :-2]
        a2 = xp.where(skip, a2, neg_inf)
        cur = _logsumexp_arrays(prev, a1, a2) + emit[t]
        alpha[t] = xp.where(valid_s & (t < il[:, None]), cur, neg_inf)
    last_t = xp.maximum(il - 1, 0)
    end = 2 * tl
    a_last = alpha[last_t, xp.arange(N)]
    ll_end = a_last[xp.arange(N), end]
    ll_prev = xp.where(end >= 1, a_last[xp.arange(N), xp.maximum(end - 1, 0)], neg_inf)
    nll = -_logsumexp_arrays(ll_end, ll_prev)
    nll = xp.where(il == 0, xp.where(tl == 0, 0.0, math.inf), nll)
    inf_mask = ~xp.isfinite(nll)
    if zero_infinity:
        nll = xp.where(inf_mask, 0.0, nll)
    if reduction == "mean":
        per_seq = nll / xp.maximum(tl, 1)
    elif unbatched and reduction == "none":
        per_seq = nll.reshape(())
    else:
        per_seq = nll
    res = reduce_loss(per_seq, reduction, lp_t)
    node = record(res, CtcLossBackward0, (lp_t,), reduction=reduction)
    if node is None:
        return res
    beta = xp.full((T, N, S), neg_inf)
    for t in range(T - 1, -1, -1):
        init = xp.full((N, S), neg_inf)
        init[xp.arange(N), end] = emit[t, xp.arange(N), end]
        has_prev = end >= 1
        idx_prev = xp.maximum(end - 1, 0)
        init[xp.arange(N)[has_prev], idx_prev[has_prev]] = emit[t, xp.arange(N)[has_prev], idx_prev[has_prev]]
        if t + 1 < T:
            nxt = beta[t + 1]
            b1 = xp.full_like(nxt, neg_inf)
            b1[:, :-1] = nxt[:, 1:]
            b2 = xp.full_like(nxt, neg_inf)
            b2[:, :-2] = xp.where(skip[:, 2:], nxt[:, 2:], neg_inf)
            rec = _logsumexp_arrays(nxt, b1, b2) + emit[t]
        else:
            rec = xp.full((N, S), neg_inf)
        is_last = (t == il - 1)[:, None]
        cur = xp.where(is_last, init, xp.where((t < il - 1)[:, None], rec, neg_inf))
        beta[t] = xp.where(valid_s, cur, neg_inf)
    ab = alpha + beta                                  # (T, N, S)
    # log sum over the s with ext[b, s] == c of exp(ab), for every class c
    lcab = xp.full((T, N, C), neg_inf)
    for s in range(S):
        cls = ext[:, s]
        cur = lcab[:, xp.arange(N), cls]
        lcab[:, xp.arange(N), cls] = _logsumexp_arrays(cur, ab[:, :, s])
    g = xp.exp(work) - xp.exp(lcab + nll[None, :, None] - work)
    tmask = xp.arange(T)[:, None] < il[None, :]
    g = xp.where(tmask[:, :, None], g, 0.0)
    if zero_infinity:
        g = xp.where(inf_mask[None, :, None], 0.0, g)
    if reduction == "mean":
        g = g / (xp.maximum(tl, 1) * max(N, 1))[None, :, None]
    coef = g.astype(lp.dtype)
    node.coef = coef[:, 0, :] if unbatched else coef
    return res

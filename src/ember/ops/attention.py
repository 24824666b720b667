"""Fused scaled dot-product attention: ``softmax(q k^T * scale + mask) v`` as one op.

Composed from single ops, attention leaves six graph nodes and as many full-size
``(..., L, S)`` temporaries; fused, the forward is two batched GEMMs and an in-place softmax,
and the backward is four GEMMs and two elementwise passes.  The backward runs on arrays when
no graph is being recorded; under ``create_graph=True`` it differentiates the same function
written with ember ops, so higher derivatives stay exact.

Masks follow PyTorch: a bool mask says which keys may be attended (True = keep), a float mask
is added to the scores; ``is_causal`` keeps ``j <= i`` (top-left aligned).  A query that may
attend to nothing gets a zero output (PyTorch's CPU kernel does the same), unless
``empty_rows_nan`` asks for the plain-softmax NaN that ``MultiheadAttention(need_weights=True)``
produces.
"""
import math

from ._common import array_module, module_of_array, Tensor, Node, record, GradMode, _make, unbroadcast, \
    ignore_fp_errors
from ..kernels import attention as _ka, softmax as _ks
from .softmax_ops import softmax
from .dropout_ops import dropout_mask


def _bcast_shape(xp, *shapes):
    try:
        return xp.broadcast_shapes(*shapes)
    except ValueError:
        return None


class ScaledDotProductAttentionBackward0(Node):
    """Outputs: the attention result and (optionally) the attention weights."""
    _num_outputs = 2

    def backward(self, dout, dweights):
        q, k, v, mask = self.saved_tensors
        if GradMode.enabled:
            return self._composed_backward(dout, dweights)
        with ignore_fp_errors(q):
            return self._array_backward(q, k, v, mask, dout, dweights)

    def _array_backward(self, q, k, v, mask, dout, dweights):
        P, M, s, rep = self.P, self.M, self.scale, self.rep
        ka, va = k._data, v._data
        xp = array_module(q)
        if rep > 1:
            ka, va = xp.repeat(ka, rep, axis=-3), xp.repeat(va, rep, axis=-3)
        if self.fused and dweights is None and dout is not None:
            need = (q._requires_grad, k._requires_grad, v._requires_grad)
            dq, dk, dv = _ka.attention_backward(q._data, ka, va, P, dout._data, s, need)
            return self._gradients(q, k, v, mask, dq, dk, dv, None, rep)
        Pd = P * M if M is not None else P
        dPd = None
        dv = None
        if dout is not None:
            g = dout._data
            dv = xp.matmul(xp.swapaxes(Pd, -1, -2), g) if v._requires_grad else None
            dPd = xp.matmul(g, xp.swapaxes(va, -1, -2))
        if dweights is not None:
            dPd = dweights._data if dPd is None else dPd + dweights._data
        dq = dk = dm = None
        if dPd is not None:
            dP = dPd * M if M is not None else dPd
            if P.size:
                Sk = P.shape[-1]
                dS = _ks.softmax_backward(dP.reshape(-1, Sk, 1), P.reshape(-1, Sk, 1), False).reshape(P.shape)
            else:
                dS = xp.zeros_like(dP)
            if q._requires_grad:
                dq = xp.matmul(dS, ka)
                dq *= s
            if k._requires_grad:
                dk = xp.matmul(xp.swapaxes(dS, -1, -2), q._data)
                dk *= s
            if mask is not None and mask._requires_grad:
                dm = dS
        elif dout is None:
            return None, None, None, None
        return self._gradients(q, k, v, mask, dq, dk, dv, dm, rep)

    @staticmethod
    def _gradients(q, k, v, mask, dq, dk, dv, dm, rep):
        """The inputs' gradients as tensors from the arrays: repeated heads summed, broadcast dims reduced."""
        out = []
        for t, g in ((q, dq), (k, dk), (v, dv), (mask, dm)):
            if t is None or not t._requires_grad or g is None:
                out.append(None)
                continue
            if rep > 1 and t is not q and t is not mask:
                g = g.reshape(g.shape[:-3] + (g.shape[-3] // rep, rep) + g.shape[-2:]).sum(-3)
            gt = unbroadcast(_make(g), t._data.shape)
            out.append(gt if gt._data.dtype == t._data.dtype else gt.to(t.dtype))
        return tuple(out)

    def _composed_backward(self, dout, dweights):
        from ..autograd import grad as _grad
        q, k, v, mask = ins = self.saved_tensors
        M = _make(self.M) if self.M is not None else None
        o, w = _composed(q, k, v, mask, self.causal, self.scale, self.rep, M, self.empty_rows_nan)
        outs, gouts = [], []
        for a, g in ((o, dout), (w, dweights)):
            if g is not None:
                outs.append(a)
                gouts.append(g)
        wanted = [t for t in ins if t is not None and t._requires_grad]
        gs = iter(_grad(outs, wanted, gouts, create_graph=True, allow_unused=True))
        return tuple(next(gs) if t is not None and t._requires_grad else None for t in ins)

    def release(self):
        Node.release(self)
        self.P = self.M = None


def _composed(q, k, v, mask, causal, scale, rep, M, empty_rows_nan):
    """The same attention written with differentiable ember ops (for create_graph)."""
    if rep > 1:
        k = k.repeat_interleave(rep, dim=-3)
        v = v.repeat_interleave(rep, dim=-3)
    S = (q * scale).matmul(k.transpose(-2, -1))
    L, Sk = S.shape[-2], S.shape[-1]
    add = _mask_addend(array_module(q), mask, causal, L, Sk, S._data.dtype)
    if add is not None:
        S = S + (add if isinstance(add, Tensor) else _make(add))
    P = softmax(S, -1)
    if not empty_rows_nan and add is not None:
        from .elementwise import where
        P = where(P != P, 0.0, P)
    Pd = P * M if M is not None else P
    return Pd.matmul(v), Pd


def _mask_addend(xp, mask, causal, L, S, dt):
    """What is added to the scores: 0 / -inf from a bool mask or causality, or the float mask itself."""
    add = None
    if mask is not None:
        if mask._data.dtype.kind == "b":
            add = xp.where(mask._data, dt.type(0), dt.type(-math.inf))
        else:
            add = mask   # a float mask stays a tensor: it may require grad
    if causal:
        c = xp.where(xp.tri(L, S, dtype=bool), dt.type(0), dt.type(-math.inf))
        if add is None:
            add = c
        elif isinstance(add, Tensor):
            add = add + _make(c)
        else:
            add = add + c
    return add


def _forward_rest(S, add, va, dt, dropout_p, need_weights, empty_rows_nan, generator, causal=None):
    """Softmax over keys (in place), dropout, and the product with the values.

    ``causal`` True/False: no mask was added (``add`` is None) and ``S`` is a fresh contiguous product with keys:
    the fused kernel applies causality itself and no row is empty.  None: the general path, after ``add``."""
    xp = module_of_array(S)
    if causal is not None:
        P = _ks.attention_softmax(S.reshape(-1, S.shape[-1]), S.shape[-2], causal).reshape(S.shape)
    else:
        P = _masked_softmax(xp, S, add, empty_rows_nan)
    M = None
    if dropout_p > 0:
        M = dropout_mask(xp, P.shape, dropout_p, dt, generator)
        Pd = P * M
    else:
        Pd = P
    out = _make(xp.matmul(Pd, va))
    w = _make(Pd) if need_weights else None
    return out, w, P, M


def _masked_softmax(xp, S, add, empty_rows_nan):
    """Softmax of the scores ``S`` over keys in place, ``add`` already added; rows with nothing to attend give
    zeros unless ``empty_rows_nan``."""
    if S.shape[-1] == 0:  # no keys: nothing to normalise, the output is a sum over nothing
        m = xp.zeros(S.shape[:-1] + (1,), S.dtype)
    else:
        m = S.max(-1, keepdims=True)
    if add is not None:
        m[~xp.isfinite(m)] = 0
    S -= m
    xp.exp(S, out=S)
    z = S.sum(-1, keepdims=True)
    if add is not None and not empty_rows_nan:
        z[z == 0] = 1                      # rows with nothing to attend: all-zero weights
    S /= z
    return S


def sdpa(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None, enable_gqa=False,
         need_weights=False, empty_rows_nan=False, generator=None):
    """Attention of ``query (..., L, E)`` over ``key (..., S, E)`` / ``value (..., S, Ev)``.

    Returns ``(output (..., L, Ev), weights (..., L, S) or None)``; the weights (after dropout, as
    MultiheadAttention returns them) are computed only when ``need_weights``.
    """
    qa, ka, va = query._data, key._data, value._data
    xp = array_module(query)
    if qa.dtype != ka.dtype or qa.dtype != va.dtype:
        raise RuntimeError(f"Expected query, key, and value to have the same dtype, but got query.dtype: "
                           f"{query.dtype} key.dtype: {key.dtype} and value.dtype: {value.dtype} instead.")
    if qa.dtype.kind != "f":
        if query.dtype.is_floating_point and query.dtype.itemsize == 2:
            # bfloat16 (an ml_dtypes void kind): compute in float32, as PyTorch's CPU kernel accumulates, and
            # round the results back; the casts are differentiable ops, so autograd (and autocast) just work.
            f = lambda t: t.float() if isinstance(t, Tensor) and t.dtype == query.dtype else t
            out, w = sdpa(f(query), f(key), f(value), f(attn_mask), dropout_p, is_causal, scale, enable_gqa,
                          need_weights, empty_rows_nan, generator)
            return out.to(query.dtype), (w.to(query.dtype) if w is not None else None)
        raise RuntimeError(f"scaled_dot_product_attention: expected floating inputs, got {query.dtype}")
    if qa.ndim < 2 or ka.ndim < 2 or va.ndim < 2:
        raise RuntimeError("scaled_dot_product_attention: query, key and value must be at least 2-D")
    if qa.shape[-1] != ka.shape[-1]:
        raise RuntimeError(f"Expected query and key to have the same last dimension, got {qa.shape[-1]} and "
                           f"{ka.shape[-1]}")
    if ka.shape[-2] != va.shape[-2]:
        raise RuntimeError(f"Expected key and value to have the same sequence length, got {ka.shape[-2]} and "
                           f"{va.shape[-2]}")
    if is_causal and attn_mask is not None:
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set when is_causal=True")
    rep = 1
    if enable_gqa and qa.ndim >= 3 and ka.ndim >= 3:
        hq, hk, hv = qa.shape[-3], ka.shape[-3], va.shape[-3]
        if hq % hk or hq % hv or hk != hv:
            raise RuntimeError("Number of heads in key and value must divide the number of heads in ")
        rep = hq // hk
        if rep > 1:
            ka, va = xp.repeat(ka, rep, axis=-3), xp.repeat(va, rep, axis=-3)
    E = qa.shape[-1]
    s = float(scale) if scale is not None else 1.0 / math.sqrt(E)
    kernel = attn_mask is None and dropout_p == 0 and not need_weights and _ka.accepts(qa, ka, va)
    if kernel:
        with ignore_fp_errors(query):
            o, P = _ka.attention_forward(qa, ka, va, s, is_causal)
        out, w, M = _make(o), None, None
    else:
        out, w, P, M = _unfused_forward(xp, qa, ka, va, s, attn_mask, is_causal, dropout_p, need_weights,
                                        empty_rows_nan, generator, query)
    mask_t = attn_mask if isinstance(attn_mask, Tensor) and attn_mask._data.dtype.kind == "f" else None
    node = record((out, w) if w is not None else out, ScaledDotProductAttentionBackward0,
                  (query, key, value, mask_t), (query, key, value, mask_t if mask_t is not None else attn_mask))
    if node is not None:
        node.P, node.M, node.scale, node.rep, node.fused = P, M, s, rep, kernel
        node.causal, node.empty_rows_nan = is_causal, empty_rows_nan
    return out, w


def _unfused_forward(xp, qa, ka, va, s, attn_mask, is_causal, dropout_p, need_weights, empty_rows_nan, generator,
                     query):
    """The forward through batched products and a softmax (masks, dropout, weights, broadcast batch dims):
    ``(out, weights or None, P, dropout mask or None)``."""
    dt = qa.dtype
    S = xp.matmul(qa * dt.type(s), xp.swapaxes(ka, -1, -2))
    L, Sk = S.shape[-2], S.shape[-1]
    fused = attn_mask is None and S.size > 0
    add = None if fused else _mask_addend(xp, attn_mask, is_causal, L, Sk, dt)
    if add is not None:
        a = add._data if isinstance(add, Tensor) else add
        if a.dtype != dt:
            a = a.astype(dt)
        if _bcast_shape(xp, S.shape, a.shape) != S.shape:
            S = S + a
        else:
            S += a
    with ignore_fp_errors(query):
        return _forward_rest(S, add, va, dt, dropout_p, need_weights, empty_rows_nan, generator,
                             is_causal if fused else None)

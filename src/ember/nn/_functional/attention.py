"""F.scaled_dot_product_attention and F.multi_head_attention_forward (and the mask helpers
MultiheadAttention and the Transformer layers share)."""
import warnings

from ... import _dtype
from ..._tensor import Tensor
from ...ops.attention import sdpa as _sdpa
from ...ops.creation import zeros as _zeros
from ...ops.elementwise import where as _where
from ...ops.joining import cat as _cat
from .linear import linear

__all__ = ["scaled_dot_product_attention", "multi_head_attention_forward"]


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False):
    """``softmax(query @ key^T * scale + mask) @ value`` over the last two dims.

    Args:
        query: ``(..., L, E)``; key: ``(..., S, E)``; value: ``(..., S, Ev)`` (batch dims broadcast).
        attn_mask: bool (True = may attend) or float (added to the scores), broadcastable to
            ``(..., L, S)``.
        dropout_p: dropout probability on the attention weights (applied whenever > 0).
        is_causal: attend only to keys ``j <= i``; incompatible with ``attn_mask``.
        scale: score scale, default ``1 / sqrt(E)``.
        enable_gqa: grouped-query attention: key/value may have fewer heads (dim -3) than query.

    Returns ``(..., L, Ev)``.  A query allowed to attend to nothing gets zeros.
    """
    return _sdpa(query, key, value, attn_mask, dropout_p, is_causal, scale, enable_gqa)[0]


def _none_or_dtype(input):
    if input is None:
        return None
    if isinstance(input, Tensor):
        return input.dtype
    raise RuntimeError("input to _none_or_dtype() must be None or torch.Tensor")


def _canonical_mask(mask, mask_name, other_type, other_name, target_type, check_other=True):
    """A bool mask (True = masked out) as a float mask of 0 / -inf in ``target_type``; float masks pass."""
    if mask is None:
        return None
    is_float = mask.dtype.is_floating_point
    if mask.dtype is not _dtype.bool and not is_float:
        raise AssertionError(f"only bool and floating types of {mask_name} are supported")
    if check_other and other_type is not None and mask.dtype is not other_type:
        warnings.warn(f"Support for mismatched {mask_name} and {other_name} is deprecated. Use same type for both "
                      "instead.", stacklevel=3)
    if not is_float:
        zero = _zeros((), dtype=target_type)
        mask = _where(mask, float("-inf"), zero)
    return mask


def _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads):
    if query.dim() == 3:
        if key.dim() != 3 or value.dim() != 3:
            raise AssertionError("For batched (3-D) `query`, expected `key` and `value` to be 3-D but found "
                                 f"{key.dim()}-D and {value.dim()}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask.dim() != 2:
            raise AssertionError("For batched (3-D) `query`, expected `key_padding_mask` to be `None` or 2-D but "
                                 f"found {key_padding_mask.dim()}-D tensor instead")
        if attn_mask is not None and attn_mask.dim() not in (2, 3):
            raise AssertionError("For batched (3-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D but "
                                 f"found {attn_mask.dim()}-D tensor instead")
        return True
    if query.dim() == 2:
        if key.dim() != 2 or value.dim() != 2:
            raise AssertionError("For unbatched (2-D) `query`, expected `key` and `value` to be 2-D but found "
                                 f"{key.dim()}-D and {value.dim()}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask.dim() != 1:
            raise AssertionError("For unbatched (2-D) `query`, expected `key_padding_mask` to be `None` or 1-D but "
                                 f"found {key_padding_mask.dim()}-D tensor instead")
        if attn_mask is not None:
            if attn_mask.dim() not in (2, 3):
                raise AssertionError("For unbatched (2-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D "
                                     f"but found {attn_mask.dim()}-D tensor instead")
            if attn_mask.dim() == 3:
                expected = (num_heads, query.shape[0], key.shape[0])
                if tuple(attn_mask.shape) != expected:
                    raise AssertionError(f"Expected `attn_mask` shape to be {expected} but got {attn_mask.shape}")
        return False
    raise AssertionError(f"query should be unbatched 2D or batched 3D tensor but received {query.dim()}-D query "
                         "tensor")


def _in_projection_packed(q, k, v, w, b=None):
    """Project q, k, v with the packed ``(3E, E)`` weight (one product when q is k is v), as PyTorch's helper."""
    E = q.size(-1)
    if k is v:
        if q is k:
            proj = linear(q, w, b).unflatten(-1, (3, E)).unsqueeze(0).transpose(0, -2).squeeze(-2).contiguous()
            return proj[0], proj[1], proj[2]
        w_q, w_kv = w.split([E, E * 2])
        b_q, b_kv = (None, None) if b is None else b.split([E, E * 2])
        kv = linear(k, w_kv, b_kv).unflatten(-1, (2, E)).unsqueeze(0).transpose(0, -2).squeeze(-2).contiguous()
        return linear(q, w_q, b_q), kv[0], kv[1]
    w_q, w_k, w_v = w.chunk(3)
    b_q, b_k, b_v = (None, None, None) if b is None else b.chunk(3)
    return linear(q, w_q, b_q), linear(k, w_k, b_k), linear(v, w_v, b_v)


def _in_projection(q, k, v, w_q, w_k, w_v, b_q=None, b_k=None, b_v=None):
    """Project q, k, v with separate weights, checking their shapes as PyTorch's helper does."""
    Eq, Ek, Ev = q.size(-1), k.size(-1), v.size(-1)
    for w, shape, what in ((w_q, (Eq, Eq), "query"), (w_k, (Eq, Ek), "key"), (w_v, (Eq, Ev), "value")):
        if tuple(w.shape) != shape:
            raise AssertionError(f"expecting {what} weights shape of {shape}, but got {w.shape}")
    for b, what in ((b_q, "query"), (b_k, "key"), (b_v, "value")):
        if b is not None and tuple(b.shape) != (Eq,):
            raise AssertionError(f"expecting {what} bias shape of {(Eq,)}, but got {b.shape}")
    return linear(q, w_q, b_q), linear(k, w_k, b_k), linear(v, w_v, b_v)


def _heads(x, n, bsz, num_heads, head_dim):
    """(n, bsz, E) -> (bsz, heads, n, head_dim) (a view when possible)."""
    return x.reshape(n, bsz, num_heads, head_dim).permute(1, 2, 0, 3)


def _pad_last(mask):
    """Append one zero (= attend) column to a float mask."""
    return _cat([mask, _zeros(tuple(mask.shape[:-1]) + (1,), dtype=mask.dtype)], -1)


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias,
                                 bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias,
                                 training=True, key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None, k_proj_weight=None,
                                 v_proj_weight=None, static_k=None, static_v=None, average_attn_weights=True,
                                 is_causal=False, _empty_rows_nan=None):
    """The computation of :class:`~ember.nn.MultiheadAttention` on ``(L, N, E)`` inputs (or unbatched
    ``(L, E)``); returns ``(attn_output, attn_weights or None)`` as PyTorch does.

    A query whose keys are all masked gets NaN when ``need_weights`` (a plain softmax), 0 otherwise
    (the fused kernel); ``_empty_rows_nan`` overrides that (PyTorch's inference fast path gives NaN)."""
    is_batched = _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not is_batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    src_len = key.shape[0]
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask", _none_or_dtype(attn_mask), "attn_mask",
                                       query.dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the Transformer module "
                           "method `generate_square_subsequent_mask` to create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", query.dtype, check_other=False)
        if key_padding_mask is not None:
            is_causal = False
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if tuple(key.shape[:2]) != tuple(value.shape[:2]):
            raise AssertionError(f"key's sequence and batch dims {key.shape[:2]} do not match value's "
                                 f"{value.shape[:2]}")
    elif tuple(key.shape) != tuple(value.shape):
        raise AssertionError(f"key shape {key.shape} does not match value shape {value.shape}")

    # ---- input projections, straight into (bsz, heads, seq, head_dim)
    E = embed_dim
    # self-attention on a batch-first input (MultiheadAttention(batch_first=True) passes its transpose): project
    # and merge the heads in the input's (bsz, L, E) layout, so that neither product copies its input first
    batch_first = (not use_separate_proj_weight and key is value and query is key and not query.is_contiguous()
                   and query.transpose(0, 1).is_contiguous())
    if not use_separate_proj_weight:
        if in_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is False but in_proj_weight is None")
        if batch_first:
            proj = linear(query.transpose(0, 1), in_proj_weight, in_proj_bias)
            q, k, v = proj.reshape(bsz, tgt_len, 3, num_heads, head_dim).permute(2, 0, 3, 1, 4).unbind(0)
        elif key is value and query is key:
            proj = linear(query, in_proj_weight, in_proj_bias)
            q, k, v = proj.reshape(tgt_len, bsz, 3, num_heads, head_dim).permute(2, 1, 3, 0, 4).unbind(0)
        elif key is value:
            b_q = b_kv = None
            if in_proj_bias is not None:
                b_q, b_kv = in_proj_bias[:E], in_proj_bias[E:]
            q = _heads(linear(query, in_proj_weight[:E], b_q), tgt_len, bsz, num_heads, head_dim)
            kv = linear(key, in_proj_weight[E:], b_kv)
            k, v = kv.reshape(src_len, bsz, 2, num_heads, head_dim).permute(2, 1, 3, 0, 4).unbind(0)
        else:
            w_q, w_k, w_v = in_proj_weight.chunk(3)
            b_q = b_k = b_v = None
            if in_proj_bias is not None:
                b_q, b_k, b_v = in_proj_bias.chunk(3)
            q = _heads(linear(query, w_q, b_q), tgt_len, bsz, num_heads, head_dim)
            k = _heads(linear(key, w_k, b_k), src_len, bsz, num_heads, head_dim)
            v = _heads(linear(value, w_v, b_v), src_len, bsz, num_heads, head_dim)
    else:
        for w, name in ((q_proj_weight, "q"), (k_proj_weight, "k"), (v_proj_weight, "v")):
            if w is None:
                raise AssertionError(f"use_separate_proj_weight is True but {name}_proj_weight is None")
        b_q = b_k = b_v = None
        if in_proj_bias is not None:
            b_q, b_k, b_v = in_proj_bias.chunk(3)
        Eq, Ek, Ev = query.size(-1), key.size(-1), value.size(-1)
        for w, shape, what in ((q_proj_weight, (Eq, Eq), "query"), (k_proj_weight, (Eq, Ek), "key"),
                               (v_proj_weight, (Eq, Ev), "value")):
            if tuple(w.shape) != shape:
                raise AssertionError(f"expecting {what} weights shape of {shape}, but got {w.shape}")
        q = _heads(linear(query, q_proj_weight, b_q), tgt_len, bsz, num_heads, head_dim)
        k = _heads(linear(key, k_proj_weight, b_k), src_len, bsz, num_heads, head_dim)
        v = _heads(linear(value, v_proj_weight, b_v), src_len, bsz, num_heads, head_dim)

    # ---- masks, as (…, tgt_len, src_len) addends broadcastable to (bsz, heads, tgt, src)
    if attn_mask is not None:
        if attn_mask.dim() == 2:
            if tuple(attn_mask.shape) != (tgt_len, src_len):
                raise RuntimeError(f"The shape of the 2D attn_mask is {attn_mask.shape}, but should be "
                                   f"{(tgt_len, src_len)}.")
        elif attn_mask.dim() == 3:
            if tuple(attn_mask.shape) != (bsz * num_heads, tgt_len, src_len):
                raise RuntimeError(f"The shape of the 3D attn_mask is {attn_mask.shape}, but should be "
                                   f"{(bsz * num_heads, tgt_len, src_len)}.")
            attn_mask = attn_mask.reshape(bsz, num_heads, tgt_len, src_len)
        else:
            raise RuntimeError(f"attn_mask's dimension {attn_mask.dim()} is not supported")
    if bias_k is not None and bias_v is not None:
        if static_k is not None:
            raise AssertionError("bias cannot be added to static key.")
        if static_v is not None:
            raise AssertionError("bias cannot be added to static value.")
        k = _cat([k, bias_k.reshape(1, num_heads, 1, head_dim).expand(bsz, num_heads, 1, head_dim)], 2)
        v = _cat([v, bias_v.reshape(1, num_heads, 1, head_dim).expand(bsz, num_heads, 1, head_dim)], 2)
        if attn_mask is not None:
            attn_mask = _pad_last(attn_mask)
        if key_padding_mask is not None:
            key_padding_mask = _pad_last(key_padding_mask)
    elif bias_k is not None:
        raise AssertionError("bias_k is set but bias_v is None")
    elif bias_v is not None:
        raise AssertionError("bias_v is set but bias_k is None")
    if static_k is not None:
        if static_k.size(0) != bsz * num_heads:
            raise AssertionError(f"expecting static_k.size(0) of {bsz * num_heads}, but got {static_k.size(0)}")
        if static_k.size(2) != head_dim:
            raise AssertionError(f"expecting static_k.size(2) of {head_dim}, but got {static_k.size(2)}")
        k = static_k.reshape(bsz, num_heads, static_k.shape[1], head_dim)
    if static_v is not None:
        if static_v.size(0) != bsz * num_heads:
            raise AssertionError(f"expecting static_v.size(0) of {bsz * num_heads}, but got {static_v.size(0)}")
        if static_v.size(2) != head_dim:
            raise AssertionError(f"expecting static_v.size(2) of {head_dim}, but got {static_v.size(2)}")
        v = static_v.reshape(bsz, num_heads, static_v.shape[1], head_dim)
    if add_zero_attn:
        z = _zeros((bsz, num_heads, 1, head_dim), dtype=k.dtype)
        k = _cat([k, z], 2)
        v = _cat([v, z], 2)
        if attn_mask is not None:
            attn_mask = _pad_last(attn_mask)
        if key_padding_mask is not None:
            key_padding_mask = _pad_last(key_padding_mask)
    src_len = k.shape[2]
    if key_padding_mask is not None:
        if key_padding_mask.shape[0] != bsz:
            raise AssertionError(f"Expected key_padded_mask.shape[0] to be {bsz}, but got "
                                 f"{key_padding_mask.shape[0]}")
        if key_padding_mask.shape[1] != src_len:
            raise AssertionError(f"Expected key_padded_mask.shape[1] to be {src_len}, but got "
                                 f"{key_padding_mask.shape[1]}")
        kpm = key_padding_mask.reshape(bsz, 1, 1, src_len)
        attn_mask = kpm if attn_mask is None else attn_mask + kpm
    if not training:
        dropout_p = 0.0

    out, weights = _sdpa(q, k, v, attn_mask, dropout_p, is_causal and attn_mask is None, None, False,
                         need_weights=need_weights,
                         empty_rows_nan=need_weights if _empty_rows_nan is None else _empty_rows_nan)
    if batch_first:   # the fused kernel's output of heads read from a (bsz, L, E) projection: merged as a view
        out = linear(out.transpose(1, 2).reshape(bsz, tgt_len, embed_dim), out_proj_weight, out_proj_bias)
        out = out.transpose(0, 1)
    else:
        out = out.permute(2, 0, 1, 3).reshape(tgt_len * bsz, embed_dim)
        out = linear(out, out_proj_weight, out_proj_bias)
        out = out.reshape(tgt_len, bsz, out.shape[-1])  # not -1: a 0-size batch leaves it undetermined
    if need_weights and average_attn_weights:
        weights = weights.mean(1)
    if not is_batched:
        out = out.squeeze(1)
        if weights is not None:
            weights = weights.squeeze(0)
    return out, weights

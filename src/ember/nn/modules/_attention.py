"""MultiheadAttention (exported from ``ember.nn.modules.activation``, where PyTorch keeps it)."""
from ...autograd.grad_mode import GradMode
from ..parameter import Parameter
from .. import init
from .._functional.attention import multi_head_attention_forward, _canonical_mask, _none_or_dtype
from .linear import NonDynamicallyQuantizableLinear
from .module import Module

__all__ = ["MultiheadAttention"]


def _fastpath_enabled():
    from ... import backends
    mha = getattr(backends, "mha", None)
    return mha.get_fastpath_enabled() if mha is not None and hasattr(mha, "get_fastpath_enabled") else True


class MultiheadAttention(Module):
    """Multi-head attention: ``MultiHead(Q, K, V) = Concat(head_1, ..., head_h) W_O`` with
    ``head_i = Attention(Q W_i^Q, K W_i^K, V W_i^V)``.

    Args:
        embed_dim: total model width (split across heads).
        num_heads: parallel attention heads; must divide ``embed_dim``.
        dropout: dropout on the attention weights (training only). Default: 0.
        bias: biases on the input and output projections. Default: True.
        add_bias_kv: learnable bias rows appended to the keys and values. Default: False.
        add_zero_attn: a zero key/value row appended. Default: False.
        kdim, vdim: feature sizes of key and value (default ``embed_dim``; when they differ,
            the projections are ``q_proj_weight``/``k_proj_weight``/``v_proj_weight`` instead of the
            packed ``in_proj_weight``).
        batch_first: inputs and output are ``(N, L, E)`` instead of ``(L, N, E)``. Default: False.

    Forward: ``(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
    average_attn_weights=True, is_causal=False)`` -> ``(attn_output, attn_weights)``.
    Boolean masks mark positions that may NOT be attended (True = masked); float masks are added.
    """

    __constants__ = ["batch_first"]
    __module__ = "ember.nn.modules.activation"   # where PyTorch (and pickles of it) keep the class

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False, add_zero_attn=False,
                 kdim=None, vdim=None, batch_first=False, device=None, dtype=None):
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got embed_dim={embed_dim} and "
                             f"num_heads={num_heads} instead")
        from ...ops.creation import empty
        kw = {"device": device, "dtype": dtype}
        super().__init__()
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != self.embed_dim:
            raise AssertionError("embed_dim must be divisible by num_heads")
        if not self._qkv_same_embed_dim:
            self.q_proj_weight = Parameter(empty((embed_dim, embed_dim), **kw))
            self.k_proj_weight = Parameter(empty((embed_dim, self.kdim), **kw))
            self.v_proj_weight = Parameter(empty((embed_dim, self.vdim), **kw))
            self.register_parameter("in_proj_weight", None)
        else:
            self.in_proj_weight = Parameter(empty((3 * embed_dim, embed_dim), **kw))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(empty(3 * embed_dim, **kw))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, **kw)
        if add_bias_kv:
            self.bias_k = Parameter(empty((1, 1, embed_dim), **kw))
            self.bias_v = Parameter(empty((1, 1, embed_dim), **kw))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self):
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
        if self.bias_v is not None:
            init.xavier_normal_(self.bias_v)

    def __setstate__(self, state):
        if "_qkv_same_embed_dim" not in state:
            state["_qkv_same_embed_dim"] = True
        super().__setstate__(state)

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                average_attn_weights=True, is_causal=False):
        fast = self._fast_path_ok(query, key, value, attn_mask, key_padding_mask)
        return self._forward_impl(query, key, value, key_padding_mask, need_weights, attn_mask, average_attn_weights,
                                  is_causal, empty_rows_nan=fast or None)

    def _fast_path_ok(self, query, key, value, attn_mask, key_padding_mask):
        """Whether PyTorch would take its fused inference kernel here.  The result is the same except
        for queries that may attend to nothing: that kernel gives NaN where the general path gives 0."""
        if (attn_mask is not None and attn_mask.dtype.is_floating_point) or \
                (key_padding_mask is not None and key_padding_mask.dtype.is_floating_point):
            return False
        if not _fastpath_enabled() or query.dim() != 3 or query is not key or key is not value:
            return False
        if self.in_proj_bias is None or self.in_proj_weight is None or query.dtype is not self.in_proj_bias.dtype \
                or query.dtype is not self.in_proj_weight.dtype:
            return False
        if self.training or self.num_heads % 2 or not self.batch_first or self.bias_k is not None \
                or self.bias_v is not None or self.add_zero_attn or not self._qkv_same_embed_dim:
            return False
        if GradMode.enabled and any(t is not None and t.requires_grad for t in (
                query, self.in_proj_weight, self.in_proj_bias, self.out_proj.weight, self.out_proj.bias)):
            return False
        return True

    def _forward_impl(self, query, key, value, key_padding_mask, need_weights, attn_mask, average_attn_weights,
                      is_causal, empty_rows_nan=None):
        is_batched = query.dim() == 3
        key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask", _none_or_dtype(attn_mask),
                                           "attn_mask", query.dtype)
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", query.dtype, check_other=False)
        if self.batch_first and is_batched:
            if key is value:
                if query is key:
                    query = key = value = query.transpose(1, 0)
                else:
                    query, key = (x.transpose(1, 0) for x in (query, key))
                    value = key
            else:
                query, key, value = (x.transpose(1, 0) for x in (query, key, value))
        kw = {}
        if not self._qkv_same_embed_dim:
            kw = dict(use_separate_proj_weight=True, q_proj_weight=self.q_proj_weight,
                      k_proj_weight=self.k_proj_weight, v_proj_weight=self.v_proj_weight)
        attn_output, attn_output_weights = multi_head_attention_forward(
            query, key, value, self.embed_dim, self.num_heads, self.in_proj_weight, self.in_proj_bias,
            self.bias_k, self.bias_v, self.add_zero_attn, self.dropout, self.out_proj.weight, self.out_proj.bias,
            training=self.training, key_padding_mask=key_padding_mask, need_weights=need_weights,
            attn_mask=attn_mask, average_attn_weights=average_attn_weights, is_causal=is_causal,
            _empty_rows_nan=empty_rows_nan, **kw)
        if self.batch_first and is_batched:
            return attn_output.transpose(1, 0), attn_output_weights
        return attn_output, attn_output_weights

    def merge_masks(self, attn_mask, key_padding_mask, query):
        """Combine ``attn_mask`` and ``key_padding_mask`` into one ``(N, heads, L, S)`` mask and its type
        (0: attn_mask only, 1: key padding only, 2: both), as PyTorch's fast path does."""
        mask_type = None
        merged = None
        if key_padding_mask is not None:
            mask_type = 1
            merged = key_padding_mask
        if attn_mask is not None:
            batch_size, seq_len, _ = query.shape
            mask_type = 2
            if attn_mask.dim() == 3:
                attn_mask_expanded = attn_mask.view(batch_size, -1, seq_len, seq_len)
            else:
                attn_mask_expanded = attn_mask.view(1, 1, seq_len, seq_len).expand(batch_size, self.num_heads,
                                                                                   -1, -1)
            merged = attn_mask_expanded
            if key_padding_mask is not None:
                kpm = key_padding_mask.view(batch_size, 1, 1, seq_len).expand(-1, self.num_heads, -1, -1)
                merged = attn_mask_expanded + kpm
        return merged, mask_type

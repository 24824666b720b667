"""Empty tensors flow through everything (issue 10 §5), against PyTorch: a 0-size batch through the
convolution family with backward (and double backward), MultiheadAttention and the Transformer layers, the
extreme-value reductions over empty dims (PyTorch's exceptions, type and message), every optimizer stepping a
parameter without elements, and a whole training step on an empty batch.  The op and layer tables carry the
0-size twin of each row (tests/empty_variants.py); the cases where PyTorch fails by accident
(empty_variants.NOT_DERIVED) are checked here against their mathematics.
"""
import warnings

import numpy as np
import pytest
import torch

import ember
from empty_variants import NOT_DERIVED, check_same_outcome
from nn.nn_helpers import build_pair, compare_module
from optim.test_optimizers import CONFIGS, _id, arr, assert_state_dicts_equal, make_pair
from parity import assert_same, check_op

rng = np.random.default_rng(10)


def _raise_alike(fn):
    """``fn(lib)`` raises in both libraries with the same exception type and message."""
    outcomes = []
    for lib in (torch, ember):
        with pytest.raises(Exception) as info:
            fn(lib)
        outcomes.append((type(info.value).__name__, str(info.value).split("\n")[0]))
    assert outcomes[0] == outcomes[1]


# ---------------------------------------------------------------------------------------- convolutions

CONVS = [
    ("Conv1d", (3, 4, 3), {}, (3, 8)),
    ("Conv1d", (4, 6, 3), dict(groups=2, padding=1, padding_mode="circular"), (4, 7)),
    ("Conv2d", (3, 4, 3), {}, (3, 8, 8)),              # the Winograd path (3x3, stride 1)
    ("Conv2d", (3, 4, 3), dict(stride=2, padding=1), (3, 8, 8)),
    ("Conv2d", (2, 4, 3), dict(padding="same", padding_mode="reflect"), (2, 6, 5)),
    ("Conv3d", (3, 4, 3), {}, (3, 4, 4, 4)),
    ("ConvTranspose1d", (3, 4, 3), dict(stride=2), (3, 8)),
    ("ConvTranspose2d", (3, 4, 3), {}, (3, 8, 8)),
    ("ConvTranspose2d", (4, 2, 3), dict(stride=2, output_padding=1, groups=2), (4, 5, 5)),
    ("ConvTranspose3d", (3, 4, 3), {}, (3, 4, 4, 4)),
]


@pytest.mark.parametrize("name,args,kw,shape", CONVS, ids=lambda v: str(v))
def test_conv_family_on_an_empty_batch(name, args, kw, shape):
    """Output (0, out_channels, *spatial), an empty input gradient, zero weight and bias gradients."""
    em, tm = build_pair(lambda L: getattr(L.nn, name)(*args, **kw))
    oe, ot = compare_module(em, tm, [rng.standard_normal((0,) + shape)])
    assert ot.shape[0] == 0 and ot.numel() == 0
    assert not np.any(arr(em.weight.grad)) and em.weight.grad.shape == em.weight.shape


@pytest.mark.parametrize("fn", [
    lambda m, x, w: m.nn.functional.conv2d(x, w),
    lambda m, x, w: m.nn.functional.conv2d(x, w, stride=2, padding=1),
    lambda m, x, w: m.nn.functional.conv_transpose2d(x, w.transpose(0, 1)),
    lambda m, x, w: m.nn.functional.conv1d(x[..., 0], w[..., 0]),
], ids=["conv2d-winograd", "conv2d-strided", "conv_transpose2d", "conv1d"])
def test_conv_functional_double_backward_on_an_empty_batch(fn):
    check_op(lambda *t: fn(ember, *t), lambda *t: fn(torch, *t), rng.standard_normal((0, 3, 6, 6)),
             rng.standard_normal((4, 3, 3, 3)), gradgrad=True)


def test_conv2d_of_the_issue():
    """``nn.Conv2d(3, 4, 3)(randn(0, 3, 8, 8)).sum().backward()`` (an AttributeError before)."""
    for lib in (ember, torch):
        lib.manual_seed(0)
        m = lib.nn.Conv2d(3, 4, 3)
        x = lib.randn(0, 3, 8, 8, requires_grad=True)
        y = m(x)
        y.sum().backward()
        assert tuple(y.shape) == (0, 4, 6, 6) and tuple(x.grad.shape) == (0, 3, 8, 8)
        assert float(m.weight.grad.abs().sum()) == 0.0 and float(m.bias.grad.abs().sum()) == 0.0


# ---------------------------------------------------------------------------------------- attention

ATTENTION = [
    ("MultiheadAttention", lambda L: L.nn.MultiheadAttention(8, 2, batch_first=True), lambda m, x: m(x, x, x)),
    ("MultiheadAttention-seq-first-kdim", lambda L: L.nn.MultiheadAttention(8, 2, kdim=6, vdim=5),
     lambda m, x: m(x, x.new_zeros(5, 0, 6), x.new_zeros(5, 0, 5))),
    ("TransformerEncoderLayer", lambda L: L.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True),
     None),
    ("TransformerEncoderLayer-norm-first-seq-first",
     lambda L: L.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, norm_first=True), None),
    ("TransformerDecoderLayer", lambda L: L.nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, batch_first=True),
     lambda m, x: m(x, x)),
    ("Transformer", lambda L: L.nn.Transformer(8, 2, 1, 1, 16, dropout=0.0, batch_first=True),
     lambda m, x: m(x, x)),
]


@pytest.mark.parametrize("name,ctor,call", ATTENTION, ids=[a[0] for a in ATTENTION])
@pytest.mark.parametrize("train", [True, False])
def test_attention_and_transformers_on_an_empty_batch(name, ctor, call, train):
    """Outputs (and averaged attention weights) with a 0-size batch, gradients of every parameter (zero)."""
    em, tm = build_pair(ctor)
    em.train(train)
    tm.train(train)
    batch_first = "seq-first" not in name
    x = rng.standard_normal((0, 5, 8) if batch_first else (5, 0, 8))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # torch's fast-path notes about nested tensors
        compare_module(em, tm, [x], call=call)


def test_attention_mask_and_key_padding_on_an_empty_batch():
    em, tm = build_pair(lambda L: L.nn.MultiheadAttention(8, 2, batch_first=True))
    x = rng.standard_normal((0, 5, 8))
    causal = np.triu(np.full((5, 5), -np.inf), 1)
    compare_module(em, tm, [x, causal, np.zeros((0, 5), dtype=bool)], nograd=(1,),
                   call=lambda m, x, mask, kpm: m(x, x, x, attn_mask=mask, key_padding_mask=kpm))


# ---------------------------------------------------------------------------------------- functions

def R(*shape):
    return rng.standard_normal(shape)


def I(*shape):  # noqa: E743
    return np.zeros(shape, dtype=np.int64)


def F(m):
    return m.nn.functional


# (name, fn(lib, *tensors), inputs): functions and layers' kernels with a 0-size batch (or another empty dim)
FUNCTIONAL = [
    ("interpolate-nearest", lambda m, x: F(m).interpolate(x, scale_factor=2), [R(0, 3, 4, 4)]),
    ("interpolate-bilinear", lambda m, x: F(m).interpolate(x, size=(5, 7), mode="bilinear"), [R(0, 3, 4, 4)]),
    ("interpolate-bicubic-ac", lambda m, x: F(m).interpolate(x, size=(5, 7), mode="bicubic", align_corners=True),
     [R(0, 3, 4, 4)]),
    ("interpolate-trilinear", lambda m, x: F(m).interpolate(x, size=(3, 5, 7), mode="trilinear"), [R(0, 2, 4, 4, 4)]),
    ("interpolate-area", lambda m, x: F(m).interpolate(x, size=(3,), mode="area"), [R(0, 2, 7)]),
    ("interpolate-linear", lambda m, x: F(m).interpolate(x, size=(9,), mode="linear"), [R(0, 2, 7)]),
    ("grid_sample", lambda m, x, g: F(m).grid_sample(x, g, align_corners=False), [R(0, 3, 4, 4), R(0, 5, 5, 2)]),
    ("affine_grid", lambda m, t: F(m).affine_grid(t, (0,3,4,4), align_corners=False), [R(0, 2, 3)]),
    ("unfold", lambda m, x: F(m).unfold(x, 2), [R(0, 3, 4, 4)]),
    ("fold", lambda m, x: F(m).fold(x, (4,4), 2), [R(0, 12, 9)]),
    ("channel_shuffle", lambda m, x: F(m).channel_shuffle(x, 2), [R(0, 4, 3, 3)]),
    ("normalize", lambda m, x: F(m).normalize(x), [R(0, 5)]),
    ("cdist", lambda m, x, y: m.cdist(x, y), [R(0, 5), R(3, 5)]),
    ("cdist-batch", lambda m, x, y: m.cdist(x, y), [R(0, 4, 5), R(0, 3, 5)]),
    ("cosine_similarity", lambda m, x, y: F(m).cosine_similarity(x, y), [R(0, 5), R(0, 5)]),
    ("one_hot", lambda m, x: F(m).one_hot(x, 4), [I(0)]),
    ("one_hot-auto", lambda m, x: F(m).one_hot(x), [I(0)]),
    ("embedding", lambda m, i, w: F(m).embedding(i, w), [I(0, 3), R(10, 4)]),
    ("cross_entropy", lambda m, x, t: F(m).cross_entropy(x, t), [R(0, 5), I(0)]),
    ("cross_entropy-ls", lambda m, x, t: F(m).cross_entropy(x, t, label_smoothing=0.1), [R(0, 5), I(0)]),
    ("cross_entropy-sum", lambda m, x, t: F(m).cross_entropy(x, t, reduction="sum"), [R(0, 5), I(0)]),
    ("cross_entropy-probs", lambda m, x, t: F(m).cross_entropy(x, t.softmax(1)), [R(0, 5), R(0, 5)]),
    ("cross_entropy-2d", lambda m, x, t: F(m).cross_entropy(x, t), [R(0, 5, 3, 3), I(0,3,3)]),
    ("nll_loss", lambda m, x, t: F(m).nll_loss(x, t), [R(0, 5), I(0)]),
    ("kl_div", lambda m, x, t: F(m).kl_div(x, t, reduction="batchmean"), [R(0, 5), R(0, 5)]),
    ("gaussian_nll", lambda m, x, t, v: F(m).gaussian_nll_loss(x, t, v.abs()), [R(0, 5), R(0, 5), R(0, 5)]),
    ("huber", lambda m, x, t: F(m).huber_loss(x, t), [R(0, 5), R(0, 5)]),
    ("triplet", lambda m, a, p, n: F(m).triplet_margin_loss(a, p, n), [R(0, 5), R(0, 5), R(0, 5)]),
    ("ctc", lambda m, lp, t: F(m).ctc_loss(lp.log_softmax(2), t, [4]*0, [2]*0), [R(4, 0, 5), I(0,2)]),
    ("softmax-dim1", lambda m, x: F(m).softmax(x, 1), [R(0, 5)]),
    ("log_softmax-3d", lambda m, x: F(m).log_softmax(x, -1), [R(0, 3, 5)]),
    ("gumbel-hard-eval", lambda m, x: F(m).softmax(x, 0), [R(0, 5)]),
    ("glu", lambda m, x: F(m).glu(x), [R(0, 4)]),
    ("layer_norm", lambda m, x: F(m).layer_norm(x, (5,)), [R(0, 5)]),
    ("rms_norm", lambda m, x: F(m).rms_norm(x, (5,)), [R(0, 5)]),
    ("group_norm", lambda m, x: F(m).group_norm(x, 2), [R(0, 4, 3)]),
    ("dropout-eval", lambda m, x: F(m).dropout(x, 0.5, False), [R(0, 5)]),
    ("dropout-train", lambda m, x: F(m).dropout(x, 0.5, True), [R(0, 5)]),
    ("dropout2d-train", lambda m, x: F(m).dropout2d(x, 0.5, True), [R(0, 3, 4, 4)]),
    ("alpha_dropout-train", lambda m, x: F(m).alpha_dropout(x, 0.5, True), [R(0, 5)]),
    ("sdpa", lambda m, q, k, v: F(m).scaled_dot_product_attention(q, k, v),
     [R(0, 2, 5, 4), R(0, 2, 6, 4), R(0, 2, 6, 4)]),
    ("sdpa-causal", lambda m, q, k, v: F(m).scaled_dot_product_attention(q, k, v, is_causal=True),
     [R(0, 2, 5, 4), R(0, 2, 5, 4), R(0, 2, 5, 4)]),
    ("sdpa-empty-seq", lambda m, q, k, v: F(m).scaled_dot_product_attention(q, k, v),
     [R(2, 2, 0, 4), R(2, 2, 6, 4), R(2, 2, 6, 4)]),
    ("sdpa-empty-keys", lambda m, q, k, v: F(m).scaled_dot_product_attention(q, k, v),
     [R(2, 2, 5, 4), R(2, 2, 0, 4), R(2, 2, 0, 4)]),
    ("linear", lambda m, x, w: F(m).linear(x, w), [R(0, 5), R(3, 5)]),
    ("linear-0-in", lambda m, x, w, b: F(m).linear(x, w, b), [R(4, 0), R(3, 0), R(3)]),
    ("bilinear", lambda m, x, y, w: F(m).bilinear(x, y, w), [R(0, 3), R(0, 4), R(2, 3, 4)]),
    ("embedding_bag", lambda m, i, w: F(m).embedding_bag(i, w, m.tensor([0, 0])), [I(0), R(10, 4)]),
    ("max_unpool", lambda m, x: F(m).max_unpool2d(*F(m).max_pool2d(x, 2, return_indices=True), 2), [R(0, 3, 4, 4)]),
    ("fractional_max_pool", lambda m, x: F(m).fractional_max_pool2d(
        x, 2, output_size=(2, 2), _random_samples=m.zeros(0, 3, 2, dtype=x.dtype)),
     [R(0, 3, 5, 5)]),
    ("lp_pool", lambda m, x: F(m).lp_pool2d(x.abs() + 0.1, 2, 2), [R(0, 3, 4, 4)]),
    ("adaptive_avg_pool", lambda m, x: F(m).adaptive_avg_pool2d(x, 3), [R(0, 3, 7, 5)]),
    ("pad-constant", lambda m, x: F(m).pad(x, (1, 2)), [R(0, 3, 4)]),
    ("pad-reflect", lambda m, x: F(m).pad(x, (1, 2, 1, 1), mode="reflect"), [R(0, 3, 4, 4)]),
    ("pad-circular", lambda m, x: F(m).pad(x, (1, 2), mode="circular"), [R(0, 3, 4)]),
    ("conv_tbc", lambda m, x, w, b: m.conv_tbc(x, w, b), [R(5, 0, 3), R(3, 3, 4), R(4)]),
    ("rnn_cell", lambda m, x, h, wi, wh: m.rnn_tanh_cell(x, h, wi, wh), [R(0, 4), R(0, 6), R(6, 4), R(6, 6)]),
    ("lstm_cell", lambda m, x, h, c, wi, wh: m.lstm_cell(x, (h, c), wi, wh),
     [R(0, 4), R(0, 6), R(0, 6), R(24, 4), R(24, 6)]),
    ("gru_cell", lambda m, x, h, wi, wh: m.gru_cell(x, h, wi, wh), [R(0, 4), R(0, 6), R(18, 4), R(18, 6)]),
    ("batch_norm-func-train", lambda m, x: F(m).batch_norm(x, m.zeros(3, dtype=x.dtype), m.ones(3, dtype=x.dtype),
                                                           training=True),
     [R(0, 3)]),
    ("instance_norm-func", lambda m, x: F(m).instance_norm(x), [R(0, 3, 4)]),
    ("local_response_norm", lambda m, x: F(m).local_response_norm(x, 2), [R(0, 3, 4)]),
    ("prelu", lambda m, x, w: F(m).prelu(x, w), [R(0, 3, 4), R(3)]),
    ("rrelu-train", lambda m, x: F(m).rrelu(x, training=True), [R(0, 5)]),
    ("hardtanh", lambda m, x: F(m).hardtanh(x), [R(0, 5)]),
    ("softmin", lambda m, x: F(m).softmin(x, 1), [R(0, 5)]),
    ("multinomial", lambda m, p: m.multinomial(p.abs() + 0.1, 2), [R(0, 5)]),
    ("topk", lambda m, x: m.topk(x, 2), [R(0, 5)]),
    ("sort", lambda m, x: m.sort(x, 0), [R(0, 5)]),
    ("cumsum", lambda m, x: m.cumsum(x, 0), [R(0, 5)]),
    ("cumprod", lambda m, x: m.cumprod(x, 0), [R(0, 5)]),
    ("cummax", lambda m, x: m.cummax(x, 0), [R(0, 5)]),
    ("logcumsumexp", lambda m, x: m.logcumsumexp(x, 0), [R(0, 5)]),
    ("einsum", lambda m, x, y: m.einsum("bij,bjk->bik", x, y), [R(0, 3, 4), R(0, 4, 5)]),
    ("bmm", lambda m, x, y: m.bmm(x, y), [R(0, 3, 4), R(0, 4, 5)]),
    ("matmul-0k", lambda m, x, y: m.matmul(x, y), [R(3, 0), R(0, 5)]),
    ("matmul-empty-inner-mismatch", lambda m, x, y: m.matmul(x, y), [R(2, 3, 0), R(2, 4, 5)]),
    ("histogramdd-no-coordinates", lambda m, x: m.histogramdd(x.detach(), 2).hist, [R(3, 0)]),
    ("histogramdd-bins-per-coordinate", lambda m, x: m.histogramdd(x.detach(), [2]).hist, [R(3, 0)]),
    ("baddbmm", lambda m, c, x, y: m.baddbmm(c, x, y), [R(0, 3, 5), R(0, 3, 4), R(0, 4, 5)]),
    ("tensordot", lambda m, x, y: m.tensordot(x, y, 1), [R(0, 4), R(4, 5)]),
    ("kron", lambda m, x, y: m.kron(x, y), [R(0, 2), R(2, 3)]),
    ("cross", lambda m, x, y: m.linalg.cross(x, y), [R(0, 3), R(0, 3)]),
    ("det", lambda m, x: m.linalg.det(x), [R(0, 3, 3)]),
    ("slogdet", lambda m, x: m.linalg.slogdet(x), [R(0, 3, 3)]),
    ("inv", lambda m, x: m.linalg.inv(x), [R(0, 3, 3)]),
    ("solve", lambda m, a, b: m.linalg.solve(a, b), [R(0, 3, 3), R(0, 3)]),
    ("cholesky", lambda m, a: m.linalg.cholesky(a @ a.mT + m.eye(3, dtype=a.dtype)), [R(0, 3, 3)]),
    ("qr", lambda m, a: m.linalg.qr(a), [R(0, 4, 3)]),
    ("svd", lambda m, a: m.linalg.svd(a, full_matrices=False), [R(0, 4, 3)]),
    ("svdvals", lambda m, a: m.linalg.svdvals(a), [R(0, 4, 3)]),
    ("eigh", lambda m, a: m.linalg.eigh(a + a.mT), [R(0, 3, 3)]),
    ("eigvalsh", lambda m, a: m.linalg.eigvalsh(a + a.mT), [R(0, 3, 3)]),
    ("pinv", lambda m, a: m.linalg.pinv(a), [R(0, 4, 3)]),
    ("lstsq", lambda m, a, b: m.linalg.lstsq(a, b).solution, [R(0, 4, 3), R(0, 4, 2)]),
    ("matrix_exp", lambda m, a: m.linalg.matrix_exp(a), [R(0, 3, 3)]),
    ("matrix_power", lambda m, a: m.linalg.matrix_power(a, 3), [R(0, 3, 3)]),
    ("matrix_rank", lambda m, a: m.linalg.matrix_rank(a), [R(0, 3, 3)]),
    ("eig", lambda m, a: m.linalg.eigvals(a), [R(0, 3, 3)]),
    ("triangular_solve", lambda m, a, b: m.linalg.solve_triangular(a, b, upper=True), [R(0, 3, 3), R(0, 3, 2)]),
    ("cholesky_solve", lambda m, a, b: m.cholesky_solve(b, m.linalg.cholesky(a @ a.mT + m.eye(3, dtype=a.dtype))),
     [R(0, 3, 3), R(0, 3, 2)]),
    ("multi_dot", lambda m, a, b, c: m.linalg.multi_dot([a, b, c]), [R(0, 3), R(3, 4), R(4, 2)]),
    ("vector_norm", lambda m, a: m.linalg.vector_norm(a, dim=1), [R(0, 3)]),
    ("norm-fro", lambda m, a: m.norm(a), [R(0, 3)]),
    ("nonzero", lambda m, a: m.nonzero(a > 0), [R(0, 3)]),
    ("masked_select", lambda m, a: m.masked_select(a, a > 0), [R(0, 3)]),
    ("where-1", lambda m, a: m.where(a > 0), [R(0, 3)]),
    ("argwhere", lambda m, a: m.argwhere(a), [R(0, 3)]),
    ("repeat_interleave", lambda m, a: m.repeat_interleave(a, 2, dim=0), [R(0, 3)]),
    ("roll", lambda m, a: m.roll(a, 1, 0), [R(0, 3)]),
    ("flip", lambda m, a: m.flip(a, [0]), [R(0, 3)]),
    ("tril", lambda m, a: m.tril(a), [R(0, 3)]),
    ("diag_embed", lambda m, a: m.diag_embed(a), [R(0, 3)]),
    ("block_diag", lambda m, a, b: m.block_diag(a, b), [R(0, 3), R(2, 2)]),
    ("chunk", lambda m, a: m.chunk(a, 2, 0), [R(0, 3)]),
    ("split", lambda m, a: m.split(a, 2, 0), [R(0, 3)]),
    ("tensor_split", lambda m, a: m.tensor_split(a, 3, 0), [R(0, 3)]),
    ("unbind", lambda m, a: m.unbind(a, 0), [R(0, 3)]),
    ("unfold-tensor", lambda m, a: a.unfold(1, 2, 1), [R(0, 3)]),
    ("gather", lambda m, a: m.gather(a, 1, m.zeros(0, 2, dtype=m.int64)), [R(0, 3)]),
    ("scatter_add", lambda m, a, s: m.scatter_add(a, 1, m.zeros(0, 2, dtype=m.int64), s), [R(0, 3), R(0, 2)]),
    ("scatter_reduce", lambda m, a, s: m.scatter_reduce(a, 1, m.zeros(0, 2, dtype=m.int64), s, "amax"),
     [R(0, 3), R(0, 2)]),
    ("index_add-empty-index", lambda m, a, s: m.index_add(a, 0, m.zeros(0, dtype=m.int64), s), [R(3, 2), R(0, 2)]),
    ("searchsorted", lambda m, s, v: m.searchsorted(s, v), [np.sort(R(0, 4), axis=1), R(0, 3)]),
    ("bucketize", lambda m, v: m.bucketize(v, m.tensor([0.0, 1.0], dtype=v.dtype)), [R(0, 3)]),
    ("histc", lambda m, v: m.histc(v, 4), [R(0, 3)]),
    ("bincount", lambda m, v: m.bincount(v), [I(0)]),
    ("cov", lambda m, v: m.cov(v), [R(3, 0)]),
    ("corrcoef", lambda m, v: m.corrcoef(v), [R(0, 3)]),
    ("var-over-empty", lambda m, v: m.var(v, 0), [R(0, 3)]),
    ("std_mean", lambda m, v: m.std_mean(v, 0), [R(0, 3)]),
    ("nanmean", lambda m, v: m.nanmean(v, 0), [R(0, 3)]),
    ("quantile-dim1", lambda m, v: m.quantile(v, 0.5, dim=1), [R(0, 3)]),
    ("mode", lambda m, v: m.mode(v, 1), [R(0, 3)]),
    ("kthvalue", lambda m, v: m.kthvalue(v, 1, 1), [R(0, 3)]),
    ("cummin", lambda m, v: m.cummin(v, 1), [R(0, 3)]),
    ("diff", lambda m, v: m.diff(v, dim=0), [R(0, 3)]),
    ("gradient", lambda m, v: m.gradient(v, dim=1), [R(0, 3)]),
    ("cumulative_trapezoid", lambda m, v: m.cumulative_trapezoid(v, dim=1), [R(0, 3)]),
    ("logdet", lambda m, a: m.logdet(a @ a.mT + m.eye(3, dtype=a.dtype)), [R(0, 3, 3)]),
    ("polar", lambda m, a, b: m.polar(a.abs(), b).abs(), [R(0, 3), R(0, 3)]),
    ("clone-contig", lambda m, a: a.t().contiguous(), [R(0, 3)]),
    ("view-0", lambda m, a: a.view(0, 3, 1), [R(0, 3)]),
    ("reshape-infer", lambda m, a: a.reshape(-1), [R(0, 3)]),
    ("flatten", lambda m, a: a.flatten(1), [R(0, 3, 2)]),
    ("expand", lambda m, a: a.expand(0, 3), [R(1, 3)]),
    ("new_zeros-like", lambda m, a: m.zeros_like(a) + a, [R(0, 3)]),
    ("sum-dtype", lambda m, a: a.sum(0, dtype=m.float32), [R(0, 3)]),
    ("prod-empty", lambda m, a: a.prod(0), [R(0, 3)]),
    ("all-any", lambda m, a: (m.all(a > 0, 0), m.any(a > 0, 0)), [R(0, 3)]),
    ("count_nonzero", lambda m, a: m.count_nonzero(a, 0), [R(0, 3)]),
    ("logsumexp-0", lambda m, a: m.logsumexp(a, 0), [R(0, 3)]),
    ("norm-inf-0", lambda m, a: m.linalg.vector_norm(a, float("inf"), dim=1), [R(0, 3)]),
    ("mean-0", lambda m, a: a.mean(0), [R(0, 3)]),
    ("renorm", lambda m, a: m.renorm(a, 2, 0, 1.0), [R(0, 3)]),
    ("clamp-tensor", lambda m, a, lo: a.clamp(min=lo), [R(0, 3), R(3)]),
    ("lerp", lambda m, a, b: m.lerp(a, b, 0.3), [R(0, 3), R(0, 3)]),
    ("addcdiv", lambda m, a, b, c: m.addcdiv(a, b, c.abs() + 1), [R(0, 3), R(0, 3), R(0, 3)]),
    ("atan2", lambda m, a, b: m.atan2(a, b), [R(0, 3), R(0, 3)]),
    ("dist", lambda m, a, b: m.dist(a, b), [R(0, 3), R(0, 3)]),
    ("cartesian_prod", lambda m, a, b: m.cartesian_prod(a, b), [R(0), R(3)]),
    ("combinations", lambda m, a: m.combinations(a, 2), [R(0)]),
    ("meshgrid", lambda m, a, b: m.meshgrid(a, b, indexing="ij"), [R(0), R(3)]),
    ("trace-0", lambda m, a: m.trace(a), [R(0, 3)]),
    ("outer", lambda m, a, b: m.outer(a, b), [R(0), R(3)]),
    ("dot", lambda m, a, b: m.dot(a, b), [R(0), R(0)]),
    ("vdot", lambda m, a, b: m.vdot(a, b), [R(0), R(0)]),
    ("inner", lambda m, a, b: m.inner(a, b), [R(0, 3), R(2, 3)]),
    ("mv", lambda m, a, b: m.mv(a, b), [R(0, 3), R(3)]),
    ("addr", lambda m, c, a, b: m.addr(c, a, b), [R(0, 3), R(0), R(3)]),
    ("chain_matmul", lambda m, a, b: m.chain_matmul(a, b), [R(0, 3), R(3, 2)]),
]


@pytest.mark.parametrize("name,fn,arrays", FUNCTIONAL, ids=[c[0] for c in FUNCTIONAL])
def test_function_on_empty_input(name, fn, arrays):
    """Values, dtypes, shapes and gradients as PyTorch's, or PyTorch's exception type."""
    check_same_outcome(lambda *t: fn(ember, *t), lambda *t: fn(torch, *t), *arrays)


# ---------------------------------------------------------------------------------------- reductions

EXTREMES = ["amax", "amin", "max", "min", "argmax", "argmin", "aminmax", "median", "nanmedian", "mode",
            "logsumexp"]


@pytest.mark.parametrize("name", EXTREMES)
@pytest.mark.parametrize("shape", [(0,), (0, 3), (3, 0), (2, 0, 3)], ids=str)
def test_extreme_reductions_over_empty_and_non_empty_dims(name, shape):
    """Over a dim of size 0: PyTorch's exception (type and message, the dim as the caller wrote it); over a
    non-empty dim of an empty tensor: the same empty result, dtypes and indices included."""
    for dim in [None] + list(range(-len(shape), len(shape))):
        if name == "logsumexp" and dim is None:
            continue
        kw = {} if dim is None else {"dim": dim}
        fn = lambda m, a: getattr(m, name)(a, **kw)  # noqa: E731
        x = np.zeros(shape)
        try:
            fn(torch, torch.from_numpy(x))
        except Exception:  # noqa: BLE001
            _raise_alike(lambda lib: fn(lib, lib.from_numpy(x)))
        else:
            check_op(lambda a: fn(ember, a), lambda a: fn(torch, a), x, grad=name not in ("argmax", "argmin"))


@pytest.mark.parametrize("dims", [(0, -1), (-1, 0), [1], (1, -2)], ids=str)
def test_amax_amin_name_the_first_empty_dim_as_written(dims):
    for shape in [(3, 0), (0, 3), (2, 0, 3)]:
        for name in ("amax", "amin"):
            x = np.zeros(shape)
            try:
                getattr(torch, name)(torch.from_numpy(x), dims)
            except Exception:  # noqa: BLE001
                _raise_alike(lambda lib: getattr(lib, name)(lib.from_numpy(x), dims))
            else:
                check_op(lambda a: getattr(ember, name)(a, dims), lambda a: getattr(torch, name)(a, dims), x)


# ---------------------------------------------------------------------------------------- optimizers

def _zero_element_run(name, kw, shapes, steps=3):
    """``steps`` steps of optimizer ``name`` on parameters of ``shapes`` (some without elements) in both
    libraries; the parameters and state_dicts must agree after each."""
    r = np.random.default_rng(1)
    x0 = [r.standard_normal(s) for s in shapes]
    pe = [ember.from_numpy(a.copy()).requires_grad_() for a in x0]
    pt = [torch.from_numpy(a.copy()).requires_grad_() for a in x0]
    oe, ot = make_pair(name, kw, pe, pt)
    for _ in range(steps):
        g = [r.standard_normal(s) for s in shapes]
        for a, b, x in zip(pe, pt, g):
            a.grad, b.grad = ember.from_numpy(x.copy()), torch.from_numpy(x.copy())
        oe.step()
        ot.step()
        for a, b in zip(pe, pt):
            np.testing.assert_allclose(arr(a), arr(b), rtol=1e-10, atol=1e-13)
    assert_state_dicts_equal(oe, ot)


@pytest.mark.parametrize("cfg", CONFIGS, ids=_id)
def test_every_optimizer_steps_a_parameter_without_elements(cfg):
    """Alone (the KeyError in the optimizer kernels' scratch memory) and beside ordinary parameters."""
    name, kw = cfg
    _zero_element_run(name, kw, [(0, 3)])
    _zero_element_run(name, kw, [(0, 3), (4, 3), (0,)])


@pytest.mark.parametrize("cfg", CONFIGS[::4], ids=_id)
def test_threaded_optimizer_kernels_with_parameters_without_elements(cfg, monkeypatch):
    """The multi-thread path (a group split into shares) with empty parameters first, between and last."""
    from ember.ops import optim_kernels
    monkeypatch.setattr(optim_kernels, "NUM_THREADS", 3)
    monkeypatch.setattr(optim_kernels, "PARALLEL_MIN_ELEMENTS", 1)
    _zero_element_run(*cfg, [(0, 3), (40,), (0,), (5, 6), (0, 2)])


def test_lbfgs_and_muon_with_a_parameter_without_elements():
    for shapes in ([(0, 3)], [(0, 3), (4, 3)]):
        _zero_element_run("Muon", dict(lr=0.05), shapes)
    final = []
    for lib in (ember, torch):
        p = lib.nn.Parameter(lib.zeros(0, 3, dtype=lib.float64))
        q = lib.nn.Parameter(lib.arange(4, dtype=lib.float64))
        opt = lib.optim.LBFGS([p, q], lr=0.5)

        def closure():
            opt.zero_grad()
            loss = (q * q).sum() + p.sum()
            loss.backward()
            return loss
        for _ in range(2):
            opt.step(closure)
        assert tuple(p.shape) == (0, 3)
        final.append(arr(q))
    np.testing.assert_allclose(final[0], final[1], rtol=1e-10, atol=1e-13)


def test_adafactor_refuses_a_parameter_without_elements_as_pytorch():
    def step(lib):
        p = lib.nn.Parameter(lib.zeros(0, 3))
        p.grad = lib.zeros(0, 3)
        lib.optim.Adafactor([p]).step()
    _raise_alike(step)


@pytest.mark.parametrize("foreach", [None, False])
@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf"), -float("inf"), -1.0])
def test_gradient_norms_and_clipping_with_a_gradient_without_elements(norm_type, foreach):
    """clip_grad_norm_/get_total_norm over an empty gradient: the norm without it, or PyTorch's error for the
    orders without an identity (the foreach kernel's message, or vector_norm's)."""
    def run(lib):
        p = lib.nn.Parameter(lib.zeros(0, 3, dtype=lib.float64))
        q = lib.nn.Parameter(lib.ones(2, dtype=lib.float64))
        (p.sum() + (q * 3).sum()).backward()
        total = lib.nn.utils.clip_grad_norm_([p, q], 1.0, norm_type, foreach=foreach)
        return total, q.grad, p.grad
    try:
        rt = run(torch)
    except RuntimeError:
        _raise_alike(run)
    else:
        assert_same(run(ember), rt)


def test_grad_scaler_with_a_gradient_without_elements():
    outcomes = []
    for lib in (ember, torch):
        p = lib.nn.Parameter(lib.zeros(0, 3))
        q = lib.nn.Parameter(lib.ones(2))
        opt = lib.optim.SGD([p, q], lr=0.1)
        scaler = lib.amp.GradScaler("cpu", init_scale=4.0)
        scaler.scale(p.sum() + q.sum()).backward()
        scaler.step(opt)
        scaler.update()
        outcomes.append((q.detach().tolist(), tuple(p.grad.shape), scaler.get_scale()))
    assert outcomes[0] == outcomes[1]


# ---------------------------------------------------------------------------------------- a training step

def test_a_training_step_on_an_empty_batch():
    """Conv -> BatchNorm -> ReLU -> MaxPool -> Flatten -> Linear -> cross-entropy on a 0-size batch: a NaN loss
    (a mean over nothing), zero gradients, an Adam step that moves nothing, running statistics untouched."""
    def net(L):
        return L.nn.Sequential(L.nn.Conv2d(3, 4, 3, padding=1), L.nn.BatchNorm2d(4), L.nn.ReLU(),
                               L.nn.MaxPool2d(2), L.nn.Flatten(), L.nn.Linear(4 * 4 * 4, 5))
    em, tm = build_pair(net)
    x = rng.standard_normal((0, 3, 8, 8))
    target = np.zeros((0,), dtype=np.int64)
    loss_fn = (lambda m, x, t: (ember if isinstance(x, ember.Tensor) else torch).nn.functional.cross_entropy(m(x), t))
    compare_module(em, tm, [x, target], call=loss_fn)
    oe, ot = ember.optim.Adam(em.parameters(), lr=0.1), torch.optim.Adam(tm.parameters(), lr=0.1)
    oe.step()
    ot.step()
    for (n, a), (_, b) in zip(em.state_dict().items(), tm.state_dict().items()):
        assert_same(a, b)


# ------------------------------------------------------------- where PyTorch fails by accident (NOT_DERIVED)

def test_cases_pytorch_gets_wrong_are_listed():
    for name in ("addmv_scalar_input", "stft_f32_constant_pad", "cond_while_loop", "InstanceNorm3d",
                 "MultiMarginLoss", "MultiLabelMarginLoss"):
        assert name in NOT_DERIVED


def test_addmv_of_an_empty_matrix_broadcasts_its_input():
    """``beta * input + alpha * (mat @ vec)`` has the broadcast shape (0,) (PyTorch returns the 0-d input)."""
    c, v = ember.tensor(1.5, requires_grad=True), ember.ones(4, requires_grad=True)
    mat = ember.ones(0, 4, requires_grad=True)
    r = ember.addmv(c, mat, v, beta=2)
    assert tuple(r.shape) == (0,)
    r.sum().backward()
    assert c.grad.item() == 0.0 and not v.grad.any() and tuple(mat.grad.shape) == (0, 4)
    assert ember.addmv(ember.ones(3), ember.ones(3, 0), ember.ones(0), beta=2).tolist() == [2.0, 2.0, 2.0]


def test_stft_of_an_empty_batch_with_constant_padding():
    """PyTorch's MKL FFT refuses it; the result is the one-signal result's frames, for no signals."""
    def run(lib, n):
        x = lib.from_numpy(rng.standard_normal((n, 40)).astype(np.float32))
        return lib.stft(x, 10, window=lib.hamming_window(10), pad_mode="constant", return_complex=True)
    one = run(torch, 1)
    empty = run(ember, 0)
    assert tuple(empty.shape) == (0,) + tuple(one.shape[1:]) and str(empty.dtype) == str(one.dtype)


def test_cond_and_while_loop_on_an_empty_tensor():
    """As eager Python would compute them (torch.while_loop's tracer compares empty tensors' strides)."""
    a = rng.standard_normal((0, 4))

    def eager(x):
        i = 0
        while i < 3:
            i, x = i + 1, x * x + 0.1
        return x.sin(), x
    fn_e = lambda x: (ember.cond(x.sum() > 0, lambda y: y.exp(), lambda y: y.sin(), (x,)),  # noqa: E731
                      ember.while_loop(lambda i, y: i < 3, lambda i, y: (i + 1, y * y + 0.1), (ember.tensor(0), x))[1])
    check_op(fn_e, lambda x: (x.sin(), eager(x)[1]), a)


def test_affine_instance_norm_on_an_empty_batch():
    """PyTorch fails in select() on the weight repeated 0 times; the output is empty, the affine gradients
    zero, the running statistics untouched."""
    m = ember.nn.InstanceNorm2d(3, affine=True, track_running_stats=True)
    x = ember.zeros(0, 3, 4, 4, requires_grad=True)
    y = m(x)
    y.sum().backward()
    assert tuple(y.shape) == (0, 3, 4, 4) and tuple(x.grad.shape) == (0, 3, 4, 4)
    assert not m.weight.grad.any() and not m.bias.grad.any()
    assert m.running_mean.tolist() == [0.0] * 3 and m.running_var.tolist() == [1.0] * 3


@pytest.mark.parametrize("loss", ["multi_margin_loss", "multilabel_margin_loss"])
def test_margin_losses_mean_over_an_empty_batch_is_nan(loss):
    """A mean over nothing, as every other loss gives it (PyTorch returns uninitialised memory here)."""
    x = ember.zeros(0, 5, requires_grad=True)
    t = ember.zeros((0,) if loss == "multi_margin_loss" else (0, 5), dtype=ember.int64)
    r = getattr(ember.nn.functional, loss)(x, t)
    assert np.isnan(r.item())
    r.backward()
    assert tuple(x.grad.shape) == (0, 5)
    ref = torch.nn.functional.mse_loss(torch.zeros(0, 5), torch.zeros(0, 5))
    assert np.isnan(ref.item())


@pytest.mark.parametrize("name,fn,shape", [
    ("fft", lambda m, x: m.fft.fft(x), (8,)),
    ("rfft2", lambda m, x: m.fft.rfft2(x), (4, 8)),
    ("irfft", lambda m, x: m.fft.irfft(m.fft.rfft(x)), (8,)),
    ("pixel_shuffle", lambda m, x: m.nn.functional.pixel_shuffle(x, 2), (8, 3, 3)),
    ("pixel_unshuffle", lambda m, x: m.nn.functional.pixel_unshuffle(x, 2), (2, 4, 4)),
    ("pdist", lambda m, x: m.nn.functional.pdist(x), (5,)),
], ids=lambda v: v if isinstance(v, str) else "")
def test_functions_pytorch_fails_on_an_empty_batch(name, fn, shape):
    """PyTorch's MKL FFT rejects a 0-size batch, pixel_shuffle's backward checks the wrong shape, pdist's
    backward crashes the process: ember's result is the one-sample result's shape for no samples (dtype
    included), and its gradient is empty."""
    one = fn(torch, torch.from_numpy(rng.standard_normal((1,) + shape)))
    x = ember.from_numpy(rng.standard_normal((0,) + shape)).requires_grad_()
    r = fn(ember, x)
    expected = (0,) + tuple(one.shape[1:]) if name != "pdist" else (0,)
    assert tuple(r.shape) == expected and str(r.dtype) == str(one.dtype)
    r.abs().sum().backward()
    assert tuple(x.grad.shape) == (0,) + shape

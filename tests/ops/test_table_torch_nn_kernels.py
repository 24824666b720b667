"""Op table: the torch-level names of nn kernels (``torch.kl_div``, ``torch.cosine_similarity``, ``torch.prelu`` ...),
called with PyTorch's top-level arguments (positional, ``reduction`` as the enum 0/1/2), against torch."""
import numpy as np
import pytest
import torch

import ember
from devices import TABLE_DEVICES
from parity import assert_same, check_op, check_raises

rng = np.random.default_rng(5)
A = rng.standard_normal((4, 5))
B = rng.standard_normal((4, 5))
C = rng.standard_normal((4, 5))
PROB = rng.uniform(0.05, 1.0, (4, 5))
LOGP = np.log(rng.dirichlet(np.ones(5), 4))
SIGN = np.array([1.0, -1.0, -1.0, 1.0])
SIGN_ROWS = np.where(rng.standard_normal((4, 5)) > 0, 1.0, -1.0)
COUNTS = rng.integers(0, 5, (4, 5)).astype(np.float64)
BINARY = (rng.uniform(size=(4, 5)) > 0.5).astype(np.float64)
X3 = rng.standard_normal((2, 3, 4))
W3 = rng.standard_normal((3,))
BIL1, BIL2 = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 3, 5))
BILW, BILB = rng.standard_normal((6, 4, 5)), rng.standard_normal((6,))
EMB_W = rng.standard_normal((10, 3))
CTC_LP = np.log(rng.dirichlet(np.ones(5), (6, 2)))

ROWS = [
    ("cosine_similarity", lambda m, a, b: m.cosine_similarity(a, b), (A, B)),
    ("cosine_similarity", lambda m, a, b: m.cosine_similarity(a, b, 0, 1e-3), (A, B[:1])),
    ("pairwise_distance", lambda m, a, b: m.pairwise_distance(a, b), (A, B)),
    ("pairwise_distance", lambda m, a, b: m.pairwise_distance(a, b, 1.5, 1e-4, True), (A, B)),
    ("pdist", lambda m, a: m.pdist(a), (A,)),
    ("pdist", lambda m, a: m.pdist(a, 3), (A,)),
    ("kl_div", lambda m, a, t: m.kl_div(a, t), (LOGP, PROB)),
    ("kl_div", lambda m, a, t: m.kl_div(a, t, 0, log_target=True), (LOGP, LOGP[::-1].copy())),
    ("kl_div", lambda m, a, t: m.kl_div(a, t, 2), (LOGP, BINARY)),
    ("margin_ranking_loss", lambda m, a, b, t: m.margin_ranking_loss(a, b, t, 0.3, 2), (A, B, SIGN_ROWS)),
    ("hinge_embedding_loss", lambda m, a, t: m.hinge_embedding_loss(a, t), (A, SIGN_ROWS)),
    ("hinge_embedding_loss", lambda m, a, t: m.hinge_embedding_loss(a, t, 0.5, 0), (A, SIGN_ROWS)),
    ("cosine_embedding_loss", lambda m, a, b, t: m.cosine_embedding_loss(a, b, t, 0.1), (A, B, SIGN)),
    ("cosine_embedding_loss", lambda m, a, b, t: m.cosine_embedding_loss(a, b, t, 0.0, 0), (A, B, SIGN)),
    ("triplet_margin_loss", lambda m, a, p, n: m.triplet_margin_loss(a, p, n), (A, B, C)),
    ("triplet_margin_loss", lambda m, a, p, n: m.triplet_margin_loss(a, p, n, 0.5, 1.0, 1e-6, True, 0), (A, B, C)),
    ("poisson_nll_loss", lambda m, a, t: m.poisson_nll_loss(a, t, True, False, 1e-8, 1), (A, COUNTS)),
    ("poisson_nll_loss", lambda m, a, t: m.poisson_nll_loss(a, t, False, True, 1e-8, 0), (PROB, COUNTS)),
    ("binary_cross_entropy_with_logits", lambda m, a, t: m.binary_cross_entropy_with_logits(a, t), (A, BINARY)),
    ("binary_cross_entropy_with_logits",   # (weight and pos_weight may not require grad)
     lambda m, a, t: m.binary_cross_entropy_with_logits(a, t, m.tensor(PROB[::-1].copy()), m.tensor(B[0]), 2),
     (A, PROB)),
    ("prelu", lambda m, x, w: m.prelu(x, w), (X3, W3)),
    ("prelu", lambda m, x, w: x.prelu(w), (A, W3[:1])),
    ("bilinear", lambda m, a, b, w, c: m.bilinear(a, b, w, c), (BIL1, BIL2, BILW, BILB)),
    ("bilinear", lambda m, a, b, w: m.bilinear(a, b, w), (BIL1, BIL2, BILW)),
    ("ctc_loss", lambda m, lp: m.ctc_loss(lp, m.tensor([[1, 2, 2], [3, 1, 0]]), [6, 5], [3, 2]), (CTC_LP,)),
    ("ctc_loss", lambda m, lp: m.ctc_loss(lp, m.tensor([1, 2, 2, 3, 1]), m.tensor([6, 5]), m.tensor([3, 2]), 0, 0,
                                          True), (CTC_LP,)),
]


@pytest.mark.parametrize("device", TABLE_DEVICES)
@pytest.mark.parametrize("name,fn,inputs", ROWS, ids=[r[0] for r in ROWS])
def test_torch_level_nn_kernel(name, fn, inputs, device):
    check_op(lambda *t: fn(ember, *t), lambda *t: fn(torch, *t), *inputs, device=device)


def _bags(mode, padding_idx=None, include_last_offset=False, weights=False):
    offsets = [0, 4, 4, 8] if include_last_offset else [0, 4, 4]
    return lambda m, w: m.embedding_bag(w, m.tensor([1, 2, 4, 5, 4, 3, 2, 9]), m.tensor(offsets), False, mode,
                                        False, m.tensor(np.linspace(0.5, 2, 8)) if weights else None,
                                        include_last_offset, padding_idx)


@pytest.mark.parametrize("device", TABLE_DEVICES)
@pytest.mark.parametrize("mode", [0, 1, 2])
@pytest.mark.parametrize("padding_idx,include_last_offset", [(None, False), (2, False), (2, True), (None, True)])
def test_embedding_bag_outputs(mode, padding_idx, include_last_offset, device):
    """All four outputs (the bags and the int64 bookkeeping of PyTorch's CPU kernel) and the weight's gradient."""
    bags = _bags(mode, padding_idx, include_last_offset)
    check_op(lambda w: bags(ember, w), lambda w: bags(torch, w), EMB_W, device=device)


def test_embedding_bag_per_sample_weights():
    bags = _bags(0, weights=True)
    check_op(lambda w: bags(ember, w), lambda w: bags(torch, w), EMB_W)


@pytest.mark.parametrize("fn,inputs", [
    (lambda m, a, t: m.kl_div(a, t, reduction="mean"), (LOGP, PROB)),                # the enum, not the string
    (lambda m, a, t: m.hinge_embedding_loss(a, t, 1.0, reduction="sum"), (A, SIGN_ROWS)),
    (lambda m, a, b, t: m.cosine_embedding_loss(a, b, t[:, None]), (A, B, SIGN)),     # 2-D target
    (lambda m, a, b, t: m.cosine_embedding_loss(a, b[0], t), (A, B, SIGN)),           # 1-D target, 1-D input
    (lambda m, a, b, t: m.cosine_embedding_loss(a[0], b[0], t), (A, B, SIGN)),
    (lambda m, a, b, t: m.triplet_margin_loss(a, b, t[0]), (A, B, C)),
    (lambda m, a: m.pdist(a[0]), (A,)),
    (lambda m, a, b: m.bilinear(a, b[0], m.ones(6, 4, 5, dtype=m.float64)), (BIL1, BIL2)),
    (lambda m, x, w: m.prelu(x, w), (X3, W3[:2])),
    (lambda m, x, w: m.prelu(x[0, 0], w), (X3, W3)),                                   # 1-D input: 1 channel
])
def test_torch_level_errors(fn, inputs):
    exc = check_raises(lambda *a: fn(ember, *[ember.tensor(x) for x in a]),
                       lambda *a: fn(torch, *[torch.tensor(x) for x in a]), *inputs)
    try:
        fn(torch, *[torch.tensor(x) for x in inputs])
    except Exception as t_exc:  # noqa: BLE001
        assert str(exc) == str(t_exc)


def test_bce_with_logits_weights_take_no_gradient():
    for lib in (ember, torch):
        x, w = lib.tensor(A), lib.tensor(PROB, requires_grad=True)
        with pytest.raises(RuntimeError, match="not differentiable with respect to argument 'pos_weight'"):
            lib.binary_cross_entropy_with_logits(x, x, None, w[0])
        with lib.no_grad():
            lib.binary_cross_entropy_with_logits(x, x, w)


def test_functional_calls_the_torch_level_kernels():
    """``nn.functional`` turns its reduction strings into the enum: 'batchmean' and the legacy flags included."""
    F_e, F_t = ember.nn.functional, torch.nn.functional
    a_e, t_e = ember.tensor(LOGP), ember.tensor(PROB)
    a_t, t_t = torch.tensor(LOGP), torch.tensor(PROB)
    assert_same(F_e.kl_div(a_e, t_e, reduction="batchmean"), F_t.kl_div(a_t, t_t, reduction="batchmean"))
    with pytest.warns(UserWarning):
        e = F_e.hinge_embedding_loss(a_e, t_e, size_average=False)
    with pytest.warns(UserWarning):
        t = F_t.hinge_embedding_loss(a_t, t_t, size_average=False)
    assert_same(e, t)
    for F in (F_e, F_t):
        with pytest.raises(ValueError, match="margin must be greater than 0"):
            F.triplet_margin_loss(*(F is F_e and (a_e, a_e, a_e) or (a_t, a_t, a_t)), margin=0)
    assert F_e.pdist is ember.pdist and F_e.bilinear is ember.bilinear and F_e.prelu is ember.prelu


@pytest.mark.parametrize("padding_idx", [None, 2])
def test_embedding_bag_float32_bookkeeping(padding_idx):
    """Sums of float32 rows: PyTorch's kernel leaves the bag of each index empty and sizes one per offset."""
    bags = _bags(0, padding_idx, True)
    check_op(lambda w: bags(ember, w), lambda w: bags(torch, w), EMB_W.astype(np.float32))

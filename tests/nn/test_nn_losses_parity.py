"""Loss parity against torch: every loss module, each reduction, weights and options; values and the
gradients of every floating input (float64 tight, float32 loose)."""
import numpy as np
import pytest

from empty_variants import NOT_DERIVED, empty_maker, run_layer, same_outcome
from nn_helpers import check_layer


def logits(n, c):
    return lambda r: [r.standard_normal((n, c)), r.integers(0, c, size=n)]


def pair(*shape):
    return lambda r: [r.standard_normal(shape), r.standard_normal(shape)]


def probs(*shape):
    def make(r):
        return [r.uniform(0.05, 0.95, size=shape), r.uniform(0, 1, size=shape)]
    return make


def signs(*shape):
    return lambda r: [r.standard_normal(shape), np.where(r.uniform(size=shape) > 0.5, 1.0, -1.0)]


def ctc_inputs(T, N, C, S):
    def make(r):
        x = r.standard_normal((T, N, C))
        lp = x - np.log(np.exp(x).sum(-1, keepdims=True))
        targets = r.integers(1, C, size=(N, S))
        il = np.array([T] * N)
        tl = r.integers(1, S + 1, size=N)
        return [lp, targets, il, tl]
    return make


W5 = lambda L: L.tensor([0.2, 1.0, 0.5, 2.0, 1.5])  # noqa: E731

LOSSES = [
    ("L1Loss", lambda L: L.nn.L1Loss(), pair(3, 4)),
    ("L1Loss-sum", lambda L: L.nn.L1Loss(reduction="sum"), pair(3, 4)),
    ("L1Loss-none", lambda L: L.nn.L1Loss(reduction="none"), pair(3, 4)),
    ("MSELoss", lambda L: L.nn.MSELoss(), pair(3, 4)),
    ("MSELoss-sum", lambda L: L.nn.MSELoss(reduction="sum"), pair(3, 4)),
    ("MSELoss-none", lambda L: L.nn.MSELoss(reduction="none"), pair(2, 3, 4)),
    ("SmoothL1Loss", lambda L: L.nn.SmoothL1Loss(beta=0.5), pair(3, 4)),
    ("SmoothL1Loss-none", lambda L: L.nn.SmoothL1Loss(reduction="none"), pair(3, 4)),
    ("HuberLoss", lambda L: L.nn.HuberLoss(delta=0.7), pair(3, 4)),
    ("HuberLoss-sum", lambda L: L.nn.HuberLoss(reduction="sum"), pair(3, 4)),
    ("CrossEntropyLoss", lambda L: L.nn.CrossEntropyLoss(), logits(4, 5)),
    ("CrossEntropyLoss-sum", lambda L: L.nn.CrossEntropyLoss(reduction="sum"), logits(4, 5)),
    ("CrossEntropyLoss-none", lambda L: L.nn.CrossEntropyLoss(reduction="none"), logits(4, 5)),
    ("CrossEntropyLoss-weight", lambda L: L.nn.CrossEntropyLoss(weight=W5(L)), logits(6, 5)),
    ("CrossEntropyLoss-ignore", lambda L: L.nn.CrossEntropyLoss(ignore_index=1),
     lambda r: [r.standard_normal((6, 5)), np.array([1, 0, 1, 3, 4, 2])]),
    ("CrossEntropyLoss-weight-ignore-none", lambda L: L.nn.CrossEntropyLoss(weight=W5(L), ignore_index=1,
                                                                            reduction="none"),
     lambda r: [r.standard_normal((6, 5)), np.array([1, 0, 1, 3, 4, 2])]),
    ("CrossEntropyLoss-smooth", lambda L: L.nn.CrossEntropyLoss(label_smoothing=0.1), logits(4, 5)),
    ("CrossEntropyLoss-smooth-weight-ignore", lambda L: L.nn.CrossEntropyLoss(weight=W5(L), ignore_index=2,
                                                                              label_smoothing=0.2),
     lambda r: [r.standard_normal((6, 5)), np.array([1, 0, 2, 3, 4, 2])]),
    ("CrossEntropyLoss-smooth-sum", lambda L: L.nn.CrossEntropyLoss(label_smoothing=0.3, reduction="sum"),
     logits(4, 5)),
    ("CrossEntropyLoss-kdim", lambda L: L.nn.CrossEntropyLoss(),
     lambda r: [r.standard_normal((2, 5, 3, 4)), r.integers(0, 5, size=(2, 3, 4))]),
    ("CrossEntropyLoss-kdim-none", lambda L: L.nn.CrossEntropyLoss(reduction="none", weight=W5(L)),
     lambda r: [r.standard_normal((2, 5, 3)), r.integers(0, 5, size=(2, 3))]),
    ("CrossEntropyLoss-1d", lambda L: L.nn.CrossEntropyLoss(), lambda r: [r.standard_normal(5), np.array(3)]),
    ("CrossEntropyLoss-probs", lambda L: L.nn.CrossEntropyLoss(),
     lambda r: [r.standard_normal((4, 5)), r.dirichlet(np.ones(5), size=4)]),
    ("CrossEntropyLoss-probs-weight-smooth", lambda L: L.nn.CrossEntropyLoss(weight=W5(L), label_smoothing=0.2),
     lambda r: [r.standard_normal((4, 5)), r.dirichlet(np.ones(5), size=4)]),
    ("CrossEntropyLoss-probs-kdim-none", lambda L: L.nn.CrossEntropyLoss(reduction="none"),
     lambda r: [r.standard_normal((2, 5, 3)), np.moveaxis(r.dirichlet(np.ones(5), size=(2, 3)), -1, 1)]),
    ("NLLLoss", lambda L: L.nn.NLLLoss(), logits(4, 5)),
    ("NLLLoss-weight-ignore", lambda L: L.nn.NLLLoss(weight=W5(L), ignore_index=0),
     lambda r: [r.standard_normal((6, 5)), np.array([1, 0, 1, 3, 4, 2])]),
    ("NLLLoss-none-kdim", lambda L: L.nn.NLLLoss(reduction="none"),
     lambda r: [r.standard_normal((2, 5, 3, 2)), r.integers(0, 5, size=(2, 3, 2))]),
    ("BCELoss", lambda L: L.nn.BCELoss(), probs(3, 4)),
    ("BCELoss-weight-none", lambda L: L.nn.BCELoss(weight=L.tensor([0.5, 1.0, 2.0, 1.5]), reduction="none"),
     probs(3, 4)),
    ("BCEWithLogitsLoss", lambda L: L.nn.BCEWithLogitsLoss(),
     lambda r: [r.standard_normal((3, 4)), r.uniform(size=(3, 4))]),
    ("BCEWithLogitsLoss-pos-weight", lambda L: L.nn.BCEWithLogitsLoss(pos_weight=L.tensor([1.0, 2.0, 0.5, 3.0]),
                                                                      weight=L.tensor([0.5, 1.0, 2.0, 1.5])),
     lambda r: [r.standard_normal((3, 4)), r.uniform(size=(3, 4))]),
    ("BCEWithLogitsLoss-sum", lambda L: L.nn.BCEWithLogitsLoss(reduction="sum"),
     lambda r: [r.standard_normal((3, 4)) * 10, r.uniform(size=(3, 4))]),
    ("KLDivLoss-batchmean", lambda L: L.nn.KLDivLoss(reduction="batchmean"),
     lambda r: [np.log(r.dirichlet(np.ones(5), size=3)), r.dirichlet(np.ones(5), size=3)]),
    ("KLDivLoss-sum-logtarget", lambda L: L.nn.KLDivLoss(reduction="sum", log_target=True),
     lambda r: [np.log(r.dirichlet(np.ones(5), size=3)), np.log(r.dirichlet(np.ones(5), size=3))]),
    ("KLDivLoss-none", lambda L: L.nn.KLDivLoss(reduction="none"),
     lambda r: [np.log(r.dirichlet(np.ones(5), size=3)), r.dirichlet(np.ones(5), size=3)]),
    ("MarginRankingLoss", lambda L: L.nn.MarginRankingLoss(margin=0.3),
     lambda r: [r.standard_normal(6), r.standard_normal(6), np.where(r.uniform(size=6) > 0.5, 1.0, -1.0)]),
    ("HingeEmbeddingLoss", lambda L: L.nn.HingeEmbeddingLoss(margin=0.8), signs(3, 4)),
    ("HingeEmbeddingLoss-none", lambda L: L.nn.HingeEmbeddingLoss(reduction="none"), signs(3, 4)),
    ("CosineEmbeddingLoss", lambda L: L.nn.CosineEmbeddingLoss(margin=0.1),
     lambda r: [r.standard_normal((4, 5)), r.standard_normal((4, 5)), np.array([1.0, -1.0, 1.0, -1.0])]),
    ("CosineEmbeddingLoss-none", lambda L: L.nn.CosineEmbeddingLoss(reduction="none"),
     lambda r: [r.standard_normal((4, 5)), r.standard_normal((4, 5)), np.array([1, -1, -1, 1])]),
    ("TripletMarginLoss", lambda L: L.nn.TripletMarginLoss(margin=1.0),
     lambda r: [r.standard_normal((4, 5)), r.standard_normal((4, 5)), r.standard_normal((4, 5))]),
    ("TripletMarginLoss-swap-p1", lambda L: L.nn.TripletMarginLoss(margin=2.0, p=1, swap=True, reduction="none"),
     lambda r: [r.standard_normal((4, 5)), r.standard_normal((4, 5)), r.standard_normal((4, 5))]),
    ("TripletMarginWithDistanceLoss", lambda L: L.nn.TripletMarginWithDistanceLoss(margin=1.5, swap=True),
     lambda r: [r.standard_normal((4, 5)), r.standard_normal((4, 5)), r.standard_normal((4, 5))]),
    ("TripletMarginWithDistanceLoss-cos", lambda L: L.nn.TripletMarginWithDistanceLoss(
        distance_function=lambda a, b: 1.0 - L.nn.functional.cosine_similarity(a, b)),
     lambda r: [r.standard_normal((4, 5)), r.standard_normal((4, 5)), r.standard_normal((4, 5))]),
    ("MultiLabelSoftMarginLoss", lambda L: L.nn.MultiLabelSoftMarginLoss(),
     lambda r: [r.standard_normal((3, 4)), (r.uniform(size=(3, 4)) > 0.5).astype(np.float64)]),
    ("MultiLabelSoftMarginLoss-weight", lambda L: L.nn.MultiLabelSoftMarginLoss(
        weight=L.tensor([0.5, 1.0, 2.0, 1.5]), reduction="none"),
     lambda r: [r.standard_normal((3, 4)), (r.uniform(size=(3, 4)) > 0.5).astype(np.float64)]),
    ("MultiMarginLoss", lambda L: L.nn.MultiMarginLoss(), logits(4, 5)),
    ("MultiMarginLoss-p2-weight", lambda L: L.nn.MultiMarginLoss(p=2, margin=0.5, weight=W5(L), reduction="sum"),
     logits(4, 5)),
    ("MultiLabelMarginLoss", lambda L: L.nn.MultiLabelMarginLoss(),
     lambda r: [r.standard_normal((3, 5)), np.array([[3, 0, -1, 1, 2], [1, 2, 4, 3, -1], [0, 1, 2, 3, 4]])]),
    ("MultiLabelMarginLoss-1d-none", lambda L: L.nn.MultiLabelMarginLoss(reduction="none"),
     lambda r: [r.standard_normal(4), np.array([3, 0, -1, 1])]),
    ("SoftMarginLoss", lambda L: L.nn.SoftMarginLoss(), signs(3, 4)),
    ("PoissonNLLLoss", lambda L: L.nn.PoissonNLLLoss(),
     lambda r: [r.standard_normal((3, 4)), r.poisson(2.0, size=(3, 4)).astype(np.float64)]),
    ("PoissonNLLLoss-full-nolog", lambda L: L.nn.PoissonNLLLoss(log_input=False, full=True, reduction="none"),
     lambda r: [r.uniform(0.5, 3, size=(3, 4)), r.poisson(2.0, size=(3, 4)).astype(np.float64)]),
    ("GaussianNLLLoss", lambda L: L.nn.GaussianNLLLoss(),
     lambda r: [r.standard_normal((3, 4)), r.standard_normal((3, 4)), r.uniform(0.5, 2, size=(3, 4))]),
    ("GaussianNLLLoss-homo-full", lambda L: L.nn.GaussianNLLLoss(full=True, reduction="sum"),
     lambda r: [r.standard_normal((3, 4)), r.standard_normal((3, 4)), r.uniform(0.5, 2, size=(3, 1))]),
    ("GaussianNLLLoss-short", lambda L: L.nn.GaussianNLLLoss(reduction="none"),
     lambda r: [r.standard_normal((3, 4)), r.standard_normal((3, 4)), r.uniform(0.5, 2, size=3)]),
    ("CTCLoss", lambda L: L.nn.CTCLoss(), ctc_inputs(12, 3, 5, 4)),
    ("CTCLoss-sum", lambda L: L.nn.CTCLoss(reduction="sum"), ctc_inputs(10, 2, 4, 3)),
    ("CTCLoss-none-lengths", lambda L: L.nn.CTCLoss(reduction="none", blank=2),
     lambda r: [np.log(r.dirichlet(np.ones(4), size=(9, 3))), np.array([[1, 1, 3], [0, 1, 0], [3, 3, 3]]),
                np.array([9, 7, 8]), np.array([3, 2, 3])]),
    ("CTCLoss-repeats", lambda L: L.nn.CTCLoss(),
     lambda r: [np.log(r.dirichlet(np.ones(3), size=(6, 2))), np.array([[1, 1], [2, 1]]), np.array([6, 5]),
                np.array([2, 2])]),
    ("CTCLoss-zero-inf", lambda L: L.nn.CTCLoss(zero_infinity=True, reduction="none"),
     lambda r: [np.log(r.dirichlet(np.ones(3), size=(3, 2))), np.array([[1, 1, 1], [2, 1, 2]]), np.array([3, 3]),
                np.array([3, 2])]),
]

# targets that torch refuses to differentiate (or that only serve as labels) are built without requires_grad
NOGRAD = {"BCEWithLogitsLoss-pos-weight": (), "CTCLoss": (), "MarginRankingLoss": (2,), "HingeEmbeddingLoss": (1,),
          "HingeEmbeddingLoss-none": (1,), "CosineEmbeddingLoss": (2,), "CosineEmbeddingLoss-none": (2,),
          "SoftMarginLoss": (1,), "MultiLabelSoftMarginLoss": (1,), "MultiLabelSoftMarginLoss-weight": (1,),
          "PoissonNLLLoss": (1,), "PoissonNLLLoss-full-nolog": (1,)}


@pytest.mark.parametrize("name,ctor,make", LOSSES, ids=[r[0] for r in LOSSES])
def test_loss_parity(name, ctor, make):
    check_layer(ctor, make, modes=(True,), nograd=NOGRAD.get(name, ()))


EMPTY_LOSSES = [pytest.param(name, ctor, empty_maker(make), id=f"{name}-empty") for name, ctor, make in LOSSES
                if empty_maker(make) is not None and name not in NOT_DERIVED]


@pytest.mark.parametrize("name,ctor,make", EMPTY_LOSSES)
def test_loss_parity_empty_batch(name, ctor, make):
    """Each loss again on a 0-size batch (a mean over nothing is NaN), forward and backward: PyTorch's result,
    or its exception type."""
    nograd = NOGRAD.get(name, ())
    same_outcome(lambda lib: run_layer(lib, ctor, make(np.random.default_rng(0)), (True,), nograd=nograd),
                 lambda: check_layer(ctor, make, modes=(True,), nograd=nograd))


def test_ctc_functional_1d_targets_and_unbatched():
    import torch
    import ember
    from parity import assert_same
    r = np.random.default_rng(0)
    lp = np.log(r.dirichlet(np.ones(5), size=(8, 2)))
    flat, il, tl = np.array([1, 2, 2, 3, 4]), [8, 7], [2, 3]
    e = ember.from_numpy(lp.copy()).requires_grad_()
    t = torch.from_numpy(lp.copy()).requires_grad_()
    le = ember.nn.functional.ctc_loss(e, ember.tensor(flat), il, tl)
    lt = torch.nn.functional.ctc_loss(t, torch.tensor(flat), il, tl)
    assert_same(le, lt)
    le.backward()
    lt.backward()
    assert_same(e.grad, t.grad)
    lp1 = lp[:, 0]
    e1 = ember.from_numpy(lp1.copy()).requires_grad_()
    t1 = torch.from_numpy(lp1.copy()).requires_grad_()
    le = ember.nn.functional.ctc_loss(e1, ember.tensor([1, 2]), ember.tensor(8), ember.tensor(2))
    lt = torch.nn.functional.ctc_loss(t1, torch.tensor([1, 2]), torch.tensor(8), torch.tensor(2))
    assert_same(le, lt)
    le.backward()
    lt.backward()
    assert_same(e1.grad, t1.grad)

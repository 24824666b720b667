"""Layer parity against torch: same constructor arguments, torch's state copied in, same inputs; outputs,
input and parameter gradients, buffers, repr and state_dict keys compared in train and eval mode, in
float64 (tight) and float32 (loose)."""
import numpy as np
import pytest

from devices import TABLE_DEVICES as LAYER_DEVICES
from empty_variants import NOT_DERIVED, empty_maker, run_layer, same_outcome
from nn_helpers import check_layer


def rn(*shape):
    return lambda rng: [rng.standard_normal(shape)]


def rn_away(*shape, cut=0.05):
    """Normal samples kept away from the kinks at 0 (and +-1, +-3, +-0.5) of piecewise activations."""
    def make(rng):
        x = rng.standard_normal(shape) * 2
        for k in (0.0, 0.5, 1.0, 3.0, 6.0):
            for s in (1, -1):
                near = np.abs(x - s * k) < cut
                x[near] += 3 * cut * np.sign(x[near] - s * k + 1e-12)
        return [x]
    return make


def ints(high, *shape):
    return lambda rng: [rng.integers(0, high, size=shape)]


LAYERS = [
    # linear / shape
    ("Identity", lambda L: L.nn.Identity(3, foo=1), rn(4, 3)),
    ("Linear", lambda L: L.nn.Linear(5, 3), rn(4, 5)),
    ("Linear-nobias", lambda L: L.nn.Linear(5, 3, bias=False), rn(2, 4, 5)),
    ("Linear-1d", lambda L: L.nn.Linear(5, 2), rn(5)),
    ("Bilinear", lambda L: L.nn.Bilinear(3, 4, 2), lambda r: [r.standard_normal((5, 3)), r.standard_normal((5, 4))]),
    ("Bilinear-nobias", lambda L: L.nn.Bilinear(3, 4, 2, bias=False),
     lambda r: [r.standard_normal((2, 5, 3)), r.standard_normal((2, 5, 4))]),
    ("Flatten", lambda L: L.nn.Flatten(), rn(2, 3, 4, 5)),
    ("Flatten-range", lambda L: L.nn.Flatten(0, 2), rn(2, 3, 4, 5)),
    ("Unflatten", lambda L: L.nn.Unflatten(1, (2, 6)), rn(3, 12)),
    # activations
    ("Threshold", lambda L: L.nn.Threshold(0.1, 20.0), rn_away(3, 4)),
    ("ReLU", lambda L: L.nn.ReLU(), rn_away(3, 4)),
    ("RReLU-eval", lambda L: L.nn.RReLU(0.1, 0.3).eval(), rn_away(3, 4)),
    ("Hardtanh", lambda L: L.nn.Hardtanh(-0.5, 0.7), rn_away(3, 4)),
    ("ReLU6", lambda L: L.nn.ReLU6(), lambda r: [r.standard_normal((3, 4)) * 4 + 0.013]),
    ("Sigmoid", lambda L: L.nn.Sigmoid(), rn(3, 4)),
    ("Hardsigmoid", lambda L: L.nn.Hardsigmoid(), rn_away(3, 4)),
    ("Tanh", lambda L: L.nn.Tanh(), rn(3, 4)),
    ("SiLU", lambda L: L.nn.SiLU(), rn(3, 4)),
    ("Mish", lambda L: L.nn.Mish(), rn(3, 4)),
    ("Hardswish", lambda L: L.nn.Hardswish(), rn_away(3, 4)),
    ("ELU", lambda L: L.nn.ELU(alpha=0.7), rn_away(3, 4)),
    ("CELU", lambda L: L.nn.CELU(alpha=1.3), rn_away(3, 4)),
    ("SELU", lambda L: L.nn.SELU(), rn_away(3, 4)),
    ("GLU", lambda L: L.nn.GLU(dim=1), rn(3, 4, 2)),
    ("GELU", lambda L: L.nn.GELU(), rn(3, 4)),
    ("GELU-tanh", lambda L: L.nn.GELU(approximate="tanh"), rn(3, 4)),
    ("Hardshrink", lambda L: L.nn.Hardshrink(0.3), rn_away(3, 4)),
    ("LeakyReLU", lambda L: L.nn.LeakyReLU(0.2), rn_away(3, 4)),
    ("LogSigmoid", lambda L: L.nn.LogSigmoid(), rn(3, 4)),
    ("Softplus", lambda L: L.nn.Softplus(beta=2, threshold=3), rn(3, 4)),
    ("Softshrink", lambda L: L.nn.Softshrink(0.5), rn_away(3, 4)),
    ("PReLU", lambda L: L.nn.PReLU(), rn_away(2, 3, 4)),
    ("PReLU-channels", lambda L: L.nn.PReLU(3, init=0.1), rn_away(2, 3, 4)),
    ("Softsign", lambda L: L.nn.Softsign(), rn(3, 4)),
    ("Tanhshrink", lambda L: L.nn.Tanhshrink(), rn(3, 4)),
    ("Softmin", lambda L: L.nn.Softmin(dim=1), rn(3, 4)),
    ("Softmax", lambda L: L.nn.Softmax(dim=-1), rn(2, 3, 4)),
    ("Softmax-dim0", lambda L: L.nn.Softmax(0), rn(3, 4)),
    ("Softmax2d", lambda L: L.nn.Softmax2d(), rn(2, 3, 4, 5)),
    ("LogSoftmax", lambda L: L.nn.LogSoftmax(dim=1), rn(3, 4)),
    ("ReLU-inplace", lambda L: L.nn.Sequential(L.nn.Linear(4, 4), L.nn.ReLU(inplace=True)), rn_away(3, 4)),
    ("LeakyReLU-inplace", lambda L: L.nn.Sequential(L.nn.Linear(4, 4), L.nn.LeakyReLU(0.1, inplace=True)),
     rn_away(3, 4)),
    ("ELU-inplace", lambda L: L.nn.Sequential(L.nn.Linear(4, 4), L.nn.ELU(inplace=True)), rn(3, 4)),
    ("Hardtanh-inplace", lambda L: L.nn.Sequential(L.nn.Linear(4, 4), L.nn.Hardtanh(inplace=True)), rn(3, 4)),
    ("SiLU-inplace", lambda L: L.nn.Sequential(L.nn.Linear(4, 4), L.nn.SiLU(inplace=True)), rn(3, 4)),
    # normalisation
    ("BatchNorm1d", lambda L: L.nn.BatchNorm1d(4), rn(6, 4)),
    ("BatchNorm1d-3d", lambda L: L.nn.BatchNorm1d(3, momentum=0.3), rn(4, 3, 5)),
    ("BatchNorm1d-cma", lambda L: L.nn.BatchNorm1d(3, momentum=None), rn(5, 3)),
    ("BatchNorm1d-noaffine", lambda L: L.nn.BatchNorm1d(3, affine=False), rn(5, 3)),
    ("BatchNorm1d-notrack", lambda L: L.nn.BatchNorm1d(3, track_running_stats=False), rn(5, 3)),
    ("BatchNorm2d", lambda L: L.nn.BatchNorm2d(3), rn(2, 3, 4, 5)),
    ("BatchNorm2d-nobias", lambda L: L.nn.BatchNorm2d(3, bias=False, eps=1e-3), rn(2, 3, 4, 5)),
    ("BatchNorm3d", lambda L: L.nn.BatchNorm3d(2), rn(2, 2, 3, 2, 3)),
    ("InstanceNorm1d", lambda L: L.nn.InstanceNorm1d(3), rn(2, 3, 6)),
    ("InstanceNorm1d-unbatched", lambda L: L.nn.InstanceNorm1d(3, affine=True), rn(3, 6)),
    ("InstanceNorm2d-track", lambda L: L.nn.InstanceNorm2d(3, affine=True, track_running_stats=True),
     rn(2, 3, 4, 5)),
    ("InstanceNorm3d", lambda L: L.nn.InstanceNorm3d(2, affine=True), rn(2, 2, 3, 2, 3)),
    ("LayerNorm", lambda L: L.nn.LayerNorm(5), rn(3, 5)),
    ("LayerNorm-2d", lambda L: L.nn.LayerNorm((3, 4), eps=1e-3), rn(2, 3, 4)),
    ("LayerNorm-noaffine", lambda L: L.nn.LayerNorm(4, elementwise_affine=False), rn(2, 3, 4)),
    ("LayerNorm-nobias", lambda L: L.nn.LayerNorm(4, bias=False), rn(2, 3, 4)),
    ("GroupNorm", lambda L: L.nn.GroupNorm(2, 4), rn(3, 4, 5)),
    ("GroupNorm-4d", lambda L: L.nn.GroupNorm(3, 6, affine=False), rn(2, 6, 2, 3)),
    ("RMSNorm", lambda L: L.nn.RMSNorm(5), rn(3, 5)),
    ("RMSNorm-eps", lambda L: L.nn.RMSNorm([3, 4], eps=1e-3), rn(2, 3, 4)),
    ("LocalResponseNorm", lambda L: L.nn.LocalResponseNorm(3), rn(2, 5, 3, 3)),
    ("LocalResponseNorm-even", lambda L: L.nn.LocalResponseNorm(4, alpha=0.1, beta=0.5, k=2.0), rn(2, 6, 3)),
    ("CrossMapLRN2d", lambda L: L.nn.CrossMapLRN2d(3, alpha=0.01), rn(2, 5, 3, 3)),
    # embeddings
    ("Embedding", lambda L: L.nn.Embedding(10, 3), ints(10, 4, 5)),
    ("Embedding-padding", lambda L: L.nn.Embedding(10, 3, padding_idx=2), lambda r: [np.array([[2, 1, 2], [5, 2, 9]])]),
    ("Embedding-freq", lambda L: L.nn.Embedding(10, 3, scale_grad_by_freq=True),
     lambda r: [np.array([1, 1, 4, 1, 5])]),
    ("EmbeddingBag-2d", lambda L: L.nn.EmbeddingBag(10, 3), ints(10, 4, 3)),
    ("EmbeddingBag-sum", lambda L: L.nn.EmbeddingBag(10, 3, mode="sum"),
     lambda r: [np.array([1, 2, 4, 5, 4, 3, 2, 9]), np.array([0, 4, 4, 6])]),
    ("EmbeddingBag-max", lambda L: L.nn.EmbeddingBag(10, 3, mode="max"),
     lambda r: [np.array([1, 2, 4, 5, 4, 3, 2, 9]), np.array([0, 3, 6])]),
    ("EmbeddingBag-last", lambda L: L.nn.EmbeddingBag(10, 3, mode="sum", include_last_offset=True),
     lambda r: [np.array([1, 2, 4, 5, 4, 3, 2, 9]), np.array([0, 3, 6, 8])]),
    ("EmbeddingBag-psw", lambda L: L.nn.EmbeddingBag(10, 3, mode="sum"),
     lambda r: [np.array([1, 2, 4, 5, 4]), np.array([0, 2]), r.standard_normal(5)]),
    ("EmbeddingBag-padding", lambda L: L.nn.EmbeddingBag(10, 3, padding_idx=4),
     lambda r: [np.array([1, 2, 4, 5, 4, 4]), np.array([0, 3, 5])]),
    # distances
    ("PairwiseDistance", lambda L: L.nn.PairwiseDistance(), lambda r: [r.standard_normal((4, 5)),
                                                                        r.standard_normal((4, 5))]),
    ("PairwiseDistance-p1", lambda L: L.nn.PairwiseDistance(p=1.0, keepdim=True),
     lambda r: [r.standard_normal((4, 5)), r.standard_normal((4, 5))]),
    ("PairwiseDistance-p3", lambda L: L.nn.PairwiseDistance(p=3.0), lambda r: [r.standard_normal((4, 5)),
                                                                                r.standard_normal((1, 5))]),
    ("CosineSimilarity", lambda L: L.nn.CosineSimilarity(), lambda r: [r.standard_normal((4, 5)),
                                                                        r.standard_normal((4, 5))]),
    ("CosineSimilarity-dim", lambda L: L.nn.CosineSimilarity(dim=0, eps=1e-6),
     lambda r: [r.standard_normal((4, 5)), r.standard_normal((4, 5))]),
    # dropout family in eval mode (identity); training statistics are tested separately
    ("Dropout-eval", lambda L: L.nn.Dropout(0.3).eval(), rn(3, 4)),
    ("Dropout1d-eval", lambda L: L.nn.Dropout1d(0.3).eval(), rn(2, 3, 4)),
    ("Dropout2d-eval", lambda L: L.nn.Dropout2d(0.3).eval(), rn(2, 3, 4, 4)),
    ("Dropout3d-eval", lambda L: L.nn.Dropout3d(0.3).eval(), rn(2, 3, 2, 2, 2)),
    ("AlphaDropout-eval", lambda L: L.nn.AlphaDropout(0.3).eval(), rn(3, 4)),
    ("FeatureAlphaDropout-eval", lambda L: L.nn.FeatureAlphaDropout(0.3).eval(), rn(2, 3, 4)),
    # containers
    ("Sequential", lambda L: L.nn.Sequential(L.nn.Linear(4, 6), L.nn.Tanh(), L.nn.Linear(6, 2)), rn(3, 4)),
    ("ModuleList-seq", lambda L: L.nn.Sequential(*L.nn.ModuleList([L.nn.Linear(4, 4), L.nn.GELU()])), rn(3, 4)),
]

EVAL_ONLY = {"RReLU-eval", "Dropout-eval", "Dropout1d-eval", "Dropout2d-eval", "Dropout3d-eval", "AlphaDropout-eval",
             "FeatureAlphaDropout-eval"}


@pytest.mark.parametrize("device", LAYER_DEVICES)
@pytest.mark.parametrize("name,ctor,make", LAYERS, ids=[r[0] for r in LAYERS])
def test_layer_parity(name, ctor, make, device):
    modes = (False,) if name in EVAL_ONLY else (True, False)
    steps = 2 if name.startswith(("BatchNorm", "InstanceNorm")) else 1
    check_layer(ctor, make, modes=modes, steps=steps, device=device)


EMPTY_LAYERS = [pytest.param(name, ctor, empty_maker(make), id=f"{name}-empty") for name, ctor, make in LAYERS
                if empty_maker(make) is not None and name not in NOT_DERIVED]


@pytest.mark.parametrize("device", LAYER_DEVICES)
@pytest.mark.parametrize("name,ctor,make", EMPTY_LAYERS)
def test_layer_parity_empty_batch(name, ctor, make, device):
    """Each layer again on a 0-size batch, forward and backward: PyTorch's result, or its exception type."""
    modes = (False,) if name in EVAL_ONLY else (True, False)
    same_outcome(lambda lib: run_layer(lib, ctor, make(np.random.default_rng(0)), modes, device),
                 lambda: check_layer(ctor, make, modes=modes, device=device))


def test_parity_tested_class_count():
    """Every row names a real ember.nn class; together with the loss table they cover the classes of this family."""
    import ember
    from test_nn_losses_parity import LOSSES
    names = {r[0].split("-")[0] for r in LAYERS + LOSSES}
    for n in names:
        assert isinstance(getattr(ember.nn, n), type)
    assert len(names) >= 75, len(names)


def test_adaptive_log_softmax_with_loss():
    import torch
    import ember
    from nn_helpers import build_pair, compare_module
    from parity import assert_same
    for dtype in (np.float64, np.float32):
        em, tm = build_pair(lambda L: L.nn.AdaptiveLogSoftmaxWithLoss(8, 20, [4, 10], div_value=2.0), dtype)
        r = np.random.default_rng(5)
        x = r.standard_normal((12, 8))
        t = np.array([0, 3, 4, 9, 10, 19, 1, 15, 5, 2, 11, 7])
        compare_module(em, tm, [x, t], dtype)
        xe, xt = ember.from_numpy(x.astype(dtype)), torch.from_numpy(x.astype(dtype))
        assert_same(em.log_prob(xe), tm.log_prob(xt), rtol=2e-4, atol=2e-5)
        assert_same(em.predict(xe), tm.predict(xt))
    with pytest.raises(ValueError, match="cutoffs should be a sequence of unique"):
        ember.nn.AdaptiveLogSoftmaxWithLoss(8, 20, [10, 4])

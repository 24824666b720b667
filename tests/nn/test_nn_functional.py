"""ember.nn.functional against torch.nn.functional: functions with no module twin, second derivatives of the
fused kernels, the random layers' statistics, legacy spellings and warnings."""
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn.functional as F
from parity import assert_same, check_op

R = np.random.default_rng(0)


def a(*shape, scale=1.0):
    return R.standard_normal(shape) * scale


GRADGRAD = [
    ("softmax", lambda L, x: L.nn.functional.softmax(x, dim=1), [a(3, 4)]),
    ("log_softmax", lambda L, x: L.nn.functional.log_softmax(x, dim=0), [a(3, 4)]),
    ("softmax-dtype", lambda L, x: L.nn.functional.softmax(x, -1, dtype=L.float64), [a(3, 4).astype(np.float32)]),
    ("gelu", lambda L, x: L.nn.functional.gelu(x), [a(3, 4)]),
    ("gelu-tanh", lambda L, x: L.nn.functional.gelu(x, approximate="tanh"), [a(3, 4)]),
    ("silu", lambda L, x: L.nn.functional.silu(x), [a(3, 4)]),
    ("mish", lambda L, x: L.nn.functional.mish(x), [a(3, 4)]),
    ("elu", lambda L, x: L.nn.functional.elu(x, 0.5), [a(3, 4)]),
    ("selu", lambda L, x: L.nn.functional.selu(x), [a(3, 4)]),
    ("softplus", lambda L, x: L.nn.functional.softplus(x, 2.0), [a(3, 4)]),
    ("logsigmoid", lambda L, x: L.nn.functional.logsigmoid(x), [a(3, 4)]),
    ("linear", lambda L, x, w, b: L.nn.functional.linear(x, w, b), [a(2, 3, 4), a(5, 4), a(5)]),
    ("bilinear", lambda L, x, y, w, b: L.nn.functional.bilinear(x, y, w, b), [a(3, 2), a(3, 4), a(5, 2, 4), a(5)]),
    ("layer_norm", lambda L, x, w, b: L.nn.functional.layer_norm(x, (4,), w, b), [a(3, 4), a(4), a(4)]),
    ("group_norm", lambda L, x, w, b: L.nn.functional.group_norm(x, 2, w, b), [a(2, 4, 3), a(4), a(4)]),
    ("batch_norm-train", lambda L, x, w, b: L.nn.functional.batch_norm(x, None, None, w, b, training=True),
     [a(5, 3), a(3), a(3)]),
    ("batch_norm-eval", lambda L, x, w, b: L.nn.functional.batch_norm(x, L.zeros(3, dtype=L.float64) + 0.5,
                                                                        L.ones(3, dtype=L.float64) * 2, w, b),
     [a(5, 3), a(3), a(3)]),
    ("instance_norm", lambda L, x: L.nn.functional.instance_norm(x), [a(2, 3, 5)]),
    ("rms_norm", lambda L, x, w: L.nn.functional.rms_norm(x, (4,), w), [a(3, 4), a(4)]),
    ("cross_entropy", lambda L, x: L.nn.functional.cross_entropy(x, L.tensor([1, 0, 3])), [a(3, 4)]),
    ("cross_entropy-probs-smooth", lambda L, x, t: L.nn.functional.cross_entropy(x, t, label_smoothing=0.1),
     [a(3, 4), np.abs(a(3, 4))]),
    ("nll_loss", lambda L, x: L.nn.functional.nll_loss(x, L.tensor([1, 0, 3])), [a(3, 4)]),
    ("mse_loss", lambda L, x, y: L.nn.functional.mse_loss(x, y), [a(3, 4), a(3, 4)]),
    ("bce_logits", lambda L, x, y: L.nn.functional.binary_cross_entropy_with_logits(x, y), [a(3, 4), a(3, 4)]),
    ("bce", lambda L, x: L.nn.functional.binary_cross_entropy(x, L.full((3, 4), 0.3, dtype=L.float64)),
     [R.uniform(0.1, 0.9, (3, 4))]),
    ("normalize", lambda L, x: L.nn.functional.normalize(x, dim=1), [a(3, 4)]),
    ("normalize-p1", lambda L, x: L.nn.functional.normalize(x, p=1.5, dim=0), [a(3, 4)]),
    ("cosine_similarity", lambda L, x, y: L.nn.functional.cosine_similarity(x, y, dim=-1), [a(3, 4), a(1, 4)]),
    ("pairwise_distance", lambda L, x, y: L.nn.functional.pairwise_distance(x, y), [a(3, 4), a(3, 4)]),
    ("pdist", lambda L, x: L.nn.functional.pdist(x), [a(4, 3)]),
    ("embedding", lambda L, w: L.nn.functional.embedding(L.tensor([[0, 2], [2, 1]]), w, padding_idx=1), [a(4, 3)]),
    ("glu", lambda L, x: L.nn.functional.glu(x, 0), [a(4, 3)]),
    ("prelu", lambda L, x, w: L.nn.functional.prelu(x, w), [a(2, 3, 2), np.array([0.1, 0.2, 0.3])]),
    ("kl_div", lambda L, x, t: L.nn.functional.kl_div(x, t, reduction="batchmean"),
     [np.log(R.dirichlet(np.ones(4), 3)), R.dirichlet(np.ones(4), 3)]),
    ("huber", lambda L, x, y: L.nn.functional.huber_loss(x, y, delta=0.5), [a(3, 4), a(3, 4)]),
    ("smooth_l1", lambda L, x, y: L.nn.functional.smooth_l1_loss(x, y, beta=0.5), [a(3, 4), a(3, 4)]),
    ("local_response_norm", lambda L, x: L.nn.functional.local_response_norm(x, 3), [a(2, 4, 3)]),
]


@pytest.mark.parametrize("name,fn,arrays", GRADGRAD, ids=[g[0] for g in GRADGRAD])
def test_functional_values_grads_and_second_derivatives(name, fn, arrays):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_op(lambda *xs: fn(ember, *xs), lambda *xs: fn(torch, *xs), *arrays, gradgrad=name != "pdist")


@pytest.mark.parametrize("p", [0.5, 1.5, 3.0])
def test_p_norm_gradient_is_zero_at_zero_elements(p):
    """normalize's p-norm with elements (and a whole row) at exactly 0: PyTorch's gradient there is 0, not NaN."""
    x = np.array([[0.0, 0.0, 0.0], [1.0, -2.0, 0.0], [0.0, 3.0, -0.5]])
    e, t = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    F.normalize(e, p=p, dim=1).sum().backward()
    TF.normalize(t, p=p, dim=1).sum().backward()
    assert_same(e.grad, t.grad)


def test_one_hot():
    for t, n in (([0, 2, 1], -1), ([[1], [3]], 5)):
        assert_same(F.one_hot(ember.tensor(t), n), TF.one_hot(torch.tensor(t), n))
    for bad in (lambda L: L.nn.functional.one_hot(L.tensor([1.0])), lambda L: L.nn.functional.one_hot(L.tensor([3]), 2),
                lambda L: L.nn.functional.one_hot(L.tensor([-1]), 2)):
        with pytest.raises(RuntimeError) as et:
            bad(torch)
        with pytest.raises(RuntimeError) as ee:
            bad(ember)
        assert str(ee.value) == str(et.value)


def test_embedding_max_norm_renormalises_in_place():
    w = a(6, 3, scale=3)
    we, wt = ember.from_numpy(w.copy()), torch.from_numpy(w.copy())
    idx = [[0, 2], [2, 5]]
    assert_same(F.embedding(ember.tensor(idx), we, max_norm=1.0), TF.embedding(torch.tensor(idx), wt, max_norm=1.0))
    assert_same(we, wt)
    assert_same(F.embedding_bag(ember.tensor(idx), we, max_norm=0.5, norm_type=1.0),
                TF.embedding_bag(torch.tensor(idx), wt, max_norm=0.5, norm_type=1.0))



@pytest.mark.parametrize("offsets,last", [([0, 0, 2, 2, 5], True), ([0, 0, 2, 2], False), ([0, 3], False)])
def test_embedding_bag_empty_and_full_bags_match_torch(offsets, last):
    w = a(10, 3)
    idx = [1, 2, 3, 4, 5]
    for mode in ("sum", "mean", "max"):
        assert_same(F.embedding_bag(ember.tensor(idx), ember.tensor(w), ember.tensor(offsets), mode=mode,
                                    include_last_offset=last),
                    TF.embedding_bag(torch.tensor(idx), torch.tensor(w), torch.tensor(offsets), mode=mode,
                                     include_last_offset=last))


@pytest.mark.parametrize("offsets,last,message", [
    ([1, 2], False, "offsets[0] has to be 0"),
    ([0, 7], False, "offsets[-1] can not be greater than input's length 5 but got offsets[-1] of 7"),
    ([0, 2, 6], True, "offsets[-1] can not be greater than input's length 5 but got offsets[-1] of 6"),
])
def test_embedding_bag_bad_offsets_raise_like_torch(offsets, last, message):
    w = a(10, 3)
    with pytest.raises(RuntimeError) as theirs:
        TF.embedding_bag(torch.tensor([1, 2, 3, 4, 5]), torch.tensor(w), torch.tensor(offsets), include_last_offset=last)
    with pytest.raises(RuntimeError) as ours:
        F.embedding_bag(ember.tensor([1, 2, 3, 4, 5]), ember.tensor(w), ember.tensor(offsets), include_last_offset=last)
    assert message in str(theirs.value) and message in str(ours.value)


def test_embedding_bag_decreasing_offsets_are_refused():
    # PyTorch reads past a bag's end here (an internal assertion or silently wrong bags); ember names the offsets
    with pytest.raises(RuntimeError, match=r"offsets must be non-decreasing, but offsets\[2\] = 2 follows"):
        F.embedding_bag(ember.tensor([1, 2, 3, 4, 5]), ember.tensor(a(10, 3)), ember.tensor([0, 3, 2]))

def test_dropout_training_statistics_and_grad():
    x = ember.ones(200, 500, requires_grad=True)
    y = F.dropout(x, 0.3)
    kept = y.detach().numpy() != 0
    assert abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_allclose(y.detach().numpy()[kept], 1 / 0.7, rtol=1e-6)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy() != 0, kept)
    assert F.dropout(x, 0.3, training=False) is x
    assert not F.dropout(x, 1.0).any()
    z = F.dropout2d(ember.ones(50, 40, 3, 3), 0.5).numpy()
    per_channel = z.reshape(50, 40, -1)
    assert ((per_channel == 0).all(-1) | (per_channel == 2).all(-1)).all()
    assert abs((per_channel[..., 0] == 0).mean() - 0.5) < 0.05
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got 1.5"):
        F.dropout(x, 1.5)
    xs = ember.randn(400, 500)
    al = F.alpha_dropout(xs, 0.2, training=True).numpy()
    assert abs(al.mean()) < 0.02 and abs(al.std() - 1) < 0.02
    r = F.rrelu(-ember.ones(200, 100), 0.1, 0.3, training=True).numpy()
    assert r.min() >= -0.3 and r.max() <= -0.1 and abs(r.mean() + 0.2) < 0.005
    m = ember.nn.Dropout(0.5, inplace=True)
    v = ember.ones(10, 10)
    assert m(v) is v


def test_inplace_activations_and_leaf_error():
    x = ember.randn(3, 4)
    y = x.clone()
    assert F.relu(y, inplace=True) is y and (y.numpy() >= 0).all()
    leaf = ember.randn(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        F.relu(leaf, inplace=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        F.leaky_relu_(leaf)
    for name in ("relu_", "elu_", "leaky_relu_", "hardtanh_", "threshold_", "selu_", "celu_", "rrelu_"):
        assert callable(getattr(F, name))


def test_softmax_implicit_dim_and_legacy_functions():
    x = ember.randn(2, 3)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        y = F.softmax(x)
    assert "Implicit dimension choice for softmax has been deprecated" in str(w[0].message)
    np.testing.assert_allclose(y.sum(1).numpy(), 1, rtol=1e-6)
    assert_same(F.sigmoid(x), torch.sigmoid(torch.from_numpy(x.numpy().copy())))
    assert_same(F.tanh(x), torch.tanh(torch.from_numpy(x.numpy().copy())))
    assert_same(ember.softmax(x, 0), torch.softmax(torch.from_numpy(x.numpy().copy()), 0))
    assert_same(x.log_softmax(-1), torch.from_numpy(x.numpy().copy()).log_softmax(-1))
    with pytest.raises(NotImplementedError, match="not implemented for 'Long'"):
        ember.softmax(ember.tensor([1, 2]), 0)


def test_gumbel_softmax():
    logits = ember.log(ember.tensor([[0.1, 0.6, 0.3]]).expand(4000, 3).contiguous()).requires_grad_()
    soft = F.gumbel_softmax(logits, tau=0.5)
    np.testing.assert_allclose(soft.sum(1).detach().numpy(), 1, rtol=1e-5)
    hard = F.gumbel_softmax(logits, tau=1.0, hard=True)
    h = hard.detach().numpy()
    assert set(np.unique(h)) <= {0.0, 1.0} and (h.sum(1) == 1).all()
    np.testing.assert_allclose(h.mean(0), [0.1, 0.6, 0.3], atol=0.03)
    (hard * ember.arange(3.0)).sum().backward()
    assert logits.grad is not None and np.abs(logits.grad.numpy()).sum() > 0


def test_loss_reduction_legacy_flags_warn():
    x, t = ember.randn(3, 4), ember.randn(3, 4)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        out = F.mse_loss(x, t, size_average=False)
        mod = ember.nn.L1Loss(reduce=False)
    assert "size_average and reduce args will be deprecated, please use reduction='sum' instead." in str(w[0].message)
    assert mod.reduction == "none"
    np.testing.assert_allclose(out.item(), ((x - t) ** 2).sum().item(), rtol=1e-6)
    with pytest.raises(ValueError, match="avg is not a valid value for reduction"):
        F.l1_loss(x, t, reduction="avg")
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        F.kl_div(x, t)
    assert "'batchmean' divides only by the batch size" in str(w[0].message)


def test_top_level_names_as_torch():
    for name in ("softmax", "log_softmax", "dropout", "alpha_dropout", "feature_dropout", "batch_norm", "layer_norm",
                 "group_norm", "instance_norm", "embedding", "selu", "celu", "rrelu", "threshold", "hardshrink"):
        assert hasattr(ember, name) == hasattr(torch, name), name
    for name in ("softmax", "log_softmax", "hardshrink"):
        assert hasattr(ember.Tensor, name)
    for name in ("dropout", "batch_norm", "layer_norm", "embedding"):
        assert not hasattr(ember.Tensor, name)


@pytest.mark.parametrize("arg", [3, (1, 2), [1, 2, 3], "ab", None])
def test_assert_int_or_pair_matches_torch(arg):
    def run(m):
        try:
            return m.nn.functional.assert_int_or_pair(arg, "kernel_size", "{} must be int or pair")
        except (AssertionError, TypeError) as e:
            return type(e), str(e)
    assert run(ember) == run(torch)

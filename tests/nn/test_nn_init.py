"""nn.init against torch: distribution moments and bounds over large tensors, exact fills, generator=,
deprecated names, errors; and the layers' default initialisation."""
import math
import warnings

import numpy as np
import pytest
import torch

import ember

SHAPE = (256, 64, 3, 3)


@pytest.fixture(autouse=True)
def _torch_seed():
    torch.manual_seed(0)


def stats(t):
    a = t.detach().numpy().astype(np.float64).ravel()
    return a.mean(), a.std(), a.min(), a.max()


def close_stats(e, t, rel=0.03):
    me, se, lo_e, hi_e = stats(e)
    mt, st, lo_t, hi_t = stats(t)
    assert abs(me - mt) < rel * st + 1e-3, (me, mt)
    assert abs(se - st) < rel * st, (se, st)
    return (lo_e, hi_e), (lo_t, hi_t)


RANDOM_INITS = [
    ("uniform_", dict(a=-0.3, b=0.7), True),
    ("normal_", dict(mean=0.5, std=2.0), False),
    ("trunc_normal_", dict(mean=0.1, std=1.0, a=-1.5, b=2.0), True),
    ("trunc_normal_", dict(mean=0.0, std=3.0, a=-0.5, b=0.5), True),
    ("xavier_uniform_", dict(gain=1.5), True),
    ("xavier_normal_", dict(gain=0.5), False),
    ("kaiming_uniform_", dict(a=math.sqrt(5)), True),
    ("kaiming_uniform_", dict(mode="fan_out", nonlinearity="relu"), True),
    ("kaiming_normal_", dict(nonlinearity="leaky_relu", a=0.1), False),
    ("kaiming_normal_", dict(mode="fan_out", nonlinearity="relu"), False),
]


@pytest.mark.parametrize("name,kwargs,bounded", RANDOM_INITS, ids=[f"{r[0]}-{i}" for i, r in enumerate(RANDOM_INITS)])
def test_random_init_distribution(name, kwargs, bounded):
    e = getattr(ember.nn.init, name)(ember.empty(*SHAPE), **kwargs)
    t = getattr(torch.nn.init, name)(torch.empty(*SHAPE), **kwargs)
    (lo_e, hi_e), (lo_t, hi_t) = close_stats(e, t)
    if bounded:
        span = hi_t - lo_t
        assert lo_e >= lo_t - 0.002 * span and hi_e <= hi_t + 0.002 * span
        assert abs(lo_e - lo_t) < 0.01 * span and abs(hi_e - hi_t) < 0.01 * span


def test_init_works_on_parameters_without_recording():
    p = ember.nn.Parameter(ember.empty(10, 10))
    out = ember.nn.init.kaiming_uniform_(p)
    assert out is p and p.grad_fn is None and p.is_leaf and p.requires_grad


def test_orthogonal_and_sparse_and_exact_fills():
    for shape in ((20, 50), (50, 20), (8, 3, 4, 4)):
        w = ember.nn.init.orthogonal_(ember.empty(*shape), gain=2.0)
        flat = w.reshape(shape[0], -1).numpy()
        if flat.shape[0] <= flat.shape[1]:
            np.testing.assert_allclose(flat @ flat.T, 4 * np.eye(flat.shape[0]), atol=1e-4)
        else:
            np.testing.assert_allclose(flat.T @ flat, 4 * np.eye(flat.shape[1]), atol=1e-4)
    s = ember.nn.init.sparse_(ember.empty(100, 30), sparsity=0.3, std=0.05)
    zeros_per_col = (s.numpy() == 0).sum(0)
    assert (zeros_per_col >= 30).all()
    nz = s.numpy()[s.numpy() != 0]
    assert abs(nz.std() - 0.05) < 0.005
    for name, args in (("constant_", (0.3,)), ("ones_", ()), ("zeros_", ()), ("eye_", ()), ("dirac_", ())):
        shape = (6, 4, 3, 3) if name == "dirac_" else (5, 7)
        e = getattr(ember.nn.init, name)(ember.empty(*shape), *args)
        t = getattr(torch.nn.init, name)(torch.empty(*shape), *args)
        np.testing.assert_array_equal(e.numpy(), t.numpy())
    e = ember.nn.init.dirac_(ember.empty(6, 2, 3), groups=3)
    t = torch.nn.init.dirac_(torch.empty(6, 2, 3), groups=3)
    np.testing.assert_array_equal(e.numpy(), t.numpy())


def test_calculate_gain_and_fans():
    for args in (("linear",), ("conv2d",), ("sigmoid",), ("tanh",), ("relu",), ("leaky_relu",), ("leaky_relu", 0.2),
                 ("selu",)):
        assert ember.nn.init.calculate_gain(*args) == torch.nn.init.calculate_gain(*args)
    for bad in (("foo",), ("leaky_relu", True)):
        with pytest.raises(ValueError) as ee:
            ember.nn.init.calculate_gain(*bad)
        with pytest.raises(ValueError) as et:
            torch.nn.init.calculate_gain(*bad)
        assert str(ee.value) == str(et.value)
    assert ember.nn.init._calculate_fan_in_and_fan_out(ember.empty(4, 3, 5, 5)) == (75, 100)
    with pytest.raises(ValueError, match="Fan in and fan out can not be computed"):
        ember.nn.init.xavier_uniform_(ember.empty(5))
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        ember.nn.init.kaiming_normal_(ember.empty(5, 5), mode="fan_avg")
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions are supported"):
        ember.nn.init.eye_(ember.empty(2, 2, 2))


def test_generator_argument_is_reproducible():
    g1, g2 = ember.Generator().manual_seed(3), ember.Generator().manual_seed(3)
    for name in ("uniform_", "normal_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_",
                 "trunc_normal_", "orthogonal_"):
        a = getattr(ember.nn.init, name)(ember.empty(6, 5), generator=g1)
        b = getattr(ember.nn.init, name)(ember.empty(6, 5), generator=g2)
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_deprecated_names_warn_like_torch():
    for old in ("uniform", "normal", "constant", "xavier_uniform", "xavier_normal", "kaiming_uniform",
                "kaiming_normal", "orthogonal", "eye", "dirac", "sparse"):
        args = {"constant": (0.5,), "sparse": (0.1,)}.get(old, ())
        shape = (4, 3, 3) if old == "dirac" else (4, 3)
        with warnings.catch_warnings(record=True) as we:
            warnings.simplefilter("always")
            getattr(ember.nn.init, old)(ember.empty(*shape), *args)
        with warnings.catch_warnings(record=True) as wt:
            warnings.simplefilter("always")
            getattr(torch.nn.init, old)(torch.empty(*shape), *args)
        assert [(w.category, str(w.message)) for w in we] == [(w.category, str(w.message)) for w in wt]
    w = ember.Tensor(3, 5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ember.nn.init.normal(w)            # the seed's spelling
    assert abs(float(w.numpy().std()) - 1) < 1.0


LAYER_INITS = [
    lambda L: L.nn.Linear(300, 400),
    lambda L: L.nn.Bilinear(40, 30, 200),
    lambda L: L.nn.Embedding(300, 200),
    lambda L: L.nn.EmbeddingBag(300, 200, padding_idx=1),
    lambda L: L.nn.PReLU(5, init=0.3),
    lambda L: L.nn.BatchNorm2d(8),
    lambda L: L.nn.LayerNorm(9),
    lambda L: L.nn.GroupNorm(2, 8),
    lambda L: L.nn.RMSNorm(6),
]


@pytest.mark.parametrize("ctor", LAYER_INITS, ids=["Linear", "Bilinear", "Embedding", "EmbeddingBag", "PReLU",
                                                   "BatchNorm2d", "LayerNorm", "GroupNorm", "RMSNorm"])
def test_layer_default_initialisation(ctor):
    e, t = ctor(ember), ctor(torch)
    for (n, pe), (_, pt) in zip(e.named_parameters(), t.named_parameters()):
        if pt.numel() < 100:
            np.testing.assert_array_equal(pe.detach().numpy(), pt.detach().numpy())
        elif pt.numel() < 5000:   # too few samples for moments: same range
            a, b = pe.detach().numpy(), pt.detach().numpy()
            assert a.min() >= b.min() - 0.1 * abs(b.min()) and a.max() <= b.max() + 0.1 * abs(b.max())
        else:
            (lo_e, hi_e), (lo_t, hi_t) = close_stats(pe, pt, rel=0.05)
            if isinstance(t, (torch.nn.Linear, torch.nn.Bilinear)):   # uniform: same bounds
                assert abs(hi_e - hi_t) < 0.01 * hi_t and abs(lo_e - lo_t) < 0.01 * hi_t
    if hasattr(t, "padding_idx") and t.padding_idx is not None:
        assert not e.weight[t.padding_idx].any()

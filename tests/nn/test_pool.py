"""Pooling, fold and unfold against PyTorch: max / avg / adaptive / Lp pooling and max-unpooling in 1-3
dims over many argument combinations (values, indices, input gradients, second derivatives), the
pooling layers (repr, return_indices), NaN and -inf windows, and bad input."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn as enn
import ember.nn.functional as EF
from empty_variants import run_layer, same_outcome
from parity import check_op, check_raises, assert_same
from spatial_helpers import twin, run_twin

rng = np.random.default_rng(0)


def _arr(*shape, dtype=np.float64):
    return rng.standard_normal(shape).astype(dtype)


# ---------------------------------------------------------------------------------------- max pooling

MAX2D = [
    dict(kernel_size=2),
    dict(kernel_size=3),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 0)),
    dict(kernel_size=3, stride=1, dilation=2, padding=1),
    dict(kernel_size=(3, 5), stride=1, dilation=(2, 1), padding=(1, 2)),
    dict(kernel_size=2, ceil_mode=True),
    dict(kernel_size=3, stride=2, ceil_mode=True, padding=1),
    dict(kernel_size=(2, 3), stride=(3, 2), dilation=(2, 1), ceil_mode=True),
]


@pytest.mark.parametrize("kw", MAX2D, ids=str)
def test_max_pool2d(kw):
    x = _arr(2, 3, 9, 8)
    check_op(lambda x: EF.max_pool2d(x, **kw), lambda x: TF.max_pool2d(x, **kw), x, gradgrad=True)
    check_op(lambda x: EF.max_pool2d(x, return_indices=True, **kw),
             lambda x: TF.max_pool2d(x, return_indices=True, **kw), x)


@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
                                dict(kernel_size=2, dilation=3)], ids=str)
def test_max_pool1d_3d(kw):
    check_op(lambda x: EF.max_pool1d(x, return_indices=True, **kw),
             lambda x: TF.max_pool1d(x, return_indices=True, **kw), _arr(2, 3, 11))
    check_op(lambda x: EF.max_pool1d(x, **kw), lambda x: TF.max_pool1d(x, **kw), _arr(3, 11), gradgrad=True)
    check_op(lambda x: EF.max_pool3d(x, return_indices=True, **kw),
             lambda x: TF.max_pool3d(x, return_indices=True, **kw), _arr(2, 2, 7, 6, 7))
    check_op(lambda x: ember.max_pool2d(x, 2), lambda x: torch.max_pool2d(x, 2), _arr(1, 2, 6, 6))
    check_op(lambda x: ember.max_pool1d_with_indices(x, 2), lambda x: torch.max_pool1d_with_indices(x, 2),
             _arr(1, 2, 6))


def test_max_pool_float32_ties_nan_and_inf():
    x = rng.integers(0, 3, (2, 4, 8, 8)).astype(np.float32)  # many ties: first maximum wins
    check_op(lambda x: EF.max_pool2d(x, 2, return_indices=True), lambda x: TF.max_pool2d(x, 2, return_indices=True),
             x)
    check_op(lambda x: EF.max_pool2d(x, 3, 1, 1, return_indices=True),
             lambda x: TF.max_pool2d(x, 3, 1, 1, return_indices=True), x)
    y = _arr(1, 2, 6, 6)
    y[0, 0, 1, 1] = np.nan
    y[0, 1, 2:4, 2:4] = -np.inf
    for kw in (dict(kernel_size=2), dict(kernel_size=3, stride=1, padding=1)):
        e, t = EF.max_pool2d(ember.tensor(y), return_indices=True, **kw), \
            TF.max_pool2d(torch.tensor(y), return_indices=True, **kw)
        assert_same(e[0], t[0])
        assert_same(e[1], t[1])
    z = np.full((1, 1, 4, 4), -np.inf)
    e = EF.max_pool2d(ember.tensor(z), 3, 2, 1, return_indices=True)
    t = TF.max_pool2d(torch.tensor(z), 3, 2, 1, return_indices=True)
    assert_same(e[1], t[1])


def test_max_pool_integer_input():
    x = rng.integers(-50, 50, (2, 3, 6, 6))
    check_op(lambda x: EF.max_pool2d(x, 2, return_indices=True), lambda x: TF.max_pool2d(x, 2, return_indices=True),
             x)


# ---------------------------------------------------------------------------------------- average pooling

AVG2D = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
    dict(kernel_size=(3, 2), stride=(2, 3), padding=(1, 1), ceil_mode=True),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
    dict(kernel_size=2, divisor_override=3),
    dict(kernel_size=3, padding=1, stride=1, divisor_override=2, ceil_mode=True),
]


@pytest.mark.parametrize("kw", AVG2D, ids=str)
def test_avg_pool2d(kw):
    check_op(lambda x: EF.avg_pool2d(x, **kw), lambda x: TF.avg_pool2d(x, **kw), _arr(2, 3, 9, 8), gradgrad=True)


@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
                                dict(kernel_size=3, padding=1, count_include_pad=False)], ids=str)
def test_avg_pool1d_3d(kw):
    check_op(lambda x: EF.avg_pool1d(x, **kw), lambda x: TF.avg_pool1d(x, **kw), _arr(2, 3, 11), gradgrad=True)
    check_op(lambda x: EF.avg_pool3d(x, **kw), lambda x: TF.avg_pool3d(x, **kw), _arr(2, 2, 6, 7, 5))
    check_op(lambda x: EF.avg_pool2d(x, **kw), lambda x: TF.avg_pool2d(x, **kw), _arr(3, 7, 7, dtype=np.float32))
    check_op(lambda x: ember.avg_pool1d(x, 3), lambda x: torch.avg_pool1d(x, 3), _arr(2, 2, 9))


def test_lp_pool():
    x = np.abs(_arr(2, 3, 8, 9)) + 0.1
    for p in (1, 2, 3.5):
        check_op(lambda x: EF.lp_pool2d(x, p, 2), lambda x: TF.lp_pool2d(x, p, 2), x)
        check_op(lambda x: EF.lp_pool2d(x, p, (3, 2), stride=2, ceil_mode=True),
                 lambda x: TF.lp_pool2d(x, p, (3, 2), stride=2, ceil_mode=True), x)
        check_op(lambda x: EF.lp_pool1d(x, p, 3), lambda x: TF.lp_pool1d(x, p, 3), x[0])
    check_op(lambda x: EF.lp_pool3d(x, 2, 2), lambda x: TF.lp_pool3d(x, 2, 2), x[None])


# ---------------------------------------------------------------------------------------- adaptive pooling

@pytest.mark.parametrize("size", [1, 3, (4, 5), (None, 2), (9, 8), (7, 11)], ids=str)
def test_adaptive_pool2d(size):
    x = _arr(2, 3, 9, 8)
    check_op(lambda x: EF.adaptive_avg_pool2d(x, size), lambda x: TF.adaptive_avg_pool2d(x, size), x, gradgrad=True)
    check_op(lambda x: EF.adaptive_max_pool2d(x, size, return_indices=True),
             lambda x: TF.adaptive_max_pool2d(x, size, return_indices=True), x, gradgrad=True)
    check_op(lambda x: EF.adaptive_max_pool2d(x, size), lambda x: TF.adaptive_max_pool2d(x, size), x[0])


def test_adaptive_pool1d_3d():
    x = _arr(2, 3, 10)
    for size in (1, 3, 4, 10, 13):
        check_op(lambda x: EF.adaptive_avg_pool1d(x, size), lambda x: TF.adaptive_avg_pool1d(x, size), x)
        check_op(lambda x: EF.adaptive_max_pool1d(x, size, True), lambda x: TF.adaptive_max_pool1d(x, size, True), x)
    check_op(lambda x: ember.adaptive_max_pool1d(x, 3), lambda x: torch.adaptive_max_pool1d(x, 3), x)
    check_op(lambda x: ember.adaptive_avg_pool1d(x, 3), lambda x: torch.adaptive_avg_pool1d(x, 3), x)
    y = _arr(2, 2, 5, 6, 7)
    for size in (1, 2, (3, None, 4)):
        check_op(lambda x: EF.adaptive_avg_pool3d(x, size), lambda x: TF.adaptive_avg_pool3d(x, size), y)
        check_op(lambda x: EF.adaptive_max_pool3d(x, size, True), lambda x: TF.adaptive_max_pool3d(x, size, True), y)


# ---------------------------------------------------------------------------------------- unpooling, fold, unfold

@pytest.mark.parametrize("case", [(2, dict(kernel_size=2)), (2, dict(kernel_size=3, stride=2, padding=1)),
                                  (1, dict(kernel_size=3, stride=2)), (3, dict(kernel_size=2))], ids=str)
def test_max_unpool(case):
    nd, kw = case
    x = _arr(2, 3, *([7, 8, 6][:nd]))
    pool_e, pool_t = getattr(EF, f"max_pool{nd}d"), getattr(TF, f"max_pool{nd}d")
    unpool_e, unpool_t = getattr(EF, f"max_unpool{nd}d"), getattr(TF, f"max_unpool{nd}d")
    ve, ie = pool_e(ember.tensor(x), return_indices=True, **kw)
    vt, it = pool_t(torch.tensor(x), return_indices=True, **kw)
    sizes = list(x.shape[2:])
    check_op(lambda v, i: unpool_e(v, i, output_size=sizes, **kw), lambda v, i: unpool_t(v, i, output_size=sizes, **kw),
             vt.numpy(), it.numpy(), gradgrad=True)
    try:
        unpool_t(vt, it, **kw)
    except RuntimeError:  # the default output size cannot hold the indices
        exc = check_raises(lambda: unpool_e(ember.tensor(vt.numpy()), ember.tensor(it.numpy()), **kw),
                           lambda: unpool_t(vt, it, **kw))
        assert "Found an invalid max index" in str(exc)
    else:
        check_op(lambda v, i: unpool_e(v, i, **kw), lambda v, i: unpool_t(v, i, **kw), vt.numpy(), it.numpy())


def test_unfold_fold():
    x = _arr(2, 3, 9, 8)
    for kw in (dict(kernel_size=2), dict(kernel_size=(2, 3), padding=1, stride=2), dict(kernel_size=3, dilation=2),
               dict(kernel_size=(3, 2), dilation=(1, 2), padding=(2, 1), stride=(1, 3))):
        check_op(lambda x: EF.unfold(x, **kw), lambda x: TF.unfold(x, **kw), x, gradgrad=True)
        cols = TF.unfold(torch.tensor(x), **kw).numpy()
        check_op(lambda c: EF.fold(c, (9, 8), **kw), lambda c: TF.fold(c, (9, 8), **kw), cols, gradgrad=True)
        check_op(lambda c: EF.fold(c, (9, 8), **kw), lambda c: TF.fold(c, (9, 8), **kw), cols[0])
    check_op(lambda x: EF.unfold(x, 2), lambda x: TF.unfold(x, 2), x[0])


# ---------------------------------------------------------------------------------------- layers

LAYERS = [
    ("MaxPool1d", (3,), dict(stride=2, padding=1), (2, 3, 10)),
    ("MaxPool2d", (2,), dict(), (2, 3, 8, 9)),
    ("MaxPool2d", ((3, 2),), dict(stride=2, padding=1, dilation=(1, 2), ceil_mode=True), (2, 3, 8, 9)),
    ("MaxPool3d", (2,), dict(stride=1), (1, 2, 4, 5, 3)),
    ("AvgPool1d", (3,), dict(stride=2, padding=1, count_include_pad=False), (2, 3, 10)),
    ("AvgPool2d", (3,), dict(stride=2, padding=1, ceil_mode=True, divisor_override=4), (2, 3, 8, 9)),
    ("AvgPool3d", (2,), dict(), (1, 2, 4, 6, 4)),
    ("LPPool1d", (2, 3), dict(stride=2), (2, 3, 10)),
    ("LPPool2d", (1.5, 2), dict(), (2, 3, 8, 9)),
    ("LPPool3d", (2, 2), dict(), (1, 2, 4, 6, 4)),
    ("AdaptiveAvgPool1d", (4,), dict(), (2, 3, 10)),
    ("AdaptiveAvgPool2d", ((3, None),), dict(), (2, 3, 8, 9)),
    ("AdaptiveAvgPool3d", (2,), dict(), (1, 2, 4, 6, 5)),
    ("AdaptiveMaxPool1d", (4,), dict(), (2, 3, 10)),
    ("AdaptiveMaxPool2d", ((3, 4),), dict(), (2, 3, 8, 9)),
    ("AdaptiveMaxPool3d", (2,), dict(), (1, 2, 4, 6, 5)),
    ("Unfold", ((2, 3),), dict(padding=1, stride=2), (2, 3, 8, 9)),
]


@pytest.mark.parametrize("case", LAYERS, ids=lambda c: f"{c[0]}{c[1]}{c[2]}")
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
def test_pool_layers(case, dtype):
    name, args, kw, shape = case
    x = np.abs(_arr(*shape)) + 0.1 if name.startswith("LP") else _arr(*shape)
    em, tm = twin(name, *args, dtype=dtype, **kw)
    run_twin(em, tm, x, dtype=dtype)
    assert type(em).__module__ == f"ember.nn.modules.{'fold' if name == 'Unfold' else 'pooling'}"


@pytest.mark.parametrize("case", LAYERS, ids=lambda c: f"{c[0]}{c[1]}{c[2]}")
def test_pool_layers_empty_batch(case):
    """Each layer on a 0-size batch, forward and backward: PyTorch's result, or its exception type."""
    name, args, kw, shape = case
    x = _arr(0, *shape[1:])
    same_outcome(lambda lib: run_layer(lib, lambda L: getattr(L.nn, name)(*args, **kw), [x], (True,)),
                 lambda: run_twin(*twin(name, *args, **kw), x))


def test_pool_layers_indices_and_unpool():
    em, tm = twin("MaxPool2d", 2, return_indices=True)
    x = _arr(2, 3, 8, 9)
    (ve, ie), (vt, it) = run_twin(em, tm, x, grad=False)
    ue, ut = twin("MaxUnpool2d", 2)
    assert str(ue) == "MaxUnpool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0))"
    assert_same(ue(ve, ie, output_size=[8, 9]), ut(vt, it, output_size=[8, 9]))
    for name, args in (("MaxUnpool1d", (3, 2)), ("MaxUnpool3d", (2,))):
        assert str(getattr(enn, name)(*args)) == str(getattr(torch.nn, name)(*args))
    em, tm = twin("AdaptiveMaxPool2d", 3, return_indices=True)
    run_twin(em, tm, x, grad=False)
    em, tm = twin("Fold", (4, 5), 2)
    run_twin(em, tm, _arr(2, 12, 12))


def test_pool_reprs():
    for name, args, kw in [("MaxPool2d", (3,), dict(stride=2)), ("MaxPool2d", ((3, 2),), dict(padding=1, dilation=2)),
                           ("MaxPool1d", (4,), dict(return_indices=True, ceil_mode=True)),
                           ("AvgPool2d", (3,), dict(stride=(2, 1))), ("AvgPool1d", (3,), dict()),
                           ("AvgPool3d", ((3, 2, 2),), dict(stride=1, padding=1)),
                           ("AdaptiveAvgPool2d", ((5, 7),), dict()), ("AdaptiveAvgPool2d", ((None, 7),), dict()),
                           ("AdaptiveMaxPool1d", (5,), dict(return_indices=True)), ("LPPool2d", (2, 3), dict(stride=2)),
                           ("Fold", ((4, 5), 2), dict()), ("Unfold", (2,), dict(dilation=2, padding=1))]:
        assert str(getattr(enn, name)(*args, **kw)) == str(getattr(torch.nn, name)(*args, **kw))


# ---------------------------------------------------------------------------------------- bad input

BAD = [
    (lambda F, t: F.max_pool2d(t(8), 3), "non-empty 3D or 4D (batch mode) tensor expected for input"),
    (lambda F, t: F.max_pool2d(t(2, 3, 8, 8), 3, padding=2), "pad should be at most half of effective kernel size"),
    (lambda F, t: F.max_pool2d(t(2, 3, 2, 2), 3), "Output size is too small"),
    (lambda F, t: F.max_pool2d(t(2, 3, 9, 9), 3, 1, 2, dilation=2), "padW = 2, padH = 2, kW = 3, kH = 3"),
    (lambda F, t: F.max_pool3d(t(1, 1, 9, 9, 9), 3, 1, 2, dilation=2), "kT: 3 kW: 3 kH: 3 padT: 2 padW: 2 padH: 2"),
    (lambda F, t: F.max_pool1d(t(2, 3, 9), 3, 1, 2, dilation=2), "max_pool1d() padding should be at most half"),
    (lambda F, t: F.max_pool2d(t(2, 3, 9, 9), 0), "stride should not be zero"),
    (lambda F, t: F.max_pool2d(t(2, 3, 9, 9), 2, dilation=0), "dilationH: 0 dilationW: 0"),
    (lambda F, t: F.max_pool2d(t(2, 3, 9, 9), 2, padding=-1), "pad must be non-negative, but got pad: -1"),
    (lambda F, t: F.avg_pool2d(t(2, 3, 8, 8), 3, padding=2), "pad should be at most half of effective kernel size"),
    (lambda F, t: F.adaptive_avg_pool2d(t(8), 3), "adaptive_avg_pool2d(): Expected 3D or 4D tensor, but got [8]"),
    (lambda F, t: F.adaptive_max_pool2d(t(2, 3, 0, 4), 3), "Expected input to have non-zero size"),
    (lambda F, t: F.fold(t(2, 3, 12, 49), (8, 8), 2), "Expected 2D or 3D (batch mode) tensor"),
    (lambda F, t: F.fold(t(2, 12, 20), (8, 8), 2), "expected size of input's dimension 2 to match"),
    (lambda F, t: F.fold(t(2, 10, 49), (8, 8), 2), "divisible by the product of kernel_size"),
    (lambda F, t: F.unfold(t(2, 3, 4, 8, 8), 2), "Expected 3D or 4D (batch mode) tensor"),
    (lambda F, t: F.unfold(t(2, 3, 2, 2), 3), "must be at least one"),
]


@pytest.mark.parametrize("case", BAD, ids=lambda c: c[1][:40])
def test_pool_bad_input(case):
    fn, msg = case
    exc = check_raises(lambda: fn(EF, lambda *s: ember.tensor(_arr(*s))),
                       lambda: fn(TF, lambda *s: torch.tensor(_arr(*s))))
    assert msg in str(exc), str(exc)


def test_pool_layer_bad_input_names_module():
    with pytest.raises(RuntimeError) as info:
        enn.Sequential(enn.MaxPool2d(3, padding=2))(ember.randn(2, 3, 8, 8))
    assert "pad should be at most half" in str(info.value) and "MaxPool2d(kernel_size=3" in str(info.value)
    check_raises(lambda: EF.max_unpool2d(ember.randn(1, 1, 2, 2), ember.tensor([[[[0, 1], [2, 99]]]]), 2),
                 lambda: TF.max_unpool2d(torch.randn(1, 1, 2, 2), torch.tensor([[[[0, 1], [2, 99]]]]), 2))


@pytest.mark.parametrize("case", [(2, (2, 3, 10, 9), 2, dict(output_size=(4, 3))),
                                  (2, (2, 3, 10, 9), (3, 2), dict(output_size=(5, 6))),
                                  (2, (3, 10, 9), 3, dict(output_ratio=(0.6, 0.7))),
                                  (3, (1, 2, 7, 8, 9), 2, dict(output_size=(3, 4, 2))),
                                  (3, (2, 7, 8, 6), (2, 3, 2), dict(output_ratio=(0.5, 0.5, 0.6)))], ids=str)
def test_fractional_max_pool(case):
    nd, shape, k, kw = case
    n = shape[0] if len(shape) == nd + 2 else 1
    s = rng.random((n, shape[-nd - 1], nd))
    fe, ft = getattr(EF, f"fractional_max_pool{nd}d"), getattr(TF, f"fractional_max_pool{nd}d")
    check_op(lambda x, s: fe(x, k, return_indices=True, _random_samples=s.detach(), **kw),
             lambda x, s: ft(x, k, return_indices=True, _random_samples=s.detach(), **kw), _arr(*shape), s,
             gradgrad=True)
    name = f"FractionalMaxPool{nd}d"
    em, tm = getattr(enn, name)(k, _random_samples=ember.tensor(s), **kw), \
        getattr(torch.nn, name)(k, _random_samples=torch.tensor(s), **kw)
    assert str(em) == str(tm) and list(em.state_dict()) == list(tm.state_dict())
    run_twin(em, tm, _arr(*shape))
    y = fe(ember.tensor(_arr(*shape)), k, **kw)  # fresh random windows: right shape, values from the input
    assert tuple(y.shape) == tuple(ft(torch.tensor(_arr(*shape)), k, **kw).shape)


def test_fractional_max_pool_errors():
    x = _arr(2, 3, 9, 8)
    for fn in (lambda F, t, l: F.fractional_max_pool2d(t(x), 3, output_size=8),
               lambda F, t, l: F.fractional_max_pool2d(t(x), 3),
               lambda F, t, l: F.fractional_max_pool2d(t(x), 3, output_ratio=(0.5, 0.5, 0.5)),
               lambda F, t, l: F.fractional_max_pool2d(t(x), 3, output_size=4, _random_samples=t(rng.random((2, 3, 3)))),
               lambda F, t, l: l.FractionalMaxPool2d(3),
               lambda F, t, l: l.FractionalMaxPool2d(3, output_size=2, output_ratio=0.5),
               lambda F, t, l: l.FractionalMaxPool2d(3, output_ratio=1.5),
               lambda F, t, l: F.fractional_max_pool2d(t(x), 2, output_ratio=0.5)):
        exc = check_raises(lambda: fn(EF, ember.tensor, enn), lambda: fn(TF, torch.tensor, torch.nn))
        t_exc = None
        try:
            fn(TF, torch.tensor, torch.nn)
        except Exception as e:  # noqa: BLE001
            t_exc = e
        assert str(exc).split("\n")[0] == str(t_exc), (str(exc), str(t_exc))

"""Convolutions against PyTorch: F.conv1d/2d/3d and F.conv_transpose1d/2d/3d over many argument
combinations (values, input / weight / bias gradients, second derivatives), the Conv and ConvTranspose
layers (padding modes, output_size, repr, state_dict, initialisation), and bad input."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn as enn
import ember.nn.functional as EF
from empty_variants import run_layer, same_outcome
from parity import check_op, check_raises
from spatial_helpers import twin, run_twin

rng = np.random.default_rng(0)


def _arr(*shape, dtype=np.float64):
    return rng.standard_normal(shape).astype(dtype)


# ---------------------------------------------------------------------------------------- functional conv

CONV2D_CASES = [
    dict(),
    dict(stride=2),
    dict(stride=(2, 1), padding=(1, 2)),
    dict(padding=1, dilation=2),
    dict(padding="same"),
    dict(padding="same", dilation=(2, 1)),
    dict(padding="valid", stride=3),
    dict(groups=2),
    dict(groups=2, stride=2, padding=1, dilation=(1, 2)),
    dict(groups=4),  # depthwise
]


@pytest.mark.parametrize("kw", CONV2D_CASES, ids=str)
@pytest.mark.parametrize("bias", [True, False])
def test_conv2d(kw, bias):
    g = kw.get("groups", 1)
    x, w = _arr(2, 4, 9, 8), _arr(6 if g != 4 else 8, 4 // g, 3, 2)
    args = (x, w, _arr(w.shape[0])) if bias else (x, w)
    check_op(lambda *a: EF.conv2d(*a, **kw), lambda *a: TF.conv2d(*a, **kw), *args)


@pytest.mark.parametrize("kw", [dict(), dict(stride=2, padding=2), dict(dilation=3, padding="same"), dict(groups=3),
                                dict(padding="same")], ids=str)
def test_conv1d(kw):
    x, w, b = _arr(3, 6, 11), _arr(9, 6 // kw.get("groups", 1), 4), _arr(9)
    check_op(lambda *a: EF.conv1d(*a, **kw), lambda *a: TF.conv1d(*a, **kw), x, w, b)


@pytest.mark.parametrize("kw", [dict(), dict(stride=(1, 2, 2), padding=1), dict(dilation=2, groups=2),
                                dict(padding="same")], ids=str)
def test_conv3d(kw):
    x, w, b = _arr(2, 4, 5, 6, 7), _arr(4, 4 // kw.get("groups", 1), 2, 3, 2), _arr(4)
    check_op(lambda *a: EF.conv3d(*a, **kw), lambda *a: TF.conv3d(*a, **kw), x, w, b)


def test_conv_unbatched_and_float32():
    x, w, b = _arr(3, 10, 9, dtype=np.float32), _arr(5, 3, 3, 3, dtype=np.float32), _arr(5, dtype=np.float32)
    check_op(lambda *a: EF.conv2d(*a, padding=1), lambda *a: TF.conv2d(*a, padding=1), x, w, b,
             rtol=1e-4, atol=1e-5)
    check_op(lambda *a: EF.conv1d(*a), lambda *a: TF.conv1d(*a), _arr(4, 12), _arr(2, 4, 5))
    xb = _arr(8, 16, 14, 14, dtype=np.float32)
    check_op(lambda *a: EF.conv2d(*a, stride=2), lambda *a: TF.conv2d(*a, stride=2), xb,
             _arr(32, 16, 3, 3, dtype=np.float32), _arr(32, dtype=np.float32), rtol=1e-4, atol=1e-4)


def test_conv_integer_and_no_grad():
    x = rng.integers(-3, 4, (2, 3, 6, 6))
    w = rng.integers(-3, 4, (4, 3, 3, 3))
    check_op(EF.conv2d, TF.conv2d, x, w)
    with ember.no_grad():
        y = EF.conv2d(ember.tensor(_arr(1, 2, 5, 5), requires_grad=True), ember.tensor(_arr(3, 2, 3, 3)))
    assert y.grad_fn is None and not y.requires_grad


def test_conv_grad_fn_names_and_top_level():
    x = ember.tensor(_arr(1, 2, 5, 5), requires_grad=True)
    assert type(ember.conv2d(x, ember.tensor(_arr(3, 2, 3, 3))).grad_fn).__name__ == "ConvolutionBackward0"
    assert type(ember.conv_transpose2d(x, ember.tensor(_arr(2, 3, 3, 3))).grad_fn).__name__ == \
        "ConvolutionBackward0"
    assert not hasattr(ember.Tensor, "conv2d")
    x, w = _arr(2, 3, 7, 7), _arr(4, 3, 3, 3)
    check_op(lambda x, w: ember.convolution(x, w, None, [1, 1], [1, 1], [1, 1], False, [0, 0], 1),
             lambda x, w: torch.convolution(x, w, None, [1, 1], [1, 1], [1, 1], False, [0, 0], 1), x, w)


def test_conv_tbc():
    for pad in (0, 1, 2):
        check_op(lambda x, w, b: ember.conv_tbc(x, w, b, pad), lambda x, w, b: torch.conv_tbc(x, w, b, pad),
                 _arr(7, 2, 3), _arr(3, 3, 4), _arr(4))
    check_op(lambda x, w, b: EF.conv_tbc(x, w, b), lambda x, w, b: TF.conv_tbc(x, w, b), _arr(5, 3, 2), _arr(2, 2, 3),
             _arr(3))


CONVT2D_CASES = [
    dict(),
    dict(stride=2),
    dict(stride=2, output_padding=1),
    dict(stride=(3, 2), padding=(1, 0), output_padding=(2, 1)),
    dict(padding=1, dilation=2),
    dict(stride=2, dilation=2, output_padding=1),
    dict(groups=2, stride=2, padding=1),
]


@pytest.mark.parametrize("kw", CONVT2D_CASES, ids=str)
def test_conv_transpose2d(kw):
    g = kw.get("groups", 1)
    x, w, b = _arr(2, 4, 5, 6), _arr(4, 6 // g, 3, 2), _arr(6)
    check_op(lambda *a: EF.conv_transpose2d(*a, **kw), lambda *a: TF.conv_transpose2d(*a, **kw), x, w, b)


@pytest.mark.parametrize("kw", [dict(), dict(stride=3, padding=1, output_padding=2), dict(groups=2, dilation=2)],
                         ids=str)
def test_conv_transpose1d_3d(kw):
    g = kw.get("groups", 1)
    check_op(lambda *a: EF.conv_transpose1d(*a, **kw), lambda *a: TF.conv_transpose1d(*a, **kw),
             _arr(2, 4, 7), _arr(4, 6 // g, 3), _arr(6))
    check_op(lambda *a: EF.conv_transpose3d(*a, **kw), lambda *a: TF.conv_transpose3d(*a, **kw),
             _arr(1, 4, 3, 4, 3), _arr(4, 2 // g, 2, 2, 3), _arr(2))
    check_op(lambda *a: EF.conv_transpose2d(*a), lambda *a: TF.conv_transpose2d(*a), _arr(4, 3, 3), _arr(4, 2, 2, 2))


@pytest.mark.parametrize("case", [
    ("conv2d", dict(stride=2, padding=1, groups=2)),
    ("conv2d", dict(padding="same", dilation=2)),
    ("conv1d", dict(stride=2)),
    ("conv_transpose2d", dict(stride=2, output_padding=1, padding=1)),
    ("conv_transpose1d", dict(groups=2, dilation=2)),
], ids=str)
def test_conv_double_backward(case):
    name, kw = case
    nd = int(name[-2])
    sp = (6, 5)[:nd] if nd == 2 else (7,)
    g = kw.get("groups", 1)
    w = _arr(4, 4 // g if "transpose" not in name else 2, *([3] * nd))
    nb = 4 if "transpose" not in name else 2 * g
    check_op(lambda *a: getattr(EF, name)(*a, **kw), lambda *a: getattr(TF, name)(*a, **kw),
             _arr(2, 4, *sp), w, _arr(nb), gradgrad=True)


def test_conv_third_order():
    xe = ember.tensor(_arr(1, 2, 5, 5), requires_grad=True)
    we = ember.tensor(_arr(3, 2, 3, 3), requires_grad=True)
    xt = torch.tensor(xe.detach().numpy(), requires_grad=True)
    wt = torch.tensor(we.detach().numpy(), requires_grad=True)
    res = []
    for lib, F, x, w in ((ember, EF, xe, we), (torch, TF, xt, wt)):
        y = (F.conv2d(x, w, padding=1) ** 2).sum()
        gx, = lib.autograd.grad(y, x, create_graph=True)
        gw, = lib.autograd.grad((gx ** 2).sum(), w, create_graph=True)
        g3, = lib.autograd.grad((gw * gw).sum(), x)
        res.append(g3)
    np.testing.assert_allclose(res[0].numpy(), res[1].numpy(), rtol=1e-9)


# ---------------------------------------------------------------------------------------- layers

LAYER_CASES = [
    ("Conv1d", (3, 6, 3), dict(), (2, 3, 10)),
    ("Conv1d", (4, 6, 4), dict(padding="same", groups=2, padding_mode="circular"), (2, 4, 9)),
    ("Conv2d", (3, 8, 3), dict(), (2, 3, 9, 8)),
    ("Conv2d", (3, 8, (3, 2)), dict(stride=2, padding=1, bias=False), (2, 3, 9, 8)),
    ("Conv2d", (4, 4, 3), dict(padding=2, dilation=2, groups=4, padding_mode="reflect"), (2, 4, 7, 8)),
    ("Conv2d", (2, 6, 3), dict(padding=(1, 2), padding_mode="replicate"), (2, 2, 6, 5)),
    ("Conv2d", (2, 6, 3), dict(padding=1, padding_mode="circular"), (2, 2, 6, 5)),
    ("Conv2d", (2, 6, 4), dict(padding="same", padding_mode="reflect"), (2, 2, 6, 7)),
    ("Conv2d", (2, 3, 3), dict(padding="valid"), (2, 6, 5)),
    ("Conv3d", (2, 4, 3), dict(padding=1, stride=(1, 2, 1)), (1, 2, 5, 6, 4)),
    ("Conv3d", (2, 4, 2), dict(padding=1, padding_mode="replicate"), (1, 2, 4, 3, 4)),
    ("ConvTranspose1d", (3, 5, 3), dict(stride=2), (2, 3, 6)),
    ("ConvTranspose2d", (4, 6, 3), dict(stride=2, padding=1, output_padding=1, groups=2), (2, 4, 5, 4)),
    ("ConvTranspose2d", (3, 2, (2, 3)), dict(dilation=2, bias=False), (2, 3, 4, 4)),
    ("ConvTranspose3d", (2, 4, 2), dict(stride=2), (1, 2, 3, 2, 3)),
]


@pytest.mark.parametrize("case", LAYER_CASES, ids=lambda c: f"{c[0]}{c[1]}{c[2]}")
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
def test_conv_layers(case, dtype):
    name, args, kw, shape = case
    em, tm = twin(name, *args, dtype=dtype, **kw)
    run_twin(em, tm, _arr(*shape), dtype=dtype)
    em.eval(), tm.eval()
    run_twin(em, tm, _arr(*shape), dtype=dtype)


@pytest.mark.parametrize("case", LAYER_CASES, ids=lambda c: f"{c[0]}{c[1]}{c[2]}")
def test_conv_layers_empty_batch(case):
    """Each layer on a 0-size batch (an unbatched row: 0 channels), forward and backward: PyTorch's result
    (an empty output, zero weight and bias gradients), or its exception type."""
    name, args, kw, shape = case
    x = _arr(0, *shape[1:])
    same_outcome(lambda lib: run_layer(lib, lambda L: getattr(L.nn, name)(*args, **kw), [x], (True,)),
                 lambda: run_twin(*twin(name, *args, **kw), x))


def test_conv_transpose_output_size():
    em, tm = twin("ConvTranspose2d", 3, 4, 3, stride=2, padding=1)
    x = _arr(2, 3, 5, 5)
    for size in ([10, 10], [9, 10], (2, 4, 10, 9)):
        oe = em(ember.tensor(x), output_size=size)
        ot = tm(torch.tensor(x), output_size=size)
        np.testing.assert_allclose(oe.detach().numpy(), ot.detach().numpy(), rtol=1e-10)
    check_raises(lambda: em(ember.tensor(x), output_size=[12, 12]), lambda: tm(torch.tensor(x), output_size=[12, 12]))
    with pytest.raises(ValueError, match="requested an output size of"):
        em(ember.tensor(x), output_size=[12, 12])


def test_conv_layer_reprs_and_state():
    cases = [("Conv2d", (16, 33, 3), dict(stride=2)),
             ("Conv2d", (16, 33, (3, 5)), dict(stride=(2, 1), padding=(4, 2), dilation=(3, 1))),
             ("Conv2d", (4, 4, 3), dict(padding="same", groups=2, bias=False, padding_mode="circular")),
             ("Conv1d", (16, 33, 3), dict(stride=2, padding="valid")),
             ("Conv3d", (16, 33, (3, 5, 2)), dict(stride=(2, 1, 1), padding=(4, 2, 0))),
             ("ConvTranspose2d", (16, 33, (3, 5)), dict(stride=(2, 1), padding=(4, 2), output_padding=(1, 0))),
             ("ConvTranspose1d", (16, 32, 3), dict(groups=4, dilation=2)),
             ("ConvTranspose3d", (16, 33, 3), dict(stride=2, bias=False))]
    for name, args, kw in cases:
        em, tm = twin(name, *args, **kw)
        for pe, pt in zip(em.parameters(), tm.parameters()):
            assert tuple(pe.shape) == tuple(pt.shape)
        assert em.weight.dtype is ember.float64
        assert type(em).__module__ == "ember.nn.modules.conv"
        assert em._reversed_padding_repeated_twice == list(tm._reversed_padding_repeated_twice) or \
            tuple(em._reversed_padding_repeated_twice) == tuple(tm._reversed_padding_repeated_twice)
    seq_e = enn.Sequential(enn.Conv2d(1, 32, 3, 1), enn.ReLU() if hasattr(enn, "ReLU") else enn.Identity())
    assert "(0): Conv2d(1, 32, kernel_size=(3, 3), stride=(1, 1))" in str(seq_e)
    assert ember.nn.modules.conv.Conv2d is enn.Conv2d


def test_conv_init_distribution():
    ember.manual_seed(0)
    m = enn.Conv2d(64, 128, 5)
    fan_in = 64 * 25
    bound = 1 / math.sqrt(fan_in)
    w = m.weight.detach().numpy()
    b = m.bias.detach().numpy()
    assert w.min() >= -bound and w.max() <= bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.01 * bound
    assert abs(w.mean()) < 0.01 * bound
    assert b.min() >= -bound and b.max() <= bound and b.std() > 0.4 * bound
    t = enn.ConvTranspose2d(32, 64, 3, groups=2)  # fan_in from weight dim 1 (out/groups) * k
    tb = 1 / math.sqrt(32 * 9)
    assert np.abs(t.weight.detach().numpy()).max() <= tb and np.abs(t.bias.detach().numpy()).max() <= tb
    assert np.abs(t.weight.detach().numpy()).max() > 0.9 * tb


def test_conv_layer_constructor_errors():
    for args, kw in [((4, 6, 3), dict(groups=0)), ((3, 6, 3), dict(groups=2)), ((4, 5, 3), dict(groups=2)),
                     ((4, 4, 3), dict(padding="same", stride=2)), ((4, 4, 3), dict(padding="full")),
                     ((4, 4, 3), dict(padding_mode="mirror"))]:
        check_raises(lambda: enn.Conv2d(*args, **kw), lambda: torch.nn.Conv2d(*args, **kw))
    check_raises(lambda: enn.ConvTranspose2d(4, 4, 3, padding_mode="reflect"),
                 lambda: torch.nn.ConvTranspose2d(4, 4, 3, padding_mode="reflect"))


# ---------------------------------------------------------------------------------------- bad input

BAD = [
    (lambda F, t: F.conv2d(t(5, 5), t(4, 3, 3, 3)), "Expected 3D (unbatched) or 4D (batched) input to conv2d"),
    (lambda F, t: F.conv2d(t(2, 5, 8, 8), t(4, 3, 3, 3)), "expected input[2, 5, 8, 8] to have 3 channels"),
    (lambda F, t: F.conv2d(t(5, 8, 8), t(4, 3, 3, 3)), "expected input[1, 5, 8, 8] to have 3 channels"),
    (lambda F, t: F.conv2d(t(2, 3, 2, 2), t(4, 3, 3, 3)), "Kernel size can't be greater than actual input size"),
    (lambda F, t: F.conv2d(t(2, 3, 8, 8), t(4, 3, 3, 3), t(5)), "expected bias to be 1-dimensional with 4 elements"),
    (lambda F, t: F.conv2d(t(2, 4, 8, 8), t(4, 2, 3, 3), groups=3), "expected weight to be divisible by 3"),
    (lambda F, t: F.conv2d(t(2, 3, 8, 8), t(4, 3, 3, 3), stride=0), "non-positive stride is not supported"),
    (lambda F, t: F.conv2d(t(2, 3, 8, 8), t(4, 3, 3, 3), padding=-1), "negative padding is not supported"),
    (lambda F, t: F.conv2d(t(2, 3, 8, 8), t(4, 3, 3, 3), dilation=0), "non-positive dilation is not supported"),
    (lambda F, t: F.conv2d(t(2, 3, 8, 8), t(4, 3, 3, 3), groups=0), "non-positive groups is not supported"),
    (lambda F, t: F.conv2d(t(2, 3, 8, 8), t(4, 3, 3, 3), padding="same", stride=2), "padding='same' is not supported"),
    (lambda F, t: F.conv2d(t(2, 3, 8, 8), t(4, 3, 3, 3), padding="foo"), "Invalid padding string: 'foo'"),
    (lambda F, t: F.conv2d(t(2, 3, 8, 8), t(4, 3, 3, 3), padding=(1, 1, 1)), "expected padding to be a single integer"),
    (lambda F, t: F.conv1d(t(2, 3, 8), t(4, 3, 3), stride=(1, 1)), "expected stride to be a single integer"),
    (lambda F, t: F.conv_transpose2d(t(2, 3, 8, 8), t(4, 3, 3, 3)), "Given transposed=1, weight of size [4, 3, 3, 3]"),
    (lambda F, t: F.conv_transpose2d(t(2, 4, 8, 8), t(4, 3, 3, 3), output_padding=1),
     "output padding must be smaller than either stride or dilation, but got output_padding_height: 1"),
    (lambda F, t: F.conv_transpose1d(t(2, 4, 8), t(4, 3, 3), output_padding=1),
     "output_padding_height: 0 output_padding_width: 1 stride_height: 1"),
    (lambda F, t: F.conv_transpose2d(t(2, 4, 8, 8), t(4, 3, 3, 3), padding="same"), "must be tuple of ints, not str"),
]


@pytest.mark.parametrize("case", BAD, ids=lambda c: c[1][:40])
def test_conv_bad_input(case):
    fn, msg = case
    exc = check_raises(lambda: fn(EF, lambda *s: ember.tensor(_arr(*s))),
                       lambda: fn(TF, lambda *s: torch.tensor(_arr(*s))))
    assert msg in str(exc), str(exc)


def test_conv_dtype_mismatch():
    exc = check_raises(lambda: EF.conv2d(ember.randn(2, 3, 8, 8), ember.randn(4, 3, 3, 3).double()),
                       lambda: TF.conv2d(torch.randn(2, 3, 8, 8), torch.randn(4, 3, 3, 3).double()))
    assert "Input type (torch.FloatTensor) and weight type (torch.DoubleTensor) should be the same" in str(exc)
    exc = check_raises(lambda: EF.conv2d(ember.randn(2, 3, 8, 8), ember.randn(4, 3, 3, 3), ember.randn(4).double()),
                       lambda: TF.conv2d(torch.randn(2, 3, 8, 8), torch.randn(4, 3, 3, 3), torch.randn(4).double()))
    assert "Input type (float) and bias type (double) should be the same" in str(exc)


def test_conv_layer_bad_input_names_module():
    model = enn.Sequential(enn.Conv2d(1, 8, 3), enn.Conv2d(8, 16, 3))
    with pytest.raises(RuntimeError) as info:
        model(ember.randn(4, 3, 28, 28))
    msg = str(info.value)
    assert "expected input[4, 3, 28, 28] to have 1 channels, but got 3 channels instead" in msg
    assert "Conv2d(1, 8, kernel_size=(3, 3), stride=(1, 1))" in msg and "[4, 3, 28, 28]" in msg
    with pytest.raises(RuntimeError) as info:
        enn.Conv2d(3, 8, 3)(ember.randn(28, 28))
    assert "Expected 3D (unbatched) or 4D (batched) input to conv2d, but got input of size: [28, 28]" in \
        str(info.value)
    assert "Conv2d(3, 8" in str(info.value)
    check_raises(lambda: enn.Conv2d(3, 8, 3)(ember.randn(2, 4, 9, 9)),
                 lambda: torch.nn.Conv2d(3, 8, 3)(torch.randn(2, 4, 9, 9)))


def test_conv_inplace_modified_input_detected():
    x = ember.tensor(_arr(1, 2, 5, 5), requires_grad=True)
    h = x * 1
    w = ember.tensor(_arr(3, 2, 3, 3), requires_grad=True)
    y = EF.conv2d(h, w)
    h.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_conv_graph_freed():
    x = ember.tensor(_arr(1, 2, 5, 5), requires_grad=True)
    w = ember.tensor(_arr(3, 2, 3, 3), requires_grad=True)
    y = EF.conv2d(x, w).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


@pytest.mark.parametrize("threads", [1, 2])
def test_conv_batch_blocks_and_threads(monkeypatch, threads):
    """One image per block (so the block loop, the per-block Winograd reuse and, with 2 threads, the worker
    threads all run: Python's, or Numba's for the compiled block drivers) gives torch's results for F, T and G on
    both kernels."""
    from ember.ops import conv as C, _block_threads as BT
    monkeypatch.setattr(C, "_BLOCK_BYTES", 1)
    monkeypatch.setattr(BT, "_MIN_CPU_SHARE", 0.0)  # never back off to serial on a busy test machine
    BT._contention["cooldown"] = 0
    calls = []
    monkeypatch.setattr(BT, "timed_parallel", lambda nt, orig=BT.timed_parallel: (calls.append(nt), orig(nt))[1])

    def driver_chunks(nblocks, orig=C._driver_chunks):
        nch = orig(nblocks)
        calls.extend([nch] if nch > 1 else [])
        return nch
    monkeypatch.setattr(C, "_driver_chunks", driver_chunks)
    before = ember.get_num_threads()
    ember.set_num_threads(threads)
    try:
        for dtype, kw, cin, cout in ((np.float32, dict(padding=1), 8, 16), (np.float32, dict(stride=2), 8, 16),
                                     (np.float64, dict(padding=1, groups=2), 4, 6)):
            tol = dict(rtol=2e-4, atol=2e-4) if dtype == np.float32 else {}
            x, w, b = _arr(5, cin, 9, 10, dtype=dtype), _arr(cout, cin // kw.get("groups", 1), 3, 3, dtype=dtype), \
                _arr(cout, dtype=dtype)
            check_op(lambda *a: EF.conv2d(*a, **kw), lambda *a: TF.conv2d(*a, **kw), x, w, b, **tol)
            wt = _arr(cin, cout // kw.get("groups", 1), 3, 3, dtype=dtype)
            check_op(lambda *a: EF.conv_transpose2d(*a, **kw), lambda *a: TF.conv_transpose2d(*a, **kw), x, wt, **tol)
        assert bool(calls) == (threads > 1)  # the worker threads ran exactly when there were two
    finally:
        ember.set_num_threads(before)


@pytest.mark.parametrize("threads", [1, 2])
def test_conv_batch_blocks_balanced(threads):
    """The batch blocks cover the batch in order, differ in size by one image at most and, shared between two
    threads, come in an even count (the 16-channel 32x32 Winograd layer's 32 images: 6, 6, 5, 5, 5, 5, not 7, 7,
    7, 7, 4)."""
    from ember.ops import conv as C
    before = ember.get_num_threads()
    ember.set_num_threads(threads)
    try:
        for n, per_image in ((32, 147456), (32, 180224), (7, 300000), (5, 1), (1, 10 ** 7), (0, 100)):
            blocks = C._blocks(n, per_image)
            sizes = [b.stop - b.start for b in blocks]
            assert [b.start for b in blocks] == [sum(sizes[:i]) for i in range(len(sizes))] and sum(sizes) == n
            assert not sizes or max(sizes) - min(sizes) <= 1
            assert max(sizes, default=0) * per_image <= max(C._BLOCK_BYTES, per_image)
            if threads == 2 and len(blocks) >= 4 and len(blocks) < n:
                assert len(blocks) % 2 == 0
        assert [b.stop - b.start for b in C._blocks(32, 147456)] == ([6, 6, 5, 5, 5, 5] if threads == 2 else
                                                                    [7, 7, 6, 6, 6])
    finally:
        ember.set_num_threads(before)

"""Padding, interpolation, grid sampling and shuffles against PyTorch: F.pad in every mode, F.interpolate in
every mode (size / scale_factor / align_corners / recompute_scale_factor), F.grid_sample, F.affine_grid,
pixel (un)shuffle, channel shuffle (values, gradients, second derivatives); the padding / upsampling /
shuffle layers (repr, forward, backward); deprecation warnings; bad input."""
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn as enn
import ember.nn.functional as EF
from parity import check_op, check_raises, assert_same
from spatial_helpers import twin, run_twin

rng = np.random.default_rng(0)


def _arr(*shape, dtype=np.float64):
    return rng.standard_normal(shape).astype(dtype)


# ---------------------------------------------------------------------------------------- pad

@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("case", [((2, 3, 7), (2, 3)), ((3, 7), (1, 0)), ((2, 3, 6, 7), (1, 2, 3, 1)),
                                  ((3, 6, 7), (0, 2, 5, 0)), ((1, 2, 4, 5, 6), (1, 1, 2, 0, 3, 2)),
                                  ((2, 4, 5, 6), (2, 1, 0, 3, 1, 1))], ids=str)
def test_pad_modes(mode, case):
    shape, pad = case
    if mode == "reflect" and len(pad) == 6 and len(shape) == 4:
        pad = (1, 1, 0, 2, 1, 1)
    check_op(lambda x: EF.pad(x, pad, mode=mode), lambda x: TF.pad(x, pad, mode=mode), _arr(*shape), gradgrad=True)


@pytest.mark.parametrize("pad", [(1, 2), (1, 2, 3, 0), (0, 0, 1, 1, 2, 2), (-1, 2, 1, -2), (2, -3), (1, 1) * 4],
                         ids=str)
def test_pad_constant(pad):
    x = _arr(2, 3, 5, 6)
    for value in (None, 0.5, -3):
        check_op(lambda x: EF.pad(x, pad, value=value), lambda x: TF.pad(x, pad, value=value), x, gradgrad=True)
    check_op(lambda x: ember.constant_pad_nd(x, pad, 2), lambda x: torch.constant_pad_nd(x, pad, 2), x)
    xi = rng.integers(0, 9, (2, 5, 6))
    check_op(lambda x: EF.pad(x, pad[:4], value=7), lambda x: TF.pad(x, pad[:4], value=7), xi)
    xb = rng.integers(0, 2, (3, 4)).astype(bool)
    check_op(lambda x: EF.pad(x, (1, 2)), lambda x: TF.pad(x, (1, 2)), xb)


def test_pad_float32_and_grad_fn():
    x = _arr(2, 3, 5, 6, dtype=np.float32)
    check_op(lambda x: EF.pad(x, (1, 2, 2, 1), mode="reflect"), lambda x: TF.pad(x, (1, 2, 2, 1), mode="reflect"), x)
    t = ember.tensor(_arr(2, 3, 5, 6), requires_grad=True)
    assert type(EF.pad(t, (1, 1)).grad_fn).__name__ == "ConstantPadNdBackward0"
    assert type(EF.pad(t, (1, 1, 1, 1), mode="reflect").grad_fn).__name__ == "ReflectionPad2DBackward0"
    assert type(EF.pad(t[0], (1, 1), mode="replicate").grad_fn).__name__ == "ReplicationPad1DBackward0"


PAD_BAD = [
    (lambda F, x: F.pad(x, (1, 2, 3)), "Padding length must be divisible by 2"),
    (lambda F, x: F.pad(x, (1,) * 10), "Padding length should be less than or equal to two times"),
    (lambda F, x: F.pad(x, (-4, -3)), None),
    (lambda F, x: F.pad(x, (6, 6, 1, 1), mode="reflect"), "Padding size should be less than the corresponding input"),
    (lambda F, x: F.pad(x, (7, 7, 1, 1), mode="circular"), "Padding value causes wrapping around more than once."),
    (lambda F, x: F.pad(x, (1, 1), mode="reflect"), "Padding size 2 is not supported for 4D input tensor."),
    (lambda F, x: F.pad(x[0, 0, 0], (1, 1), mode="reflect"), "Padding size 2 is not supported for 1D input tensor."),
    (lambda F, x: F.pad(x, (1, 1, 1, 1), mode="foo"), "Unrecognised padding mode foo"),
    (lambda F, x: F.pad(x, (1, 1, 1, 1), mode="reflect", value=3), "doesn't take in value argument"),
]


@pytest.mark.parametrize("case", PAD_BAD, ids=lambda c: str(c[1])[:40])
def test_pad_bad_input(case):
    fn, msg = case
    x = _arr(2, 4, 5, 6)
    exc = check_raises(lambda: fn(EF, ember.tensor(x)), lambda: fn(TF, torch.tensor(x)))
    if msg:
        assert msg in str(exc), str(exc)


# ---------------------------------------------------------------------------------------- interpolate

INTERP_2D = [
    dict(scale_factor=2),
    dict(scale_factor=3, mode="nearest"),
    dict(size=(5, 13)),
    dict(scale_factor=0.6),
    dict(scale_factor=(1.7, 0.8), mode="nearest-exact"),
    dict(size=(12, 5), mode="nearest-exact"),
    dict(scale_factor=2, mode="bilinear"),
    dict(size=(4, 11), mode="bilinear", align_corners=True),
    dict(size=(17, 3), mode="bilinear", align_corners=False),
    dict(scale_factor=0.7, mode="bilinear", recompute_scale_factor=True),
    dict(scale_factor=1.3, mode="bilinear", recompute_scale_factor=False),
    dict(size=(4, 11), mode="bicubic"),
    dict(scale_factor=(1.5, 0.6), mode="bicubic", align_corners=True),
    dict(scale_factor=2.5, mode="bicubic"),
    dict(size=(4, 3), mode="area"),
    dict(scale_factor=0.5, mode="area"),
    dict(size=(13, 11), mode="area"),
]


@pytest.mark.parametrize("kw", INTERP_2D, ids=str)
def test_interpolate_2d(kw):
    check_op(lambda x: EF.interpolate(x, **kw), lambda x: TF.interpolate(x, **kw), _arr(2, 3, 6, 7), gradgrad=True)


@pytest.mark.parametrize("kw", [dict(scale_factor=2), dict(size=9, mode="linear"),
                                dict(scale_factor=0.75, mode="linear", align_corners=True),
                                dict(size=4, mode="area"), dict(size=11, mode="nearest-exact")], ids=str)
def test_interpolate_1d(kw):
    check_op(lambda x: EF.interpolate(x, **kw), lambda x: TF.interpolate(x, **kw), _arr(2, 3, 7), gradgrad=True)


@pytest.mark.parametrize("kw", [dict(scale_factor=2), dict(size=(3, 5, 4), mode="trilinear"),
                                dict(scale_factor=(1.5, 0.5, 2), mode="trilinear", align_corners=True),
                                dict(size=2, mode="area"), dict(size=(5, 2, 6))], ids=str)
def test_interpolate_3d(kw):
    check_op(lambda x: EF.interpolate(x, **kw), lambda x: TF.interpolate(x, **kw), _arr(1, 2, 4, 3, 5))


def test_interpolate_float32_and_deprecated():
    x = _arr(2, 3, 8, 8, dtype=np.float32)
    for kw in (dict(scale_factor=2, mode="bilinear"), dict(size=(5, 19), mode="bicubic", align_corners=True),
               dict(scale_factor=1.5)):
        check_op(lambda x: EF.interpolate(x, **kw), lambda x: TF.interpolate(x, **kw), x, rtol=1e-4, atol=1e-5)
    t = torch.tensor(x)
    for name, kw in (("upsample", dict(scale_factor=2)), ("upsample_nearest", dict(size=(3, 5))),
                     ("upsample_bilinear", dict(scale_factor=2))):
        with pytest.warns(UserWarning, match=f"nn.functional.{name} is deprecated"):
            e = getattr(EF, name)(ember.tensor(x), **kw)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = getattr(TF, name)(t, **kw)
        assert_same(e, ref, rtol=1e-4, atol=1e-5)
    xi = rng.integers(0, 255, (1, 2, 4, 4)).astype(np.uint8)
    check_op(lambda x: EF.interpolate(x, scale_factor=2), lambda x: TF.interpolate(x, scale_factor=2), xi)


INTERP_BAD = [
    (lambda F, x: F.interpolate(x, size=4, scale_factor=2), "only one of size or scale_factor should be defined"),
    (lambda F, x: F.interpolate(x), "either size or scale_factor should be defined"),
    (lambda F, x: F.interpolate(x, size=(4,)), "Input and output must have the same number of spatial dimensions"),
    (lambda F, x: F.interpolate(x, scale_factor=(2, 2, 2)), "Input and scale_factor must have the same number"),
    (lambda F, x: F.interpolate(x, size=4, mode="linear"), "Got 4D input, but linear mode needs 3D input"),
    (lambda F, x: F.interpolate(x, size=4, align_corners=True), "align_corners option can only be set with"),
    (lambda F, x: F.interpolate(x[0, 0], size=4), "Input Error: Only 3D, 4D and 5D input Tensors supported"),
    (lambda F, x: F.interpolate(x, size=4, mode="bilinear", recompute_scale_factor=True),
     "recompute_scale_factor is not meaningful with an explicit size"),
]


@pytest.mark.parametrize("case", INTERP_BAD, ids=lambda c: c[1][:40])
def test_interpolate_bad_input(case):
    fn, msg = case
    x = _arr(2, 3, 5, 6)
    exc = check_raises(lambda: fn(EF, ember.tensor(x)), lambda: fn(TF, torch.tensor(x)))
    assert msg in str(exc), str(exc)


# ---------------------------------------------------------------------------------------- grid_sample, affine_grid

@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align_corners", [True, False])
def test_grid_sample_2d(mode, padding_mode, align_corners):
    x = _arr(2, 3, 5, 6)
    grid = rng.uniform(-1.3, 1.3, (2, 4, 7, 2))
    kw = dict(mode=mode, padding_mode=padding_mode, align_corners=align_corners)
    if mode == "nearest":  # piecewise constant: torch's grid gradient is all zeros, ember's is absent
        check_op(lambda x, g: EF.grid_sample(x, g.detach(), **kw), lambda x, g: TF.grid_sample(x, g.detach(), **kw),
                 x, grid)
    else:
        check_op(lambda x, g: EF.grid_sample(x, g, **kw), lambda x, g: TF.grid_sample(x, g, **kw), x, grid)


@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
def test_grid_sample_3d(mode, padding_mode):
    x = _arr(1, 2, 4, 5, 3)
    grid = rng.uniform(-1.2, 1.2, (1, 3, 2, 4, 3))
    kw = dict(mode=mode, padding_mode=padding_mode, align_corners=False)
    if mode == "nearest":
        check_op(lambda x, g: EF.grid_sample(x, g.detach(), **kw), lambda x, g: TF.grid_sample(x, g.detach(), **kw),
                 x, grid)
    else:
        check_op(lambda x, g: EF.grid_sample(x, g, **kw), lambda x, g: TF.grid_sample(x, g, **kw), x, grid)


def test_affine_grid_and_sampling_pipeline():
    for size, theta_shape in (((2, 3, 5, 4), (2, 2, 3)), ((2, 1, 3, 4, 5), (2, 3, 4)), ((1, 1, 1, 6), (1, 2, 3))):
        th = _arr(*theta_shape)
        for ac in (True, False):
            check_op(lambda t: EF.affine_grid(t, size, align_corners=ac),
                     lambda t: TF.affine_grid(t, size, align_corners=ac), th)
    x, th = _arr(2, 3, 8, 8), _arr(2, 2, 3) * 0.5
    check_op(lambda x, t: EF.grid_sample(x, EF.affine_grid(t, (2, 3, 6, 6), align_corners=False), align_corners=False),
             lambda x, t: TF.grid_sample(x, TF.affine_grid(t, (2, 3, 6, 6), align_corners=False), align_corners=False),
             x, th)
    with pytest.warns(UserWarning, match="Default grid_sample and affine_grid behavior has changed"):
        EF.affine_grid(ember.tensor(th), (2, 3, 6, 6))
    with pytest.warns(UserWarning, match="Default grid_sample and affine_grid behavior has changed"):
        EF.grid_sample(ember.tensor(x), ember.zeros(2, 3, 3, 2, dtype=ember.float64))


def test_grid_sampler_aten_forms():
    x, g = _arr(2, 3, 5, 6), rng.uniform(-1, 1, (2, 4, 3, 2))
    for name in ("grid_sampler", "grid_sampler_2d"):
        check_op(lambda x, g: getattr(ember, name)(x, g, 0, 1, False), lambda x, g: getattr(torch, name)(x, g, 0, 1, False),
                 x, g)
    x3, g3 = _arr(1, 2, 3, 4, 5), rng.uniform(-1, 1, (1, 2, 2, 3, 3))
    check_op(lambda x, g: ember.grid_sampler_3d(x, g, 0, 0, True), lambda x, g: torch.grid_sampler_3d(x, g, 0, 0, True),
             x3, g3)
    assert EF.GRID_SAMPLE_INTERPOLATION_MODES == TF.GRID_SAMPLE_INTERPOLATION_MODES
    assert EF.GRID_SAMPLE_PADDING_MODES == TF.GRID_SAMPLE_PADDING_MODES


GRID_BAD = [
    (lambda F, x, g: F.grid_sample(x, g, mode="foo", align_corners=False), "expected mode to be 'bilinear'"),
    (lambda F, x, g: F.grid_sample(x, g, padding_mode="foo", align_corners=False), "expected padding_mode to be"),
    (lambda F, x, g: F.grid_sample(x[0], g, align_corners=False), "expected 4D or 5D input and grid"),
    (lambda F, x, g: F.grid_sample(x, g[:1], align_corners=False), "expected grid and input to have same batch size"),
    (lambda F, x, g: F.grid_sample(x, g[..., :1], align_corners=False), "expected grid to have size 2 in last"),
    (lambda F, x, g: F.affine_grid(g[:, 0], (2, 3, 4, 4), align_corners=False), "Expected a batch of 2D affine"),
    (lambda F, x, g: F.affine_grid(x[:, 0, :2, :3], (2, 3, 4), align_corners=False), "affine_grid only supports 4D"),
]


@pytest.mark.parametrize("case", GRID_BAD, ids=lambda c: c[1][:40])
def test_grid_bad_input(case):
    fn, msg = case
    x, g = _arr(2, 3, 5, 6), _arr(2, 4, 4, 2)
    exc = check_raises(lambda: fn(EF, ember.tensor(x), ember.tensor(g)), lambda: fn(TF, torch.tensor(x), torch.tensor(g)))
    assert msg in str(exc), str(exc)


# ---------------------------------------------------------------------------------------- shuffles

def test_pixel_and_channel_shuffle():
    check_op(lambda x: EF.pixel_shuffle(x, 2), lambda x: TF.pixel_shuffle(x, 2), _arr(2, 8, 3, 4), gradgrad=True)
    check_op(lambda x: EF.pixel_shuffle(x, 3), lambda x: TF.pixel_shuffle(x, 3), _arr(2, 2, 9, 3, 2))
    check_op(lambda x: EF.pixel_unshuffle(x, 2), lambda x: TF.pixel_unshuffle(x, 2), _arr(2, 3, 4, 6), gradgrad=True)
    check_op(lambda x: EF.pixel_unshuffle(x, 3), lambda x: TF.pixel_unshuffle(x, 3), _arr(5, 6, 9))
    check_op(lambda x: EF.channel_shuffle(x, 3), lambda x: TF.channel_shuffle(x, 3), _arr(2, 6, 4, 5), gradgrad=True)
    check_op(lambda x: ember.channel_shuffle(x, 2), lambda x: torch.channel_shuffle(x, 2), _arr(2, 4, 3))
    check_op(lambda x: ember.pixel_shuffle(x, 2), lambda x: torch.pixel_shuffle(x, 2), _arr(1, 4, 2, 2))
    x = ember.tensor(_arr(1, 4, 2, 2), requires_grad=True)
    assert type(EF.pixel_shuffle(x, 2).grad_fn).__name__ == "PixelShuffleBackward0"
    assert type(EF.channel_shuffle(x, 2).grad_fn).__name__ == "ChannelShuffleBackward0"
    for fn, args in ((lambda F, x: F.pixel_shuffle(x, 2), (2, 3, 8, 8)), (lambda F, x: F.pixel_unshuffle(x, 3),
                                                                           (2, 3, 8, 9)),
                     (lambda F, x: F.channel_shuffle(x, 4), (2, 6, 3, 3)), (lambda F, x: F.pixel_shuffle(x, 2), (4, 4))):
        a = _arr(*args)
        check_raises(lambda: fn(EF, ember.tensor(a)), lambda: fn(TF, torch.tensor(a)))


# ---------------------------------------------------------------------------------------- layers

LAYERS = [
    ("ZeroPad1d", (2,), (2, 3, 5)), ("ZeroPad2d", ((1, 2, 0, 3),), (2, 3, 5, 4)), ("ZeroPad3d", (1,), (1, 2, 3, 4, 2)),
    ("ConstantPad1d", ((1, 3), 2.5), (2, 3, 5)), ("ConstantPad2d", (2, -1.0), (2, 3, 5, 4)),
    ("ConstantPad3d", ((1, 0, 2, 1, 0, 1), 3.0), (1, 2, 3, 4, 2)),
    ("ReflectionPad1d", ((2, 1),), (2, 3, 5)), ("ReflectionPad2d", (2,), (2, 3, 5, 4)),
    ("ReflectionPad3d", (1,), (1, 2, 3, 4, 2)),
    ("ReplicationPad1d", (3,), (2, 3, 5)), ("ReplicationPad2d", ((1, 0, 2, 3),), (2, 3, 5, 4)),
    ("ReplicationPad3d", (2,), (1, 2, 3, 4, 2)),
    ("CircularPad1d", (2,), (2, 3, 5)), ("CircularPad2d", ((1, 2, 3, 0),), (2, 3, 5, 4)),
    ("CircularPad3d", (1,), (1, 2, 3, 4, 2)),
    ("Upsample", (None, 2), (2, 3, 5, 4)), ("Upsample", ((7, 9), None, "bilinear"), (2, 3, 5, 4)),
    ("Upsample", (None, (1.5, 2.0), "bicubic", True), (2, 3, 5, 4)),
    ("Upsample", (None, 2, "trilinear"), (1, 2, 3, 4, 2)), ("Upsample", (9, None, "linear"), (2, 3, 5)),
    ("UpsamplingNearest2d", (None, 3), (2, 3, 5, 4)), ("UpsamplingBilinear2d", ((8, 6),), (2, 3, 5, 4)),
    ("PixelShuffle", (2,), (2, 8, 3, 2)), ("PixelUnshuffle", (2,), (2, 2, 4, 6)), ("ChannelShuffle", (3,), (2, 6, 3, 2)),
]


@pytest.mark.parametrize("case", LAYERS, ids=lambda c: f"{c[0]}{c[1]}")
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
def test_resample_layers(case, dtype):
    name, args, shape = case
    em, tm = twin(name, *args, dtype=dtype)
    run_twin(em, tm, _arr(*shape), dtype=dtype)


def test_resample_layer_reprs_and_paths():
    for name, args, kw in [("Upsample", (), dict(scale_factor=2, mode="nearest")),
                           ("Upsample", (), dict(size=(3, 4), mode="bilinear", align_corners=True)),
                           ("Upsample", (), dict(scale_factor=(2, 3))), ("UpsamplingBilinear2d", (), dict(size=5)),
                           ("ZeroPad2d", ((1, 2, 3, 4),), dict()), ("ReflectionPad2d", (3,), dict()),
                           ("ConstantPad3d", (1, 0.5), dict()), ("CircularPad1d", ((1, 2),), dict()),
                           ("PixelShuffle", (3,), dict()), ("PixelUnshuffle", (3,), dict()),
                           ("ChannelShuffle", (2,), dict())]:
        e, t = getattr(enn, name)(*args, **kw), getattr(torch.nn, name)(*args, **kw)
        assert str(e) == str(t)
        module = type(t).__module__.replace("torch.", "ember.")
        assert type(e).__module__ == module
    with pytest.raises(ValueError, match="expected 3D or 4D input"):
        enn.CircularPad2d(1)(ember.randn(4, 4))
    with pytest.raises(ValueError, match="expected 3D or 4D input"):
        torch.nn.CircularPad2d(1)(torch.randn(4, 4))

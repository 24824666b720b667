"""ember.vision.transforms against torchvision: PIL results byte-equal, tensor results equal (uint8) or close
(float), reprs equal, error types and messages equal; random transforms repeat under a seed and equal
torchvision's functional form applied with the parameters ember drew."""
import random
import re

import numpy as np
import pytest
import torch
from PIL import Image

import ember
import ember.vision as ev
from tv_oracle import import_torchvision

tv = import_torchvision()
ET, TT = ev.transforms, tv.transforms
EF, TF = ET.functional, TT.functional
EIM, TIM = ET.InterpolationMode, TT.InterpolationMode

rng = np.random.default_rng(0)
RGB = Image.fromarray(rng.integers(0, 256, (13, 17, 3), dtype=np.uint8))
GREY = Image.fromarray(rng.integers(0, 256, (13, 17), dtype=np.uint8))
RGB_U8 = np.asarray(RGB).transpose(2, 0, 1).copy()
RGB_F32 = (RGB_U8 / 255).astype(np.float32)


def same_pil(a, b):
    assert isinstance(a, Image.Image) and isinstance(b, Image.Image)
    assert (a.mode, a.size) == (b.mode, b.size)
    assert a.tobytes() == b.tobytes()
    assert a.getpalette() == b.getpalette()


def same_tensor(a, b, rtol=1e-5, atol=1e-5, int_atol=0):
    """Equal shapes and dtypes; floats close; integers equal (or within ``int_atol`` where a float computation
    is rounded back and last-bit differences in float32 can move a value across .5)."""
    assert isinstance(a, ember.Tensor)
    an, bn = a.numpy(), b.numpy()
    assert an.shape == bn.shape and an.dtype == bn.dtype
    if an.dtype.kind == "f":
        np.testing.assert_allclose(an, bn, rtol=rtol, atol=atol)
    elif int_atol:
        diff = np.abs(an.astype(np.int64) - bn.astype(np.int64))
        assert diff.max() <= int_atol and (diff > 0).mean() < 0.01
    else:
        np.testing.assert_array_equal(an, bn)


def same_output(a, b, int_atol=0):
    if isinstance(b, Image.Image):
        same_pil(a, b)
    elif isinstance(b, torch.Tensor):
        same_tensor(a, b, int_atol=int_atol)
    elif isinstance(b, (tuple, list)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            same_output(x, y, int_atol)
    else:
        raise AssertionError(f"unexpected {type(b)}")


def _ember_arg(v):
    if isinstance(v, TIM):
        return EIM(v.value)
    if isinstance(v, torch.Tensor):
        return ember.from_numpy(v.numpy().copy())
    if isinstance(v, torch.dtype):
        return getattr(ember, str(v).replace("torch.", ""))
    if isinstance(v, list):
        return [_ember_arg(x) for x in v]
    return v


def _both(kwargs):
    return {k: _ember_arg(v) for k, v in kwargs.items()}, kwargs


def same_error(fn_e, fn_t):
    with pytest.raises(Exception) as te:
        fn_t()
    with pytest.raises(type(te.value), match=re.escape(str(te.value))):
        fn_e()


BL, BC, NN = TIM.BILINEAR, TIM.BICUBIC, TIM.NEAREST
FUNCTIONAL_CASES = [
    ("hflip", (), {}), ("vflip", (), {}),
    ("adjust_brightness", (1.3,), {}), ("adjust_brightness", (0.4,), {}),
    ("adjust_contrast", (0.6,), {}), ("adjust_contrast", (1.8,), {}),
    ("adjust_saturation", (1.7,), {}), ("adjust_saturation", (0.0,), {}),
    ("adjust_hue", (0.2,), {}), ("adjust_hue", (-0.45,), {}),
    ("adjust_gamma", (0.8,), {}), ("adjust_gamma", (1.6, 0.9), {}),
    ("pad", ([1, 2, 3, 4],), {}), ("pad", (3,), {"padding_mode": "reflect"}),
    ("pad", ((2, 3),), {"padding_mode": "symmetric"}), ("pad", (2,), {"padding_mode": "edge"}),
    ("pad", (2,), {"fill": 7}), ("pad", ([-1, 2, 1, -2],), {"padding_mode": "reflect"}),
    ("crop", (2, 3, 8, 9), {}), ("crop", (-2, -3, 18, 19), {}),
    ("center_crop", (7,), {}), ("center_crop", ([20, 21],), {}), ("center_crop", ([6, 9],), {}),
    ("resize", (9,), {}), ("resize", ([20, 30],), {}), ("resize", ([7, 5],), {"interpolation": BC}),
    ("resize", (8,), {"interpolation": NN}), ("resize", ([30, 11],), {"interpolation": TIM.NEAREST_EXACT}),
    ("resize", (8,), {"max_size": 10}), ("resize", ([9],), {"interpolation": BC}),
    ("resized_crop", (1, 2, 9, 10, [6, 6]), {}), ("resized_crop", (0, 0, 13, 17, [20, 25], BC), {}),
    ("rotate", (33.0,), {}), ("rotate", (33.0,), {"expand": True}), ("rotate", (90,), {}),
    ("rotate", (-20.0,), {"interpolation": BL, "fill": [100]}), ("rotate", (45.0,), {"center": [3, 4]}),
    ("affine", (15.0, [2, 1], 1.2, [10.0, 5.0]), {}),
    ("affine", (-30.0, [0, 3], 0.8, 5.0), {"interpolation": BL}),
    ("affine", (10, (1, -2), 1.0, 0.0), {"center": [5, 5], "fill": 30}),
    ("rgb_to_grayscale", (), {}), ("rgb_to_grayscale", (3,), {}),
    ("gaussian_blur", (5,), {}), ("gaussian_blur", ([3, 5], [0.7, 1.3]), {}),
    ("invert", (), {}), ("posterize", (3,), {}), ("solarize", (100,), {}), ("adjust_sharpness", (1.8,), {}),
    ("adjust_sharpness", (0.3,), {}), ("autocontrast", (), {}), ("equalize", (), {}),
    ("perspective", ([[0, 0], [16, 0], [16, 12], [0, 12]], [[1, 2], [15, 1], [14, 12], [2, 11]]), {}),
    ("five_crop", (5,), {}), ("ten_crop", ([4, 6],), {"vertical_flip": True}),
]
_RGB_ONLY = {"rgb_to_grayscale"}
_UINT8_ONLY = {"posterize", "equalize", "solarize"}


def _case_id(case):
    return f"{case[0]}{case[1]}{case[2]}".replace(" ", "")


@pytest.mark.parametrize("case", FUNCTIONAL_CASES, ids=_case_id)
@pytest.mark.parametrize("image", ["RGB", "L"])
def test_functional_pil_byte_equal(case, image):
    name, args, kwargs = case
    if name in _RGB_ONLY and image == "L":
        return
    img = RGB if image == "RGB" else GREY
    ekw, tkw = _both(kwargs)
    same_output(getattr(EF, name)(img, *_ember_arg(list(args)), **ekw), getattr(TF, name)(img, *args, **tkw))


@pytest.mark.parametrize("case", FUNCTIONAL_CASES, ids=_case_id)
@pytest.mark.parametrize("dtype", ["uint8", "float32", "float64", "batch"])
def test_functional_tensor_matches(case, dtype):
    name, args, kwargs = case
    if name in _UINT8_ONLY and dtype not in ("uint8", "batch"):
        return
    arr = {"uint8": RGB_U8, "float32": RGB_F32, "float64": RGB_F32.astype(np.float64),
           "batch": np.stack([RGB_U8, RGB_U8[:, ::-1]])}[dtype]
    ekw, tkw = _both(kwargs)
    out_e = getattr(EF, name)(ember.from_numpy(arr.copy()), *_ember_arg(list(args)), **ekw)
    out_t = getattr(TF, name)(torch.from_numpy(arr.copy()), *args, **tkw)
    same_output(out_e, out_t)


def test_functional_tensor_inputs_not_modified():
    x = ember.from_numpy(RGB_F32.copy())
    for fn in (lambda t: EF.normalize(t, [0.5] * 3, [0.2] * 3), lambda t: EF.erase(t, 1, 1, 3, 3, ember.tensor(0.0)),
               lambda t: EF.adjust_hue(t, 0.3), lambda t: EF.pad(t, 2, padding_mode="symmetric")):
        fn(x)
        np.testing.assert_array_equal(x.numpy(), RGB_F32)


PIL_MODES = {
    "1": lambda: Image.fromarray(rng.integers(0, 2, (5, 7)).astype(bool)),
    "L": lambda: Image.fromarray(rng.integers(0, 256, (5, 7), dtype=np.uint8)),
    "LA": lambda: Image.fromarray(rng.integers(0, 256, (5, 7, 2), dtype=np.uint8)),
    "RGB": lambda: Image.fromarray(rng.integers(0, 256, (5, 7, 3), dtype=np.uint8)),
    "RGBA": lambda: Image.fromarray(rng.integers(0, 256, (5, 7, 4), dtype=np.uint8)),
    "I": lambda: Image.fromarray(rng.integers(-1000, 1000, (5, 7)).astype(np.int32)),
    "F": lambda: Image.fromarray(rng.random((5, 7)).astype(np.float32)),
    "I;16": lambda: Image.fromarray(rng.integers(0, 30000, (5, 7)).astype(np.uint16)),
    "P": lambda: Image.fromarray(rng.integers(0, 256, (5, 7, 3), dtype=np.uint8)).convert("P"),
}


@pytest.mark.parametrize("mode", list(PIL_MODES))
def test_to_tensor_and_pil_ops_every_mode(mode):
    img = PIL_MODES[mode]()
    assert img.mode == mode
    a, b = EF.to_tensor(img), TF.to_tensor(img)
    same_tensor(a, b, rtol=0, atol=0)
    if mode != "I;16":  # ember has no uint16 dtype (torch's pil_to_tensor gives a uint16 tensor)
        same_tensor(EF.pil_to_tensor(img), TF.pil_to_tensor(img))
    for fn, args in (("pad", (2,)), ("pad", (2, 0, "reflect")), ("resize", ([3, 4],)), ("rotate", (30.0,)),
                     ("hflip", ()), ("crop", (1, 1, 3, 3)), ("affine", (10.0, [1, 1], 1.1, 0.0))):
        try:
            expected = getattr(TF, fn)(img, *args)
        except Exception:  # noqa: BLE001 - e.g. Pillow cannot resize mode '1' with bilinear: same error in ember
            same_error(lambda: getattr(EF, fn)(img, *args), lambda: getattr(TF, fn)(img, *args))
            continue
        same_pil(getattr(EF, fn)(img, *args), expected)


def test_to_tensor_ndarray_and_default_dtype():
    arr = rng.integers(0, 256, (4, 5, 3), dtype=np.uint8)
    same_tensor(EF.to_tensor(arr), TF.to_tensor(arr))
    ints = rng.integers(0, 9, (4, 5)).astype(np.int32)
    same_tensor(EF.to_tensor(ints), TF.to_tensor(ints))
    prev = ember.get_default_dtype()
    ember.set_default_dtype(ember.float64)
    try:
        assert EF.to_tensor(arr).dtype is ember.float64
    finally:
        ember.set_default_dtype(prev)


@pytest.mark.parametrize("dtype", ["float32", "float64", "uint8", "int16", "int32"])
@pytest.mark.parametrize("channels", [1, 2, 3, 4])
def test_to_pil_image(dtype, channels):
    for mode in (None, "L", "F", "RGB", "LA", "RGBA", "I", "YCbCr", "CMYK"):
        _check_to_pil_image(dtype, channels, mode)


def _check_to_pil_image(dtype, channels, mode):
    scale = 1 if dtype.startswith("float") else 200
    arr = (rng.random((channels, 4, 5)) * scale).astype(dtype)
    for wrap_e, wrap_t in ((lambda a: ember.from_numpy(a.copy()), lambda a: torch.from_numpy(a.copy())),
                           (lambda a: a.transpose(1, 2, 0).copy(), lambda a: a.transpose(1, 2, 0).copy())):
        try:
            expected = TF.to_pil_image(wrap_t(arr), mode)
        except Exception:  # noqa: BLE001
            same_error(lambda: EF.to_pil_image(wrap_e(arr), mode), lambda: TF.to_pil_image(wrap_t(arr), mode))
            continue
        same_pil(EF.to_pil_image(wrap_e(arr), mode), expected)


@pytest.mark.parametrize("src", ["uint8", "int16", "int32", "int64", "float32", "float64"])
@pytest.mark.parametrize("dst", ["uint8", "int8", "int16", "int32", "int64", "float32", "float64"])
def test_convert_image_dtype(src, dst):
    if src.startswith("float"):
        arr = rng.random((3, 4, 5)).astype(src)
        arr[0, 0, 0] = 1.0
    else:
        arr = rng.integers(0, np.iinfo(src).max, (3, 4, 5), dtype=np.int64, endpoint=True).astype(src)
    e = lambda: EF.convert_image_dtype(ember.from_numpy(arr.copy()), getattr(ember, dst))  # noqa: E731
    t = lambda: TF.convert_image_dtype(torch.from_numpy(arr.copy()), getattr(torch, dst))  # noqa: E731
    try:
        expected = t()
    except RuntimeError:
        same_error(e, t)
        return
    same_tensor(e(), expected, rtol=1e-6, atol=0)
    same_tensor(ET.ConvertImageDtype(getattr(ember, dst))(ember.from_numpy(arr.copy())), expected, rtol=1e-6, atol=0)


@pytest.mark.parametrize("shape", [(3, 6, 7), (2, 3, 6, 7), (1, 5, 5)])
def test_normalize(shape):
    arr = rng.random(shape).astype(np.float32)
    mean, std = [0.485, 0.456, 0.406][: shape[-3]], [0.229, 0.224, 0.225][: shape[-3]]
    same_tensor(EF.normalize(ember.from_numpy(arr.copy()), mean, std), TF.normalize(torch.from_numpy(arr), mean, std))
    x = ember.from_numpy(arr.copy())
    out = ET.Normalize(mean, std, inplace=True)(x)
    assert out is x
    same_tensor(x, TF.normalize(torch.from_numpy(arr), mean, std))


def test_antialiased_interpolate_matches_torch():
    for mode in ("bilinear", "bicubic", "lanczos"):
        for align in (False, True) if mode != "lanczos" else (False,):
            arr = rng.random((2, 3, 31, 45)).astype(np.float32)
            x = ember.from_numpy(arr.copy()).requires_grad_()
            xt = torch.from_numpy(arr.copy()).requires_grad_()
            out = ember.nn.functional.interpolate(x, size=(9, 14), mode=mode, antialias=True, align_corners=align)
            ref = torch.nn.functional.interpolate(xt, size=(9, 14), mode=mode, antialias=True, align_corners=align)
            np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-5, atol=1e-6)
            g = rng.random(ref.shape).astype(np.float32)
            out.backward(ember.from_numpy(g))
            ref.backward(torch.from_numpy(g))
            np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------------------------------------- classes

def _reprs():
    """(ember transform, torchvision transform) pairs built with the same arguments."""
    def both(name, *args, **kwargs):
        ekw, tkw = _both(kwargs)
        return getattr(ET, name)(*_ember_arg(list(args)), **ekw), getattr(TT, name)(*args, **tkw)

    pairs = [both("ToTensor"), both("PILToTensor"), both("ToPILImage"), both("ToPILImage", "RGB"),
             both("ConvertImageDtype", torch.float32), both("Normalize", (0.1307,), (0.3081,)),
             both("Normalize", [0.5, 0.5, 0.5], [0.2, 0.2, 0.2], inplace=True),
             both("Resize", 32), both("Resize", (32, 48), interpolation=BC, antialias=False),
             both("Resize", [20], max_size=40), both("Resize", 7, interpolation=2),
             both("CenterCrop", 10), both("CenterCrop", (10, 12)), both("CenterCrop", [9]),
             both("RandomCrop", 8), both("RandomCrop", (8, 9), padding=4, pad_if_needed=True, fill=3,
                                         padding_mode="reflect"),
             both("RandomHorizontalFlip"), both("RandomVerticalFlip", p=0.3),
             both("RandomResizedCrop", 224), both("RandomResizedCrop", (5, 6), scale=(0.5, 0.9), ratio=(0.2, 5),
                                                  interpolation=NN, antialias=False),
             both("RandomRotation", 30), both("RandomRotation", (-10, 20), interpolation=BL, expand=True,
                                               center=(2, 3), fill=(1, 2, 3)),
             both("RandomAffine", 10), both("RandomAffine", (-5, 5), translate=(0.1, 0.2), scale=(0.9, 1.1),
                                            shear=(1, 2, 3, 4), interpolation=BL, fill=5, center=(1, 1)),
             both("RandomAffine", 0, shear=7),
             both("ColorJitter"), both("ColorJitter", 0.4, 0.4, 0.4, 0.1),
             both("ColorJitter", (0.5, 1.5), contrast=(0.9, 1.1), hue=(-0.2, 0.3)),
             both("Grayscale"), both("Grayscale", 3), both("RandomGrayscale"), both("RandomGrayscale", p=0.7),
             both("Pad", 2), both("Pad", (1, 2, 3, 4), fill=(1, 2, 3), padding_mode="constant"),
             both("Pad", [3], padding_mode="symmetric"),
             both("GaussianBlur", 3), both("GaussianBlur", (3, 5), sigma=(0.5, 1.5)), both("GaussianBlur", 5, 2.0),
             both("RandomErasing"), both("RandomErasing", p=1.0, scale=(0.1, 0.2), ratio=(0.5, 2.0),
                                         value="random", inplace=True),
             both("FiveCrop", 4), both("TenCrop", (4, 5), vertical_flip=True), both("RandomPerspective"),
             both("RandomInvert"), both("RandomPosterize", 4), both("RandomSolarize", 128, p=0.2),
             both("RandomAdjustSharpness", 2.0), both("RandomAutocontrast"), both("RandomEqualize", 0.1),
             both("ElasticTransform"), both("ElasticTransform", alpha=(10.0, 20.0), sigma=3.0, fill=(1, 2))]
    e_in, t_in = both("Normalize", (0.5,), (0.5,))
    pairs.append((ET.Lambda(lambda x: x), TT.Lambda(lambda x: x)))
    pairs.append((ET.Compose([ET.ToTensor(), e_in]), TT.Compose([TT.ToTensor(), t_in])))
    pairs.append((ET.RandomApply([ET.RandomHorizontalFlip(), ET.Grayscale()], p=0.3),
                  TT.RandomApply([TT.RandomHorizontalFlip(), TT.Grayscale()], p=0.3)))
    pairs.append((ET.RandomChoice([ET.CenterCrop(3), ET.Pad(1)], p=[0.2, 0.8]),
                  TT.RandomChoice([TT.CenterCrop(3), TT.Pad(1)], p=[0.2, 0.8])))
    pairs.append((ET.RandomOrder([ET.CenterCrop(3), ET.Pad(1)]), TT.RandomOrder([TT.CenterCrop(3), TT.Pad(1)])))
    pairs.append((ET.Compose([ET.RandomApply([ET.ColorJitter(0.2)]), ET.Compose([ET.ToTensor()])]),
                  TT.Compose([TT.RandomApply([TT.ColorJitter(0.2)]), TT.Compose([TT.ToTensor()])])))
    return pairs


@pytest.mark.parametrize("pair", _reprs(), ids=lambda p: type(p[1]).__name__)
def test_repr_equals_torchvision(pair):
    assert repr(pair[0]) == repr(pair[1])


def test_compose_repr_as_documented():
    t = ET.Compose([ET.ToTensor(), ET.Normalize(mean=(0.1307,), std=(0.3081,))])
    assert repr(t) == "Compose(\n    ToTensor()\n    Normalize(mean=(0.1307,), std=(0.3081,))\n)"


def test_module_transforms_are_modules():
    for name in ("Normalize", "Resize", "CenterCrop", "RandomCrop", "ColorJitter", "RandomErasing"):
        assert issubclass(getattr(ET, name), ember.nn.Module) == issubclass(getattr(TT, name), torch.nn.Module)
    for name in ("Compose", "ToTensor", "Lambda", "ToPILImage"):
        assert not issubclass(getattr(ET, name), ember.nn.Module)


DETERMINISTIC = [
    ("Resize", (9,), {}), ("Resize", ((20, 11),), {"interpolation": BC}), ("CenterCrop", (8,), {}),
    ("Pad", ((1, 2),), {"padding_mode": "edge"}), ("Grayscale", (3,), {}), ("FiveCrop", (6,), {}),
    ("TenCrop", (6,), {}), ("RandomHorizontalFlip", (1.0,), {}), ("RandomVerticalFlip", (1.0,), {}),
    ("RandomHorizontalFlip", (0.0,), {}), ("RandomGrayscale", (1.0,), {}), ("RandomInvert", (1.0,), {}),
    ("RandomPosterize", (2, 1.0), {}), ("RandomSolarize", (60, 1.0), {}), ("RandomAdjustSharpness", (3.0, 1.0), {}),
    ("RandomAutocontrast", (1.0,), {}), ("RandomEqualize", (1.0,), {}), ("GaussianBlur", (3, 1.5), {}),
]


@pytest.mark.parametrize("case", DETERMINISTIC, ids=_case_id)
@pytest.mark.parametrize("kind", ["pil", "uint8", "float32"])
def test_deterministic_transforms(case, kind):
    name, args, kwargs = case
    if kind == "float32" and name in ("RandomPosterize", "RandomEqualize", "RandomSolarize"):
        return
    ekw, tkw = _both(kwargs)
    img_e, img_t = {"pil": (RGB, RGB), "uint8": (ember.from_numpy(RGB_U8.copy()), torch.from_numpy(RGB_U8.copy())),
                    "float32": (ember.from_numpy(RGB_F32.copy()), torch.from_numpy(RGB_F32.copy()))}[kind]
    same_output(getattr(ET, name)(*args, **ekw)(img_e), getattr(TT, name)(*args, **tkw)(img_t))


def test_compose_pipeline_matches():
    e = ET.Compose([ET.Resize(20), ET.CenterCrop(16), ET.ToTensor(), ET.Normalize([0.5] * 3, [0.25] * 3)])
    t = TT.Compose([TT.Resize(20), TT.CenterCrop(16), TT.ToTensor(), TT.Normalize([0.5] * 3, [0.25] * 3)])
    same_tensor(e(RGB), t(RGB))
    e = ET.Compose([ET.PILToTensor(), ET.ConvertImageDtype(ember.float32), ET.Lambda(lambda x: x * 2)])
    t = TT.Compose([TT.PILToTensor(), TT.ConvertImageDtype(torch.float32), TT.Lambda(lambda x: x * 2)])
    same_tensor(e(RGB), t(RGB))
    same_pil(ET.ToPILImage()(e(RGB) / 2), TT.ToPILImage()(t(RGB) / 2))


# Random transforms: (transform factory, draw(params) with ember's generator, torchvision functional applying them)
def _draw_and_apply():
    def crop_like(make_e, make_t):
        def check(img_e, img_t, seed):
            t = make_e()
            ember.manual_seed(seed)
            out = t(img_e)
            # replay: pad as the transform does, then draw the same parameters
            tt = make_t()
            ember.manual_seed(seed)
            padded_e = img_e if t.padding is None else EF.pad(img_e, t.padding, t.fill, t.padding_mode)
            padded_t = img_t if tt.padding is None else TF.pad(img_t, tt.padding, tt.fill, tt.padding_mode)
            _, h, w = EF.get_dimensions(padded_e)
            if t.pad_if_needed and w < t.size[1]:
                padded_e = EF.pad(padded_e, [t.size[1] - w, 0], t.fill, t.padding_mode)
                padded_t = TF.pad(padded_t, [t.size[1] - w, 0], t.fill, t.padding_mode)
            if t.pad_if_needed and h < t.size[0]:
                padded_e = EF.pad(padded_e, [0, t.size[0] - h], t.fill, t.padding_mode)
                padded_t = TF.pad(padded_t, [0, t.size[0] - h], t.fill, t.padding_mode)
            i, j, hh, ww = ET.RandomCrop.get_params(padded_e, t.size)
            return out, TF.crop(padded_t, i, j, hh, ww)
        return check

    def resized_crop(img_e, img_t, seed):
        ember.manual_seed(seed)
        out = ET.RandomResizedCrop(8, scale=(0.2, 1.0), interpolation=EIM.BICUBIC)(img_e)
        ember.manual_seed(seed)
        params = ET.RandomResizedCrop.get_params(img_e, (0.2, 1.0), (3 / 4, 4 / 3))
        return out, TF.resized_crop(img_t, *params, [8, 8], BC)

    def rotation(img_e, img_t, seed):
        ember.manual_seed(seed)
        out = ET.RandomRotation(40, interpolation=EIM.BILINEAR, expand=True, fill=17)(img_e)
        ember.manual_seed(seed)
        angle = ET.RandomRotation.get_params([-40.0, 40.0])
        fill = [17.0] * 3 if isinstance(img_t, torch.Tensor) else 17
        return out, TF.rotate(img_t, angle, BL, True, None, fill)

    def affine(img_e, img_t, seed):
        t = ET.RandomAffine(25, translate=(0.2, 0.1), scale=(0.8, 1.2), shear=(-5, 5, -3, 3), fill=(1, 2, 3))
        ember.manual_seed(seed)
        out = t(img_e)
        ember.manual_seed(seed)
        _, h, w = EF.get_dimensions(img_e)
        params = ET.RandomAffine.get_params(t.degrees, t.translate, t.scale, t.shear, [w, h])
        fill = [1.0, 2.0, 3.0] if isinstance(img_t, torch.Tensor) else (1, 2, 3)
        return out, TF.affine(img_t, *params, interpolation=NN, fill=fill)

    def jitter(img_e, img_t, seed):
        t = ET.ColorJitter(0.5, 0.5, 0.5, 0.2)
        ember.manual_seed(seed)
        out = t(img_e)
        ember.manual_seed(seed)
        order, b, c, s, h = ET.ColorJitter.get_params(t.brightness, t.contrast, t.saturation, t.hue)
        fns = {0: (TF.adjust_brightness, b), 1: (TF.adjust_contrast, c), 2: (TF.adjust_saturation, s),
               3: (TF.adjust_hue, h)}
        ref = img_t
        for k in order.tolist():
            ref = fns[k][0](ref, fns[k][1])
        return out, ref

    def blur(img_e, img_t, seed):
        ember.manual_seed(seed)
        out = ET.GaussianBlur(5, sigma=(0.3, 2.0))(img_e)
        ember.manual_seed(seed)
        sigma = ET.GaussianBlur.get_params(0.3, 2.0)
        return out, TF.gaussian_blur(img_t, [5, 5], [sigma, sigma])

    def perspective(img_e, img_t, seed):
        ember.manual_seed(seed)
        out = ET.RandomPerspective(0.6, p=1.0)(img_e)
        ember.manual_seed(seed)
        ember.rand(1)
        _, h, w = EF.get_dimensions(img_e)
        start, end = ET.RandomPerspective.get_params(w, h, 0.6)
        fill = [0.0] * 3 if isinstance(img_t, torch.Tensor) else 0
        return out, TF.perspective(img_t, start, end, BL, fill)

    return {
        "RandomCrop": crop_like(lambda: ET.RandomCrop(9), lambda: TT.RandomCrop(9)),
        "RandomCrop-padding": crop_like(lambda: ET.RandomCrop((15, 20), padding=(2, 1), pad_if_needed=True,
                                                              padding_mode="reflect"),
                                        lambda: TT.RandomCrop((15, 20), padding=(2, 1), pad_if_needed=True,
                                                              padding_mode="reflect")),
        "RandomCrop-fill": crop_like(lambda: ET.RandomCrop(16, padding=3, fill=9),
                                     lambda: TT.RandomCrop(16, padding=3, fill=9)),
        "RandomResizedCrop": resized_crop, "RandomRotation": rotation, "RandomAffine": affine,
        "ColorJitter": jitter, "GaussianBlur": blur, "RandomPerspective": perspective,
    }


RANDOM_CHECKS = _draw_and_apply()


@pytest.mark.parametrize("name", list(RANDOM_CHECKS))
@pytest.mark.parametrize("kind", ["pil", "uint8", "float32"])
def test_random_transform_equals_torchvision_with_drawn_params(name, kind):
    for seed in (0, 1, 2):
        img_e, img_t = {"pil": (RGB, RGB),
                        "uint8": (ember.from_numpy(RGB_U8.copy()), torch.from_numpy(RGB_U8.copy())),
                        "float32": (ember.from_numpy(RGB_F32.copy()), torch.from_numpy(RGB_F32.copy()))}[kind]
        out, ref = RANDOM_CHECKS[name](img_e, img_t, seed)
        # uint8 through float32 resampling grids: an output at x.5 may round either way (rarely)
        same_output(out, ref, int_atol=1 if name in ("RandomResizedCrop", "RandomPerspective") else 0)


def _random_pipeline():
    return ET.Compose([
        ET.RandomResizedCrop(12), ET.RandomHorizontalFlip(), ET.RandomVerticalFlip(), ET.RandomRotation(20),
        ET.RandomAffine(10, translate=(0.1, 0.1)), ET.ColorJitter(0.3, 0.3, 0.3, 0.1), ET.RandomGrayscale(0.5),
        ET.RandomApply([ET.GaussianBlur(3)], p=0.5), ET.RandomPerspective(), ET.ToTensor(), ET.RandomErasing(p=0.9,
                                                                                                             value="random")])


def test_seeded_runs_repeat():
    pipe = _random_pipeline()
    ember.manual_seed(123)
    first = [pipe(RGB).numpy() for _ in range(5)]
    ember.manual_seed(123)
    second = [pipe(RGB).numpy() for _ in range(5)]
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(first[0], x) for x in first[1:])  # and the draws do vary


def test_random_choice_and_order_use_python_random():
    order = ET.RandomOrder([ET.Lambda(lambda x: x + [1]), ET.Lambda(lambda x: x + [2]), ET.Lambda(lambda x: x + [3])])
    random.seed(5)
    a = [order([]) for _ in range(6)]
    random.seed(5)
    assert a == [order([]) for _ in range(6)] and len({tuple(x) for x in a}) > 1
    choice = ET.RandomChoice([ET.Lambda(lambda x: "a"), ET.Lambda(lambda x: "b")], p=[0.0, 1.0])
    assert {choice(None) for _ in range(10)} == {"b"}
    random.seed(7)
    e = [ET.RandomChoice([ET.Lambda(lambda x: 0), ET.Lambda(lambda x: 1)])(None) for _ in range(20)]
    random.seed(7)
    t = [TT.RandomChoice([TT.Lambda(lambda x: 0), TT.Lambda(lambda x: 1)])(None) for _ in range(20)]
    assert e == t


@pytest.mark.parametrize("name", ["RandomHorizontalFlip", "RandomVerticalFlip", "RandomGrayscale", "RandomInvert"])
def test_flip_probability(name):
    t = getattr(ET, name)(p=0.3)
    ember.manual_seed(0)
    changed = sum(not np.array_equal(np.asarray(t(RGB)), np.asarray(RGB)) for _ in range(400))
    assert 80 < changed < 160
    apply = ET.RandomApply([ET.RandomHorizontalFlip(p=1.0)], p=0.3)
    changed = sum(not np.array_equal(np.asarray(apply(RGB)), np.asarray(RGB)) for _ in range(400))
    assert 80 < changed < 160


def test_random_resized_crop_params_in_range():
    ember.manual_seed(0)
    for _ in range(200):
        i, j, h, w = ET.RandomResizedCrop.get_params(RGB, (0.08, 1.0), (3 / 4, 4 / 3))
        assert 0 <= i and 0 <= j and 0 < h and 0 < w and i + h <= 13 and j + w <= 17
    # impossible ratios fall back to a central crop of the nearest allowed ratio, as torchvision
    for ratio in ((10.0, 20.0), (0.01, 0.02)):
        assert ET.RandomResizedCrop.get_params(RGB, (0.9, 1.0), ratio) == \
            TT.RandomResizedCrop.get_params(RGB, (0.9, 1.0), ratio)


def test_random_erasing():
    x = ember.from_numpy(RGB_F32.copy())
    ember.manual_seed(3)
    out = ET.RandomErasing(p=1.0, value=(0.1, 0.2, 0.3))(x)
    ember.manual_seed(3)
    ember.rand(1)
    i, j, h, w, v = ET.RandomErasing.get_params(x, (0.02, 0.33), (0.3, 3.3), [0.1, 0.2, 0.3])
    ref = TF.erase(torch.from_numpy(RGB_F32.copy()), i, j, h, w, torch.from_numpy(v.numpy()))
    same_tensor(out, ref)
    assert not np.array_equal(out.numpy(), RGB_F32)
    np.testing.assert_array_equal(x.numpy(), RGB_F32)  # not in place by default
    y = ember.from_numpy(RGB_F32.copy())
    assert ET.RandomErasing(p=1.0, value="random", inplace=True)(y) is y
    assert ET.RandomErasing(p=0.0)(x) is x


def test_elastic_transform_runs_seeded_and_matches_given_displacement():
    x = ember.from_numpy(RGB_F32.copy())
    ember.manual_seed(0)
    a = ET.ElasticTransform(alpha=5.0, sigma=2.0)(x)
    ember.manual_seed(0)
    disp = ET.ElasticTransform.get_params([5.0, 5.0], [2.0, 2.0], [13, 17])
    assert tuple(disp.shape) == (1, 13, 17, 2)
    ref = TF.elastic_transform(torch.from_numpy(RGB_F32.copy()), torch.from_numpy(disp.numpy()), fill=[0.0])
    same_tensor(a, ref)


# ---------------------------------------------------------------------------------------------------- errors

ERROR_CASES = [
    ("to_tensor", lambda M, F: F.to_tensor([1, 2])),
    ("to_tensor-ndim", lambda M, F: F.to_tensor(np.zeros((1, 2, 3, 4)))),
    ("pil_to_tensor", lambda M, F: F.pil_to_tensor(np.zeros((2, 2)))),
    ("to_pil-type", lambda M, F: F.to_pil_image([1])),
    ("to_pil-channels", lambda M, F: F.to_pil_image(np.zeros((2, 2, 5), np.uint8))),
    ("normalize-int", lambda M, F: F.normalize(M.zeros(3, 2, 2, dtype=M.uint8), [0.5], [0.5])),
    ("normalize-2d", lambda M, F: F.normalize(M.zeros(2, 2), [0.5], [0.5])),
    ("normalize-std0", lambda M, F: F.normalize(M.zeros(3, 2, 2), [0.5], [0.0])),
    ("normalize-pil", lambda M, F: F.normalize(RGB, [0.5], [0.5])),
    ("resize-size", lambda M, F: F.resize(RGB, [1, 2, 3])),
    ("resize-maxsize", lambda M, F: F.resize(RGB, [4, 5], max_size=9)),
    ("resize-maxsize-small", lambda M, F: F.resize(RGB, 10, max_size=9)),
    ("resize-interp", lambda M, F: F.resize(RGB, 5, interpolation="bilinear")),
    ("resize-tensor-lanczos", lambda M, F: F.resize(M.zeros(3, 8, 8), 4, interpolation=F.InterpolationMode.LANCZOS)),
    ("pad-mode", lambda M, F: F.pad(RGB, 2, padding_mode="wrap")),
    ("pad-len", lambda M, F: F.pad(M.zeros(3, 4, 4), [1, 2, 3])),
    ("pad-fill", lambda M, F: F.pad(M.zeros(3, 4, 4), 1, fill="x")),
    ("pad-fill-bands", lambda M, F: F.pad(RGB, 1, fill=(1, 2))),
    ("hue-range", lambda M, F: F.adjust_hue(RGB, 0.7)),
    ("hue-range-tensor", lambda M, F: F.adjust_hue(M.zeros(3, 2, 2), -0.6)),
    ("brightness-neg", lambda M, F: F.adjust_brightness(M.zeros(3, 2, 2), -1.0)),
    ("contrast-channels", lambda M, F: F.adjust_contrast(M.zeros(2, 4, 4), 0.5)),
    ("grey-channels", lambda M, F: F.rgb_to_grayscale(M.zeros(2, 4, 4))),
    ("grey-out", lambda M, F: F.rgb_to_grayscale(RGB, 2)),
    ("rotate-angle", lambda M, F: F.rotate(RGB, "30")),
    ("rotate-center", lambda M, F: F.rotate(RGB, 30, center=5)),
    ("rotate-tensor-bicubic", lambda M, F: F.rotate(M.zeros(3, 4, 4), 10, interpolation=F.InterpolationMode.BICUBIC)),
    ("affine-translate", lambda M, F: F.affine(RGB, 0, [1], 1.0, 0)),
    ("affine-scale", lambda M, F: F.affine(RGB, 0, [1, 1], 0.0, 0)),
    ("affine-shear", lambda M, F: F.affine(RGB, 0, [1, 1], 1.0, [1, 2, 3])),
    ("affine-fill", lambda M, F: F.affine(M.zeros(3, 4, 4), 0, [1, 1], 1.0, 0, fill=[1, 2])),
    ("blur-even", lambda M, F: F.gaussian_blur(RGB, 4)),
    ("blur-sigma", lambda M, F: F.gaussian_blur(RGB, 3, -1.0)),
    ("convert-unsafe", lambda M, F: F.convert_image_dtype(M.zeros(3, 2, 2), M.int32)),
    ("convert-pil", lambda M, F: F.convert_image_dtype(RGB, M.float32)),
    ("erase-pil", lambda M, F: F.erase(RGB, 0, 0, 1, 1, M.zeros(1))),
    ("five-crop-big", lambda M, F: F.five_crop(RGB, 50)),
    ("posterize-bits", lambda M, F: F.posterize(RGB, 9)),
    ("posterize-float", lambda M, F: F.posterize(M.zeros(3, 2, 2), 3)),
    ("crop-not-image", lambda M, F: F.crop(M.zeros(5), 0, 0, 1, 1)),
    ("hflip-type", lambda M, F: F.hflip([1, 2])),
    ("dims-type", lambda M, F: F.get_dimensions("image")),
    ("perspective-points", lambda M, F: F.perspective(RGB, [[0, 0]], [[0, 0]])),
]

CLASS_ERROR_CASES = [
    ("Resize-type", lambda T, M: T.Resize(3.5)),
    ("Resize-len", lambda T, M: T.Resize((1, 2, 3))),
    ("CenterCrop", lambda T, M: T.CenterCrop((1, 2, 3))),
    ("Pad-mode", lambda T, M: T.Pad(1, padding_mode="wrap")),
    ("Pad-fill", lambda T, M: T.Pad(1, fill="x")),
    ("Pad-len", lambda T, M: T.Pad((1, 2, 3))),
    ("Lambda", lambda T, M: T.Lambda(3)),
    ("RandomOrder", lambda T, M: T.RandomOrder(3)),
    ("RandomChoice-p", lambda T, M: T.RandomChoice([T.Pad(1)], p=0.5)),
    ("RandomCrop-big", lambda T, M: T.RandomCrop(30)(RGB)),
    ("RandomResizedCrop-scale", lambda T, M: T.RandomResizedCrop(3, scale=0.5)),
    ("ColorJitter-neg", lambda T, M: T.ColorJitter(brightness=-0.1)),
    ("ColorJitter-hue", lambda T, M: T.ColorJitter(hue=0.6)),
    ("ColorJitter-type", lambda T, M: T.ColorJitter(contrast=(1, 2, 3))),
    ("RandomRotation-neg", lambda T, M: T.RandomRotation(-5)),
    ("RandomRotation-len", lambda T, M: T.RandomRotation((1, 2, 3))),
    ("RandomRotation-fill", lambda T, M: T.RandomRotation(5, fill={1: 2})),
    ("RandomAffine-translate", lambda T, M: T.RandomAffine(5, translate=(0.5, 1.5))),
    ("RandomAffine-scale", lambda T, M: T.RandomAffine(5, scale=(0.0, 1.0))),
    ("RandomAffine-shear", lambda T, M: T.RandomAffine(5, shear=(1, 2, 3))),
    ("RandomAffine-center", lambda T, M: T.RandomAffine(5, center=3)),
    ("RandomErasing-value", lambda T, M: T.RandomErasing(value="noise")),
    ("RandomErasing-p", lambda T, M: T.RandomErasing(p=1.5)),
    ("RandomErasing-scale", lambda T, M: T.RandomErasing(scale=(0.5, 1.5))),
    ("RandomErasing-channels", lambda T, M: T.RandomErasing(p=1.0, value=(1, 2))(M.zeros(3, 8, 8))),
    ("GaussianBlur-even", lambda T, M: T.GaussianBlur(4)),
    ("GaussianBlur-sigma", lambda T, M: T.GaussianBlur(3, sigma=(2.0, 1.0))),
    ("GaussianBlur-sigma-neg", lambda T, M: T.GaussianBlur(3, sigma=-1)),
    ("ElasticTransform-alpha", lambda T, M: T.ElasticTransform(alpha=5)),
    ("LinearTransformation", lambda T, M: T.LinearTransformation(M.zeros(3, 4), M.zeros(3))),
    ("Normalize-int", lambda T, M: T.Normalize([0.5], [0.5])(M.zeros(1, 2, 2, dtype=M.uint8))),
]


@pytest.mark.parametrize("case", ERROR_CASES, ids=lambda c: c[0])
def test_functional_errors_match(case):
    same_error(lambda: case[1](ember, EF), lambda: case[1](torch, TF))


@pytest.mark.parametrize("case", CLASS_ERROR_CASES, ids=lambda c: c[0])
def test_class_errors_match(case):
    same_error(lambda: case[1](ET, ember), lambda: case[1](TT, torch))


def test_warnings_match():
    with pytest.warns(UserWarning, match="Anti-alias option is always applied for PIL Image input"):
        EF.resize(RGB, 5, antialias=False)
    with pytest.warns(UserWarning, match="Scale and ratio should be of kind"):
        ET.RandomResizedCrop(5, scale=(1.0, 0.5))


def test_linear_transformation_matches():
    x = rng.random((2, 3, 3)).astype(np.float32)
    m = rng.random((18, 18)).astype(np.float32)
    mean = rng.random(18).astype(np.float32)
    e = ET.LinearTransformation(ember.from_numpy(m), ember.from_numpy(mean))
    t = TT.LinearTransformation(torch.from_numpy(m), torch.from_numpy(mean))
    same_tensor(e(ember.from_numpy(x)), t(torch.from_numpy(x)))
    assert repr(e) == repr(t)


def test_interpolation_from_pil_constants():
    assert ET.Resize(5, interpolation=3).interpolation is EIM.BICUBIC
    for pil_const in (0, 1, 2, 3, 4, 5):
        same_pil(EF.resize(RGB, [7, 9], interpolation=pil_const), TF.resize(RGB, [7, 9], interpolation=pil_const))
    assert [m.value for m in EIM] == [m.value for m in TIM]


def test_image_size_helpers():
    x = ember.zeros(2, 3, 5, 7)
    assert EF.get_dimensions(x) == TF.get_dimensions(torch.zeros(2, 3, 5, 7)) == [3, 5, 7]
    assert EF.get_image_size(x) == [7, 5] and EF.get_image_num_channels(x) == 3
    assert EF.get_dimensions(RGB) == [3, 13, 17] and EF.get_image_size(GREY) == [17, 13]
    assert EF.get_dimensions(ember.zeros(5, 7)) == [1, 5, 7]


def test_dataset_with_transforms(mnist_root):
    tfm = ET.Compose([ET.RandomCrop(28, padding=2), ET.ToTensor(), ET.Normalize((0.1307,), (0.3081,))])
    ds = ev.datasets.MNIST(mnist_root, train=False, transform=tfm)
    ember.manual_seed(0)
    x, y = ds[0]
    assert tuple(x.shape) == (1, 28, 28) and x.dtype is ember.float32 and isinstance(y, int)
    ember.manual_seed(0)
    np.testing.assert_array_equal(ds[0][0].numpy(), x.numpy())
    plain = ev.datasets.MNIST(mnist_root, train=False, transform=ET.Compose([ET.ToTensor(), ET.Normalize((0.1307,),
                                                                                                         (0.3081,))]))
    ref = tv.datasets.MNIST(mnist_root, train=False, transform=TT.Compose([TT.ToTensor(), TT.Normalize((0.1307,),
                                                                                                       (0.3081,))]))
    same_tensor(plain[5][0], ref[5][0])
    assert repr(plain) == repr(ref)


def test_seeded_loader_with_random_transforms_repeats_across_workers():
    """Workers seed ember's generator from the loader's base seed, so augmentation repeats under manual_seed."""
    from ember.utils.data import DataLoader
    tfm = ET.Compose([ET.RandomResizedCrop(12), ET.RandomHorizontalFlip(), ET.ColorJitter(0.3, 0.3), ET.ToTensor()])
    ds = ev.datasets.FakeData(size=16, image_size=(3, 20, 20), transform=tfm)

    def run(seed):
        ember.manual_seed(seed)
        return np.concatenate([x.numpy() for x, _ in DataLoader(ds, batch_size=4, shuffle=True, num_workers=2)])

    a, b, c = run(0), run(0), run(1)
    assert a.shape == (16, 3, 12, 12)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)

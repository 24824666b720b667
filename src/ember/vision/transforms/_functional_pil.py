"""The PIL side of ``transforms.functional``: each operation done by Pillow the way torchvision does it,
so results are byte-equal to torchvision's on the same image.

Private: programs call ``ember.vision.transforms.functional``, which dispatches here for PIL images.
"""
import numbers

import numpy as np

from ..datasets.vision import pil


def _is_pil_image(img):
    try:
        from PIL import Image
    except ImportError:
        return False
    return isinstance(img, Image.Image)


def _check(img):
    if not _is_pil_image(img):
        raise TypeError(f"img should be PIL Image. Got {type(img)}")


def _image_fromarray(arr, mode):
    """``Image.fromarray(arr, mode)`` with the pre-11.3 meaning: read the raw buffer *as* ``mode``.

    Pillow 11.3 deprecated ``mode=``; ``frombuffer`` with the raw decoder still reinterprets the bytes,
    which is what to_pil_image and to_grayscale rely on (e.g. int16 data read as 'I;16').
    """
    Image = pil()
    arr = np.ascontiguousarray(arr)
    height, width = arr.shape[0], arr.shape[1]
    return Image.frombuffer(mode, (width, height), arr.tobytes(), "raw", mode, 0, 1)


def get_dimensions(img):
    """[channels, height, width] of a PIL image."""
    _check_type(img)
    width, height = img.size
    return [len(img.getbands()), height, width]


def get_image_size(img):
    """[width, height] of a PIL image."""
    _check_type(img)
    return list(img.size)


def get_image_num_channels(img):
    """Number of bands of a PIL image."""
    _check_type(img)
    return len(img.getbands())


def _check_type(img):
    if not _is_pil_image(img):
        raise TypeError(f"Unexpected type {type(img)}")


def hflip(img):
    _check(img)
    return img.transpose(pil().Transpose.FLIP_LEFT_RIGHT)


def vflip(img):
    _check(img)
    return img.transpose(pil().Transpose.FLIP_TOP_BOTTOM)


def _enhance(img, kind, factor):
    from PIL import ImageEnhance
    _check(img)
    return getattr(ImageEnhance, kind)(img).enhance(factor)


def adjust_brightness(img, brightness_factor):
    return _enhance(img, "Brightness", brightness_factor)


def adjust_contrast(img, contrast_factor):
    return _enhance(img, "Contrast", contrast_factor)


def adjust_saturation(img, saturation_factor):
    return _enhance(img, "Color", saturation_factor)


def adjust_sharpness(img, sharpness_factor):
    return _enhance(img, "Sharpness", sharpness_factor)


def adjust_hue(img, hue_factor):
    """Shift the hue channel (in HSV, with uint8 wrap-around) by ``hue_factor`` turns."""
    if not (-0.5 <= hue_factor <= 0.5):
        raise ValueError(f"hue_factor ({hue_factor}) is not in [-0.5, 0.5].")
    _check(img)
    mode = img.mode
    if mode in {"L", "1", "I", "F"}:
        return img
    h, s, v = img.convert("HSV").split()
    hue = np.array(h, dtype=np.uint8)
    hue += np.int32(hue_factor * 255).astype(np.uint8)  # wraps around, as intended
    h = _image_fromarray(hue, "L")
    return pil().merge("HSV", (h, s, v)).convert(mode)


def adjust_gamma(img, gamma, gain=1.0):
    """Gamma correction through a 256-entry lookup table per RGB band."""
    _check(img)
    if gamma < 0:
        raise ValueError("Gamma should be a non-negative real number")
    mode = img.mode
    img = img.convert("RGB")
    table = [int((255 + 1 - 1e-3) * gain * pow(v / 255.0, gamma)) for v in range(256)] * 3
    return img.point(table).convert(mode)


def _parse_fill(fill, img, name="fillcolor"):
    """Pillow's keyword for a fill colour: one value per band, ints unless the image is 'F'."""
    bands = get_image_num_channels(img)
    if fill is None:
        fill = 0
    if isinstance(fill, (int, float)) and bands > 1:
        fill = tuple([fill] * bands)
    if isinstance(fill, (list, tuple)):
        if len(fill) == 1:
            fill = fill * bands
        elif len(fill) != bands:
            raise ValueError("The number of elements in 'fill' does not match the number of channels of the image "
                             f"({len(fill)} != {bands})")
        fill = tuple(fill)
    if img.mode != "F":
        fill = tuple(int(x) for x in fill) if isinstance(fill, tuple) else int(fill)
    return {name: fill}


def _ltrb(padding):
    if isinstance(padding, int):
        return [padding] * 4
    if len(padding) == 2:
        return [padding[0], padding[1], padding[0], padding[1]]
    return list(padding)


def pad(img, padding, fill=0, padding_mode="constant"):
    """Pad (or, with negative amounts, crop) a PIL image; modes constant, edge, reflect, symmetric."""
    from PIL import ImageOps
    _check(img)
    if not isinstance(padding, (numbers.Number, tuple, list)):
        raise TypeError("Got inappropriate padding arg")
    if fill is not None and not isinstance(fill, (numbers.Number, tuple, list)):
        raise TypeError("Got inappropriate fill arg")
    if not isinstance(padding_mode, str):
        raise TypeError("Got inappropriate padding_mode arg")
    if isinstance(padding, list):
        padding = tuple(padding)
    if isinstance(padding, tuple) and len(padding) not in (1, 2, 4):
        raise ValueError(f"Padding must be an int or a 1, 2, or 4 element tuple, not a {len(padding)} element tuple")
    if isinstance(padding, tuple) and len(padding) == 1:
        padding = padding[0]
    if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
        raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")

    if padding_mode == "constant":
        opts = _parse_fill(fill, img, name="fill")
        out = ImageOps.expand(img, border=padding, **opts)
        if img.mode == "P":
            out.putpalette(img.getpalette())
        return out

    left, top, right, bottom = _ltrb(padding)
    crop = [max(-p, 0) for p in (left, top, right, bottom)]
    if any(crop):
        img = img.crop((crop[0], crop[1], img.width - crop[2], img.height - crop[3]))
    left, top, right, bottom = (max(p, 0) for p in (left, top, right, bottom))
    palette = img.getpalette() if img.mode == "P" else None
    arr = np.asarray(img)
    widths = ((top, bottom), (left, right)) + (((0, 0),) if arr.ndim == 3 else ())
    out = pil().fromarray(np.pad(arr, widths, mode=padding_mode))
    if palette is not None:
        out.putpalette(palette)
    return out


def crop(img, top, left, height, width):
    """The box (left, top, left + width, top + height); outside the image reads as 0."""
    _check(img)
    return img.crop((left, top, left + width, top + height))


def resize(img, size, interpolation=2):
    """``img.resize`` to ``size`` = [h, w] with a Pillow resampling constant."""
    _check(img)
    if not (isinstance(size, list) and len(size) == 2):
        raise TypeError(f"Got inappropriate size arg: {size}")
    return img.resize(tuple(size[::-1]), interpolation)


def affine(img, matrix, interpolation=0, fill=None):
    """Pillow's affine transform with the inverse ``matrix`` (output pixel -> input pixel)."""
    _check(img)
    opts = _parse_fill(fill, img)
    return img.transform(img.size, pil().Transform.AFFINE, matrix, interpolation, **opts)


def rotate(img, angle, interpolation=0, expand=False, center=None, fill=None):
    """``img.rotate`` counter-clockwise by ``angle`` degrees."""
    _check(img)
    opts = _parse_fill(fill, img)
    return img.rotate(angle, interpolation, expand, center, **opts)


def perspective(img, perspective_coeffs, interpolation=3, fill=None):
    """Pillow's perspective transform with 8 coefficients."""
    _check(img)
    opts = _parse_fill(fill, img)
    return img.transform(img.size, pil().Transform.PERSPECTIVE, perspective_coeffs, interpolation, **opts)


def to_grayscale(img, num_output_channels):
    """Convert to 'L' (one channel) or to an 'RGB' image whose three bands are that 'L' image."""
    _check(img)
    if num_output_channels == 1:
        return img.convert("L")
    if num_output_channels == 3:
        grey = np.array(img.convert("L"), dtype=np.uint8)
        return _image_fromarray(np.dstack([grey, grey, grey]), "RGB")
    raise ValueError("num_output_channels should be either 1 or 3")


def _ops(name, img, *args):
    from PIL import ImageOps
    _check(img)
    return getattr(ImageOps, name)(img, *args)


def invert(img):
    return _ops("invert", img)


def posterize(img, bits):
    return _ops("posterize", img, bits)


def solarize(img, threshold):
    return _ops("solarize", img, threshold)


def autocontrast(img):
    return _ops("autocontrast", img)


def equalize(img):
    return _ops("equalize", img)

"""``torchvision.io``'s image functions, backed by Pillow: images are uint8 tensors laid out (C, H, W),
encoded files are 1-D uint8 tensors of their bytes, as in torchvision."""
import enum
import io as _bytes_io

import numpy

import ember

__all__ = ["ImageReadMode", "read_file", "write_file", "decode_image", "decode_png", "decode_jpeg", "read_image",
           "encode_png", "encode_jpeg", "write_png", "write_jpeg"]


class ImageReadMode(enum.Enum):
    """The channels a decoded image gets: as stored (UNCHANGED), or converted to 1-4 channels."""

    UNCHANGED = 0
    GRAY = 1
    GRAY_ALPHA = 2
    RGB = 3
    RGB_ALPHA = 4
    RGBA = 4


_PIL_MODE = {ImageReadMode.GRAY: "L", ImageReadMode.GRAY_ALPHA: "LA", ImageReadMode.RGB: "RGB",
             ImageReadMode.RGB_ALPHA: "RGBA"}


def _pil():
    try:
        from PIL import Image
    except ImportError as e:
        raise ImportError("ember.vision.io needs Pillow: pip install 'ember[vision]'") from e
    return Image


def read_file(path):
    """The bytes of the file at ``path`` as a 1-D uint8 tensor."""
    with open(path, "rb") as f:
        return ember.from_numpy(numpy.frombuffer(f.read(), dtype=numpy.uint8).copy())


def write_file(filename, data):
    """Write a 1-D uint8 tensor's bytes to ``filename``."""
    with open(filename, "wb") as f:
        f.write(_bytes_of(data, "write_file"))


def _bytes_of(data, fn):
    if not isinstance(data, ember.Tensor) or data.dtype != ember.uint8 or data.dim() != 1:
        raise RuntimeError(f"{fn}: expected a 1-dimensional uint8 tensor of bytes")
    return data.numpy().tobytes()


def _to_tensor(img, mode, apply_exif_orientation):
    """A PIL image as a (C, H, W) uint8 tensor in ``mode``."""
    if apply_exif_orientation:
        from PIL import ImageOps
        img = ImageOps.exif_transpose(img)
    if mode == ImageReadMode.UNCHANGED:
        if img.mode == "P":     # palette images decode to their colours, as libpng does
            img = img.convert("RGBA" if "transparency" in img.info else "RGB")
        elif img.mode not in ("L", "LA", "RGB", "RGBA"):
            if img.mode.startswith("I;16") or img.mode == "I":
                raise RuntimeError("16-bit images decode to uint16 in torchvision; ember has no uint16 dtype")
            img = img.convert("RGB" if img.mode in ("CMYK", "YCbCr") else "L")
    else:
        img = img.convert(_PIL_MODE[mode])
    arr = numpy.array(img, dtype=numpy.uint8)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    return ember.from_numpy(arr.transpose(2, 0, 1).copy())


def _check_mode(mode):
    if not isinstance(mode, ImageReadMode):
        raise TypeError(f"mode must be an ImageReadMode, got {type(mode).__name__}")


def decode_image(input, mode=ImageReadMode.UNCHANGED, apply_exif_orientation=False):
    """Decode a PNG/JPEG/GIF/WebP/BMP image (a 1-D uint8 tensor of its bytes, or a path) to a (C, H, W)
    uint8 tensor; ``mode`` picks the channels."""
    _check_mode(mode)
    if isinstance(input, str) or hasattr(input, "__fspath__"):
        input = read_file(input)
    data = _bytes_of(input, "decode_image")
    with _pil().open(_bytes_io.BytesIO(data)) as img:
        return _to_tensor(img, mode, apply_exif_orientation)


def read_image(path, mode=ImageReadMode.UNCHANGED, apply_exif_orientation=False):
    """Read an image file into a (C, H, W) uint8 tensor (see ``decode_image``)."""
    return decode_image(read_file(path), mode, apply_exif_orientation)


def decode_png(input, mode=ImageReadMode.UNCHANGED, apply_exif_orientation=False):
    """Decode PNG bytes (a 1-D uint8 tensor) to a (C, H, W) uint8 tensor."""
    return decode_image(input, mode, apply_exif_orientation)


def decode_jpeg(input, mode=ImageReadMode.UNCHANGED, device="cpu", apply_exif_orientation=False):
    """Decode JPEG bytes (a 1-D uint8 tensor, or a list of them) to (C, H, W) uint8 tensor(s) on ``device``."""
    if isinstance(input, (list, tuple)):
        return [decode_jpeg(i, mode, device, apply_exif_orientation) for i in input]
    return decode_image(input, mode, apply_exif_orientation).to(device)


def _to_pil(input, fn):
    """A (C, H, W) uint8 tensor with 1 or 3 channels (4 for PNG) as a PIL image."""
    if not isinstance(input, ember.Tensor) or input.dtype != ember.uint8:
        raise RuntimeError("Input tensor dtype should be uint8")
    if input.dim() != 3:
        raise RuntimeError(f"Input data should be a 3-dimensional tensor, but got {input.dim()} dimensions.")
    channels = input.shape[0]
    modes = {1: "L", 3: "RGB"} if fn == "jpeg" else {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}
    if channels not in modes:
        allowed = "1 or 3" if fn == "jpeg" else "1, 2, 3 or 4"
        raise RuntimeError(f"The number of channels should be {allowed}, got: {channels}")
    arr = numpy.ascontiguousarray(input.detach().cpu().numpy().transpose(1, 2, 0))
    return _pil().fromarray(arr[:, :, 0] if channels == 1 else arr, modes[channels])


def _encoded(img, **save_args):
    buf = _bytes_io.BytesIO()
    img.save(buf, **save_args)
    return ember.from_numpy(numpy.frombuffer(buf.getvalue(), dtype=numpy.uint8).copy())


def encode_png(input, compression_level=6):
    """PNG bytes (1-D uint8 tensor) of a (C, H, W) uint8 image with 1-4 channels; ``compression_level``
    0 (none) to 9."""
    if not 0 <= compression_level <= 9:
        raise RuntimeError("Compression level should be between 0 and 9")
    return _encoded(_to_pil(input, "png"), format="PNG", compress_level=compression_level)


def encode_jpeg(input, quality=75):
    """JPEG bytes (1-D uint8 tensor) of a (C, H, W) uint8 image with 1 or 3 channels (or a list of them);
    ``quality`` 1 to 100."""
    if not 1 <= quality <= 100:
        raise ValueError("Image quality should be a positive number between 1 and 100")
    if isinstance(input, (list, tuple)):
        if not input:
            raise ValueError("encode_jpeg requires at least one input tensor when a list is passed")
        return [encode_jpeg(i, quality) for i in input]
    return _encoded(_to_pil(input, "jpeg"), format="JPEG", quality=quality)


def write_png(input, filename, compression_level=6):
    """Write a (C, H, W) uint8 image to ``filename`` as PNG."""
    write_file(filename, encode_png(input, compression_level))


def write_jpeg(input, filename, quality=75):
    """Write a (C, H, W) uint8 image to ``filename`` as JPEG."""
    write_file(filename, encode_jpeg(input, quality))

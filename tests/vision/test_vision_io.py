"""ember.vision.io against Pillow's own decoding (torchvision's C++ image extension is not loadable next to
the CPU-only torch 2.13 wheel, so the reference is the pixel data Pillow reads, in torchvision's CHW uint8
layout)."""
import numpy as np
import pytest
from PIL import Image

import ember
from ember.vision import io

rng = np.random.default_rng(0)
RGB = rng.integers(0, 256, (3, 9, 7), dtype=np.uint8)


def _chw(path, mode):
    arr = np.asarray(Image.open(path).convert(mode))
    return arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1)


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
def test_png_round_trip_is_exact(tmp_path, channels):
    img = ember.from_numpy(rng.integers(0, 256, (channels, 5, 6), dtype=np.uint8))
    path = str(tmp_path / "x.png")
    io.write_png(img, path, compression_level=9)
    back = io.read_image(path)
    assert back.dtype == ember.uint8 and back.shape == img.shape
    assert np.array_equal(back.numpy(), img.numpy())
    assert np.array_equal(io.decode_png(io.read_file(path)).numpy(), img.numpy())
    assert np.array_equal(io.decode_image(path).numpy(), img.numpy())


def test_read_modes_convert_as_pillow(tmp_path):
    path = str(tmp_path / "x.png")
    Image.fromarray(RGB.transpose(1, 2, 0)).save(path)
    for mode, pil in ((io.ImageReadMode.GRAY, "L"), (io.ImageReadMode.GRAY_ALPHA, "LA"),
                      (io.ImageReadMode.RGB, "RGB"), (io.ImageReadMode.RGB_ALPHA, "RGBA")):
        assert np.array_equal(io.read_image(path, mode).numpy(), _chw(path, pil)), mode
    assert io.ImageReadMode.RGBA is io.ImageReadMode.RGB_ALPHA
    pal = tmp_path / "p.png"
    Image.fromarray(RGB.transpose(1, 2, 0)).convert("P").save(pal)
    assert np.array_equal(io.read_image(str(pal)).numpy(), _chw(pal, "RGB"))


def test_jpeg_encode_decode(tmp_path):
    img = ember.from_numpy(np.ascontiguousarray(np.repeat(np.repeat(RGB, 4, 1), 4, 2)))
    path = str(tmp_path / "x.jpg")
    io.write_jpeg(img, path, quality=95)
    back = io.read_image(path)
    assert back.shape == img.shape and back.dtype == ember.uint8
    assert np.array_equal(back.numpy(), _chw(path, "RGB"))
    assert np.abs(back.numpy().astype(int) - img.numpy()).mean() < 20
    data = io.encode_jpeg([img, img[:1]], quality=50)
    assert [d.dim() for d in data] == [1, 1] and data[0][:2].tolist() == [0xFF, 0xD8]
    assert [tuple(t.shape) for t in io.decode_jpeg(data)] == [tuple(img.shape), (1,) + tuple(img.shape[1:])]


def test_bad_inputs_raise_torchvision_errors():
    with pytest.raises(RuntimeError, match="uint8"):
        io.encode_png(ember.zeros(3, 4, 4))
    with pytest.raises(RuntimeError, match="number of channels"):
        io.encode_jpeg(ember.zeros(2, 4, 4, dtype=ember.uint8))
    with pytest.raises(ValueError, match="Image quality should be a positive number between 1 and 100"):
        io.encode_jpeg(ember.zeros(3, 4, 4, dtype=ember.uint8), quality=0)
    with pytest.raises(RuntimeError, match="Compression level"):
        io.encode_png(ember.zeros(3, 4, 4, dtype=ember.uint8), compression_level=10)

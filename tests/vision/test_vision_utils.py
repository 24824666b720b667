"""make_grid and save_image against torchvision."""
import numpy as np
import pytest
import torch
from PIL import Image

import ember
import ember.vision as ev
from tv_oracle import import_torchvision

tv = import_torchvision()
rng = np.random.default_rng(0)


@pytest.mark.parametrize("shape", [(10, 3, 5, 6), (4, 1, 7, 7), (1, 3, 4, 4), (3, 8, 8), (1, 8, 8), (6, 9)])
@pytest.mark.parametrize("kwargs", [{}, {"nrow": 3, "padding": 1}, {"normalize": True},
                                    {"normalize": True, "value_range": (-0.5, 0.5), "pad_value": 0.3},
                                    {"normalize": True, "scale_each": True, "nrow": 2}])
def test_make_grid_matches_torchvision(shape, kwargs):
    data = rng.standard_normal(shape).astype(np.float32)
    e = ev.utils.make_grid(ember.from_numpy(data.copy()), **kwargs)
    t = tv.utils.make_grid(torch.from_numpy(data.copy()), **kwargs)
    assert tuple(e.shape) == tuple(t.shape) and e.dtype is ember.float32
    np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-6, atol=1e-6)


def test_make_grid_list_input():
    imgs = [rng.random((3, 4, 5)).astype(np.float32) for _ in range(5)]
    e = ev.utils.make_grid([ember.from_numpy(a) for a in imgs], nrow=2)
    t = tv.utils.make_grid([torch.from_numpy(a) for a in imgs], nrow=2)
    np.testing.assert_allclose(e.numpy(), t.numpy())


def test_save_image_matches_torchvision(tmp_path):
    data = rng.random((6, 3, 5, 5)).astype(np.float32)
    ev.utils.save_image(ember.from_numpy(data), tmp_path / "e.png", nrow=3)
    tv.utils.save_image(torch.from_numpy(data), tmp_path / "t.png", nrow=3)
    a, b = np.asarray(Image.open(tmp_path / "e.png")), np.asarray(Image.open(tmp_path / "t.png"))
    np.testing.assert_array_equal(a, b)


def test_failed_save_keeps_old_file(tmp_path):
    target = tmp_path / "keep.png"
    target.write_bytes(b"old contents")
    with pytest.raises(Exception):
        ev.utils.save_image(ember.ones(3, 4, 4), target, format="NOT-A-FORMAT")
    assert target.read_bytes() == b"old contents"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.png"]

"""ember.vision.datasets against real files and against torchvision reading the same files."""
import hashlib
import pickle

import numpy as np
import pytest
from PIL import Image

import ember
import ember.vision as ev
from tv_oracle import import_torchvision

tv = import_torchvision()

MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.mark.parametrize("train,counts", [(True, MNIST_TRAIN_COUNTS), (False, MNIST_TEST_COUNTS)])
def test_mnist_real_files(mnist_root, train, counts):
    ds = ev.datasets.MNIST(mnist_root, train=train)
    n = sum(counts)
    assert len(ds) == n
    assert tuple(ds.data.shape) == (n, 28, 28) and ds.data.dtype is ember.uint8
    assert ds.targets.dtype is ember.int64
    assert np.bincount(ds.targets.numpy(), minlength=10).tolist() == counts
    ref = tv.datasets.MNIST(mnist_root, train=train)
    np.testing.assert_array_equal(ds.data.numpy(), ref.data.numpy())
    np.testing.assert_array_equal(ds.targets.numpy(), ref.targets.numpy())
    assert ds.classes == ref.classes and ds.class_to_idx == ref.class_to_idx
    assert repr(ds) == repr(ref)
    img, label = ds[0]
    ref_img, ref_label = ref[0]
    assert isinstance(img, Image.Image) and img.mode == "L" and img.size == (28, 28)
    assert label == ref_label and isinstance(label, int)
    assert img.tobytes() == ref_img.tobytes()


def test_mnist_reads_gzipped_files(mnist_root, mnist_gz_root):
    plain, gz = ev.datasets.MNIST(mnist_root, train=False), ev.datasets.MNIST(mnist_gz_root, train=False)
    np.testing.assert_array_equal(plain.data.numpy(), gz.data.numpy())
    np.testing.assert_array_equal(plain.targets.numpy(), gz.targets.numpy())


def test_mnist_first_image_checksum(mnist_root):
    ds = ev.datasets.MNIST(mnist_root, train=True)
    digest = hashlib.md5(ds.data[0].numpy().tobytes()).hexdigest()
    assert int(ds.targets[0]) == 5
    assert ds.data[0].numpy().sum() == 27525
    assert digest == hashlib.md5(tv.datasets.MNIST(mnist_root).data[0].numpy().tobytes()).hexdigest()


def test_fashion_mnist_real_files(fashion_root):
    ds = ev.datasets.FashionMNIST(fashion_root, train=False)
    ref = tv.datasets.FashionMNIST(fashion_root, train=False)
    assert len(ds) == 10000 and ds.classes == ref.classes
    assert np.bincount(ds.targets.numpy()).tolist() == [1000] * 10
    np.testing.assert_array_equal(ds.data.numpy(), ref.data.numpy())


def test_missing_files_name_what_to_place(tmp_path):
    with pytest.raises(RuntimeError, match="train-images-idx3-ubyte") as info:
        ev.datasets.MNIST(str(tmp_path), train=True)
    assert str(tmp_path / "MNIST" / "raw") in str(info.value)


def test_transforms_apply(mnist_root):
    ds = ev.datasets.MNIST(mnist_root, train=False, transform=lambda im: np.asarray(im).sum(),
                           target_transform=lambda t: t * 10)
    assert ds[0] == (int(ds.data[0].numpy().sum()), int(ds.targets[0]) * 10)


def _write_cifar(root, n_per_batch=7):
    rng = np.random.default_rng(0)
    folder = root / "cifar-10-batches-py"
    folder.mkdir()
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for name in names:
        entry = {"data": rng.integers(0, 256, (n_per_batch, 3072), dtype=np.uint8),
                 "labels": rng.integers(0, 10, n_per_batch).tolist()}
        with open(folder / name, "wb") as f:
            pickle.dump(entry, f)
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({"label_names": [f"class{i}" for i in range(10)]}, f)


@pytest.mark.parametrize("train", [True, False])
def test_cifar10_pickles_match_torchvision(tmp_path, train, monkeypatch):
    _write_cifar(tmp_path)
    # torchvision insists on the official files' MD5s; these batches are synthetic
    monkeypatch.setattr(tv.datasets.CIFAR10, "_check_integrity", lambda self: True)
    monkeypatch.setattr(tv.datasets.cifar, "check_integrity", lambda path, md5=None: True)
    ds, ref = ev.datasets.CIFAR10(str(tmp_path), train=train), tv.datasets.CIFAR10(str(tmp_path), train=train)
    np.testing.assert_array_equal(ds.data, ref.data)
    assert ds.targets == ref.targets and ds.classes == ref.classes and len(ds) == len(ref)
    assert ds[3][0].tobytes() == ref[3][0].tobytes() and ds[3][1] == ref[3][1]
    assert repr(ds) == repr(ref)


def _write_folder(root):
    rng = np.random.default_rng(1)
    for cls, n in (("cat", 3), ("dog", 2)):
        d = root / cls
        d.mkdir()
        for i in range(n):
            Image.fromarray(rng.integers(0, 256, (6, 5, 3), dtype=np.uint8)).save(d / f"{i}.png")
        (d / "notes.txt").write_text("not an image")


def test_image_folder_matches_torchvision(tmp_path):
    _write_folder(tmp_path)
    ds, ref = ev.datasets.ImageFolder(str(tmp_path)), tv.datasets.ImageFolder(str(tmp_path))
    assert ds.classes == ref.classes and ds.class_to_idx == ref.class_to_idx
    assert ds.samples == ref.samples and ds.targets == ref.targets and ds.imgs == ref.imgs
    assert ds[4][0].tobytes() == ref[4][0].tobytes() and ds[4][0].mode == "RGB"
    assert repr(ds) == repr(ref)


def test_image_folder_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="Couldn't find any class folder"):
        ev.datasets.ImageFolder(str(tmp_path))
    (tmp_path / "empty_class").mkdir()
    with pytest.raises(FileNotFoundError, match="Found no valid file for the classes empty_class"):
        ev.datasets.ImageFolder(str(tmp_path))
    assert len(ev.datasets.ImageFolder(str(tmp_path), allow_empty=True)) == 0


def test_bad_image_files(tmp_path):
    with pytest.raises(FileNotFoundError):
        ev.datasets.folder.default_loader(str(tmp_path / "missing.png"))
    bad = tmp_path / "corrupt.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    from PIL import UnidentifiedImageError
    with pytest.raises(UnidentifiedImageError):
        ev.datasets.folder.default_loader(str(bad))


def test_emnist_split_validation(tmp_path):
    with pytest.raises(ValueError, match="Unknown value 'nope' for argument split"):
        ev.datasets.EMNIST(str(tmp_path), split="nope")
    assert ev.datasets.EMNIST.classes_split_dict == tv.datasets.EMNIST.classes_split_dict

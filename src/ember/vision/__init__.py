"""ember.vision: torchvision's datasets, transforms, models and utils, on ember.

``import ember.vision as torchvision`` gives programs the module names they expect
(``torchvision.datasets.MNIST``, ``torchvision.transforms.ToTensor``, ...).
Image decoding uses Pillow, an optional extra (``pip install ember[vision]``).
"""
import importlib

__version__ = "0.28.0+ember"

_SUBMODULES = ("datasets", "transforms", "models", "utils", "io", "ops")


def __getattr__(name):
    # submodules load on first use so that ``import ember.vision`` stays light
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'ember.vision' has no attribute '{name}'")


_image_backend = "PIL"


def set_image_backend(backend):
    """Only 'PIL' is available."""
    if backend != "PIL":
        raise ValueError(f"Invalid backend '{backend}'. Options are 'PIL' and 'accimage'")


def get_image_backend():
    return _image_backend

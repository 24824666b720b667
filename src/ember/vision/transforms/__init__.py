"""ember.vision.transforms: torchvision's image transforms (``transforms.Compose([...])``) and their
functional forms (``transforms.functional``), for PIL images and tensor images."""
from .transforms import *  # noqa: F401,F403
from .transforms import __all__ as _transforms_all
from . import functional
from .functional import InterpolationMode

__all__ = list(_transforms_all) + ["functional"]

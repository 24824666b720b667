"""ember.vision.ops: the building blocks torchvision's models share (``misc.Conv2dNormActivation``, ...)."""
from .misc import Conv2dNormActivation, Conv3dNormActivation, ConvNormActivation

__all__ = ["Conv2dNormActivation", "Conv3dNormActivation", "ConvNormActivation"]

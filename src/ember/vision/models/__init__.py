"""ember.vision.models: torchvision's classification models with the same module names, so ``state_dict``
keys (and therefore checkpoints) are interchangeable, plus the model registry (``get_model``, ``list_models``).

``weights=None`` builds a randomly initialised model (torchvision's init). ember does not download: named
weights (``weights="IMAGENET1K_V1"``, ``ResNet18_Weights.DEFAULT``, legacy ``pretrained=True``) raise a
RuntimeError naming the file to fetch and how to load it with ``model.load_state_dict``.
"""
from ._api import get_model, get_model_builder, get_model_weights, get_weight, list_models, Weights, WeightsEnum
from .alexnet import *  # noqa: F401,F403
from .mobilenetv2 import *  # noqa: F401,F403
from .resnet import *  # noqa: F401,F403
from .squeezenet import *  # noqa: F401,F403
from .vgg import *  # noqa: F401,F403
from . import mobilenetv2, resnet, squeezenet, vgg  # noqa: F401,E402  (models.alexnet is the builder, as there)

"""VGG (Simonyan & Zisserman, "Very Deep Convolutional Networks for Large-Scale Image Recognition"), with and
without batch norm, with torchvision's module names (``features.<i>``, ``classifier.<i>``)."""
from functools import partial
from typing import Optional

import ember
from ember import nn
from ..transforms._presets import ImageClassification
from ._api import register_model, Weights, WeightsEnum
from ._meta import _IMAGENET_CATEGORIES
from ._utils import _build, handle_legacy_interface

__all__ = ["VGG", "VGG11_Weights", "VGG11_BN_Weights", "VGG13_Weights", "VGG13_BN_Weights", "VGG16_Weights",
           "VGG16_BN_Weights", "VGG19_Weights", "VGG19_BN_Weights", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16",
           "vgg16_bn", "vgg19", "vgg19_bn"]


class VGG(nn.Module):
    """``features`` (the conv stack), a 7x7 adaptive average pool and a 3-layer classifier with dropout.

    Args:
        features: the convolutional part (``make_layers``).
        num_classes: outputs of the last Linear.
        init_weights: kaiming-normal convs, N(0, 0.01) linears, zero biases (else PyTorch's layer defaults).
        dropout: the classifier's dropout probability.

    Input (N, 3, H, W) with H, W >= 32 -> logits (N, num_classes).
    """

    def __init__(self, features, num_classes=1000, init_weights=True, dropout=0.5):
        super().__init__()
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes),
        )
        if init_weights:
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                    if m.bias is not None:
                        nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.BatchNorm2d):
                    nn.init.constant_(m.weight, 1)
                    nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, 0, 0.01)
                    nn.init.constant_(m.bias, 0)

    def forward(self, x):
        x = self.avgpool(self.features(x))
        return self.classifier(ember.flatten(x, 1))


def make_layers(cfg, batch_norm=False):
    """The conv stack for a config: ints are 3x3 conv widths (+ BN) + ReLU, 'M' a 2x2 max pool."""
    layers = []
    in_channels = 3
    for v in cfg:
        if v == "M":
            layers += [nn.MaxPool2d(kernel_size=2, stride=2)]
        else:
            conv2d = nn.Conv2d(in_channels, v, kernel_size=3, padding=1)
            layers += [conv2d, nn.BatchNorm2d(v), nn.ReLU(inplace=True)] if batch_norm else \
                [conv2d, nn.ReLU(inplace=True)]
            in_channels = v
    return nn.Sequential(*layers)


cfgs = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}


def _vgg(cfg, batch_norm, weights, progress, builder, **kwargs):
    if weights is not None:
        kwargs["init_weights"] = False
    return _build(VGG, weights, progress, builder, make_layers(cfgs[cfg], batch_norm=batch_norm), **kwargs)


_RECIPE = "https://github.com/pytorch/vision/tree/main/references/classification#alexnet-and-vgg"


def _weights(name, num_params, acc1, acc5, ops, file_size, **extra):
    meta = {"min_size": (32, 32), "categories": _IMAGENET_CATEGORIES, "recipe": _RECIPE, "num_params": num_params,
            "_metrics": {"ImageNet-1K": {"acc@1": acc1, "acc@5": acc5}}, "_ops": ops, "_file_size": file_size}
    meta.update(extra.pop("meta", {}))
    return Weights(url=f"https://download.pytorch.org/models/{name}.pth",
                   transforms=partial(ImageClassification, crop_size=224, **extra), meta=meta)


class VGG11_Weights(WeightsEnum):
    """ImageNet-1K weights of VGG11: url, meta, transforms (loaded from the hub cache)."""

    IMAGENET1K_V1 = _weights("vgg11-8a719046", 132863336, 69.02, 88.628, 7.609, 506.84)
    DEFAULT = IMAGENET1K_V1


class VGG11_BN_Weights(WeightsEnum):
    """ImageNet-1K weights of VGG11-BN: url, meta, transforms (loaded from the hub cache)."""

    IMAGENET1K_V1 = _weights("vgg11_bn-6002323d", 132868840, 70.37, 89.81, 7.609, 506.881)
    DEFAULT = IMAGENET1K_V1


class VGG13_Weights(WeightsEnum):
    """ImageNet-1K weights of VGG13: url, meta, transforms (loaded from the hub cache)."""

    IMAGENET1K_V1 = _weights("vgg13-19584684", 133047848, 69.928, 89.246, 11.308, 507.545)
    DEFAULT = IMAGENET1K_V1


class VGG13_BN_Weights(WeightsEnum):
    """ImageNet-1K weights of VGG13-BN: url, meta, transforms (loaded from the hub cache)."""

    IMAGENET1K_V1 = _weights("vgg13_bn-abd245e5", 133053736, 71.586, 90.374, 11.308, 507.59)
    DEFAULT = IMAGENET1K_V1


class VGG16_Weights(WeightsEnum):
    """ImageNet-1K weights of VGG16: url, meta, transforms (loaded from the hub cache)."""

    IMAGENET1K_V1 = _weights("vgg16-397923af", 138357544, 71.592, 90.382, 15.47, 527.796)
    # features only (the classifier is not usable), trained with the paper's 0-255 input scaling
    IMAGENET1K_FEATURES = _weights("vgg16_features-amdegroot-88682ab5", 138357544, float("nan"), float("nan"), 15.47,
                                   527.802, mean=(0.48235, 0.45882, 0.40784),
                                   std=(1.0 / 255.0, 1.0 / 255.0, 1.0 / 255.0),
                                   meta={"categories": None, "recipe": "https://github.com/amdegroot/ssd.pytorch#"
                                                                       "training-ssd"})
    DEFAULT = IMAGENET1K_V1


class VGG16_BN_Weights(WeightsEnum):
    """ImageNet-1K weights of VGG16-BN: url, meta, transforms (loaded from the hub cache)."""

    IMAGENET1K_V1 = _weights("vgg16_bn-6c64b313", 138365992, 73.36, 91.516, 15.47, 527.866)
    DEFAULT = IMAGENET1K_V1


class VGG19_Weights(WeightsEnum):
    """ImageNet-1K weights of VGG19: url, meta, transforms (loaded from the hub cache)."""

    IMAGENET1K_V1 = _weights("vgg19-dcbb9e9d", 143667240, 72.376, 90.876, 19.632, 548.051)
    DEFAULT = IMAGENET1K_V1


class VGG19_BN_Weights(WeightsEnum):
    """ImageNet-1K weights of VGG19-BN: url, meta, transforms (loaded from the hub cache)."""

    IMAGENET1K_V1 = _weights("vgg19_bn-c79401a0", 143678248, 74.218, 91.842, 19.632, 548.143)
    DEFAULT = IMAGENET1K_V1


@register_model()
@handle_legacy_interface(weights=("pretrained", VGG11_Weights.IMAGENET1K_V1))
def vgg11(*, weights: Optional[VGG11_Weights] = None, progress: bool = True, **kwargs) -> VGG:
    """VGG-11 (configuration A). ``weights``: None or VGG11_Weights; ``kwargs`` go to ``VGG``."""
    return _vgg("A", False, VGG11_Weights.verify(weights), progress, "vgg11", **kwargs)


@register_model()
@handle_legacy_interface(weights=("pretrained", VGG11_BN_Weights.IMAGENET1K_V1))
def vgg11_bn(*, weights: Optional[VGG11_BN_Weights] = None, progress: bool = True, **kwargs) -> VGG:
    """VGG-11 with batch norm."""
    return _vgg("A", True, VGG11_BN_Weights.verify(weights), progress, "vgg11_bn", **kwargs)


@register_model()
@handle_legacy_interface(weights=("pretrained", VGG13_Weights.IMAGENET1K_V1))
def vgg13(*, weights: Optional[VGG13_Weights] = None, progress: bool = True, **kwargs) -> VGG:
    """VGG-13 (configuration B)."""
    return _vgg("B", False, VGG13_Weights.verify(weights), progress, "vgg13", **kwargs)


@register_model()
@handle_legacy_interface(weights=("pretrained", VGG13_BN_Weights.IMAGENET1K_V1))
def vgg13_bn(*, weights: Optional[VGG13_BN_Weights] = None, progress: bool = True, **kwargs) -> VGG:
    """VGG-13 with batch norm."""
    return _vgg("B", True, VGG13_BN_Weights.verify(weights), progress, "vgg13_bn", **kwargs)


@register_model()
@handle_legacy_interface(weights=("pretrained", VGG16_Weights.IMAGENET1K_V1))
def vgg16(*, weights: Optional[VGG16_Weights] = None, progress: bool = True, **kwargs) -> VGG:
    """VGG-16 (configuration D)."""
    return _vgg("D", False, VGG16_Weights.verify(weights), progress, "vgg16", **kwargs)


@register_model()
@handle_legacy_interface(weights=("pretrained", VGG16_BN_Weights.IMAGENET1K_V1))
def vgg16_bn(*, weights: Optional[VGG16_BN_Weights] = None, progress: bool = True, **kwargs) -> VGG:
    """VGG-16 with batch norm."""
    return _vgg("D", True, VGG16_BN_Weights.verify(weights), progress, "vgg16_bn", **kwargs)


@register_model()
@handle_legacy_interface(weights=("pretrained", VGG19_Weights.IMAGENET1K_V1))
def vgg19(*, weights: Optional[VGG19_Weights] = None, progress: bool = True, **kwargs) -> VGG:
    """VGG-19 (configuration E)."""
    return _vgg("E", False, VGG19_Weights.verify(weights), progress, "vgg19", **kwargs)


@register_model()
@handle_legacy_interface(weights=("pretrained", VGG19_BN_Weights.IMAGENET1K_V1))
def vgg19_bn(*, weights: Optional[VGG19_BN_Weights] = None, progress: bool = True, **kwargs) -> VGG:
    """VGG-19 with batch norm."""
    return _vgg("E", True, VGG19_BN_Weights.verify(weights), progress, "vgg19_bn", **kwargs)

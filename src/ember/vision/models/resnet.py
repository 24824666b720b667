"""ResNet (He et al., "Deep Residual Learning for Image Recognition"), ResNeXt and Wide ResNet, with
torchvision's module names (``conv1``, ``bn1``, ``layer1.0.conv1``, ``layer2.0.downsample.0``, ``fc``...) so
state dicts are interchangeable."""
from functools import partial
from typing import Optional

import ember
from ember import nn
from ..transforms._presets import ImageClassification
from ._api import register_model, Weights, WeightsEnum
from ._meta import _IMAGENET_CATEGORIES
from ._utils import _build, _ovewrite_named_param, handle_legacy_interface

__all__ = ["ResNet", "BasicBlock", "Bottleneck", "ResNet18_Weights", "ResNet34_Weights", "ResNet50_Weights",
           "ResNet101_Weights", "ResNet152_Weights", "ResNeXt50_32X4D_Weights", "ResNeXt101_32X8D_Weights",
           "ResNeXt101_64X4D_Weights", "Wide_ResNet50_2_Weights", "Wide_ResNet101_2_Weights", "resnet18", "resnet34",
           "resnet50", "resnet101", "resnet152", "resnext50_32x4d", "resnext101_32x8d", "resnext101_64x4d",
           "wide_resnet50_2", "wide_resnet101_2"]


def conv3x3(in_planes, out_planes, stride=1, groups=1, dilation=1):
    """3x3 convolution with 'same' padding and no bias."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=dilation, groups=groups, bias=False,
                     dilation=dilation)


def conv1x1(in_planes, out_planes, stride=1):
    """1x1 convolution without bias."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """Two 3x3 conv-BN layers with a shortcut: relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))."""

    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64, dilation=1,
                 norm_layer=None):
        super().__init__()
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        if groups != 1 or base_width != 64:
            raise ValueError("BasicBlock only supports groups=1 and base_width=64")
        if dilation > 1:
            raise NotImplementedError("Dilation > 1 not supported in BasicBlock")
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = norm_layer(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = norm_layer(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        return self.relu(out)


class Bottleneck(nn.Module):
    """1x1 (reduce) - 3x3 (stride here: "ResNet v1.5") - 1x1 (expand x4) conv-BN layers with a shortcut."""

    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64, dilation=1,
                 norm_layer=None):
        super().__init__()
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        width = int(planes * (base_width / 64.0)) * groups
        self.conv1 = conv1x1(inplanes, width)
        self.bn1 = norm_layer(width)
        self.conv2 = conv3x3(width, width, stride, groups, dilation)
        self.bn2 = norm_layer(width)
        self.conv3 = conv1x1(width, planes * self.expansion)
        self.bn3 = norm_layer(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        return self.relu(out)


class ResNet(nn.Module):
    """A ResNet of ``block`` s, ``layers`` = number of blocks in each of the four stages.

    Args:
        num_classes: outputs of the final ``fc``.
        zero_init_residual: start each residual branch's last BN at 0 (each block begins as the identity).
        groups, width_per_group: ResNeXt / Wide ResNet widths (Bottleneck only).
        replace_stride_with_dilation: three bools: dilate instead of striding in stages 2-4.
        norm_layer: normalisation class (BatchNorm2d).

    Input (N, 3, H, W) -> logits (N, num_classes).
    """

    def __init__(self, block, layers, num_classes=1000, zero_init_residual=False, groups=1, width_per_group=64,
                 replace_stride_with_dilation=None, norm_layer=None):
        super().__init__()
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        self._norm_layer = norm_layer
        self.inplanes = 64
        self.dilation = 1
        if replace_stride_with_dilation is None:
            replace_stride_with_dilation = [False, False, False]
        if len(replace_stride_with_dilation) != 3:
            raise ValueError("replace_stride_with_dilation should be None or a 3-element tuple, got "
                             f"{replace_stride_with_dilation}")
        self.groups = groups
        self.base_width = width_per_group
        self.conv1 = nn.Conv2d(3, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = norm_layer(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2, dilate=replace_stride_with_dilation[0])
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2, dilate=replace_stride_with_dilation[1])
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2, dilate=replace_stride_with_dilation[2])
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)

        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, Bottleneck) and m.bn3.weight is not None:
                    nn.init.constant_(m.bn3.weight, 0)
                elif isinstance(m, BasicBlock) and m.bn2.weight is not None:
                    nn.init.constant_(m.bn2.weight, 0)

    def _make_layer(self, block, planes, blocks, stride=1, dilate=False):
        norm_layer = self._norm_layer
        downsample = None
        previous_dilation = self.dilation
        if dilate:
            self.dilation *= stride
            stride = 1
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(conv1x1(self.inplanes, planes * block.expansion, stride),
                                       norm_layer(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample, self.groups, self.base_width, previous_dilation,
                        norm_layer)]
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes, groups=self.groups, base_width=self.base_width,
                                dilation=self.dilation, norm_layer=norm_layer))
        return nn.Sequential(*layers)

    def _forward_impl(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = ember.flatten(self.avgpool(x), 1)
        return self.fc(x)

    def forward(self, x):
        return self._forward_impl(x)


def _resnet(block, layers, weights, progress, builder, **kwargs):
    return _build(ResNet, weights, progress, builder, block, layers, **kwargs)


def _weights(url, num_params, recipe, acc1, acc5, ops, file_size, resize_size=None):
    transforms = (partial(ImageClassification, crop_size=224) if resize_size is None
                  else partial(ImageClassification, crop_size=224, resize_size=resize_size))
    return Weights(url=url, transforms=transforms,
                   meta={"min_size": (1, 1), "categories": _IMAGENET_CATEGORIES, "num_params": num_params,
                         "recipe": recipe, "_metrics": {"ImageNet-1K": {"acc@1": acc1, "acc@5": acc5}}, "_ops": ops,
                         "_file_size": file_size})


_URL = "https://download.pytorch.org/models/"
_RECIPE = "https://github.com/pytorch/vision/tree/main/references/classification#"
_NEW = "https://github.com/pytorch/vision/issues/3995#"


class ResNet18_Weights(WeightsEnum):
    """ImageNet-1K weights of ResNet18: url, meta, transforms (loaded from the hub cache)."""

    IMAGENET1K_V1 = _weights(_URL + "resnet18-f37072fd.pth", 11689512, _RECIPE + "resnet", 69.758, 89.078, 1.814,
                             44.661)
    DEFAULT = IMAGENET1K_V1


class ResNet34_Weights(WeightsEnum):
    """ImageNet-1K weights of ResNet34: url, meta, transforms (loaded from the hub cache)."""

    IMAGENET1K_V1 = _weights(_URL + "resnet34-b627a593.pth", 21797672, _RECIPE + "resnet", 73.314, 91.42, 3.664,
                             83.275)
    DEFAULT = IMAGENET1K_V1


class ResNet50_Weights(WeightsEnum):
    """ImageNet-1K weights of ResNet50: url, meta, transforms (loaded from the hub cache)."""

    IMAGENET1K_V1 = _weights(_URL + "resnet50-0676ba61.pth", 25557032, _RECIPE + "resnet", 76.13, 92.862, 4.089,
                             97.781)
    IMAGENET1K_V2 = _weights(_URL + "resnet50-11ad3fa6.pth", 25557032, _NEW + "issuecomment-1013906621", 80.858,
                             95.434, 4.089, 97.79, resize_size=232)
    DEFAULT = IMAGENET1K_V2


class ResNet101_Weights(WeightsEnum):
    """ImageNet-1K weights of ResNet101: url, meta, transforms (loaded from the hub cache)."""

    IMAGENET1K_V1 = _weights(_URL + "resnet101-63fe2227.pth", 44549160, _RECIPE + "resnet", 77.374, 93.546, 7.801,
                             170.511)
    IMAGENET1K_V2 = _weights(_URL + "resnet101-cd907fc2.pth", 44549160, _NEW + "new-recipe", 81.886, 95.78, 7.801,
                             170.53, resize_size=232)
    DEFAULT = IMAGENET1K_V2


class ResNet152_Weights(WeightsEnum):
    """ImageNet-1K weights of ResNet152: url, meta, transforms (loaded from the hub cache)."""

    IMAGENET1K_V1 = _weights(_URL + "resnet152-394f9c45.pth", 60192808, _RECIPE + "resnet", 78.312, 94.046, 11.514,
                             230.434)
    IMAGENET1K_V2 = _weights(_URL + "resnet152-f82ba261.pth", 60192808, _NEW + "new-recipe", 82.284, 96.002, 11.514,
                             230.474, resize_size=232)
    DEFAULT = IMAGENET1K_V2


class ResNeXt50_32X4D_Weights(WeightsEnum):
    """ImageNet-1K weights of ResNeXt50-32X4D: url, meta, transforms (loaded from the hub cache)."""

    IMAGENET1K_V1 = _weights(_URL + "resnext50_32x4d-7cdf4587.pth", 25028904, _RECIPE + "resnext", 77.618, 93.698,
                             4.23, 95.789)
    IMAGENET1K_V2 = _weights(_URL + "resnext50_32x4d-1a0047aa.pth", 25028904, _NEW + "new-recipe", 81.198, 95.34,
                             4.23, 95.833, resize_size=232)
    DEFAULT = IMAGENET1K_V2


class ResNeXt101_32X8D_Weights(WeightsEnum):
    """ImageNet-1K weights of ResNeXt101-32X8D: url, meta, transforms (loaded from the hub cache)."""

    IMAGENET1K_V1 = _weights(_URL + "resnext101_32x8d-8ba56ff5.pth", 88791336, _RECIPE + "resnext", 79.312, 94.526,
                             16.414, 339.586)
    IMAGENET1K_V2 = _weights(_URL + "resnext101_32x8d-110c445d.pth", 88791336, _NEW + "new-recipe-with-fixres",
                             82.834, 96.228, 16.414, 339.673, resize_size=232)
    DEFAULT = IMAGENET1K_V2


class ResNeXt101_64X4D_Weights(WeightsEnum):
    """ImageNet-1K weights of ResNeXt101-64X4D: url, meta, transforms (loaded from the hub cache)."""

    IMAGENET1K_V1 = _weights(_URL + "resnext101_64x4d-173b62eb.pth", 83455272,
                             "https://github.com/pytorch/vision/pull/5935", 83.246, 96.454, 15.46, 319.318,
                             resize_size=232)
    DEFAULT = IMAGENET1K_V1


class Wide_ResNet50_2_Weights(WeightsEnum):
    """ImageNet-1K weights of Wide-ResNet50-2: url, meta, transforms (loaded from the hub cache)."""

    IMAGENET1K_V1 = _weights(_URL + "wide_resnet50_2-95faca4d.pth", 68883240,
                             "https://github.com/pytorch/vision/pull/912#issue-445437439", 78.468, 94.086, 11.398,
                             131.82)
    IMAGENET1K_V2 = _weights(_URL + "wide_resnet50_2-9ba9bcbe.pth", 68883240, _NEW + "new-recipe-with-fixres",
                             81.602, 95.758, 11.398, 263.124, resize_size=232)
    DEFAULT = IMAGENET1K_V2


class Wide_ResNet101_2_Weights(WeightsEnum):
    """ImageNet-1K weights of Wide-ResNet101-2: url, meta, transforms (loaded from the hub cache)."""

    IMAGENET1K_V1 = _weights(_URL + "wide_resnet101_2-32ee1156.pth", 126886696,
                             "https://github.com/pytorch/vision/pull/912#issue-445437439", 78.848, 94.284, 22.753,
                             242.896)
    IMAGENET1K_V2 = _weights(_URL + "wide_resnet101_2-d733dc28.pth", 126886696, _NEW + "new-recipe", 82.51, 96.02,
                             22.753, 484.747, resize_size=232)
    DEFAULT = IMAGENET1K_V2


@register_model()
@handle_legacy_interface(weights=("pretrained", ResNet18_Weights.IMAGENET1K_V1))
def resnet18(*, weights: Optional[ResNet18_Weights] = None, progress: bool = True, **kwargs) -> ResNet:
    """ResNet-18. ``weights``: None (random init) or ResNet18_Weights / its member name; ``kwargs`` go to
    ``ResNet`` (num_classes, zero_init_residual, norm_layer...)."""
    weights = ResNet18_Weights.verify(weights)
    return _resnet(BasicBlock, [2, 2, 2, 2], weights, progress, "resnet18", **kwargs)


@register_model()
@handle_legacy_interface(weights=("pretrained", ResNet34_Weights.IMAGENET1K_V1))
def resnet34(*, weights: Optional[ResNet34_Weights] = None, progress: bool = True, **kwargs) -> ResNet:
    """ResNet-34 (BasicBlock, [3, 4, 6, 3])."""
    weights = ResNet34_Weights.verify(weights)
    return _resnet(BasicBlock, [3, 4, 6, 3], weights, progress, "resnet34", **kwargs)


@register_model()
@handle_legacy_interface(weights=("pretrained", ResNet50_Weights.IMAGENET1K_V1))
def resnet50(*, weights: Optional[ResNet50_Weights] = None, progress: bool = True, **kwargs) -> ResNet:
    """ResNet-50 (Bottleneck, [3, 4, 6, 3])."""
    weights = ResNet50_Weights.verify(weights)
    return _resnet(Bottleneck, [3, 4, 6, 3], weights, progress, "resnet50", **kwargs)


@register_model()
@handle_legacy_interface(weights=("pretrained", ResNet101_Weights.IMAGENET1K_V1))
def resnet101(*, weights: Optional[ResNet101_Weights] = None, progress: bool = True, **kwargs) -> ResNet:
    """ResNet-101 (Bottleneck, [3, 4, 23, 3])."""
    weights = ResNet101_Weights.verify(weights)
    return _resnet(Bottleneck, [3, 4, 23, 3], weights, progress, "resnet101", **kwargs)


@register_model()
@handle_legacy_interface(weights=("pretrained", ResNet152_Weights.IMAGENET1K_V1))
def resnet152(*, weights: Optional[ResNet152_Weights] = None, progress: bool = True, **kwargs) -> ResNet:
    """ResNet-152 (Bottleneck, [3, 8, 36, 3])."""
    weights = ResNet152_Weights.verify(weights)
    return _resnet(Bottleneck, [3, 8, 36, 3], weights, progress, "resnet152", **kwargs)


@register_model()
@handle_legacy_interface(weights=("pretrained", ResNeXt50_32X4D_Weights.IMAGENET1K_V1))
def resnext50_32x4d(*, weights: Optional[ResNeXt50_32X4D_Weights] = None, progress: bool = True,
                    **kwargs) -> ResNet:
    """ResNeXt-50 32x4d (Bottleneck, groups=32, width_per_group=4)."""
    weights = ResNeXt50_32X4D_Weights.verify(weights)
    _ovewrite_named_param(kwargs, "groups", 32)
    _ovewrite_named_param(kwargs, "width_per_group", 4)
    return _resnet(Bottleneck, [3, 4, 6, 3], weights, progress, "resnext50_32x4d", **kwargs)


@register_model()
@handle_legacy_interface(weights=("pretrained", ResNeXt101_32X8D_Weights.IMAGENET1K_V1))
def resnext101_32x8d(*, weights: Optional[ResNeXt101_32X8D_Weights] = None, progress: bool = True,
                     **kwargs) -> ResNet:
    """ResNeXt-101 32x8d."""
    weights = ResNeXt101_32X8D_Weights.verify(weights)
    _ovewrite_named_param(kwargs, "groups", 32)
    _ovewrite_named_param(kwargs, "width_per_group", 8)
    return _resnet(Bottleneck, [3, 4, 23, 3], weights, progress, "resnext101_32x8d", **kwargs)


@register_model()
@handle_legacy_interface(weights=("pretrained", ResNeXt101_64X4D_Weights.IMAGENET1K_V1))
def resnext101_64x4d(*, weights: Optional[ResNeXt101_64X4D_Weights] = None, progress: bool = True,
                     **kwargs) -> ResNet:
    """ResNeXt-101 64x4d."""
    weights = ResNeXt101_64X4D_Weights.verify(weights)
    _ovewrite_named_param(kwargs, "groups", 64)
    _ovewrite_named_param(kwargs, "width_per_group", 4)
    return _resnet(Bottleneck, [3, 4, 23, 3], weights, progress, "resnext101_64x4d", **kwargs)


@register_model()
@handle_legacy_interface(weights=("pretrained", Wide_ResNet50_2_Weights.IMAGENET1K_V1))
def wide_resnet50_2(*, weights: Optional[Wide_ResNet50_2_Weights] = None, progress: bool = True,
                    **kwargs) -> ResNet:
    """Wide ResNet-50-2: ResNet-50 with twice the bottleneck width."""
    weights = Wide_ResNet50_2_Weights.verify(weights)
    _ovewrite_named_param(kwargs, "width_per_group", 64 * 2)
    return _resnet(Bottleneck, [3, 4, 6, 3], weights, progress, "wide_resnet50_2", **kwargs)


@register_model()
@handle_legacy_interface(weights=("pretrained", Wide_ResNet101_2_Weights.IMAGENET1K_V1))
def wide_resnet101_2(*, weights: Optional[Wide_ResNet101_2_Weights] = None, progress: bool = True,
                     **kwargs) -> ResNet:
    """Wide ResNet-101-2."""
    weights = Wide_ResNet101_2_Weights.verify(weights)
    _ovewrite_named_param(kwargs, "width_per_group", 64 * 2)
    return _resnet(Bottleneck, [3, 4, 23, 3], weights, progress, "wide_resnet101_2", **kwargs)

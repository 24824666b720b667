"""``convert_conv2d_weight_memory_format`` / ``convert_conv3d_weight_memory_format``: give the weights of a
model's convolutions a memory format.

ember keeps every tensor row-major (its arrays are NumPy's), so the format requested is recorded through
``clone(memory_format=...)`` only; what users observe is torch's: the same module back, the same Parameter
objects, unchanged values, and fresh weight storage for exactly the convolutions of the family asked for.
"""
from ..modules.conv import Conv2d, Conv3d, ConvTranspose2d, ConvTranspose3d

__all__ = ["convert_conv2d_weight_memory_format", "convert_conv3d_weight_memory_format"]


def _convert(module, kinds, memory_format):
    """Re-lay out the weight of every module under ``module`` (itself included) that is one of ``kinds``."""
    for sub in module.modules():
        if isinstance(sub, kinds):
            sub.weight.data = sub.weight.detach().clone(memory_format=memory_format)
    return module


def convert_conv2d_weight_memory_format(module, memory_format):
    """Give the weight of every ``Conv2d``/``ConvTranspose2d`` in ``module`` (recursively) ``memory_format``.

    Args:
        module: an ``nn.Module``.
        memory_format: e.g. ``channels_last``.

    Returns:
        ``module`` itself (its parameters stay the same objects; only their storage changes).
    """
    return _convert(module, (Conv2d, ConvTranspose2d), memory_format)


def convert_conv3d_weight_memory_format(module, memory_format):
    """Give the weight of every ``Conv3d``/``ConvTranspose3d`` in ``module`` (recursively) ``memory_format``
    (e.g. ``channels_last_3d``); returns ``module`` as ``convert_conv2d_weight_memory_format``."""
    return _convert(module, (Conv3d, ConvTranspose3d), memory_format)

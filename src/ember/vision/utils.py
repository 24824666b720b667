"""Image grids and saving: make_grid and save_image (torchvision's behaviour)."""
import math

import numpy as np


def _as_batch(tensor):
    """A 4-D (B, C, H, W) float array from a tensor, a list of tensors, or one image."""
    from .. import Tensor, stack
    if isinstance(tensor, (list, tuple)):
        tensor = stack(list(tensor), dim=0)
    if not isinstance(tensor, Tensor):
        raise TypeError(f"tensor or list of tensors expected, got {type(tensor)}")
    arr = tensor.detach().numpy()
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim == 3:
        if arr.shape[0] == 1:
            arr = np.concatenate([arr] * 3, 0)
        arr = arr[None]
    if arr.ndim == 4 and arr.shape[1] == 1:
        arr = np.concatenate([arr] * 3, 1)
    return arr, tensor.dtype


def _normalize(arr, value_range):
    low, high = value_range if value_range is not None else (float(arr.min()), float(arr.max()))
    return (np.clip(arr, low, high) - low) / max(high - low, 1e-5)


def make_grid(tensor, nrow=8, padding=2, normalize=False, value_range=None, scale_each=False, pad_value=0.0,
              **kwargs):
    """Tile a batch of images (B, C, H, W) into one image, ``nrow`` images per row.

    Args:
        tensor: 4-D batch, a list of same-sized images, or one 2-D/3-D image.
        nrow: images per row.
        padding: pixels between images (and around the grid).
        normalize: shift and scale values into [0, 1], using ``value_range`` (low, high) or the min/max
            (of each image with ``scale_each``).
        pad_value: the value of the padding pixels.

    Returns:
        a (C, H', W') tensor of the input's dtype (one image is returned as it is, after normalisation).
    """
    from .. import from_numpy
    if "range" in kwargs:
        raise TypeError("make_grid() got an unexpected keyword argument 'range' (use value_range)")
    arr, dtype = _as_batch(tensor)
    if value_range is not None and not isinstance(value_range, tuple):
        raise TypeError("value_range has to be a tuple (min, max) if specified. min and max are numbers")
    if normalize:
        arr = arr.astype(np.result_type(arr.dtype, np.float32))
        arr = np.stack([_normalize(a, value_range) for a in arr]) if scale_each else _normalize(arr, value_range)
        arr = arr.astype(np.float32) if dtype.is_floating_point and arr.dtype != dtype.np else arr
    if arr.shape[0] == 1:
        return from_numpy(np.ascontiguousarray(arr[0]).astype(dtype.np, copy=False))
    n, c, h, w = arr.shape
    cols = min(nrow, n)
    rows = int(math.ceil(n / cols))
    cell_h, cell_w = h + padding, w + padding
    grid = np.full((c, cell_h * rows + padding, cell_w * cols + padding), pad_value, dtype=arr.dtype)
    for k in range(n):
        y, x = divmod(k, cols)
        top, left = y * cell_h + padding, x * cell_w + padding
        grid[:, top:top + h, left:left + w] = arr[k]
    return from_numpy(grid.astype(dtype.np, copy=False))


def save_image(tensor, fp, format=None, **kwargs):
    """Save a tensor (or batch, tiled with ``make_grid(**kwargs)``) of values in [0, 1] as an image file.

    The file is written to a temporary name and moved into place, so a failure leaves an old file intact.
    """
    import os
    from .datasets.vision import pil
    grid = make_grid(tensor, **kwargs).numpy()
    pixels = np.clip(grid.astype(np.float64) * 255 + 0.5, 0, 255).astype(np.uint8).transpose(1, 2, 0)
    image = pil().fromarray(pixels)
    if isinstance(fp, (str, os.PathLike)):
        path = os.fspath(fp)
        fmt = format or os.path.splitext(path)[1].lstrip(".") or None
        tmp = f"{path}.tmp{os.getpid()}"
        try:
            image.save(tmp, format=(fmt.upper() if fmt and fmt.lower() != "jpg" else "JPEG" if fmt else None))
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
    else:
        image.save(fp, format=format)
